// `flow schedule next` through the real binary: the JSON shape of docs/REFERENCE.md §7.2
// and its values.
#include <gtest/gtest.h>

#include "../engine/cli.hpp"

using flow::test::Project;
using nlohmann::json;

namespace {
const char* kNightly = R"(dag: nightly
schedule: "0 2 * * *"
timezone: Europe/Berlin
tasks:
  - id: a
    run: echo hi
)";
}  // namespace

TEST(ScheduleNext, JsonHasSpecsShapeAndTheSpringForwardExample) {
  Project p;
  p.write("n.yaml", kNightly);
  auto r = p.flow("schedule next n.yaml -n 3 --json", "FLOW_NOW=2027-03-27T12:00:00Z");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  for (const auto& e : j) {
    for (const char* k : {"utc", "local", "data_interval_start", "data_interval_end"})
      EXPECT_TRUE(e[k].is_string()) << k;
    EXPECT_EQ(e["data_interval_end"], e["utc"]);
  }
  EXPECT_EQ(j[0]["utc"], "2027-03-28T01:00:00Z");
  EXPECT_EQ(j[0]["local"], "2027-03-28T03:00:00+02:00");
  EXPECT_EQ(j[0]["data_interval_start"], "2027-03-27T01:00:00Z");
  EXPECT_EQ(j[1]["utc"], "2027-03-29T00:00:00Z");
  EXPECT_EQ(j[1]["local"], "2027-03-29T02:00:00+02:00");
  EXPECT_EQ(j[1]["data_interval_start"], j[0]["utc"]);
  EXPECT_EQ(j[2]["data_interval_start"], j[1]["utc"]);

  // --after instead of FLOW_NOW; the default is five.
  auto after = p.flow("schedule next n.yaml --after 2027-10-30 --json");
  ASSERT_EQ(after.code, 0) << after.err;
  auto a = json::parse(after.out);
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[0]["utc"], "2027-10-30T00:00:00Z");
  EXPECT_EQ(a[1]["local"], "2027-10-31T02:00:00+02:00");  // fall back: the first 02:00
  EXPECT_EQ(a[2]["local"], "2027-11-01T02:00:00+01:00");

  auto text = p.flow("schedule next n.yaml -n 1", "FLOW_NOW=2027-03-27T12:00:00Z");
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("2027-03-28T01:00:00Z"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("2027-03-28T03:00:00+02:00"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("2027-03-27T02:00:00+01:00 .. 2027-03-28T03:00:00+02:00"),
            std::string::npos)
      << text.out;
}

TEST(ScheduleNext, WithoutAScheduleOrWithABadOneIsExit2) {
  Project p;
  p.write("plain.yaml", "dag: plain\ntasks:\n  - id: a\n    run: echo\n");
  auto r = p.flow("schedule next plain.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("plain.yaml: dag 'plain' has no schedule"), std::string::npos) << r.err;

  p.write("bad.yaml",
          "dag: bad\nschedule: \"*/15 9-17 * * mon-fry\"\ntasks:\n  - id: a\n    run: echo\n");
  auto b = p.flow("schedule next bad.yaml");
  EXPECT_EQ(b.code, 2);
  EXPECT_NE(b.err.find("bad.yaml:2:11: schedule '*/15 9-17 * * mon-fry': day-of-week 'fry' is "
                       "not a number or a name (sun-sat) (did you mean 'fri'?)"),
            std::string::npos)
      << b.err;
  auto v = p.flow("validate bad.yaml");
  EXPECT_EQ(v.code, 2);
  EXPECT_NE(v.err.find("bad.yaml:2:11:"), std::string::npos) << v.err;

  p.write("tz.yaml",
          "dag: tz\nschedule: '@daily'\ntimezone: Mars/Olympus\ntasks:\n"
          "  - id: a\n    run: echo\n");
  auto t = p.flow("schedule next tz.yaml");
  EXPECT_EQ(t.code, 2);
  EXPECT_NE(t.err.find("tz.yaml:3:11: unknown timezone 'Mars/Olympus'"), std::string::npos)
      << t.err;
}
