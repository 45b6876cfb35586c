// The tuners driven by a simulated objective: segments finish in submission order, each
// reporting a metric that depends on the parameters (and improves with epochs).
#include "hpo/tuner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <functional>

#include "hpo/asha.hpp"

using namespace flow::hpo;

namespace {

Config spec(const std::string& algo, int samples, int parallel) {
  Config s;
  s.algorithm = algo;
  s.metric = "loss";
  s.mode = "min";
  s.samples = samples;
  s.parallel = parallel;
  s.max_epochs = 50;
  s.grace_epochs = 2;
  s.reduction_factor = 3;
  s.perturbation_interval = 5;
  Dim x;
  x.name = "x";
  x.kind = DimKind::kUniform;
  x.lo = 0.0;
  x.hi = 1.0;
  s.space = {x};
  return s;
}

// loss = x / epochs: smaller x is better at every epoch count.
double objective(const Params& p, int epochs) {
  return p["x"].get<double>() + 1.0 / epochs;
}

struct Sim {
  std::vector<TrialRecord> trials;
  std::vector<Segment> segments;  // every segment started, in order
  int max_running = 0;

  void run(const Tuner& t, std::function<double(const Params&, int)> f = objective) {
    std::deque<int> running;
    for (int steps = 0; steps < 10000; ++steps) {
      while (auto s = t.next(trials)) {
        segments.push_back(*s);
        if (s->fresh) {
          ASSERT_EQ(s->trial, static_cast<int>(trials.size()));
          TrialRecord r;
          r.index = s->trial;
          trials.push_back(r);
        }
        TrialRecord& r = trials[static_cast<size_t>(s->trial)];
        if (!s->fresh) {
          ASSERT_EQ(r.status, TrialStatus::kPaused) << "only a paused trial may continue";
        }
        r.params = s->params;
        r.bracket = s->bracket;
        r.rung = s->rung;
        r.generation = s->generation;
        r.parent = s->parent;
        r.epochs = s->start_epochs;
        r.status = TrialStatus::kRunning;
        running.push_back(s->trial);
        max_running = std::max(max_running, static_cast<int>(running.size()));
        last_target[s->trial] = s->target_epochs;
      }
      if (running.empty()) break;
      int i = running.front();
      running.pop_front();
      TrialRecord& r = trials[static_cast<size_t>(i)];
      r.epochs = last_target[i];
      r.history.emplace_back(r.epochs, f(r.params, r.epochs));
      r.status = t.after_segment(r);
    }
    ASSERT_TRUE(t.finished(trials));
  }
  int reached(int epochs) const {
    int n = 0;
    for (const auto& t : trials)
      n += t.metric_at(epochs).has_value();
    return n;
  }
  std::map<int, int> last_target;
};

}  // namespace

TEST(Tuner, RandomRunsSamplesTrialsToMaxEpochsWithinParallel) {
  auto t = make_tuner(spec("random", 10, 3), 1);
  Sim sim;
  sim.run(*t);
  EXPECT_EQ(sim.trials.size(), 10u);
  EXPECT_EQ(sim.max_running, 3);
  for (const auto& r : sim.trials) {
    EXPECT_EQ(r.epochs, 50);
    EXPECT_EQ(r.status, TrialStatus::kCompleted);
  }
  auto best = t->best(sim.trials);
  ASSERT_TRUE(best);
  for (const auto& r : sim.trials)
    EXPECT_LE(sim.trials[static_cast<size_t>(*best)].params["x"].get<double>(),
              r.params["x"].get<double>());
}

TEST(Tuner, GridRunsEveryPoint) {
  auto s = spec("grid", 1, 2);
  s.space[0].kind = DimKind::kChoice;
  s.space[0].choices = {0.1, 0.2, 0.3, 0.4};
  auto t = make_tuner(s, 1);
  Sim sim;
  sim.run(*t);
  ASSERT_EQ(sim.trials.size(), 4u);
  EXPECT_EQ(sim.trials[2].params["x"], 0.3);
  EXPECT_EQ(*t->best(sim.trials), 0);
}

TEST(Tuner, AshaRungsAreGraceTimesReductionFactorUpToMax) {
  Asha a(spec("asha", 27, 4), 1, 1);
  EXPECT_EQ(a.milestones(), (std::vector<int>{2, 6, 18, 50}));
}

