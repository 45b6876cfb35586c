// CronExpr: field syntax, errors, the day-of-month / day-of-week rule, month ends, leap
// years. Wall-clock only; zones are timetable_test.cpp.
#include "engine/schedule/cron.hpp"

#include <gtest/gtest.h>

#include <vector>

using flow::InputError;
using flow::SourceLocation;
using flow::schedule::CronExpr;
using flow::schedule::LocalMinutes;
using namespace date::literals;
using std::chrono::hours;
using std::chrono::minutes;

namespace {

LocalMinutes at(date::year_month_day d, int h = 0, int m = 0) {
  return date::local_days(d) + hours(h) + minutes(m);
}

std::string text(LocalMinutes t) {
  return date::format("%Y-%m-%d %H:%M %a", t);
}

// The first `n` matches at or after `from`.
std::vector<std::string> firings(const std::string& expr, LocalMinutes from, int n) {
  auto e = CronExpr::parse(expr);
  std::vector<std::string> out;
  auto t = e.next(from);
  for (int i = 0; i < n && t; ++i, t = e.next(*t + minutes(1)))
    out.push_back(text(*t));
  return out;
}

// The message of the InputError that parsing `expr` throws ("" if it parses).
std::string error_of(const std::string& expr) {
  try {
    CronExpr::parse(expr, SourceLocation{"d.yaml", 3, 11});
  } catch (const InputError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1u);
    return e.diagnostics()[0].str();
  }
  return "";
}

}  // namespace

TEST(Cron, StarListsRangesAndSteps) {
  auto e = CronExpr::parse("*/15 9-17 * * *");
  EXPECT_TRUE(e.matches(at(2027_y / 1 / 4, 9, 0)));
  EXPECT_TRUE(e.matches(at(2027_y / 1 / 4, 17, 45)));
  EXPECT_FALSE(e.matches(at(2027_y / 1 / 4, 18, 0)));
  EXPECT_FALSE(e.matches(at(2027_y / 1 / 4, 9, 10)));

  EXPECT_EQ(firings("5,10-12,50-59/4 3 * * *", at(2027_y / 1 / 1), 7),
            (std::vector<std::string>{"2027-01-01 03:05 Fri", "2027-01-01 03:10 Fri",
                                      "2027-01-01 03:11 Fri", "2027-01-01 03:12 Fri",
                                      "2027-01-01 03:50 Fri", "2027-01-01 03:54 Fri",
                                      "2027-01-01 03:58 Fri"}));
  // N/S means N-max/S.
  EXPECT_EQ(firings("40/7 0 * * *", at(2027_y / 1 / 1), 3),
            (std::vector<std::string>{"2027-01-01 00:40 Fri", "2027-01-01 00:47 Fri",
                                      "2027-01-01 00:54 Fri"}));
  // 1-10/2 over hours.
  EXPECT_EQ(firings("0 1-10/3 * * *", at(2027_y / 1 / 1), 4),
            (std::vector<std::string>{"2027-01-01 01:00 Fri", "2027-01-01 04:00 Fri",
                                      "2027-01-01 07:00 Fri", "2027-01-01 10:00 Fri"}));
}

TEST(Cron, MonthAndWeekdayNamesAnyCaseAndSundayIsZeroOrSeven) {
  auto names = CronExpr::parse("0 0 * JAN-mar,Dec Mon-fri");
  auto numbers = CronExpr::parse("0 0 * 1-3,12 1-5");
  for (auto d = date::local_days(2026_y / 11 / 1); d < date::local_days(2027_y / 6 / 1);
       d += date::days(1)) {
    LocalMinutes t = d + minutes(0);
    EXPECT_EQ(names.matches(t), numbers.matches(t)) << text(t);
  }
  // 2027-01-03 is a Sunday.
  for (const char* expr : {"0 0 * * 0", "0 0 * * 7", "0 0 * * sun", "0 0 * * SUN"}) {
    auto e = CronExpr::parse(expr);
    EXPECT_TRUE(e.matches(at(2027_y / 1 / 3))) << expr;
    EXPECT_FALSE(e.matches(at(2027_y / 1 / 4))) << expr;
  }
  // A range may end on Sunday written as 7, 0 or sun.
  for (const char* expr : {"0 0 * * 5-7", "0 0 * * fri-sun", "0 0 * * 5-0"}) {
    EXPECT_EQ(firings(expr, at(2027_y / 1 / 1), 4),
              (std::vector<std::string>{"2027-01-01 00:00 Fri", "2027-01-02 00:00 Sat",
                                        "2027-01-03 00:00 Sun", "2027-01-08 00:00 Fri"}))
        << expr;
  }
}

