// The tuners driven by a simulated objective: segments finish in submission order, each
// reporting a metric that depends on the parameters (and improves with epochs).
#include "hpo/tuner.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <functional>
#include <set>

#include "hpo/asha.hpp"
#include "hpo/pareto.hpp"
#include "tests/unit/hpo/sweep_support.hpp"

using namespace flow::hpo;

namespace {

Config spec(const std::string& algo, int samples, int parallel) {
  Config s = test::one_parameter_spec(algo, samples, parallel);
  s.max_epochs = 50;
  s.grace_epochs = 2;
  s.reduction_factor = 3;
  s.perturbation_interval = 5;
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
        r.source = s->resume_from;
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
      const double v = f(r.params, last_target[i]);
      if (std::isnan(v)) {  // as the engine does with a NaN or missing metric
        r.status = TrialStatus::kFailed;
        continue;
      }
      r.epochs = last_target[i];
      r.history.emplace_back(r.epochs, v);
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

// ---- model-based proposals, failures, checkpoints, Pareto -------------------------------

namespace {

Config two_dims(const std::string& algo, const std::string& sampler, int samples) {
  Config s = spec(algo, samples, 4);
  s.sampler = sampler;
  s.max_epochs = 27;
  s.grace_epochs = 3;
  Dim y;
  y.name = "y";
  y.kind = DimKind::kUniform;
  y.lo = 0;
  y.hi = 1;
  s.space.push_back(y);
  return s;
}

// Best at (0.8, 0.3); curves improve with epochs.
double bowl(const Params& p, int epochs) {
  const double x = p["x"].get<double>(), y = p["y"].get<double>();
  return (x - 0.8) * (x - 0.8) + (y - 0.3) * (y - 0.3) + 1.0 / epochs;
}

double median_distance_of_new_trials(const Sim& sim, size_t from) {
  std::vector<double> d;
  for (size_t i = from; i < sim.trials.size(); ++i) {
    const auto& p = sim.trials[i].params;
    d.push_back(std::hypot(p["x"].get<double>() - 0.8, p["y"].get<double>() - 0.3));
  }
  std::sort(d.begin(), d.end());
  return d[d.size() / 2];
}

}  // namespace

TEST(Tuner, TpeProposesNearTheOptimumOnceItHasStartupTrials) {
  auto tpe = make_tuner(two_dims("tpe", "random", 60), 5);
  auto rnd = make_tuner(two_dims("random", "random", 60), 5);
  Sim a, b;
  a.run(*tpe, bowl);
  b.run(*rnd, bowl);
  // The first startup_trials (10) are the same random draws; after that TPE concentrates.
  for (size_t i = 0; i < 10; ++i)
    EXPECT_EQ(a.trials[i].params, b.trials[i].params);
  EXPECT_LT(median_distance_of_new_trials(a, 30), 0.6 * median_distance_of_new_trials(b, 30));
}

TEST(Tuner, AshaWithTpeFitsTheModelOnTheHighestRungWithEnoughResults) {
  auto s = two_dims("asha", "tpe", 90);
  s.startup_trials = 8;
  Asha a(s, 3, 1);
  Sim sim;
  sim.run(a, bowl);
  // The model is fitted on the highest rung that has 8 results.
  auto obs = a.observations(sim.trials);
  ASSERT_GE(obs.size(), 8u);
  std::map<int, int> per_rung;
  for (const auto& t : sim.trials)
    for (int m : a.milestones())
      per_rung[m] += t.metric_at(m).has_value();
  int highest = 0;
  for (int m : a.milestones())
    if (per_rung[m] >= 8) highest = m;
  // Ranked: the trials with a result at that rung, by it; then the ones that stopped below.
  std::sort(obs.begin(), obs.end(),
            [](const Observation& x, const Observation& y) { return x.value < y.value; });
  ASSERT_EQ(obs.size(), sim.trials.size());
  std::optional<double> last;
  for (size_t i = 0; i < obs.size(); ++i) {
    const auto& t = sim.trials[static_cast<size_t>(obs[i].trial)];
    const bool at_top = t.metric_at(highest).has_value();
    EXPECT_EQ(at_top, static_cast<int>(i) < per_rung[highest]) << i;
    if (at_top) {
      if (last) {
        EXPECT_LE(*last, *t.metric_at(highest));
      }
      last = t.metric_at(highest);
    }
  }
  // Later trials are drawn near the optimum, unlike plain ASHA's.
  Asha plain(two_dims("asha", "random", 90), 3, 1);
  Sim r;
  r.run(plain, bowl);
  EXPECT_LT(median_distance_of_new_trials(sim, 45), 0.6 * median_distance_of_new_trials(r, 45));
}

TEST(Tuner, ModelBasedDecisionsAreAFunctionOfRecordsAndSeed) {
  for (const char* algo : {"tpe", "asha", "hyperband"}) {
    auto s = two_dims(algo, std::string(algo) == "tpe" ? "random" : "tpe", 40);
    auto t1 = make_tuner(s, 17), t2 = make_tuner(s, 17), t3 = make_tuner(s, 18);
    Sim a, b, c;
    a.run(*t1, bowl);
    b.run(*t2, bowl);
    c.run(*t3, bowl);
    ASSERT_EQ(a.segments.size(), b.segments.size()) << algo;
    for (size_t i = 0; i < a.segments.size(); ++i) {
      EXPECT_EQ(a.segments[i].trial, b.segments[i].trial) << algo;
      EXPECT_EQ(a.segments[i].params, b.segments[i].params) << algo;
    }
    EXPECT_NE(a.trials.back().params, c.trials.back().params) << algo << ": seed ignored";
    // A fresh tuner given the records of the first n trials proposes what trial n got:
    // nothing but the records and the seed decides (a killed sweep resumes the same way).
    auto t4 = make_tuner(s, 17);
    std::vector<TrialRecord> prefix(a.trials.begin(), a.trials.begin() + 30);
    std::vector<TrialRecord> again(b.trials.begin(), b.trials.begin() + 30);
    auto n1 = t4->next(prefix), n2 = t1->next(again);
    ASSERT_EQ(n1.has_value(), n2.has_value());
    if (n1) {
      EXPECT_EQ(n1->params, n2->params) << algo;
    }
  }
}

TEST(Tuner, FailedTrialsAreRecordedAndLeftOutOfTheModel) {
  auto s = two_dims("tpe", "random", 40);
  auto t = make_tuner(s, 9);
  Sim sim;
  // Trials with x > 0.7 diverge (NaN): they would otherwise be the best.
  sim.run(*t, [](const Params& p, int e) {
    return p["x"].get<double>() > 0.7 ? std::nan("") : bowl(p, e);
  });
  ASSERT_EQ(sim.trials.size(), 40u);  // every trial is kept, failed ones too
  int failed = 0;
  for (const auto& r : sim.trials) {
    if (r.status == TrialStatus::kFailed) {
      ++failed;
      EXPECT_GT(r.params["x"].get<double>(), 0.7);
    }
  }
  EXPECT_GT(failed, 0);
  for (const auto& o : t->observations(sim.trials))
    EXPECT_LE(o.params["x"].get<double>(), 0.7);
  EXPECT_NE(sim.trials[static_cast<size_t>(*t->best(sim.trials))].status, TrialStatus::kFailed);
}

TEST(Tuner, CheckpointsAreRetiredOnceNoSegmentCanReadThem) {
  auto s = spec("asha", 27, 4);
  auto t = make_tuner(s, 3);
  Sim sim;
  sim.run(*t);
  // After the sweep only the best trial's latest checkpoint is kept.
  std::set<std::pair<int, int>> all;
  for (const auto& r : sim.trials)
    for (const auto& [e, m] : r.history)
      all.insert({r.index, e});
  auto retired = t->retired_checkpoints(sim.trials);
  const auto& best = sim.trials[static_cast<size_t>(*t->best(sim.trials))];
  EXPECT_EQ(retired.size(), all.size() - 1);
  EXPECT_EQ(std::count(retired.begin(), retired.end(), std::make_pair(best.index, best.epochs)), 0);

  // Mid-sweep: a paused trial still in the running for promotion keeps its checkpoint; one
  // that cannot reach the top third any more, even if every trial still to come ranks
  // below it, loses it; a running segment's input is kept.
  Config small = spec("asha", 6, 1);  // rung 0: 6 trials, quota 2
  Asha a(small, 1, 1);
  std::vector<TrialRecord> tr;
  for (int i = 0; i < 6; ++i) {
    TrialRecord r;
    r.index = i;
    r.params = {{"x", 0.1 * i}};
    r.epochs = 2;
    r.history = {{2, 0.1 * i}};
    r.status = TrialStatus::kPaused;
    tr.push_back(r);
  }
  tr[0].status = TrialStatus::kRunning;  // promoted: continuing from its epoch-2 checkpoint
  tr[0].source = 0;
  auto ret = a.retired_checkpoints(tr);
  std::set<int> gone;
  for (const auto& [trial, e] : ret)
    gone.insert(trial);
  EXPECT_FALSE(gone.count(0));  // input of a running segment
  EXPECT_FALSE(gone.count(1));  // rank 1 < quota 2: may still be promoted
  EXPECT_TRUE(gone.count(2));   // rank 2, no trial left to come: never promoted
  EXPECT_TRUE(gone.count(5));
  // With 6 more trials to come the quota may reach 4: ranks 2 and 3 keep theirs.
  small.samples = 12;
  Asha b(small, 1, 1);
  gone.clear();
  for (const auto& [trial, e] : b.retired_checkpoints(tr))
    gone.insert(trial);
  EXPECT_FALSE(gone.count(2));
  EXPECT_FALSE(gone.count(3));
  EXPECT_TRUE(gone.count(4));
}

TEST(Tuner, PbtKeepsEveryCheckpointItMayStillExploit) {
  auto t = make_tuner(spec("pbt", 8, 4), 11);
  std::vector<TrialRecord> tr;
  for (int i = 0; i < 4; ++i) {
    TrialRecord r;
    r.index = i;
    r.params = {{"x", 0.2 * i}};
    r.epochs = 10;
    r.history = {{5, 1.0 + i}, {10, 0.5 + i}};
    r.status = TrialStatus::kPaused;
    tr.push_back(r);
  }
  tr[3].status = TrialStatus::kRunning;  // exploiting trial 0's epoch-10 checkpoint
  tr[3].source = 0;
  auto ret = t->retired_checkpoints(tr);
  std::set<std::pair<int, int>> gone(ret.begin(), ret.end());
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(gone.count({i, 5})) << i;    // superseded by the epoch-10 one
    EXPECT_FALSE(gone.count({i, 10})) << i;  // paused with epochs left, or running
  }
}

TEST(Pareto, FrontHoldsTheTrialsNoOtherDominates) {
  Config c = spec("random", 5, 1);
  c.objectives = {{"mae", "min"}, {"acc", "max"}};
  c.best.metric = "mae";
  std::vector<TrialRecord> tr(5);
  const double v[5][2] = {{1.0, 0.9}, {2.0, 0.95}, {2.5, 0.94}, {0.5, 0.5}, {1.0, 0.8}};
  for (int i = 0; i < 5; ++i) {
    tr[static_cast<size_t>(i)].index = i;
    tr[static_cast<size_t>(i)].objectives = {v[i][0], v[i][1]};
    tr[static_cast<size_t>(i)].status = TrialStatus::kCompleted;
  }
  EXPECT_EQ(pareto_front(c, tr), (std::vector<int>{0, 1, 3}));
  tr[3].status = TrialStatus::kFailed;  // failed trials are never on it
  EXPECT_EQ(pareto_front(c, tr), (std::vector<int>{0, 1}));
  c.objectives.clear();
  EXPECT_TRUE(pareto_front(c, tr).empty());
}

TEST(Config, BadInputIsRefusedWithWhatToChange) {
  auto problems = [](const Config& c) {
    std::string all;
    for (const auto& p : validate(c))
      all += p + "\n";
    return all;
  };
  Config c = spec("asha", 8, 2);
  EXPECT_EQ(problems(c), "");
  Config none = c;
  none.space.clear();
  EXPECT_NE(problems(none).find("no dimension"), std::string::npos);
  EXPECT_THROW(make_tuner(none, 1), std::invalid_argument);
  Config zero = c;
  zero.space[0].kind = DimKind::kLogUniform;
  zero.space[0].lo = 0;
  EXPECT_NE(problems(zero).find("loguniform 'x' needs lo > 0"), std::string::npos)
      << problems(zero);
  Config multi = c;
  multi.objectives = {{"val_mae", "min"}, {"size", "min"}};
  EXPECT_NE(problems(multi).find("needs a rule for the best trial"), std::string::npos);
  multi.best.metric = "size";
  EXPECT_EQ(problems(multi), "");
  multi.best.metric = "nope";
  EXPECT_NE(problems(multi).find("'nope' is not an objective"), std::string::npos);
  Config pbt = c;
  pbt.algorithm = "pbt";
  pbt.sampler = "tpe";
  EXPECT_NE(problems(pbt).find("sampler tpe works with"), std::string::npos);
}

TEST(Config, MultiObjectiveScalarIsTheBestRule) {
  Config c = spec("random", 4, 1);
  c.objectives = {{"mae", "min"}, {"acc", "max"}};
  c.best.weights = {{"mae", 1.0}, {"acc", 10.0}};
  derive_scalar(c);
  EXPECT_EQ(c.metric, "weighted");
  EXPECT_EQ(c.mode, "min");
  EXPECT_DOUBLE_EQ(scalarize(c, {2.0, 0.5}), 2.0 - 5.0);
  c.best.weights.clear();
  c.best.metric = "acc";
  derive_scalar(c);
  EXPECT_EQ(c.metric, "acc");
  EXPECT_EQ(c.mode, "max");
  EXPECT_DOUBLE_EQ(scalarize(c, {2.0, 0.5}), 0.5);
}