TEST(Tuner, AshaPromotesOnlyTheTopThirdAndTheBestTrialFinishes) {
  auto t = make_tuner(spec("asha", 27, 4), 3);
  Sim sim;
  sim.run(*t);
  EXPECT_EQ(sim.trials.size(), 27u);
  EXPECT_LE(sim.max_running, 4);
  EXPECT_EQ(sim.reached(2), 27);
  // Asynchronous promotion decides on partial rungs, so a few more than n/rf may move up
  // (Li et al. call these mispromotions); each rung still shrinks by about rf.
  EXPECT_LE(sim.reached(6), 27 / 2);
  EXPECT_LT(sim.reached(18), sim.reached(6) / 2 + 1);
  EXPECT_LT(sim.reached(50), sim.reached(18));
  EXPECT_GE(sim.reached(50), 1);
  // The trial with the smallest x (the best at every rung) trained to the end.
  int best_x = 0;
  for (const auto& r : sim.trials)
    if (r.params["x"] < sim.trials[static_cast<size_t>(best_x)].params["x"]) best_x = r.index;
  EXPECT_EQ(sim.trials[static_cast<size_t>(best_x)].epochs, 50);
  EXPECT_EQ(*t->best(sim.trials), best_x);
  // Promotions continue from the trial's own checkpoint.
  for (const auto& s : sim.segments) {
    if (!s.fresh) {
      EXPECT_EQ(s.resume_from, s.trial);
      EXPECT_GT(s.target_epochs, s.start_epochs);
    }
  }
  // Nothing is left paused: the rest was stopped (the engine marks them when finished()).
  int paused = 0;
  for (const auto& r : sim.trials)
    paused += r.status == TrialStatus::kPaused;
  EXPECT_EQ(paused + sim.reached(50), 27);
}

TEST(Tuner, HyperbandDealsTrialsToBracketsThatStartAtHigherRungs) {
  Asha hb(spec("hyperband", 49, 4), 1, 0);
  std::map<int, int> per_bracket;
  for (int i = 0; i < 49; ++i)
    per_bracket[hb.bracket_of(i)]++;
  // s_max = 3, rf 3: n = 27, 12, 6, 4 per cycle of 49.
  EXPECT_EQ(per_bracket[0], 27);
  EXPECT_EQ(per_bracket[1], 12);
  EXPECT_EQ(per_bracket[2], 6);
  EXPECT_EQ(per_bracket[3], 4);
  auto t = make_tuner(spec("hyperband", 49, 4), 1);
  Sim sim;
  sim.run(*t);
  for (const auto& s : sim.segments) {
    if (s.fresh) {
      EXPECT_EQ(s.target_epochs, hb.milestones()[static_cast<size_t>(s.bracket)]);
    }
  }
  EXPECT_GE(sim.reached(50), 4);  // bracket 3 runs every trial to the end
}

TEST(Tuner, PbtExploitsTopTrialsAndEveryMemberTrainsToMaxEpochs) {
  auto t = make_tuner(spec("pbt", 8, 4), 11);
  Sim sim;
  sim.run(*t);
  ASSERT_EQ(sim.trials.size(), 8u);
  int exploited = 0;
  for (const auto& r : sim.trials) {
    EXPECT_EQ(r.epochs, 50) << r.id();
    EXPECT_EQ(r.status, TrialStatus::kCompleted);
  }
  for (const auto& s : sim.segments) {
    EXPECT_EQ(s.target_epochs - s.start_epochs, 5);
    if (!s.fresh && s.resume_from != s.trial) {
      ++exploited;
      EXPECT_EQ(s.parent, s.resume_from);
      EXPECT_GE(s.generation, 1);
    }
  }
  EXPECT_GT(exploited, 0);
  // Exploitation pulls the population towards small x: the median x ends below 0.5.
  std::vector<double> xs;
  for (const auto& r : sim.trials)
    xs.push_back(r.params["x"].get<double>());
  std::sort(xs.begin(), xs.end());
  EXPECT_LT(xs[4], 0.5);
}

TEST(Tuner, DecisionsAreAFunctionOfTheRecordsSoAResumeRepeatsThem) {
  auto t1 = make_tuner(spec("asha", 12, 2), 99);
  auto t2 = make_tuner(spec("asha", 12, 2), 99);
  Sim a, b;
  a.run(*t1);
  b.run(*t2);
  ASSERT_EQ(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < a.segments.size(); ++i) {
    EXPECT_EQ(a.segments[i].trial, b.segments[i].trial);
    EXPECT_EQ(a.segments[i].params, b.segments[i].params);
    EXPECT_EQ(a.segments[i].target_epochs, b.segments[i].target_epochs);
  }
}

TEST(Tuner, MaxModePrefersLargerMetrics) {
  auto s = spec("random", 6, 2);
  s.mode = "max";
  auto t = make_tuner(s, 4);
  Sim sim;
  sim.run(*t);
  auto best = *t->best(sim.trials);
  for (const auto& r : sim.trials)
    EXPECT_GE(sim.trials[static_cast<size_t>(best)].params["x"].get<double>(),
              r.params["x"].get<double>());
}