TEST(Cron, ShortcutsExpand) {
  const LocalMinutes from = at(2027_y / 5 / 17, 10, 30);  // a Monday
  EXPECT_EQ(firings("@hourly", from, 1), firings("0 * * * *", from, 1));
  EXPECT_EQ(firings("@daily", from, 2),
            (std::vector<std::string>{"2027-05-18 00:00 Tue", "2027-05-19 00:00 Wed"}));
  EXPECT_EQ(firings("@midnight", from, 1), firings("@daily", from, 1));
  EXPECT_EQ(firings("@weekly", from, 1), (std::vector<std::string>{"2027-05-23 00:00 Sun"}));
  EXPECT_EQ(firings("@monthly", from, 1), (std::vector<std::string>{"2027-06-01 00:00 Tue"}));
  EXPECT_EQ(firings("@yearly", from, 1), (std::vector<std::string>{"2028-01-01 00:00 Sat"}));
  EXPECT_EQ(firings("@annually", from, 1), firings("@yearly", from, 1));
  EXPECT_EQ(firings("@DAILY", from, 1), firings("@daily", from, 1));
  EXPECT_EQ(firings("  0   2 * *\t* ", from, 1),
            (std::vector<std::string>{"2027-05-18 02:00 Tue"}));
}

TEST(Cron, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // The 1st, the 15th and every Monday (Vixie cron).
  EXPECT_EQ(firings("0 0 1,15 * mon", at(2027_y / 2 / 1), 7),
            (std::vector<std::string>{"2027-02-01 00:00 Mon", "2027-02-08 00:00 Mon",
                                      "2027-02-15 00:00 Mon", "2027-02-22 00:00 Mon",
                                      "2027-03-01 00:00 Mon", "2027-03-08 00:00 Mon",
                                      "2027-03-15 00:00 Mon"}));
  EXPECT_EQ(firings("0 0 13 * 5", at(2027_y / 8 / 1), 4),
            (std::vector<std::string>{"2027-08-06 00:00 Fri", "2027-08-13 00:00 Fri",
                                      "2027-08-20 00:00 Fri", "2027-08-27 00:00 Fri"}));
  // Only one restricted: both must match, and `*` matches everything.
  EXPECT_EQ(firings("0 0 * * mon", at(2027_y / 2 / 1), 2),
            (std::vector<std::string>{"2027-02-01 00:00 Mon", "2027-02-08 00:00 Mon"}));
  EXPECT_EQ(firings("0 0 15 * *", at(2027_y / 2 / 1), 2),
            (std::vector<std::string>{"2027-02-15 00:00 Mon", "2027-03-15 00:00 Mon"}));
  // A field starting with '*' counts as unrestricted, as in Vixie cron: odd days that are
  // also Mondays.
  EXPECT_EQ(firings("0 0 */2 * mon", at(2027_y / 2 / 1), 3),
            (std::vector<std::string>{"2027-02-01 00:00 Mon", "2027-02-15 00:00 Mon",
                                      "2027-03-01 00:00 Mon"}));
}

TEST(Cron, MonthEndsAreSkippedWhereTheDayDoesNotExist) {
  EXPECT_EQ(firings("0 0 31 * *", at(2027_y / 1 / 31, 0, 1), 4),
            (std::vector<std::string>{"2027-03-31 00:00 Wed", "2027-05-31 00:00 Mon",
                                      "2027-07-31 00:00 Sat", "2027-08-31 00:00 Tue"}));
  EXPECT_EQ(firings("0 12 30 * *", at(2027_y / 1 / 31), 2),
            (std::vector<std::string>{"2027-03-30 12:00 Tue", "2027-04-30 12:00 Fri"}));
  // prev() walks the same way backwards.
  auto e = CronExpr::parse("0 0 31 * *");
  EXPECT_EQ(text(*e.prev(at(2027_y / 5 / 30))), "2027-03-31 00:00 Wed");
}

TEST(Cron, LeapDaysOnlyInLeapYears) {
  auto feb29 = CronExpr::parse("0 6 29 2 *");
  EXPECT_EQ(text(*feb29.next(at(2025_y / 3 / 1))), "2028-02-29 06:00 Tue");
  EXPECT_EQ(text(*feb29.prev(at(2028_y / 2 / 28))), "2024-02-29 06:00 Thu");
  // 2100 is not a leap year: eight years between two.
  EXPECT_EQ(text(*feb29.next(at(2097_y / 1 / 1))), "2104-02-29 06:00 Fri");
  // Feb 29 that is also a Sunday (odd days AND Sunday, the '*' rule): 28 years apart.
  auto rare = CronExpr::parse("0 0 29 2 */7");
  EXPECT_EQ(text(*rare.next(at(2004_y / 3 / 1))), "2032-02-29 00:00 Sun");
  // "Last day of February" as a list: 28 in common years, 29 in leap years.
  EXPECT_EQ(firings("0 0 28,29 2 *", at(2027_y / 1 / 1), 3),
            (std::vector<std::string>{"2027-02-28 00:00 Sun", "2028-02-28 00:00 Mon",
                                      "2028-02-29 00:00 Tue"}));
}

