// `flow status` of a run read a page at a time (docs/REFERENCE.md §2.5): --task, --state,
// --limit and --offset select rows in reading order, --summary gives one line per task,
// and the whole document, streamed, is the same JSON as before.
#include <gtest/gtest.h>

#include "cli.hpp"

using flow::test::Project;
using nlohmann::json;

namespace {

// prep -> tiles (25 items, item 7 fails) -> last (upstream_failed): 28 instances.
std::string run_tiles(const Project& p) {
  p.write("t.yaml", R"(dag: t
tasks:
  - id: prep
    run: "true"
  - id: tiles
    after: [prep]
    foreach: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24]
    run: test {{item}} != 7
  - id: last
    after: [tiles]
    run: "true"
)");
  auto r = p.flow("run t.yaml --run-id t1 -j 2");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  return "t1";
}

std::vector<std::string> ids_of(const json& doc) {
  std::vector<std::string> out;
  for (const auto& t : doc["tasks"])
    out.push_back(t["id"]);
  return out;
}

}  // namespace

TEST(StatusPages, LimitAndOffsetPageATasksInstancesInReadingOrder) {
  Project p;
  const auto run = run_tiles(p);
  auto r = p.flow("status " + run + " --task tiles --offset 3 --limit 5");
  ASSERT_EQ(r.code, 0) << r.err;
  // The task's own instance first, then its items by index: offset 3 is tiles[2].
  for (const char* id : {"tiles[2] ", "tiles[3] ", "tiles[6] "})
    EXPECT_NE(r.out.find(id), std::string::npos) << id << "\n" << r.out;
  for (const char* id : {"tiles[1] ", "tiles[7] ", "prep ", "last "})
    EXPECT_EQ(r.out.find(id), std::string::npos) << id << "\n" << r.out;
  EXPECT_NE(r.out.find("instances 4-8 of 26 that match (28 in the run); next: --offset 8"),
            std::string::npos)
      << r.out;

  auto j = json::parse(p.flow("status " + run + " --task tiles --offset 3 --limit 5 --json").out);
  EXPECT_EQ(ids_of(j),
            (std::vector<std::string>{"tiles[2]", "tiles[3]", "tiles[4]", "tiles[5]", "tiles[6]"}));
  EXPECT_EQ(j["page"],
            (json{{"offset", 3}, {"limit", 5}, {"matching", 26}, {"total", 28}, {"shown", 5}}));
  EXPECT_EQ(j["run"]["id"], run);

  // Past the end: an empty page, still a whole document.
  j = json::parse(p.flow("status " + run + " --task tiles --offset 100 --json").out);
  EXPECT_TRUE(j["tasks"].empty());
  EXPECT_EQ(j["page"]["shown"], 0);
  r = p.flow("status " + run + " --task tiles --offset 100");
  EXPECT_NE(r.out.find("no instances past --offset 100 (26 match, 28 in the run)"),
            std::string::npos)
      << r.out;
  r = p.flow("status " + run + " --task prep --state failed");
  EXPECT_NE(r.out.find("no instance of 28 matches"), std::string::npos) << r.out;
}

TEST(StatusPages, StateFilterFindsTheFailedItemAmongTheOthers) {
  Project p;
  const auto run = run_tiles(p);
  auto j =
      json::parse(p.flow("status " + run + " --state failed --state upstream_failed --json").out);
  auto ids = ids_of(j);
  EXPECT_NE(std::find(ids.begin(), ids.end(), "tiles[7]"), ids.end()) << j.dump();
  EXPECT_NE(std::find(ids.begin(), ids.end(), "last"), ids.end()) << j.dump();
  for (const auto& t : j["tasks"])
    EXPECT_TRUE(t["state"] == "failed" || t["state"] == "upstream_failed") << t;
  EXPECT_EQ(j["page"]["matching"], ids.size());
}

