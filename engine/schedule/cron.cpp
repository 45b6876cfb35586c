#include "engine/schedule/cron.hpp"

#include <array>
#include <cctype>
#include <cstdint>
#include <vector>

#include "engine/core/suggest.hpp"

namespace flow::schedule {

namespace {

using date::days;
using date::local_days;
using date::year_month_day;

struct Field {
  const char* name;
  int lo, hi;
  const std::array<const char*, 12>* names = nullptr;  // month or weekday names
  int first_name_value = 0;                            // value of names[0]
};

const std::array<const char*, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
const std::array<const char*, 12> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri",
                                               "sat", "",    "",    "",    "",    ""};
const char* const kMonthLongNames[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};

const Field kFields[5] = {
    {"minute", 0, 59},
    {"hour", 0, 23},
    {"day-of-month", 1, 31},
    {"month", 1, 12, &kMonthNames, 1},
    {"day-of-week", 0, 7, &kDayNames, 0},
};

// The most days each month can have (February: in leap years).
constexpr int kMaxDays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

struct Shortcut {
  const char* name;
  const char* fields;
};
const Shortcut kShortcuts[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    out.push_back(
        s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
      ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])))
      ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// Parses one expression; every error names the expression and the field.
class Parser {
 public:
  Parser(std::string_view expr, const SourceLocation& where) : expr_(expr), where_(where) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw InputError(where_, "schedule '" + std::string(expr_) + "': " + message);
  }

  // The set of values one field allows, as bits (bit v = value v).
  uint64_t field(const Field& f, std::string_view text) const {
    uint64_t bits = 0;
    for (std::string_view element : split(text, ',')) {
      if (element.empty()) {
        fail(std::string(f.name) + " '" + std::string(text) + "' has an empty list entry");
      }
      bits |= this->element(f, element);
    }
    return bits;
  }

 private:
  uint64_t element(const Field& f, std::string_view el) const {
    const std::string quoted = std::string(f.name) + " '" + std::string(el) + "'";
    auto parts = split(el, '/');
    if (parts.size() > 2) fail(quoted + " has more than one '/' step");
    std::string_view base = parts[0];
    int lo = 0, hi = 0;
    if (base == "*") {
      lo = f.lo;
      hi = f.names == &kDayNames ? 6 : f.hi;  // 7 is Sunday again
    } else if (base.find('*') != std::string_view::npos) {
      fail(quoted + ": '*' stands alone (write * or */STEP), it cannot be part of a value");
    } else if (auto dash = base.find('-'); dash != std::string_view::npos) {
      lo = value(f, base.substr(0, dash), el);
      hi = value(f, base.substr(dash + 1), el);
      if (f.names == &kDayNames && hi == 0 && lo > 0) hi = 7;  // fri-sun
      if (lo > hi) {
        fail(std::string(f.name) + " range " + std::to_string(lo) + "-" + std::to_string(hi) +
             " goes backwards; write it as two ranges: " + std::to_string(lo) + "-" +
             std::to_string(f.hi) + "," + std::to_string(f.lo) + "-" + std::to_string(hi));
      }
    } else {
      lo = hi = value(f, base, el);
      if (parts.size() == 2) hi = f.names == &kDayNames ? 6 : f.hi;  // N/S = N-max/S
    }
    int step = 1;
    if (parts.size() == 2) {
      std::string_view s = parts[1];
      const int max_step = f.hi - f.lo;
      if (!all_digits(s)) fail(quoted + ": step '" + std::string(s) + "' is not a number");
      if (s.size() > 4 || std::stoi(std::string(s)) > max_step) {
        fail(quoted + ": step " + std::string(s) + " is out of range 1-" +
             std::to_string(max_step));
      }
      step = std::stoi(std::string(s));
      if (step == 0) fail(quoted + ": step 0 is not allowed; the smallest step is 1");
    }
    uint64_t bits = 0;
    for (int v = lo; v <= hi; v += step)
      bits |= uint64_t{1} << v;
    return bits;
  }

  int value(const Field& f, std::string_view tok, std::string_view el) const {
    const std::string name(f.name);
    if (tok.empty()) {
      fail(name + " '" + std::string(el) + "' is missing a value before or after '-'");
    }
    if (all_digits(tok)) {
      if (tok.size() > 4 || std::stoi(std::string(tok)) < f.lo ||
          std::stoi(std::string(tok)) > f.hi) {
        fail(name + " " + std::string(tok) + " is out of range " + std::to_string(f.lo) + "-" +
             std::to_string(f.hi) + (f.names == &kDayNames ? " (0 and 7 are Sunday)" : ""));
      }
      return std::stoi(std::string(tok));
    }
    if (f.names) {
      std::string l = lower(tok);
      std::vector<std::string> names;
      for (size_t i = 0; i < f.names->size() && *(*f.names)[i]; ++i) {
        if (l == (*f.names)[i]) return static_cast<int>(i) + f.first_name_value;
        names.push_back((*f.names)[i]);
      }
      fail(name + " '" + std::string(tok) + "' is not a number or a name (" + names.front() + "-" +
           names.back() + ")" + did_you_mean(l, names));
    }
    std::string hint;
    if (tok == "?") {
      hint = "; '?' is Quartz syntax, write *";
    } else if (tok.find_first_of("LW#") != std::string_view::npos) {
      hint = "; 'L', 'W' and '#' are Quartz extensions that cron does not have";
    }
    fail(name + " '" + std::string(tok) + "' is not a number" + hint);
  }

  std::string_view expr_;
  const SourceLocation& where_;
};

template <size_t N>
std::bitset<N> to_bits(uint64_t v) {
  return std::bitset<N>(v);
}

}  // namespace

