#include "engine/core/duration.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>

namespace flow {

std::optional<Millis> parse_duration(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  double total_ms = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) return std::nullopt;
    double value = 0;
    try {
      value = std::stod(std::string(text.substr(start, i - start)));
    } catch (...) {
      return std::nullopt;
    }
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])))
      ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    double scale = 0;
    if (unit.empty()) {
      if (any || i != text.size()) return std::nullopt;  // bare number only on its own
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "s" || unit == "sec") {
      scale = 1000;
    } else if (unit == "m" || unit == "min") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else if (unit == "d") {
      scale = 86'400'000;
    } else {
      return std::nullopt;
    }
    total_ms += value * scale;
    any = true;
  }
  // Past about 30,000 years it is a typo, and past 2^63 ms no integer holds it.
  if (!std::isfinite(total_ms) || total_ms >= 1e15) return std::nullopt;
  return Millis(static_cast<long long>(total_ms + 0.5));
}

std::string format_duration(Millis d) {
  long long ms = d.count();
  if (ms == 0) return "0s";
  // Built as "sign + parts" (not assigned then appended): GCC 12 reports a false -Wrestrict
  // on `out = "-"; out += ...` under -O2.
  const bool negative = ms < 0;
  if (negative) ms = -ms;
  std::string out;
  const struct {
    long long size;
    const char* unit;
  } units[] = {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (const auto& u : units) {
    if (ms >= u.size) {
      out += std::to_string(ms / u.size) + u.unit;
      ms %= u.size;
    }
  }
  return negative ? "-" + out : out;
}

std::string human_duration(Millis d) {
  double s = static_cast<double>(d.count()) / 1000.0;
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    long long t = static_cast<long long>(s);
    std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  } else {
    long long t = static_cast<long long>(s);
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t % 3600) / 60);
  }
  return buf;
}

}  // namespace flow
