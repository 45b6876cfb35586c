#include "engine/dag/loader.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/core/error.hpp"
#include "engine/dag/validate.hpp"
#include "tests/support/temp_dir.hpp"

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
  EXPECT_EQ(dag.tasks[0].retry->retries, 2);
  EXPECT_EQ(dag.tasks[0].retry->delay, std::chrono::seconds(5));
  EXPECT_EQ(dag.tasks[0].extras->timeout, std::chrono::hours(1));
  EXPECT_EQ(dag.tasks[1].retry->retries, 0);
  EXPECT_EQ(dag.tasks[1].trigger, flow::dag::TriggerRule::kAllDone);
  EXPECT_EQ(dag.tasks[1].after, std::vector<std::string>{"a"});
}

TEST(Loader, BadYamlReportsLineAndColumn) {
  std::string e = errors_of("dag: x\ntasks:\n  - id: a\n    run: [unclosed\n");
  EXPECT_NE(e.find("x.yaml:"), std::string::npos) << e;
  EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;
}

// The parser is libyaml's; its words, where the problem is and where the construct it was
// reading began.
TEST(Loader, BadYamlSaysWhatIsWrongAndWhereTheConstructStarted) {
  std::string e = errors_of("dag: x\ntasks:\n  - id: a\n    run: [unclosed\n");
  EXPECT_NE(e.find("x.yaml:5:1: invalid YAML: did not find expected ',' or ']' (while parsing "
                   "a flow sequence that starts at line 4, column 10)"),
            std::string::npos)
      << e;
  e = errors_of("dag: x\ntasks:\n\t- id: a\n");
  EXPECT_NE(e.find("x.yaml:3:1: invalid YAML: found character that cannot start any token (a "
                   "tab: indent YAML with spaces)"),
            std::string::npos)
      << e;
  e = errors_of("dag: x\ntasks:\n  - id: a\n    run: *nope\n");
  EXPECT_NE(e.find("x.yaml:4:10: invalid YAML: the alias *nope names no anchor (&nope) before it"),
            std::string::npos)
      << e;
  e = errors_of("dag: \"x\ntasks: []\n");  // a quote left open to the end
  EXPECT_NE(e.find("invalid YAML: found unexpected end of stream"), std::string::npos) << e;
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

TEST(Loader, ReadsModelBasedAndMultiObjectiveHpo) {
  auto dag = load_dag_text(R"(dag: h
tasks:
  - id: tune
    run: train
    hpo:
      algorithm: hyperband
      sampler: tpe
      startup_trials: 6
      objectives: {val_mae: min, latency_ms: min, accuracy: max}
      best: {weights: {val_mae: 1.0, latency_ms: 0.01}}
      space: {x: {uniform: [0, 1]}}
  - id: tune2
    run: train
    hpo:
      algorithm: tpe
      objectives: {val_mae: min, size: min}
      best: val_mae
      space: {x: {randint: [1, 4]}}
)",
                           "h.yaml");
  const auto& h = *dag.tasks[0].hpo;
  EXPECT_EQ(h.sampler, "tpe");
  EXPECT_EQ(h.startup_trials, 6);
  ASSERT_EQ(h.objectives.size(), 3u);
  EXPECT_EQ(h.objectives[2], (std::pair<std::string, std::string>{"accuracy", "max"}));
  EXPECT_EQ(h.metric, "weighted");
  EXPECT_EQ(h.mode, "min");
  EXPECT_DOUBLE_EQ(h.best_weights.at("latency_ms"), 0.01);
  EXPECT_EQ(dag.tasks[1].hpo->best_metric, "val_mae");
  EXPECT_EQ(dag.tasks[1].hpo->metric, "val_mae");
  EXPECT_EQ(dag.tasks[1].hpo->algorithm, "tpe");
}

