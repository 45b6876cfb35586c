// `resources:` (docs/REFERENCE.md §3.15): how the DAG says them, how validation holds them
// against a plain-process site, and how the slot table hands out cores and GPUs.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "engine/core/error.hpp"
#include "engine/dag/loader.hpp"
#include "engine/dag/validate.hpp"
#include "engine/run/slot_table.hpp"
#include "engine/site/local_node.hpp"
#include "engine/site/site.hpp"
#include "tests/support/scoped_env.hpp"

using flow::InputError;
using flow::dag::load_dag_text;
using flow::dag::Resources;
using flow::run::AttemptKey;
using flow::run::SlotTable;
using flow::test::ScopedEnv;

namespace {

std::string load_errors(const std::string& yaml) {
  try {
    load_dag_text(yaml, "r.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

flow::site::SiteCatalog catalog_with_local(const std::string& text) {
  flow::site::SiteCatalog c;
  c.add(flow::site::SiteCatalog::load_text(text, "sites/local.yaml"));
  return c;
}

std::string validate_errors(const std::string& yaml, const flow::site::SiteCatalog& sites) {
  auto dag = load_dag_text(yaml, "r.yaml");
  std::string out;
  for (const auto& d : flow::dag::validate(dag, {&sites, nullptr}))
    out += d.str() + "\n";
  return out;
}

Resources need(int cpus, int gpus) {
  Resources r;
  r.declared = true;
  r.cpus = cpus;
  r.gpus = gpus;
  return r;
}

AttemptKey key(const std::string& id) {
  return {"run", id, 1};
}

}  // namespace

TEST(Resources, ATaskSaysCoresGpusAndMemory) {
  auto dag = load_dag_text(R"(dag: r
tasks:
  - id: train
    run: python3 train.py
    resources: {cpus: 8, gpus: 2, memory: 16G}
  - id: small
    run: echo
    resources: {memory: 512}
  - id: plain
    run: echo
)",
                           "r.yaml");
  const auto& train = dag.tasks[0].resources;
  EXPECT_TRUE(train.declared);
  EXPECT_EQ(train.cpus, 8);
  EXPECT_EQ(train.gpus, 2);
  EXPECT_EQ(train.memory_mb, 16 * 1024);
  const auto& small = dag.tasks[1].resources;
  EXPECT_TRUE(small.declared);
  EXPECT_EQ(small.cpus, 1);
  EXPECT_EQ(small.gpus, 0);
  EXPECT_EQ(small.memory_mb, 512);
  EXPECT_FALSE(dag.tasks[2].resources.declared);
}

TEST(Resources, ATasksBlockReplacesTheDefaultsBlockWhole) {
  auto dag = load_dag_text(R"(dag: r
defaults:
  resources: {cpus: 4, gpus: 1}
tasks:
  - id: a
    run: echo
  - id: b
    run: echo
    resources: {cpus: 2}
)",
                           "r.yaml");
  EXPECT_EQ(dag.tasks[0].resources.cpus, 4);
  EXPECT_EQ(dag.tasks[0].resources.gpus, 1);
  EXPECT_EQ(dag.tasks[1].resources.cpus, 2);
  EXPECT_EQ(dag.tasks[1].resources.gpus, 0);
}

TEST(Resources, BadValuesAreLocatedAndNamed) {
  std::string e = load_errors(R"(dag: r
tasks:
  - id: a
    run: echo
    resources: {cpus: 0, gpus: 65, memory: 4X, disk: 1}
)");
  EXPECT_NE(e.find("r.yaml:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("resources.cpus"), std::string::npos) << e;
  EXPECT_NE(e.find("resources.gpus"), std::string::npos) << e;
  EXPECT_NE(e.find("resources.memory '4X' is not a memory size"), std::string::npos) << e;
  EXPECT_NE(e.find("disk"), std::string::npos) << e;
}

TEST(Resources, MoreGpusThanThePlainProcessSiteHasIsAValidationErrorNamingItsCount) {
  ScopedEnv env("CUDA_VISIBLE_DEVICES", nullptr);
  auto sites = catalog_with_local("site: local\ntransport: none\ngpus_per_node: 2\n");
  std::string e = validate_errors(R"(dag: r
tasks:
  - id: train
    run: echo
    resources: {gpus: 3}
  - id: fits
    run: echo
    resources: {gpus: 2}
)",
                                  sites);
  EXPECT_NE(e.find("r.yaml:5:16: task 'train' asks for 3 GPUs but site 'local' has 2 "
                   "(gpus_per_node of sites/local.yaml)"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find("'fits'"), std::string::npos) << e;
}

TEST(Resources, MoreCoresThanThePlainProcessSiteHasIsAValidationError) {
  auto sites = catalog_with_local("site: local\ntransport: none\ncores_per_node: 4\n");
  std::string e = validate_errors(
      "dag: r\ntasks:\n  - id: big\n    run: echo\n    resources: {cpus: 5}\n", sites);
  EXPECT_NE(e.find("task 'big' asks for 5 cores but site 'local' has 4 (cores_per_node); ask "
                   "for at most 4"),
            std::string::npos)
      << e;
}

TEST(Resources, AMachineWithoutGpusSaysWhereItLooked) {
  ScopedEnv env("CUDA_VISIBLE_DEVICES", "");
  auto sites = catalog_with_local("site: local\ntransport: none\n");
  std::string e = validate_errors(
      "dag: r\ntasks:\n  - id: t\n    run: echo\n    resources: {gpus: 1}\n", sites);
  EXPECT_NE(e.find("task 't' asks for 1 GPU but site 'local' has 0 (the engine's "
                   "CUDA_VISIBLE_DEVICES)"),
            std::string::npos)
      << e;
}

TEST(LocalNode, GpusComeFromTheSiteCountTheEnginesListOrNowhere) {
  using flow::site::local_node;
  auto site = flow::site::SiteCatalog::load_text("site: local\ntransport: none\n", "local.yaml");
  {
    ScopedEnv env("CUDA_VISIBLE_DEVICES", "3, 5,,7");
    EXPECT_EQ(local_node(site).gpus, (std::vector<std::string>{"3", "5", "7"}));
    site.gpus_per_node = 2;  // the first two of the engine's own list
    EXPECT_EQ(local_node(site).gpus, (std::vector<std::string>{"3", "5"}));
    site.gpus_per_node = 4;  // more than it was given: a count, ids from 0
    EXPECT_EQ(local_node(site).gpus, (std::vector<std::string>{"0", "1", "2", "3"}));
  }
  {
    ScopedEnv env("CUDA_VISIBLE_DEVICES", "-1");
    site.gpus_per_node = 0;
    EXPECT_TRUE(local_node(site).gpus.empty());
  }
  EXPECT_EQ(flow::site::parse_visible_devices("GPU-a1b2,GPU-c3d4"),
            (std::vector<std::string>{"GPU-a1b2", "GPU-c3d4"}));
  EXPECT_TRUE(flow::site::parse_visible_devices("NoDevFiles").empty());
}

TEST(SlotTable, GpusAreHandedOutExclusivelyAndComeBackOnRelease) {
  SlotTable t(8, {"0", "1", "2", "3"});
  ASSERT_TRUE(t.claim(key("a"), need(1, 2)));
  ASSERT_TRUE(t.claim(key("b"), need(1, 1)));
  EXPECT_EQ(t.grant(key("a"))->gpus, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(t.grant(key("b"))->gpus, (std::vector<std::string>{"2"}));
  EXPECT_FALSE(t.claim(key("c"), need(1, 2)));  // one left
  EXPECT_EQ(t.grant(key("c")), nullptr);
  EXPECT_EQ(t.free_gpus(), 1);
  t.release(key("a"));
  ASSERT_TRUE(t.claim(key("c"), need(1, 2)));
  EXPECT_EQ(t.grant(key("c"))->gpus, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(t.free_cores(), 6);
}

TEST(SlotTable, CoresBoundTheTriesAndABigTaskTakesAtMostAll) {
  SlotTable t(4, {});
  EXPECT_TRUE(t.claim(key("a"), Resources{}));  // undeclared: one core
  EXPECT_TRUE(t.claim(key("b"), need(3, 0)));
  EXPECT_FALSE(t.claim(key("c"), Resources{}));
  t.release(key("a"));
  t.release(key("b"));
  EXPECT_TRUE(t.claim(key("huge"), need(64, 0)));  // -j 4 below the ask: runs alone
  EXPECT_EQ(t.grant(key("huge"))->cores, 4);
  EXPECT_EQ(t.free_cores(), 0);
}

TEST(SlotTable, AnAdoptedTryKeepsTheGpusItWasGiven) {
  SlotTable t(4, {"0", "1", "2"});
  t.adopt(key("old"), need(1, 1), {"2"});
  EXPECT_EQ(t.grant(key("old"))->gpus, (std::vector<std::string>{"2"}));
  ASSERT_TRUE(t.claim(key("new"), need(1, 2)));
  EXPECT_EQ(t.grant(key("new"))->gpus, (std::vector<std::string>{"0", "1"}));
  // A GPU that is no longer listed is replaced by a free one, if any.
  t.adopt(key("gone"), need(1, 1), {"9"});
  EXPECT_TRUE(t.grant(key("gone"))->gpus.empty());
}