TEST(StatusPages, SummaryCountsEveryTaskInReadingOrder) {
  Project p;
  const auto run = run_tiles(p);
  auto j = json::parse(p.flow("status " + run + " --summary --json").out);
  ASSERT_EQ(j["summary"].size(), 3u) << j.dump(2);
  EXPECT_EQ(j["summary"][0]["task"], "prep");
  EXPECT_EQ(j["summary"][1]["task"], "tiles");
  EXPECT_EQ(j["summary"][1]["instances"], 26);
  EXPECT_EQ(j["summary"][1]["counts"]["succeeded"], 24);
  EXPECT_EQ(j["summary"][2]["counts"], (json{{"upstream_failed", 1}}));
  EXPECT_EQ(j["instances"], 28);
  EXPECT_EQ(j["counts"]["succeeded"], 25);
  auto text = p.flow("status " + run + " --summary").out;
  EXPECT_NE(text.find("28 instances: "), std::string::npos) << text;
}

TEST(StatusPages, TheWholeStreamedDocumentIsTheJsonItWasBefore) {
  Project p;
  const auto run = run_tiles(p);
  auto r = p.flow("status " + run + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);         // throws if streaming broke the document
  EXPECT_EQ(r.out, j.dump(2) + "\n");  // printed exactly as dump(2) prints it
  EXPECT_EQ(j["tasks"].size(), 28u);
  EXPECT_FALSE(j.contains("page"));
  auto ids = ids_of(j);
  EXPECT_EQ(ids.front(), "prep");
  EXPECT_EQ(ids[1], "tiles");
  EXPECT_EQ(ids[2], "tiles[0]");
  EXPECT_EQ(ids[12], "tiles[10]");  // index order, not text order
  EXPECT_EQ(ids.back(), "last");
  EXPECT_TRUE(j["tasks"][0].contains("usage")) << j["tasks"][0];
}

// `flow run --json`'s final document is written an instance at a time too (a run of
// 1,000,000 instances used to build all of it as one JSON value first).
TEST(StatusPages, TheFinalDocumentOfRunJsonIsStreamedAsDumpPrintsIt) {
  Project p;
  run_tiles(p);
  auto r = p.flow("run t.yaml --run-id t2 -j 2 --json");
  EXPECT_EQ(r.code, 1) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(r.out, j.dump(2) + "\n");
  EXPECT_EQ(j["run"]["id"], "t2");
  auto ids = ids_of(j);
  ASSERT_EQ(ids.size(), 28u);
  EXPECT_EQ(ids.front(), "prep");
  EXPECT_EQ(ids[12], "tiles[10]");
  EXPECT_EQ(ids.back(), "last");
  EXPECT_FALSE(j["tasks"][0].contains("usage"));  // the run's document, not status's
}

// `flow logs` of a name the run lacks suggests a task or an instance of the task the name
// starts with, without reading every instance of the run.
TEST(StatusPages, LogsOfAnUnknownInstanceSuggestsTheNearestTaskOrItem) {
  Project p;
  const auto run = run_tiles(p);
  auto item = p.flow("logs " + run + " 'tiles(13)'");
  EXPECT_EQ(item.code, 2);
  EXPECT_NE(item.err.find("run t1 has no task 'tiles(13)' (did you mean 'tiles[13]'?)"),
            std::string::npos)
      << item.err;
  auto task = p.flow("logs " + run + " lats");
  EXPECT_EQ(task.code, 2);
  EXPECT_NE(task.err.find("(did you mean 'last'?)"), std::string::npos) << task.err;
}

TEST(StatusPages, UnknownStateOrTaskIsAnInputErrorWithTheNearestName) {
  Project p;
  const auto run = run_tiles(p);
  auto r = p.flow("status " + run + " --state runing");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--state runing: not a task state (did you mean 'running'?)"),
            std::string::npos)
      << r.err;
  r = p.flow("status " + run + " --task tile");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--task tile: run t1 has no such task (did you mean 'tiles'?)"),
            std::string::npos)
      << r.err;
  r = p.flow("status " + run + " --summary --limit 3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--summary counts every task"), std::string::npos) << r.err;
}
