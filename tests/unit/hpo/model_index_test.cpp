// TPE proposals read what they are fitted on from an index kept up to date as records
// change (hpo/model_index.hpp), and a large bad side is thinned (hpo/tpe.hpp). These tests
// drive random sweeps and check, at every step, that the indexed proposal equals the one
// fitted on a scan of every trial (Tuner::observations), and that a proposal reads a
// bounded part of its observations whatever their number.
#include "hpo/model_index.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "hpo/asha.hpp"
#include "tests/unit/hpo/sweep_support.hpp"

using namespace flow::hpo;

namespace {

// x uniform in [0, 1] and a choice: the model has a numeric and a categorical dimension.
Config model_spec(const std::string& algo, int samples, int parallel, const std::string& mode) {
  Config s = test::one_parameter_spec(algo, samples, parallel, mode);
  Dim act;
  act.name = "act";
  act.kind = DimKind::kChoice;
  act.choices = {"relu", "gelu", "tanh"};
  s.space.push_back(act);
  if (algo == "tpe") {
    s.max_epochs = 1;
  } else {
    s.sampler = "tpe";
    s.max_epochs = 27;
    s.grace_epochs = 1;
    s.reduction_factor = 3;
  }
  s.startup_trials = 6;
  return s;
}

// One random sweep. Segments end in random order; some fail, some report NaN, some are
// recorded with parameters outside the space (as a trial of an older space would be), and
// metrics are drawn from few values so that ties are common. At every step the tuner
// decides twice: from a Trials with its indices attached, kept by put(), and from the plain
// records (no index: the scan). Both must give the same segment.
void drive(const Tuner& tuner, const Config& c, uint32_t seed) {
  SCOPED_TRACE(c.algorithm + " " + c.mode + " seed " + std::to_string(seed));
  test::DrivenSweep sweep(tuner);
  std::mt19937 rng(seed);
  const auto* asha = dynamic_cast<const Asha*>(&tuner);
  int fresh = 0;
  for (int step = 0; step < 40 * c.samples; ++step) {
    const auto seg = tuner.next(sweep.indexed);
    const auto scanned = tuner.next(sweep.all);
    ASSERT_EQ(seg.has_value(), scanned.has_value()) << "step " << step;
    if (seg) {
      ASSERT_EQ(seg->trial, scanned->trial) << "step " << step;
      ASSERT_EQ(seg->params, scanned->params) << "step " << step;
      fresh += seg->fresh;
      sweep.start(*seg);
      continue;
    }
    if (sweep.running.empty()) break;
    TrialRecord& r = sweep.end_any(rng);
    const int roll = std::uniform_int_distribution<int>(0, 19)(rng);
    if (roll == 0) {
      r.status = TrialStatus::kFailed;
    } else {
      r.epochs = asha ? asha->milestones()[static_cast<size_t>(r.rung)] : c.max_epochs;
      const double metric =
          roll == 1 ? std::nan("") : std::uniform_int_distribution<int>(0, 15)(rng) / 16.0;
      r.history.emplace_back(r.epochs, metric);
      if (roll == 2) r.params["x"] = 1.5;  // outside [0, 1]: not an observation
      r.status = tuner.after_segment(r);
    }
    sweep.put(r);
    if (step % 101 == 0) {  // a copy carries a copy of the index, and proposes the same
      Trials copy = sweep.indexed;
      const auto a1 = tuner.next(copy), a2 = tuner.next(sweep.indexed);
      ASSERT_EQ(a1.has_value(), a2.has_value());
      if (a1) {
        ASSERT_EQ(a1->params, a2->params);
      }
    }
  }
  EXPECT_EQ(fresh, c.samples);
  ASSERT_TRUE(sweep.running.empty());
}

// Observations numbered in trial order that count what a proposal reads of them.
class CountingSource : public ObservationSource {
 public:
  explicit CountingSource(size_t n) : n_(n) {
    for (size_t i = 0; i < 64; ++i)
      points_.push_back((static_cast<double>(i) + 0.5) / 64);
  }
  size_t size() const override { return n_; }
  std::vector<size_t> best(size_t count) const override {
    best_asked += count;
    std::vector<size_t> out(count);
    std::iota(out.begin(), out.end(), n_ / 2);  // any distinct positions will do
    return out;
  }
  std::span<const double> point(size_t position) const override {
    EXPECT_LT(position, n_);
    ++reads;
    return {points_.data() + position % points_.size(), 1};
  }
  mutable size_t reads = 0, best_asked = 0;

 private:
  size_t n_;
  std::vector<double> points_;
};

}  // namespace

TEST(ModelIndex, TpeProposesWithItsIndexWhatAFitOnAScanOfEveryTrialProposes) {
  // 700 trials: past 537 observations the bad side is thinned, on both paths alike.
  for (uint32_t seed : {1u, 2u}) {
    const Config c = model_spec("tpe", 700, 3, seed == 1 ? "min" : "max");
    drive(*make_tuner(c, seed), c, seed);
  }
}

TEST(ModelIndex, BohbProposesWithItsIndexWhatAFitOnAScanOfEveryTrialProposes) {
  // The model moves up the rungs as they fill; trials that stopped below rank after.
  for (uint32_t seed : {3u, 4u}) {
    const Config asha = model_spec("asha", 300, 4, seed == 3 ? "min" : "max");
    drive(Asha(asha, seed, 1), asha, seed);
    const Config hb = model_spec("hyperband", 300, 4, seed == 3 ? "max" : "min");
    drive(Asha(hb, seed, 0), hb, seed);
  }
}

