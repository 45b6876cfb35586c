// A trial's learning curve: from its metrics lines per epoch, with objectives turned into
// the sweep's scalar, the latest line winning, and the tuner's history as the fallback; the
// rungs of an ASHA sweep.
#include "engine/run/learning_curve.hpp"

#include <gtest/gtest.h>

#include "engine/dag/loader.hpp"
#include "hpo/asha.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using run::CurvePoint;
using run::trial_curve;

namespace {

state::MetricRecord line(int try_number, int seq, nlohmann::json values) {
  return {"tune[trial-0]", try_number, seq, 0, std::move(values)};
}

hpo::Config loss_min() {
  hpo::Config c;
  c.metric = "loss";
  return c;
}

}  // namespace

TEST(LearningCurve, OnePointPerEpochFromTheMetricsLines) {
  const auto curve = trial_curve(loss_min(),
                                 {line(1, 0, {{"epoch", 1}, {"loss", 0.9}, {"acc", 0.1}}),
                                  line(1, 1, {{"step", 50}, {"loss", 0.7}}),  // no epoch
                                  line(1, 2, {{"epoch", 2}, {"acc", 0.3}}),   // no loss
                                  line(1, 3, {{"epoch", 2.0}, {"loss", 0.5}})},
                                 nlohmann::json::array({{2, 0.5}}));
  ASSERT_EQ(curve.size(), 2u);
  EXPECT_EQ(curve[0].epoch, 1);
  EXPECT_DOUBLE_EQ(curve[0].value, 0.9);
  EXPECT_EQ(curve[1].epoch, 2);
  EXPECT_DOUBLE_EQ(curve[1].value, 0.5);
}

TEST(LearningCurve, ALaterTryReplacesTheEpochsItReportsAgainAndNullIsNan) {
  const auto curve = trial_curve(
      loss_min(),
      {line(1, 0, {{"epoch", 1}, {"loss", 0.9}}), line(1, 1, {{"epoch", 2}, {"loss", 0.8}}),
       line(2, 0, {{"epoch", 2}, {"loss", 0.6}}), line(2, 1, {{"epoch", 3}, {"loss", nullptr}})},
      nlohmann::json::array());
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_DOUBLE_EQ(curve[1].value, 0.6);
  EXPECT_EQ(curve[2].epoch, 3);
  EXPECT_TRUE(std::isnan(curve[2].value));
}

TEST(LearningCurve, WithoutEpochsTheTunersHistoryIsTheCurve) {
  const auto curve = trial_curve(loss_min(), {line(1, 0, {{"loss", 0.4}})},
                                 nlohmann::json::array({{1, 0.9}, {3, nullptr}, {9, 0.2}}));
  ASSERT_EQ(curve.size(), 3u);
  EXPECT_EQ(curve[0].epoch, 1);
  EXPECT_DOUBLE_EQ(curve[0].value, 0.9);
  EXPECT_TRUE(std::isnan(curve[1].value));
  EXPECT_EQ(curve[2].epoch, 9);
  EXPECT_DOUBLE_EQ(curve[2].value, 0.2);
  EXPECT_TRUE(trial_curve(loss_min(), {}, nlohmann::json()).empty());
}

TEST(LearningCurve, ObjectivesBecomeTheSweepsScalar) {
  hpo::Config c;
  c.objectives = {{"loss", "min"}, {"acc", "max"}};
  c.best.weights = {{"loss", 1.0}, {"acc", 2.0}};
  hpo::derive_scalar(c);
  const auto curve = trial_curve(c,
                                 {line(1, 0, {{"epoch", 1}, {"loss", 0.5}, {"acc", 0.25}}),
                                  line(1, 1, {{"epoch", 2}, {"loss", 0.5}})},  // acc missing
                                 nlohmann::json::array());
  ASSERT_EQ(curve.size(), 1u);
  EXPECT_DOUBLE_EQ(curve[0].value, 0.5 - 2 * 0.25);
}

TEST(LearningCurve, AnAshaSweepHasItsRungsAndReadsTheMetricsTable) {
  test::TempDir dir;
  auto store = state::Store::open(dir / "flow.db");
  const auto dag = dag::load_dag_text(
      "dag: d\ntasks:\n  - id: tune\n    hpo:\n      algorithm: asha\n      metric: loss\n"
      "      max_epochs: 10\n      grace_epochs: 1\n      reduction_factor: 3\n"
      "      space:\n        x: {uniform: [0, 1]}\n    run: 'true'\n",
      "d.yaml");
  store->add_metric("r1", line(1, 0, {{"epoch", 1}, {"loss", 0.9}}));
  store->add_metric("r1", line(1, 1, {{"epoch", 2}, {"loss", 0.7}}));
  const nlohmann::json board = {{"trials",
                                 {{{"instance", "tune[trial-0]"}, {"history", {{1, 0.9}}}},
                                  {{"instance", "tune[trial-1]"}, {"history", {{1, 0.8}}}}}}};
  const auto curves = run::sweep_curves(*store, "r1", *dag.find("tune"), board);
  EXPECT_EQ(curves.rungs, (std::vector<int>{1, 3, 9, 10}));
  ASSERT_EQ(curves.by_instance.size(), 2u);
  EXPECT_EQ(curves.by_instance.at("tune[trial-0]").size(), 2u);  // the metrics table
  ASSERT_EQ(curves.by_instance.at("tune[trial-1]").size(), 1u);  // its history
  EXPECT_DOUBLE_EQ(curves.by_instance.at("tune[trial-1]")[0].value, 0.8);
  // Not ASHA: no rungs.
  const auto grid = dag::load_dag_text(
      "dag: d\ntasks:\n  - id: tune\n    hpo:\n      algorithm: grid\n      metric: loss\n"
      "      space:\n        x: {choice: [1, 2]}\n    run: 'true'\n",
      "d.yaml");
  EXPECT_TRUE(run::sweep_curves(*store, "r1", *grid.find("tune"), board).rungs.empty());
  EXPECT_EQ(run::curve_json(curves.by_instance.at("tune[trial-0]")),
            nlohmann::json::parse("[[1, 0.9], [2, 0.7]]"));
}
