#include "engine/dag/loader.hpp"

#include <gtest/gtest.h>

#include "engine/core/error.hpp"

using flow::InputError;
using flow::dag::load_dag_text;

namespace {
// The diagnostics of loading `yaml`, joined; "" if it loads.
std::string errors_of(const std::string& yaml) {
  try {
    load_dag_text(yaml, "x.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Loader, ReadsTasksDefaultsAndParams) {
  auto dag = load_dag_text(R"(dag: demo
params: {epochs: 30, lr: 0.01, name: x, flag: true}
defaults: {retries: 2, retry_delay: 5s, timeout: 1h}
tasks:
  - id: a
    run: echo a
  - id: b
    after: [a]
    run: echo b
    retries: 0
    trigger: all_done
)",
                           "demo.yaml");
  ASSERT_EQ(dag.tasks.size(), 2u);
  EXPECT_EQ(dag.params["epochs"], 30);
  EXPECT_TRUE(dag.params["lr"].is_number_float());
  EXPECT_TRUE(dag.params["flag"].is_boolean());
  EXPECT_EQ(dag.tasks[0].retry.retries, 2);
  EXPECT_EQ(dag.tasks[0].retry.delay, std::chrono::seconds(5));
  EXPECT_EQ(dag.tasks[0].timeout, std::chrono::hours(1));
  EXPECT_EQ(dag.tasks[1].retry.retries, 0);
  EXPECT_EQ(dag.tasks[1].trigger, flow::dag::TriggerRule::kAllDone);
  EXPECT_EQ(dag.tasks[1].after, std::vector<std::string>{"a"});
}

TEST(Loader, BadYamlReportsLineAndColumn) {
  std::string e = errors_of("dag: x\ntasks:\n  - id: a\n    run: [unclosed\n");
  EXPECT_NE(e.find("x.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;
}

TEST(Loader, UnknownKeySuggestsTheNearMiss) {
  std::string e = errors_of("dag: x\ntasks:\n  - id: a\n    run: echo\n    retires: 3\n");
  EXPECT_NE(e.find("x.yaml:5:5: unknown key 'retires'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'retries'"), std::string::npos) << e;
}

TEST(Loader, DuplicateAndInvalidIdsAreErrors) {
  std::string e = errors_of(
      "dag: x\ntasks:\n  - id: a\n    run: echo\n  - id: a\n    run: echo\n"
      "  - id: ../evil\n    run: echo\n");
  EXPECT_NE(e.find("duplicate task id 'a'"), std::string::npos) << e;
  EXPECT_NE(e.find("task id '../evil' is invalid"), std::string::npos) << e;
}

TEST(Loader, BadDurationAndTypesAreLocated) {
  std::string e = errors_of(
      "dag: x\ntasks:\n  - id: a\n    run: echo\n    timeout: soon\n"
      "    retries: many\n");
  EXPECT_NE(e.find("x.yaml:5:14: timeout: 'soon' is not a duration"), std::string::npos) << e;
  EXPECT_NE(e.find("x.yaml:6:14: retries must be a whole number"), std::string::npos) << e;
}

TEST(Loader, MissingTopLevelKeys) {
  std::string e = errors_of("description: nothing\n");
  EXPECT_NE(e.find("missing 'dag:'"), std::string::npos) << e;
  EXPECT_NE(e.find("missing 'tasks:'"), std::string::npos) << e;
}

TEST(Loader, ValidIds) {
  EXPECT_TRUE(flow::dag::is_valid_id("train_v2.1-final"));
  EXPECT_FALSE(flow::dag::is_valid_id(".."));
  EXPECT_FALSE(flow::dag::is_valid_id("a/b"));
  EXPECT_FALSE(flow::dag::is_valid_id("a b"));
  EXPECT_FALSE(flow::dag::is_valid_id(""));
}

TEST(Loader, ReadsHpoBlock) {
  auto dag = load_dag_text(R"(dag: h
tasks:
  - id: tune
    run: train --lr {{ trial.params.lr }}
    hpo:
      algorithm: asha
      metric: val_mae
      samples: 8
      space:
        lr: {loguniform: [1.0e-5, 1.0e-1]}
        bs: {choice: [16, 32]}
)",
                           "h.yaml");
  ASSERT_TRUE(dag.tasks[0].hpo);
  EXPECT_EQ(dag.tasks[0].hpo->algorithm, "asha");
  EXPECT_EQ(dag.tasks[0].hpo->space.size(), 2u);
}
