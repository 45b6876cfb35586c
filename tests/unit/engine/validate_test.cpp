#include "engine/dag/validate.hpp"

#include <gtest/gtest.h>

#include "engine/dag/graph.hpp"
#include "engine/dag/loader.hpp"

using flow::dag::load_dag_text;

namespace {
std::string problems(const std::string& yaml) {
  auto dag = load_dag_text(yaml, "v.yaml");
  std::string out;
  for (const auto& d : flow::dag::validate(dag))
    out += d.str() + "\n";
  return out;
}
}  // namespace

TEST(Validate, CycleIsReportedWithItsPath) {
  std::string e = problems(R"(dag: c
tasks:
  - id: a
    after: [c]
    run: x
  - id: b
    after: [a]
    run: x
  - id: c
    after: [b]
    run: x
)");
  EXPECT_NE(e.find("dependency cycle: a -> b -> c -> a"), std::string::npos) << e;
  EXPECT_NE(e.find("v.yaml:4:12:"), std::string::npos) << e;
}

TEST(Validate, SelfDependencyIsACycle) {
  std::string e = problems("dag: s\ntasks:\n  - id: a\n    after: [a]\n    run: x\n");
  EXPECT_NE(e.find("dependency cycle: a -> a"), std::string::npos) << e;
}

// Regression guard: a cycle of two tasks is the shortest one besides a self-dependency; a
// detector that misses it makes `flow run` wait forever instead of refusing the DAG.
TEST(Validate, TwoTaskCycleIsACycle) {
  std::string e = problems(
      "dag: s\ntasks:\n  - id: a\n    after: [b]\n    run: x\n  - id: b\n"
      "    after: [a]\n    run: x\n  - id: c\n    run: x\n");
  EXPECT_NE(e.find("dependency cycle: a -> b -> a"), std::string::npos) << e;
}

TEST(Validate, MissingDependencyNamesTheNearMiss) {
  std::string e = problems(
      "dag: m\ntasks:\n  - id: prep\n    run: x\n  - id: b\n    after: [perp]\n    run: x\n");
  EXPECT_NE(e.find("v.yaml:6:12: task 'b' depends on unknown task 'perp' (did you mean 'prep'?)"),
            std::string::npos)
      << e;
}

TEST(Validate, UnknownTemplateNamesAreErrors) {
  std::string e = problems(R"(dag: t
params: {epochs: 3}
tasks:
  - id: a
    run: train --epochs {{ params.epoch }} --x {{ run.idd }} {{ nope }}
  - id: b
    run: use {{ tasks.a.outputs.model }}
)");
  EXPECT_NE(e.find("unknown parameter 'epoch' (did you mean 'epochs'?)"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown run field 'idd'"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown name 'nope'"), std::string::npos) << e;
  EXPECT_NE(e.find("task 'a' is not upstream of 'b'"), std::string::npos) << e;
  EXPECT_NE(e.find("v.yaml:5:10:"), std::string::npos) << e;
}

TEST(Validate, ItemOnlyInForeachAndTrialOnlyInHpo) {
  std::string e = problems("dag: i\ntasks:\n  - id: a\n    run: x {{ item }} {{ trial.epochs }}\n");
  EXPECT_NE(e.find("{{ item }} is only defined"), std::string::npos) << e;
  EXPECT_NE(e.find("only defined in a task with 'hpo'"), std::string::npos) << e;
}

TEST(Validate, GoodDagHasNoProblems) {
  EXPECT_EQ(problems(R"(dag: ok
params: {n: 2}
tasks:
  - id: list
    run: |
      echo '{"tiles": [1,2]}' > $FLOW_OUTPUTS_FILE
  - id: tiles
    after: [list]
    foreach: "{{ tasks.list.outputs.tiles }}"
    run: classify --tile {{ item }} --n {{ params.n }} --dir {{ run.dir }}
)"),
            "");
}

TEST(Graph, TopologicalOrderKeepsFileOrderForTies) {
  auto dag = load_dag_text(
      "dag: g\ntasks:\n  - id: c\n    after: [a]\n    run: x\n  - id: b\n    run: x\n  - id: a\n   "
      " run: x\n",
      "g.yaml");
  flow::dag::TaskGraph g(dag);
  auto order = g.topo_order();
  std::vector<std::string> ids;
  for (auto i : order)
    ids.push_back(dag.tasks[i].id);
  EXPECT_EQ(ids, (std::vector<std::string>{"b", "a", "c"}));
}

TEST(Validate, ScheduleAndTimezoneAreCheckedAtTheirValues) {
  std::string e = problems(R"(dag: s
schedule: "0 61 * * *"
timezone: Europe/Berln
tasks:
  - id: a
    run: x
)");
  EXPECT_NE(e.find("v.yaml:2:11: schedule '0 61 * * *': hour 61 is out of range 0-23"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("v.yaml:3:11: unknown timezone 'Europe/Berln' (did you mean 'Europe/Berlin'?)"),
            std::string::npos)
      << e;
  EXPECT_EQ(problems("dag: s\nschedule: '@daily'\ntimezone: Asia/Kolkata\ntasks:\n"
                     "  - id: a\n    run: x\n"),
            "");
}

TEST(Validate, BestParamsMustBeInTheUpstreamSearchSpace) {
  std::string e = problems(R"(dag: b
tasks:
  - id: tune
    hpo: {algorithm: random, metric: m, samples: 2, max_epochs: 2, space: {lr: {uniform: [0, 1]}}}
    run: x
  - id: train
    after: [tune]
    run: echo {{ tasks.tune.best.params.lrr }} {{ tasks.tune.best.params.lr }}
)");
  EXPECT_NE(e.find("{{ tasks.tune.best.params.lrr }}: 'lrr' is not in hpo.space (did you mean "
                   "'lr'?); space: lr"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find("best.params.lr }}:"), std::string::npos) << e;
}
