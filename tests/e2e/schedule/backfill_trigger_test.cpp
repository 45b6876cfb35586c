// `flow backfill` and `flow trigger` through the real binary, and the dates of a manual run.
#include <gtest/gtest.h>

#include "../engine/cli.hpp"

using flow::test::Project;
using nlohmann::json;

namespace {

// Fails for the interval that starts 2027-03-27 02:00 in Berlin, unless told otherwise.
const char* kDaily = R"(dag: daily
schedule: "0 2 * * *"
timezone: Europe/Berlin
max_active_runs: 2
params: {bad: "2027-03-27T01:00:00Z", who: nobody}
tasks:
  - id: load
    run: |
      echo "{{ run.data_interval_start }} {{ run.data_interval_end }} {{ params.who }}"
      test "{{ run.data_interval_start }}" != "{{ params.bad }}"
)";

}  // namespace

TEST(Backfill, OneRunPerIntervalAndSucceededOnesAreSkipped) {
  Project p;
  p.write("dags/daily.yaml", kDaily);
  auto r = p.flow("backfill daily --from 2027-03-26 --to 2027-03-28 --json");
  EXPECT_EQ(r.code, 1) << r.err;  // the 27th fails
  auto j = json::parse(r.out);
  EXPECT_EQ(j["dag"], "daily");
  ASSERT_EQ(j["runs"].size(), 3u) << r.out;
  std::map<std::string, std::string> state_of;  // interval start -> state
  for (const auto& run : j["runs"]) {
    state_of[run["data_interval_start"]] = run["state"];
    EXPECT_EQ(run["logical_date"], run["data_interval_start"]);
  }
  EXPECT_EQ(state_of["2027-03-26T01:00:00Z"], "succeeded");
  EXPECT_EQ(state_of["2027-03-27T01:00:00Z"], "failed");
  EXPECT_EQ(state_of["2027-03-28T01:00:00Z"], "succeeded");  // 03:00 CEST, after the gap
  EXPECT_TRUE(j["skipped"].empty());
  // The data interval reached the task; the 27th's ends after the spring-forward gap.
  for (const auto& run : j["runs"]) {
    if (run["data_interval_start"] != "2027-03-27T01:00:00Z") continue;
    auto log = p.flow("logs " + run["id"].get<std::string>() + " load");
    EXPECT_EQ(log.out, "2027-03-27T01:00:00Z 2027-03-28T01:00:00Z nobody\n");
  }

  // Wider range: succeeded intervals are skipped, the failed one and the new ones run.
  auto again = p.flow("backfill daily --from 2027-03-25 --to 2027-03-29T02:00 --json");
  auto k = json::parse(again.out);
  ASSERT_EQ(k["skipped"].size(), 2u) << again.out;
  ASSERT_EQ(k["runs"].size(), 3u) << again.out;  // 25th, 27th (again) and 29th
  std::set<std::string> ran;
  for (const auto& run : k["runs"])
    ran.insert(run["data_interval_start"]);
  EXPECT_EQ(ran, (std::set<std::string>{"2027-03-25T01:00:00Z", "2027-03-27T01:00:00Z",
                                        "2027-03-29T00:00:00Z"}));
  for (const auto& s : k["skipped"])
    EXPECT_EQ(s["state"], "succeeded");

  auto text = p.flow("backfill daily --from 2027-03-25 --to 2027-03-26");
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("2 skipped"), std::string::npos) << text.out;
}