TEST(ModelIndex, ATrialRecordedUnderAnotherSpaceIsNoObservation) {
  const Config c = model_spec("tpe", 10, 1, "min");
  auto tuner = make_tuner(c, 1);
  Trials trials;
  for (auto& index : tuner->make_indices())
    trials.attach(std::move(index));
  const auto* model = trials.find_index<ModelIndex>();
  ASSERT_NE(model, nullptr);
  for (int i = 0; i < 3; ++i) {
    TrialRecord r;
    r.index = i;
    r.params = {{"x", 0.5}, {"act", i == 2 ? "swish" : "gelu"}};  // swish: not an option
    r.epochs = 1;
    r.history = {{1, 0.1 * i}};
    r.status = TrialStatus::kCompleted;
    trials.put(r);
  }
  ASSERT_EQ(model->top(2), std::optional<size_t>(0));
  EXPECT_EQ(ModelIndex::Source(*model, 0).size(), 2u);
  EXPECT_FALSE(model->top(3));
  EXPECT_EQ(tuner->observations(trials).size(), 2u);
  // Replaced by a record in the space, it counts.
  TrialRecord r = trials[2];
  r.params["act"] = "tanh";
  trials.put(r);
  EXPECT_EQ(model->top(3), std::optional<size_t>(0));
}

TEST(Tpe, AProposalReadsABoundedPartOfItsObservationsWhateverTheirNumber) {
  const SearchSpace space(test::one_parameter_spec("tpe", 1, 1).space);
  const Tpe tpe(space);  // max_bad 512
  for (size_t n : {size_t{1000}, size_t{100000}, size_t{1000000}}) {
    CountingSource obs(n);
    Rng rng = rng_for(7, 0, 3);
    const Params p = tpe.propose(obs, rng);
    EXPECT_TRUE(space.contains(p));
    EXPECT_EQ(obs.best_asked, 25u) << n;
    EXPECT_EQ(obs.reads, 25u + 512u) << n;  // the good ones, then the thinned bad side
  }
}

TEST(Tpe, TheThinnedBadSideWeighsWhatTheWholeOneWeighsSpreadTheSameWay) {
  Rng rng(11);
  // Up to `keep`: every observation, with Optuna's weights.
  const auto small = thin_bad(300, 512, rng);
  ASSERT_EQ(small.size(), 300u);
  const auto w300 = default_weights(300);
  for (size_t i = 0; i < small.size(); ++i) {
    EXPECT_EQ(small[i].first, i);
    EXPECT_EQ(small[i].second, w300[i]);
  }
  for (size_t m : {size_t{513}, size_t{5000}, size_t{123457}}) {
    const auto thin = thin_bad(m, 512, rng);
    ASSERT_EQ(thin.size(), 512u) << m;
    const auto whole = default_weights(m);
    // The total, and the total of each tenth of the trials (by trial order), match.
    const double total = std::accumulate(whole.begin(), whole.end(), 0.0);
    double sum = 0;
    for (const auto& [pos, w] : thin)
      sum += w;
    EXPECT_NEAR(sum, total, 1e-9 * total) << m;
    for (size_t i = 1; i < thin.size(); ++i)
      ASSERT_LT(thin[i - 1].first, thin[i].first) << m;  // in trial order, no repeats
    for (size_t i = thin.size() - 25; i < thin.size(); ++i)
      EXPECT_EQ(thin[i], std::make_pair(m - (thin.size() - i), 1.0));  // the newest 25
    std::vector<double> tenth_whole(10, 0), tenth_thin(10, 0);
    for (size_t i = 0; i < m; ++i)
      tenth_whole[i * 10 / m] += whole[i];
    for (const auto& [pos, w] : thin)
      tenth_thin[pos * 10 / m] += w;
    for (size_t t = 0; t < 10; ++t)
      EXPECT_NEAR(tenth_thin[t], tenth_whole[t], 0.02 * total) << m << " tenth " << t;
  }
}

TEST(Tpe, UpToMaxBadObservationsTheBadSideIsNotThinned) {
  // The same proposal with the default bound and with one far beyond the sweep.
  const Config c = model_spec("tpe", 1, 1, "min");
  const SearchSpace space(c.space);
  std::vector<Observation> obs;
  std::mt19937 gen(5);
  for (int i = 0; i < 537; ++i) {  // 25 good, 512 bad
    Rng r = rng_for(5, i, 1);
    Params p = space.sample(r);
    obs.push_back({i, p, std::uniform_real_distribution<double>(0, 1)(gen)});
  }
  TpeOptions unbounded;
  unbounded.max_bad = 1u << 20;
  for (int trial = 0; trial < 20; ++trial) {
    Rng a = rng_for(9, trial, 3), b = rng_for(9, trial, 3);
    EXPECT_EQ(Tpe(space).propose(obs, a), Tpe(space, unbounded).propose(obs, b)) << trial;
  }
  // One more bad observation and the default bound thins it.
  obs.push_back({537, obs[3].params, 2.0});
  int differ = 0;
  for (int trial = 0; trial < 20; ++trial) {
    Rng a = rng_for(9, trial, 3), b = rng_for(9, trial, 3);
    differ += Tpe(space).propose(obs, a) != Tpe(space, unbounded).propose(obs, b);
  }
  EXPECT_GT(differ, 0);
}