TEST(Loader, HpoBadInputIsRefusedWithItsLocationAndWhatToDo) {
  auto hpo = [](const std::string& block) {
    return errors_of("dag: h\ntasks:\n  - id: tune\n    run: train\n    hpo:\n" + block);
  };
  // A space with no dimension.
  auto e = hpo("      metric: loss\n      space: {}\n");
  EXPECT_NE(e.find("x.yaml:7:"), std::string::npos) << e;
  EXPECT_NE(e.find("at least one dimension"), std::string::npos) << e;
  // A log-uniform range touching 0.
  e = hpo("      metric: loss\n      space: {lr: {loguniform: [0, 0.1]}}\n");
  EXPECT_NE(e.find("x.yaml:7:"), std::string::npos) << e;
  EXPECT_NE(e.find("loguniform needs lo > 0"), std::string::npos) << e;
  EXPECT_NE(e.find("1.0e-6"), std::string::npos) << e;
  // A multi-objective sweep without a rule for "best".
  e = hpo("      objectives: {val_mae: min, size: min}\n      space: {x: {uniform: [0, 1]}}\n");
  EXPECT_NE(e.find("x.yaml:6:"), std::string::npos) << e;
  EXPECT_NE(e.find("needs a rule for its best trial"), std::string::npos) << e;
  EXPECT_NE(e.find("val_mae, size"), std::string::npos) << e;
  // A rule naming no objective; best without objectives; metric and objectives together.
  e =
      hpo("      objectives: {val_mae: min, size: min}\n      best: val_ma\n"
          "      space: {x: {uniform: [0, 1]}}\n");
  EXPECT_NE(e.find("'val_ma' is not an objective"), std::string::npos) << e;
  EXPECT_NE(e.find("val_mae"), std::string::npos) << e;
  e = hpo("      metric: loss\n      best: loss\n      space: {x: {uniform: [0, 1]}}\n");
  EXPECT_NE(e.find("hpo.best is the rule of a multi-objective sweep"), std::string::npos) << e;
  e =
      hpo("      metric: loss\n      objectives: {a: min, b: max}\n      best: a\n"
          "      space: {x: {uniform: [0, 1]}}\n");
  EXPECT_NE(e.find("both 'metric' and 'objectives'"), std::string::npos) << e;
  e = hpo("      objectives: {a: min}\n      best: a\n      space: {x: {uniform: [0, 1]}}\n");
  EXPECT_NE(e.find("two or more metrics"), std::string::npos) << e;
  // The TPE sampler only where new trials are drawn.
  e =
      hpo("      algorithm: pbt\n      sampler: tpe\n      metric: loss\n"
          "      space: {x: {uniform: [0, 1]}}\n");
  EXPECT_NE(e.find("sampler tpe works with algorithm asha or hyperband"), std::string::npos) << e;
}

// The loader reads YAML through its own compact tree (not YAML::Load): these pin down that
// it means the same as yaml-cpp's nodes did.
TEST(Loader, QuotedScalarsStayStringsAndPlainOnesAreTyped) {
  auto dag = load_dag_text(R"(dag: q
params: {n: 5, s: "5", f: 0.5, b: yes, q: 'true', z: ~, l: [1, "2"], m: {k: v}}
tasks:
  - id: a
    run: echo
)",
                           "q.yaml");
  EXPECT_TRUE(dag.params["n"].is_number_integer());
  EXPECT_EQ(dag.params["s"], "5");
  EXPECT_TRUE(dag.params["f"].is_number_float());
  EXPECT_EQ(dag.params["b"], "yes");  // YAML 1.2 core: only true/false are booleans
  EXPECT_EQ(dag.params["q"], "true");
  EXPECT_TRUE(dag.params["z"].is_null());
  EXPECT_EQ(dag.params["l"], nlohmann::json::parse(R"([1, "2"])"));
  EXPECT_EQ(dag.params["m"]["k"], "v");
}

TEST(Loader, AnchorsAndAliasesReadAsTheNamedNode) {
  auto dag = load_dag_text(R"(dag: al
tasks:
  - id: a
    run: &cmd echo hi
  - id: b
    after: &ups [a]
    run: *cmd
  - id: c
    after: *ups
    env: &env {X: "1"}
    run: echo c
  - id: d
    after: [b, c]
    env: *env
    run: echo d
)",
                           "al.yaml");
  ASSERT_EQ(dag.tasks.size(), 4u);
  EXPECT_EQ(dag.tasks[1].run, "echo hi");
  EXPECT_EQ(dag.tasks[2].after, std::vector<std::string>{"a"});
  EXPECT_EQ(dag.tasks[3].extras->env.at("X"), "1");
}