TEST(Cron, NextAndPrevIncludeTheGivenMinute) {
  auto e = CronExpr::parse("30 2 * * *");
  EXPECT_EQ(text(*e.next(at(2027_y / 1 / 1, 2, 30))), "2027-01-01 02:30 Fri");
  EXPECT_EQ(text(*e.next(at(2027_y / 1 / 1, 2, 31))), "2027-01-02 02:30 Sat");
  EXPECT_EQ(text(*e.prev(at(2027_y / 1 / 1, 2, 30))), "2027-01-01 02:30 Fri");
  EXPECT_EQ(text(*e.prev(at(2027_y / 1 / 1, 2, 29))), "2026-12-31 02:30 Thu");
  // Across a year end, with month skipping.
  EXPECT_EQ(text(*CronExpr::parse("0 0 1 1 *").prev(at(2027_y / 12 / 31))), "2027-01-01 00:00 Fri");
}

TEST(Cron, ErrorsSayWhatIsWrongAtTheScheduleValue) {
  EXPECT_EQ(error_of("61 * * * *"),
            "d.yaml:3:11: schedule '61 * * * *': minute 61 is out of range 0-59");
  EXPECT_NE(error_of("0 24 * * *").find("hour 24 is out of range 0-23"), std::string::npos);
  EXPECT_NE(error_of("0 0 0 * *").find("day-of-month 0 is out of range 1-31"), std::string::npos);
  EXPECT_NE(error_of("0 0 32 * *").find("day-of-month 32 is out of range 1-31"), std::string::npos);
  EXPECT_NE(error_of("0 0 * 13 *").find("month 13 is out of range 1-12"), std::string::npos);
  EXPECT_NE(error_of("0 0 * * 8").find("day-of-week 8 is out of range 0-7 (0 and 7 are Sunday)"),
            std::string::npos);
  EXPECT_NE(error_of("*/0 * * * *").find("step 0"), std::string::npos);
  EXPECT_NE(error_of("*/60 * * * *").find("step 60 is out of range 1-59"), std::string::npos);
  EXPECT_NE(error_of("0 22-2 * * *")
                .find("hour range 22-2 goes backwards; write it as two ranges: 22-23,0-2"),
            std::string::npos);
  EXPECT_NE(error_of("1,,2 * * * *").find("minute '1,,2' has an empty list entry"),
            std::string::npos);
  EXPECT_NE(error_of("1- * * * *").find("missing a value"), std::string::npos);
  EXPECT_NE(error_of("*/5/2 * * * *").find("more than one '/'"), std::string::npos);
  EXPECT_NE(error_of("*-5 * * * *").find("'*' stands alone"), std::string::npos);
  EXPECT_NE(error_of("mon * * * *").find("minute 'mon' is not a number"), std::string::npos);
  EXPECT_NE(error_of("0 0 * janu *").find("month 'janu' is not a number or a name (jan-dec)"),
            std::string::npos);
  EXPECT_NE(error_of("0 0 * * moon").find("did you mean 'mon'?"), std::string::npos);
  EXPECT_NE(error_of("0 0 ? * mon").find("'?' is Quartz syntax"), std::string::npos);
  EXPECT_NE(error_of("0 0 L * *").find("Quartz extensions"), std::string::npos);
  EXPECT_NE(error_of("0 0 * *").find("has 4 fields; cron has five (minute hour day-of-month "
                                     "month day-of-week)"),
            std::string::npos);
  EXPECT_NE(error_of("0 0 0 * * *").find("has 6 fields; cron has five"), std::string::npos);
  EXPECT_NE(error_of("0 0 0 * * *").find("no seconds or year field"), std::string::npos);
  EXPECT_NE(error_of("").find("d.yaml:3:11: schedule is empty"), std::string::npos);
  EXPECT_NE(error_of("@fortnightly").find("unknown shortcut '@fortnightly'"), std::string::npos);
  EXPECT_NE(error_of("@dialy").find("did you mean '@daily'?"), std::string::npos);
  EXPECT_NE(error_of("@reboot").find("@reboot is not supported"), std::string::npos);
  EXPECT_NE(error_of("@daily 5").find("stands alone"), std::string::npos);
  EXPECT_NE(error_of("0 0 30 2 *").find("never fires: February has no day 30"), std::string::npos);
  EXPECT_NE(error_of("0 0 31 4,jun,9 *")
                .find("never fires: April and June and September have "
                      "no day 31"),
            std::string::npos);
  // Fine: with a weekday the either-rule makes it fire on those weekdays.
  EXPECT_EQ(error_of("0 0 30 2 mon"), "");
  EXPECT_EQ(error_of("0 0 29 2 *"), "");
}