CronExpr CronExpr::parse(std::string_view text, const SourceLocation& where) {
  Parser p(text, where);
  CronExpr e;
  e.text_ = std::string(text);
  std::string_view body = text;
  auto fields = split_ws(body);
  if (fields.empty()) {
    throw InputError(where,
                     "schedule is empty; write five fields (minute hour day-of-month month "
                     "day-of-week) such as \"0 2 * * *\", or @daily, @hourly, ...");
  }
  std::string expanded;
  if (fields[0].front() == '@') {
    std::string name = lower(fields[0]);
    if (fields.size() > 1) p.fail("a shortcut such as " + name + " stands alone");
    if (name == "@reboot") p.fail("@reboot is not supported: flow schedules runs by time");
    std::vector<std::string> names;
    for (const auto& s : kShortcuts) {
      if (name == s.name) expanded = s.fields;
      names.emplace_back(s.name);
    }
    if (expanded.empty()) {
      p.fail("unknown shortcut '" + std::string(fields[0]) + "'" + did_you_mean(name, names) +
             "; use " + join(names));
    }
    fields = split_ws(expanded);
  }
  if (fields.size() != 5) {
    p.fail("has " + std::to_string(fields.size()) +
           " fields; cron has five (minute hour day-of-month month day-of-week)" +
           (fields.size() > 5 ? ", no seconds or year field" : ""));
  }
  e.minutes_ = to_bits<60>(p.field(kFields[0], fields[0]));
  e.hours_ = to_bits<24>(p.field(kFields[1], fields[1]));
  e.days_ = to_bits<32>(p.field(kFields[2], fields[2]));
  e.months_ = to_bits<13>(p.field(kFields[3], fields[3]));
  uint64_t wd = p.field(kFields[4], fields[4]);
  if (wd & (uint64_t{1} << 7)) wd |= 1;  // 7 is Sunday
  e.weekdays_ = to_bits<7>(wd & 0x7f);
  e.days_star_ = fields[2].front() == '*';
  e.weekdays_star_ = fields[4].front() == '*';

  // With day-of-week unrestricted, the day of month must exist in one of the months.
  if (e.weekdays_star_) {
    bool possible = false;
    int smallest_day = 0;
    for (int d = 1; d <= 31 && !smallest_day; ++d)
      if (e.days_[d]) smallest_day = d;
    for (int m = 1; m <= 12; ++m)
      possible = possible || (e.months_[m] && smallest_day <= kMaxDays[m]);
    if (!possible) {
      std::vector<std::string> months;
      for (int m = 1; m <= 12; ++m)
        if (e.months_[m]) months.emplace_back(kMonthLongNames[m - 1]);
      p.fail("never fires: " + join(months, " and ") + (months.size() == 1 ? " has" : " have") +
             " no day " + std::to_string(smallest_day));
    }
  }
  return e;
}

bool CronExpr::day_matches(local_days d) const {
  year_month_day ymd(d);
  if (!months_[static_cast<unsigned>(ymd.month())]) return false;
  const bool dom = days_[static_cast<unsigned>(ymd.day())];
  const bool dow = weekdays_[date::weekday(d).c_encoding()];
  return (days_star_ || weekdays_star_) ? (dom && dow) : (dom || dow);
}

bool CronExpr::matches(LocalMinutes t) const {
  auto day = date::floor<days>(t);
  auto minute = (t - day).count();
  return day_matches(day) && hours_[minute / 60] && minutes_[minute % 60];
}

int CronExpr::first_time_from(int minute_of_day) const {
  for (int h = minute_of_day / 60; h < 24; ++h) {
    if (!hours_[h]) continue;
    for (int m = h == minute_of_day / 60 ? minute_of_day % 60 : 0; m < 60; ++m) {
      if (minutes_[m]) return h * 60 + m;
    }
  }
  return -1;
}

int CronExpr::last_time_until(int minute_of_day) const {
  for (int h = minute_of_day / 60; h >= 0; --h) {
    if (!hours_[h]) continue;
    for (int m = h == minute_of_day / 60 ? minute_of_day % 60 : 59; m >= 0; --m) {
      if (minutes_[m]) return h * 60 + m;
    }
  }
  return -1;
}

std::optional<LocalMinutes> CronExpr::next(LocalMinutes t) const {
  local_days day = date::floor<days>(t);
  int minute = static_cast<int>((t - day).count());
  const auto limit = year_month_day(day).year() + date::years(kSearchYears);
  for (;;) {
    year_month_day ymd(day);
    if (ymd.year() > limit) return std::nullopt;
    if (!months_[static_cast<unsigned>(ymd.month())]) {
      day = local_days((ymd.year() / ymd.month() + date::months(1)) / 1);
      minute = 0;
      continue;
    }
    if (day_matches(day)) {
      if (int m = first_time_from(minute); m >= 0) return day + std::chrono::minutes(m);
    }
    day += days(1);
    minute = 0;
  }
}

std::optional<LocalMinutes> CronExpr::prev(LocalMinutes t) const {
  local_days day = date::floor<days>(t);
  int minute = static_cast<int>((t - day).count());
  const auto limit = year_month_day(day).year() - date::years(kSearchYears);
  for (;;) {
    year_month_day ymd(day);
    if (ymd.year() < limit) return std::nullopt;
    if (!months_[static_cast<unsigned>(ymd.month())]) {
      day = local_days((ymd.year() / ymd.month()) / 1) - days(1);
      minute = 24 * 60 - 1;
      continue;
    }
    if (day_matches(day)) {
      if (int m = last_time_until(minute); m >= 0) return day + std::chrono::minutes(m);
    }
    day -= days(1);
    minute = 24 * 60 - 1;
  }
}

}  // namespace flow::schedule