TEST(Loader, FieldLocationsPointAtTheValue) {
  auto dag = load_dag_text("dag: x\ntasks:\n  - id: a\n    run: echo\n    after:  [b]\n", "x.yaml");
  EXPECT_EQ(dag.tasks[0].loc("after").str(), "x.yaml:5:13");
  EXPECT_EQ(dag.tasks[0].loc("run").str(), "x.yaml:4:10");
  EXPECT_EQ(dag.tasks[0].loc("timeout").str(), "x.yaml:3:9");  // absent: the task's id
  std::string e = errors_of("dag: x\ntasks:\n  - id: a\n    run: echo\n    slurm: [1]\n");
  EXPECT_NE(e.find("x.yaml:5:12: slurm of task 'a' must be a mapping"), std::string::npos) << e;
}

TEST(Loader, EmptyDocumentAndNonMappingTasksAreErrors) {
  EXPECT_NE(errors_of("").find("a DAG file must be a mapping"), std::string::npos);
  EXPECT_NE(errors_of("# only a comment\n").find("a DAG file must be a mapping"),
            std::string::npos);
  std::string e = errors_of("dag: x\ntasks:\n  - just a string\n  - ~\n");
  EXPECT_NE(e.find("x.yaml:3:5: each task must be a mapping"), std::string::npos) << e;
  EXPECT_NE(e.find("x.yaml:4:5: each task must be a mapping"), std::string::npos) << e;
}

TEST(Loader, DuplicateIdNamesTheFirstDefinition) {
  std::string e = errors_of("dag: x\ntasks:\n  - id: a\n    run: echo\n  - id: a\n    run: echo\n");
  EXPECT_NE(e.find("x.yaml:5:9: duplicate task id 'a' (first defined at x.yaml:3:9)"),
            std::string::npos)
      << e;
}

TEST(Loader, ReadsALargeDagFile) {
  // 20,000 tasks, fan-in 2, as bench/gen_dag.py writes them (the benchmark runs 100,000).
  flow::test::TempDir dir;
  const int layers = 100, width = 200;
  {
    std::ofstream f(dir / "big.yaml");
    f << "dag: big\ntasks:\n";
    for (int l = 0; l < layers; ++l) {
      for (int w = 0; w < width; ++w) {
        f << "  - id: t" << l << "_" << w << "\n";
        if (l > 0) {
          f << "    after: [t" << l - 1 << "_" << w << ", t" << l - 1 << "_" << (w + 1) % width
            << "]\n";
        }
        f << "    run: touch out/t" << l << "_" << w << "\n";
      }
    }
  }
  auto dag = flow::dag::load_dag_file(dir / "big.yaml");
  ASSERT_EQ(dag.tasks.size(), static_cast<size_t>(layers * width));
  EXPECT_EQ(dag.tasks.back().id, "t99_199");
  EXPECT_EQ(dag.tasks.back().after, (std::vector<std::string>{"t98_199", "t98_0"}));
  // The last line of the file: 2 header lines, 2 per first-layer task, 3 per other task.
  EXPECT_EQ(dag.tasks.back().loc("run").str(),
            (dir / "big.yaml").string() + ":" +
                std::to_string(2 + 2 * width + 3 * width * (layers - 1)) + ":10");
  EXPECT_TRUE(flow::dag::validate(dag).empty());
}

