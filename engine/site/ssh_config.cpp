// The ~/.ssh/config reader of engine/site/ssh_config.hpp.
#include "engine/site/ssh_config.hpp"

#include <cctype>
#include <vector>

namespace flow::site {

namespace {

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return s;
}

// Splits "Keyword value", "Keyword=value" or "Keyword = value".
void split_line(std::string_view line, std::string_view& keyword, std::string_view& value) {
  size_t end = 0;
  while (end < line.size() && !space(line[end]) && line[end] != '=')
    ++end;
  keyword = line.substr(0, end);
  std::string_view rest = trim(line.substr(end));
  if (!rest.empty() && rest.front() == '=') rest = trim(rest.substr(1));
  value = rest;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && space(s[i]))
      ++i;
    if (i >= s.size()) break;
    size_t j = i;
    if (s[i] == '"') {
      j = s.find('"', i + 1);
      if (j == std::string_view::npos) j = s.size();
      out.push_back(s.substr(i + 1, j - i - 1));
      i = j + 1;
      continue;
    }
    while (j < s.size() && !space(s[j]))
      ++j;
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

bool ssh_pattern_match(std::string_view pattern, std::string_view host) {
  // Iterative glob with backtracking to the last '*'.
  size_t p = 0, h = 0, star = std::string_view::npos, mark = 0;
  while (h < host.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || lower(pattern[p]) == lower(host[h]))) {
      ++p;
      ++h;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = h;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      h = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

SshConfigEntry ssh_config_lookup(std::string_view config, std::string_view alias) {
  SshConfigEntry e;
  bool active = true;  // lines before the first Host apply to every host
  int line_no = 0;
  size_t pos = 0;
  while (pos <= config.size()) {
    size_t nl = config.find('\n', pos);
    std::string_view line =
        trim(config.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
    pos = nl == std::string_view::npos ? config.size() + 1 : nl + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    std::string_view keyword, value;
    split_line(line, keyword, value);
    if (iequals(keyword, "Host")) {
      bool positive = false, negative = false, named = false;
      for (std::string_view pat : words(value)) {
        bool negated = !pat.empty() && pat.front() == '!';
        if (negated) pat.remove_prefix(1);
        if (!ssh_pattern_match(pat, alias)) continue;
        if (negated) {
          negative = true;
        } else {
          positive = true;
          named = named || pat != "*";
        }
      }
      active = positive && !negative;
      if (active && named) e.named = true;
      continue;
    }
    if (iequals(keyword, "Match")) {
      active = false;  // not evaluated: its lines never apply
      continue;
    }
    if (!active) continue;
    auto first_word = [&]() -> std::string {
      auto w = words(value);
      return w.empty() ? std::string() : std::string(w.front());
    };
    auto take = [&](std::optional<SshConfigValue>& slot) {
      if (!slot) slot = SshConfigValue{first_word(), line_no};
    };
    if (iequals(keyword, "HostName")) {
      take(e.hostname);
    } else if (iequals(keyword, "Port")) {
      take(e.port);
    } else if (iequals(keyword, "User")) {
      take(e.user);
    } else if (iequals(keyword, "IdentityFile")) {
      take(e.identity_file);
    } else if (iequals(keyword, "ProxyJump")) {
      take(e.proxy_jump);
    }
  }
  if (e.hostname) {
    std::string out;
    const std::string& h = e.hostname->value;
    for (size_t i = 0; i < h.size(); ++i) {
      if (h[i] == '%' && i + 1 < h.size() && h[i + 1] == 'h') {
        out += alias;
        ++i;
      } else if (h[i] == '%' && i + 1 < h.size() && h[i + 1] == '%') {
        out += '%';
        ++i;
      } else {
        out += h[i];
      }
    }
    e.hostname->value = out;
  }
  return e;
}

}  // namespace flow::site
