// `flow status` says why each waiting instance waits, from a live run: an upstream task
// not done, the run's -j reached, and after the engine is gone, that nothing executes it.
#include <gtest/gtest.h>

#include <csignal>

#include "cli.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;
using nlohmann::json;

namespace {

json waiting_of(const Project& p, const std::string& run, const std::string& id) {
  auto j = json::parse(p.flow("status " + run + " --json").out, nullptr, false);
  if (!j.is_object()) return nullptr;
  for (const auto& t : j["tasks"])
    if (t["id"] == id) return t.value("waiting", json());
  return nullptr;
}

}  // namespace

TEST(WaitingReasons, StatusSaysWhyEachQueuedTaskWaitsInALiveRun) {
  Project p;
  p.write("w.yaml", R"(dag: w
tasks:
  - id: a
    run: sleep 30
  - id: b
    run: "true"
  - id: c
    after: [a]
    run: "true"
)");
  Background bg(p, "run w.yaml --run-id w1 -j 1");
  ASSERT_TRUE(eventually(
      [&] {
        auto s = json::parse(p.flow("status w1 --json").out, nullptr, false);
        if (!s.is_object()) return false;
        for (const auto& t : s["tasks"])
          if (t["id"] == "a" && t["state"] == "running") return true;
        return false;
      },
      60));
  auto b = waiting_of(p, "w1", "b");
  ASSERT_TRUE(b.is_object()) << p.flow("status w1 --json").out;
  EXPECT_EQ(b["reason"], "parallelism");
  EXPECT_EQ(b["text"], "-j 1: 1 tasks in flight");
  auto c = waiting_of(p, "w1", "c");
  EXPECT_EQ(c["reason"], "upstream");
  EXPECT_EQ(c["text"], "upstream a not done (running)");
  auto table = p.flow("status w1").out;
  EXPECT_NE(table.find("waiting: upstream a not done (running)"), std::string::npos) << table;
  EXPECT_TRUE(waiting_of(p, "w1", "a").is_null());  // running, not waiting

  // The engine is stopped: what is left waits for someone to resume the run.
  bg.signal(SIGINT);
  bg.wait();
  c = waiting_of(p, "w1", "c");
  ASSERT_TRUE(c.is_object()) << p.flow("status w1 --json").out;
  EXPECT_EQ(c["reason"], "not_executing");
  EXPECT_NE(c["text"].get<std::string>().find("flow resume w1"), std::string::npos) << c;
}