// Regression: retry_on accepted CANCELLED (never retried) and REQUEUED / SUSPENDED (not end
// states), so a policy written with them silently did nothing.
TEST(Loader, RetryOnRefusesStatesThatAreNeverRetried) {
  auto e = errors_of("dag: r\ntasks:\n  - id: t\n    run: x\n    retry_on: [CANCELLED]\n");
  EXPECT_NE(e.find("x.yaml:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("'CANCELLED' cannot be retried on: a cancelled job is never retried"),
            std::string::npos)
      << e;
  e = errors_of("dag: r\ntasks:\n  - id: t\n    run: x\n    retry_on: [TIMEOUT, SUSPENDED]\n");
  EXPECT_NE(e.find("'SUSPENDED' cannot be retried on: it is not an end state"), std::string::npos)
      << e;
  e = errors_of("dag: r\ntasks:\n  - id: t\n    run: x\n    retry_on: REQUEUED\n");
  EXPECT_NE(e.find("'REQUEUED' cannot be retried on"), std::string::npos) << e;
  EXPECT_EQ(errors_of("dag: r\ntasks:\n  - id: t\n    run: x\n    retry_on: [TIMEOUT, "
                      "NODE_FAIL, OUT_OF_MEMORY]\n"),
            "");
}

// retry_on is kept as a set of bits: the default, a list that replaces it, and one state
// read back by name as the retry decision asks for it.
TEST(Loader, RetryOnReplacesTheDefaultStatesWithTheListed) {
  auto dag = load_dag_text(
      "dag: r\ntasks:\n  - id: a\n    run: x\n  - id: b\n    run: x\n"
      "    retry_on: [OUT_OF_MEMORY, DEADLINE]\n  - id: c\n    run: x\n    retry_on: []\n",
      "r.yaml");
  ASSERT_EQ(dag.tasks.size(), 3u);
  EXPECT_EQ(dag.tasks[0].retry->retry_on.names(),
            (std::vector<std::string>{"TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL"}));
  EXPECT_TRUE(dag.tasks[0].retry->retry_on.contains("PREEMPTED"));
  EXPECT_FALSE(dag.tasks[0].retry->retry_on.contains("OUT_OF_MEMORY"));
  EXPECT_EQ(dag.tasks[1].retry->retry_on.names(),
            (std::vector<std::string>{"OUT_OF_MEMORY", "DEADLINE"}));
  EXPECT_FALSE(dag.tasks[1].retry->retry_on.contains("TIMEOUT"));
  EXPECT_FALSE(dag.tasks[1].retry->retry_on.contains("CANCELLED"));
  EXPECT_TRUE(dag.tasks[2].retry->retry_on.empty());
  EXPECT_NE(errors_of("dag: r\ntasks:\n  - id: t\n    run: x\n    retry_on: [TIMOUT]\n")
                .find("'TIMOUT' is not a Slurm end state (did you mean 'TIMEOUT'?)"),
            std::string::npos);
}

// The DAG loader, site files and module stacks share one YAML reader: a key that is a list
// or a mapping is a located error in a DAG too.
TEST(Loader, KeysThatAreNotNamesAreLocatedErrors) {
  auto e = errors_of("dag: k\n[a, b]: 1\ntasks:\n  - id: t\n    run: x\n");
  EXPECT_NE(e.find("x.yaml:2:1: a key must be a plain name"), std::string::npos) << e;
}

// A static DAG of 1,000,000 tasks keeps a Task each for its run: the blocks few tasks set
// (retry keys, env, timeout, staged paths, notify, sla) are held only by those that set
// them, directly or through `defaults:`.
TEST(Loader, ATaskHoldsOnlyTheRareBlocksItOrItsDefaultsSet) {
  auto dag = load_dag_text(R"(dag: demo
tasks:
  - id: plain
    run: "true"
  - id: rich
    run: "true"
    retries: 3
    timeout: 1m
    env: {A: "1"}
)",
                           "demo.yaml");
  const auto& plain = dag.tasks[0];
  EXPECT_FALSE(plain.retry.held());
  EXPECT_FALSE(plain.extras.held());
  EXPECT_EQ(plain.retry->retries, 0) << "an unset policy reads as the default one";
  EXPECT_TRUE(plain.retry->retry_on.contains("NODE_FAIL"));
  EXPECT_FALSE(plain.extras->timeout);
  const auto& rich = dag.tasks[1];
  EXPECT_TRUE(rich.retry.held());
  EXPECT_EQ(rich.retry->retries, 3);
  EXPECT_EQ(rich.retry->delay, std::chrono::seconds(10)) << "unset keys keep their defaults";
  EXPECT_EQ(rich.extras->timeout, std::chrono::minutes(1));
  EXPECT_EQ(rich.extras->env.at("A"), "1");

  auto with_defaults = load_dag_text(
      "dag: d\ndefaults: {retries: 1, env: {B: \"2\"}}\ntasks:\n  - id: a\n    run: x\n"
      "  - id: b\n    run: y\n",
      "d.yaml");
  for (const auto& t : with_defaults.tasks) {
    EXPECT_EQ(t.retry->retries, 1) << t.id;
    EXPECT_EQ(t.extras->env.at("B"), "2") << t.id;
  }
}

TEST(Loader, ATaskWhoseSourceWasDroppedHasNoLocations) {
  auto dag = load_dag_text("dag: x\ntasks:\n  - id: a\n    run: echo\n", "x.yaml");
  auto& t = dag.tasks[0];
  EXPECT_EQ(t.where().str(), "x.yaml:3:9");
  t.drop_source();
  EXPECT_EQ(t.where().str(), "");
  EXPECT_EQ(t.loc("run").str(), "");
}
