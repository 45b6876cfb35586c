#include "engine/schedule/time_text.hpp"

#include <cstdio>

namespace flow::schedule {

namespace {

std::string offset_text(std::chrono::seconds offset) {
  const char sign = offset < std::chrono::seconds(0) ? '-' : '+';
  const int m = static_cast<int>(std::abs(offset.count()) / 60 % (100 * 60));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, m / 60, m % 60);
  return buf;
}

// A cursor over the text being parsed.
struct Reader {
  std::string_view s;
  size_t i = 0;
  bool done() const { return i == s.size(); }
  bool eat(char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  bool eat_any(std::string_view chars) {
    if (i < s.size() && chars.find(s[i]) != std::string_view::npos) {
      ++i;
      return true;
    }
    return false;
  }
  // Exactly `n` digits.
  bool number(int n, int& out) {
    if (i + static_cast<size_t>(n) > s.size()) return false;
    out = 0;
    for (int k = 0; k < n; ++k) {
      char c = s[i + static_cast<size_t>(k)];
      if (c < '0' || c > '9') return false;
      out = out * 10 + (c - '0');
    }
    i += static_cast<size_t>(n);
    return true;
  }
};

}  // namespace

std::string format_utc(Instant t) {
  return date::format("%Y-%m-%dT%H:%M:%SZ", t);
}

std::string compact_utc(Instant t) {
  return date::format("%Y%m%dT%H%M%SZ", t);
}

std::string format_local(Instant t, const date::time_zone& zone) {
  const auto offset = zone.get_info(t).offset;
  const auto wall = date::local_seconds((t + offset).time_since_epoch());
  return date::format("%Y-%m-%dT%H:%M:%S", wall) + offset_text(offset);
}

ParsedTime parse_time(std::string_view text, const date::time_zone& zone, std::string_view what) {
  auto bad = [&](const std::string& why) -> InputError {
    return InputError(SourceLocation{},
                      std::string(what) + " '" + std::string(text) + "': " + why +
                          "; write YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (wall clock in " +
                          zone.name() + "), optionally ending in Z or an offset like +02:00");
  };
  Reader r{text};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!r.number(4, y) || !r.eat('-') || !r.number(2, mo) || !r.eat('-') || !r.number(2, d)) {
    throw bad("not a date");
  }
  const date::year_month_day ymd{date::year(y), date::month(static_cast<unsigned>(mo)),
                                 date::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) throw bad("no such day");
  ParsedTime out;
  if (r.done()) {
    out.date_only = true;
    out.instant = to_instant(date::local_seconds(date::local_days(ymd)), zone);
    return out;
  }
  if (!r.eat_any("Tt ") || !r.number(2, h) || !r.eat(':') || !r.number(2, mi)) {
    throw bad("not a time");
  }
  if (r.eat(':')) {
    if (!r.number(2, sec)) throw bad("seconds need two digits");
    if (r.eat('.')) {
      int digit = 0;
      if (!r.number(1, digit)) throw bad("no digits after '.'");
      while (r.number(1, digit)) {
      }
    }
  }
  if (h > 23 || mi > 59 || sec > 59) throw bad("hour, minute or second out of range");
  const auto wall = date::local_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
                    std::chrono::seconds(sec);
  if (r.done()) {
    out.instant = to_instant(wall, zone);
    return out;
  }
  std::chrono::seconds offset{0};
  if (!r.eat_any("Zz")) {
    const bool minus = r.s[r.i] == '-';
    int oh = 0, om = 0;
    if (!r.eat_any("+-") || !r.number(2, oh)) throw bad("unreadable offset");
    r.eat(':');
    if (!r.number(2, om) || oh > 23 || om > 59) throw bad("unreadable offset");
    offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    if (minus) offset = -offset;
  }
  if (!r.done()) throw bad("unexpected text after the time");
  out.instant = Instant(wall.time_since_epoch() - offset);
  return out;
}

}  // namespace flow::schedule