TEST(Backfill, InputErrorsAreExit2) {
  Project p;
  p.write("dags/daily.yaml", kDaily);
  p.write("dags/plain.yaml", "dag: plain\ntasks:\n  - id: a\n    run: echo\n");
  EXPECT_EQ(p.flow("backfill daily --from 2027-03-28 --to 2027-03-26").code, 2);
  auto bad = p.flow("backfill daily --from March --to 2027-03-26");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--from 'March'"), std::string::npos) << bad.err;
  auto plain = p.flow("backfill plain --from 2027-03-26 --to 2027-03-27");
  EXPECT_EQ(plain.code, 2);
  EXPECT_NE(plain.err.find("has no schedule"), std::string::npos) << plain.err;
  auto unknown = p.flow("backfill dialy --from 2027-03-26 --to 2027-03-27");
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("no DAG named 'dialy' in dags (did you mean 'daily'?)"),
            std::string::npos)
      << unknown.err;
}

TEST(Trigger, RunsAKnownDagByNameWithParamsAndManualDates) {
  Project p;
  p.write("dags/daily.yaml", kDaily);
  auto r = p.flow("trigger daily -p who=alice -p bad=none --run-id t1 --json",
                  "FLOW_NOW=2027-03-28T12:34:56Z");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["run"]["state"], "succeeded");
  // Airflow's manual run: logical date = now, interval = the last complete one.
  EXPECT_EQ(j["run"]["logical_date"], "2027-03-28T12:34:56Z");
  EXPECT_EQ(j["run"]["data_interval_start"], "2027-03-27T01:00:00Z");
  EXPECT_EQ(j["run"]["data_interval_end"], "2027-03-28T01:00:00Z");
  EXPECT_EQ(p.flow("logs t1 load").out, "2027-03-27T01:00:00Z 2027-03-28T01:00:00Z alice\n");

  auto bad = p.flow("trigger daily -p whom=x");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("did you mean 'who'?"), std::string::npos) << bad.err;
  auto other = p.flow("trigger daily --dags elsewhere");
  EXPECT_EQ(other.code, 2);
}

TEST(Run, ManualRunOfAnUnscheduledDagHasAnEmptyInterval) {
  Project p;
  p.write("plain.yaml", "dag: plain\ntasks:\n  - id: a\n    run: echo {{ run.logical_date }}\n");
  auto r = p.flow("run plain.yaml --run-id m1 --json", "FLOW_NOW=2027-01-02T03:04:05Z");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["run"]["logical_date"], "2027-01-02T03:04:05Z");
  EXPECT_EQ(j["run"]["data_interval_start"], "2027-01-02T03:04:05Z");
  EXPECT_EQ(j["run"]["data_interval_end"], "2027-01-02T03:04:05Z");
  EXPECT_EQ(p.flow("logs m1 a").out, "2027-01-02T03:04:05Z\n");
}

TEST(Example, LandcoverNightlyRunsFromTheScheduler) {
  Project p;
  std::filesystem::create_directories(p.dir() / "dags");
  const std::filesystem::path src = FLOW_SOURCE_DIR "/dags";
  std::filesystem::copy(src / "landcover_nightly.yaml", p.dir() / "dags");
  std::filesystem::copy(src / "landcover", p.dir() / "dags" / "landcover",
                        std::filesystem::copy_options::recursive);
  // The night of the spring-forward change: 02:00 does not exist, the run fires at 03:00.
  auto r = p.flow("scheduler --once --json", "FLOW_NOW=2027-03-28T05:00:00Z");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::string id = "landcover_nightly-scheduled-20270327T010000Z";
  auto st = json::parse(p.flow("status " + id + " --json").out);
  EXPECT_EQ(st["run"]["state"], "succeeded");
  EXPECT_EQ(st["run"]["data_interval_end"], "2027-03-28T01:00:00Z");
  EXPECT_EQ(st["tasks"].size(), 9u);  // list_tiles, classify + 6 tiles, merge
  auto merged = json::parse(flow::test::slurp(p.home() / "runs" / id / "landcover.json"));
  EXPECT_EQ(merged["date"], "2027-03-27");
  EXPECT_EQ(merged["tiles"].size(), 6u);
  double sum = 0;
  for (const auto& [_, f] : merged["fractions"].items())
    sum += f.get<double>();
  EXPECT_NEAR(sum, 1.0, 0.01);
}
