// What `flow report` reads from the state database (ui-report/report_data.hpp) and how the
// page carries it (ui-report/html_page.hpp).
#include "ui-report/report_data.hpp"

#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/state/trial_segment.hpp"
#include "tests/support/synthetic_run.hpp"
#include "tests/support/temp_dir.hpp"
#include "ui-report/html_page.hpp"

using flow::state::RunState;
using flow::state::TaskState;
using nlohmann::json;

namespace {

constexpr flow::EpochMs kT0 = 1'800'000'000'000;

const char* kDag = R"(dag: synthetic
tasks:
  - id: prep
    run: "true"
  - id: train
    after: [prep]
    site: cluster
    slurm: {nodes: 2, ntasks: 4, cpus_per_task: 2, gpus: 1}
    run: "true"
  - id: tiles
    after: [prep]
    foreach: "[1, 2, 3]"
    run: "true"
)";

struct Fixture {
  flow::test::TempDir dir{"report-test"};
  std::unique_ptr<flow::state::Store> store = flow::state::Store::open(dir.path() / "flow.db");
};

// The state name of a row's state index.
std::string state_of(const json& data, const json& row, size_t at) {
  return data["states"][row[at].get<size_t>()].get<std::string>();
}

}  // namespace

TEST(ReportData, QueueWaitIsTheTimeFromSubmissionToRunningAndCoreHoursCountTheAllocation) {
  Fixture f;
  flow::test::SyntheticRun run(*f.store, "r1", kDag, kT0, kT0 + 60'000, RunState::kSucceeded);
  run.instance("prep", "prep", TaskState::kSucceeded, 1, kT0 + 100, 0, 900);
  // Launched at +2000, submitted at +2010, waits 30 s, runs 3.6 s on 2 nodes x 4 x 2 cores.
  run.instance("train", "train", TaskState::kSucceeded, 1, kT0 + 2000, 30'000, 3'600, "4711");
  auto data = flow::report::report_data(*f.store, "r1");

  ASSERT_EQ(data["tries"].size(), 2u);
  json train;
  for (const auto& t : data["tries"])
    if (data["instances"][t[0].get<size_t>()][0] == "train") train = t;
  ASSERT_TRUE(train.is_array()) << data["tries"].dump();
  EXPECT_EQ(train[3], 2000);           // launched, ms after the run was created
  EXPECT_EQ(train[4], 2010);           // submitted
  EXPECT_EQ(train[5], 2010 + 30'000);  // started running
  EXPECT_EQ(train[6], 2010 + 33'600);  // ended
  EXPECT_EQ(train[7], "4711");
  EXPECT_EQ(state_of(data, train, 2), "succeeded");
  // prep: one core for 0.9 s; train: 16 cores and 2 GPUs for 3.6 s.
  EXPECT_NEAR(data["usage"]["core_hours"].get<double>(), (900.0 + 16 * 3600.0) / 3.6e6, 1e-9);
  EXPECT_NEAR(data["usage"]["gpu_hours"].get<double>(), 2 * 3600.0 / 3.6e6, 1e-9);
  EXPECT_EQ(data["run"]["wall_ms"], 60'000);
}

// What a try used (its usage columns) rides on its row; the summary adds up the CPU time
// measured and says for how many tries it was.
TEST(ReportData, TriesCarryWhatTheyUsedAndTheSummaryTheCpuHoursMeasured) {
  Fixture f;
  flow::test::SyntheticRun run(*f.store, "r5", kDag, kT0, kT0 + 60'000, RunState::kSucceeded);
  run.instance("prep", "prep", TaskState::kSucceeded, 1, kT0 + 100, 0, 900);
  run.instance("train", "train", TaskState::kSucceeded, 1, kT0 + 2000, 30'000, 3'600, "4711");
  auto tries = f.store->tries("r5", "train");
  ASSERT_EQ(tries.size(), 1u);
  tries[0].usage = {.cpu_ms = 7'200, .max_rss_bytes = 3 << 20, .wall_ms = 3'600, .cpus = 4};
  f.store->put_try(tries[0]);
  auto data = flow::report::report_data(*f.store, "r5");
  for (const auto& t : data["tries"]) {
    ASSERT_EQ(t.size(), 13u) << t;
    if (data["instances"][t[0].get<size_t>()][0] == "train") {
      EXPECT_EQ(t[9], 7'200);
      EXPECT_EQ(t[10], 3 << 20);
      EXPECT_EQ(t[11], 3'600);
      EXPECT_EQ(t[12], 4);
    } else {
      EXPECT_EQ(t[9], -1) << "not measured";
      EXPECT_EQ(t[10], -1);
    }
  }
  EXPECT_NEAR(data["usage"]["cpu_hours_used"].get<double>(), 7'200 / 3.6e6, 1e-12);
  EXPECT_EQ(data["usage"]["measured_tries"], 1);
}

TEST(ReportData, CountsInstancesByStateAndKeepsTheMessagesOfFailuresOnly) {
  Fixture f;
  flow::test::SyntheticRun run(*f.store, "r2", kDag, kT0, kT0 + 9'000, RunState::kFailed);
  run.instance("prep", "prep", TaskState::kSucceeded, 1, kT0, 0, 10, "", "fine");
  run.instance("tiles[0]", "tiles", TaskState::kSucceeded, 1, kT0 + 20, 0, 10);
  run.instance("tiles[1]", "tiles", TaskState::kFailed, 3, kT0 + 20, 0, 10, "", "exit code 3");
  auto data = flow::report::report_data(*f.store, "r2");
  EXPECT_EQ(data["counts"], (json{{"succeeded", 2}, {"failed", 1}}));
  EXPECT_EQ(data["tries"].size(), 5u);
  for (const auto& in : data["instances"]) {
    if (in[0] == "tiles[1]") {
      EXPECT_EQ(state_of(data, in, 2), "failed");
      EXPECT_EQ(in[3], 3);
      EXPECT_EQ(in[7], "exit code 3");
    } else {
      EXPECT_EQ(in[7], "") << in.dump();
    }
  }
  // Tasks in reading order with their kind and allocation; `after` as task indices.
  EXPECT_EQ(data["tasks"][0], (json{"prep", "task", "local", 1, 0, json::array()}));
  EXPECT_EQ(data["tasks"][1], (json{"train", "task", "cluster", 16, 2, {0}}));
  EXPECT_EQ(data["tasks"][2][1], "foreach");
  auto boxes = flow::report::task_boxes(data);
  ASSERT_EQ(boxes.size(), 3u);
  EXPECT_EQ(boxes[2].counts, (std::map<std::string, int>{{"succeeded", 1}, {"failed", 1}}));
}

// Issue 13: a trial's instance row and try rows end with its segment and its try of that
// segment (what the page labels "segment 2, try 2"); other rows keep their nine columns.
TEST(ReportData, ATrialsRowsCarryTheirSegmentAndTryOfItOthersDoNot) {
  Fixture f;
  flow::test::SyntheticRun run(*f.store, "r4", kDag, kT0, kT0 + 9'000, RunState::kSucceeded);
  run.instance("prep", "prep", TaskState::kSucceeded, 2, kT0, 0, 10);
  flow::state::InstanceRecord trial;
  trial.run_id = "r4";
  trial.id = "tune[trial-0]";
  trial.task_id = trial.parent = "tune";
  trial.state = TaskState::kSucceeded;
  trial.try_number = 3;
  flow::state::set_segment_try(trial, {2, 2}, 3);  // segment 1 = try 1, segment 2 = tries 2, 3
  f.store->put_instance(trial);
  for (int n = 1; n <= 3; ++n) {
    flow::state::TryRecord t;
    t.run_id = "r4";
    t.instance_id = trial.id;
    t.try_number = n;
    t.state = n == 2 ? TaskState::kFailed : TaskState::kSucceeded;
    t.started = kT0 + n * 100;
    t.ended = kT0 + n * 100 + 50;
    t.segment = n == 1 ? 1 : 2;
    t.segment_try = n == 3 ? 2 : 1;
    f.store->put_try(t);
  }
  auto data = flow::report::report_data(*f.store, "r4");
  std::map<std::string, size_t> row;
  for (size_t i = 0; i < data["instances"].size(); ++i)
    row[data["instances"][i][0].get<std::string>()] = i;
  const auto& in = data["instances"][row.at("tune[trial-0]")];
  ASSERT_EQ(in.size(), 11u) << in.dump();
  EXPECT_EQ(in[3], 3);
  EXPECT_EQ(in[9], 2);
  EXPECT_EQ(in[10], 2);
  EXPECT_EQ(data["instances"][row.at("prep")].size(), 9u);
  std::vector<json> segments;
  for (const auto& t : data["tries"]) {
    if (t[0] == row.at("prep")) {
      EXPECT_EQ(t.size(), 13u) << t.dump();
    } else {
      ASSERT_EQ(t.size(), 15u) << t.dump();
      segments.push_back({t[1], t[13], t[14]});
    }
  }
  EXPECT_EQ(segments, (std::vector<json>{{1, 1, 1}, {2, 2, 1}, {3, 2, 2}}));
}

TEST(ReportData, AnUnknownRunIsAnError) {
  Fixture f;
  EXPECT_THROW(flow::report::report_data(*f.store, "nope"), flow::Error);
}

TEST(ReportHtml, IsSelfContainedAndTaskTextCannotEndItsScript) {
  Fixture f;
  flow::test::SyntheticRun run(*f.store, "r3", kDag, kT0, kT0 + 1'000, RunState::kFailed);
  // A log tail that tries to close the data script, and bytes that are not UTF-8.
  run.instance("prep", "prep", TaskState::kFailed, 1, kT0, 0, 10, "",
               "</script><script>alert(1)</script> <!-- \xff\xfe");
  auto html = flow::report::report_html(flow::report::report_data(*f.store, "r3"));
  size_t closes = 0;
  for (auto p = html.find("</script>"); p != std::string::npos; p = html.find("</script>", p + 1))
    ++closes;
  EXPECT_EQ(closes, 2u);  // the data and the page's script, nothing from the task
  EXPECT_EQ(html.find("<!--"), std::string::npos);
  EXPECT_NE(html.find("\\u003c/script>\\u003cscript>alert(1)"), std::string::npos);
  // Nothing is loaded from elsewhere: no src=, no <link>, no URL but the SVG namespace.
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  std::string rest = html;
  for (auto p = rest.find("http://www.w3.org/2000/svg"); p != std::string::npos;
       p = rest.find("http://www.w3.org/2000/svg"))
    rest.erase(p, 26);
  EXPECT_EQ(rest.find("http://"), std::string::npos);
  EXPECT_EQ(rest.find("https://"), std::string::npos);
  for (const char* section : {"summary", "timeline", "dag", "tasks", "hpo", "artifacts"})
    EXPECT_NE(html.find(std::string("<section id=\"") + section + "\""), std::string::npos);
}
