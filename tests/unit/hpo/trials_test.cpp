// hpo::Trials keeps the running trials and the best trial up to date as records are put,
// and gives the answers a scan of every record gives; the tuners' retired checkpoints of
// some trials are the full answer for those trials.
#include "hpo/trials.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "hpo/tuner.hpp"
#include "tests/unit/hpo/sweep_support.hpp"

using namespace flow::hpo;

namespace {

// What best() always meant: the first trial that counts, replaced by each strictly better.
std::optional<int> scanned_best(const std::vector<TrialRecord>& all, bool maximize) {
  std::optional<int> best;
  for (const auto& t : all) {
    if (t.history.empty() || t.status == TrialStatus::kFailed) continue;
    const double m = t.history.back().second;
    const double b = best ? all[static_cast<size_t>(*best)].history.back().second : 0;
    if (!best || (maximize ? m > b : m < b)) best = t.index;
  }
  return best;
}

}  // namespace

TEST(Trials, RunningTrialsAndTheBestFollowEveryPutAsAScanOfAllRecordsWould) {
  std::mt19937 rng(7);
  for (bool with_nan : {false, true}) {
    Trials trials;
    std::vector<TrialRecord> plain;
    for (int step = 0; step < 3000; ++step) {
      TrialRecord t;
      t.index = std::uniform_int_distribution<int>(0, 199)(rng);
      t.status = static_cast<TrialStatus>(std::uniform_int_distribution<int>(0, 4)(rng));
      const int segments = std::uniform_int_distribution<int>(0, 2)(rng);
      for (int s = 0; s < segments; ++s) {
        // Few distinct values, so that ties between trials are common.
        double m = std::uniform_int_distribution<int>(0, 9)(rng) / 4.0;
        if (with_nan && std::uniform_int_distribution<int>(0, 30)(rng) == 0) m = NAN;
        t.history.emplace_back(s + 1, m);
      }
      trials.put(t);
      if (plain.size() <= static_cast<size_t>(t.index)) {
        for (size_t i = plain.size(); i <= static_cast<size_t>(t.index); ++i)
          plain.emplace_back().index = static_cast<int>(i);
      }
      plain[static_cast<size_t>(t.index)] = t;

      ASSERT_EQ(trials.size(), plain.size());
      std::set<int> running;
      for (const auto& r : plain)
        if (r.status == TrialStatus::kRunning) running.insert(r.index);
      ASSERT_EQ(trials.running_trials(), running) << "step " << step;
      ASSERT_EQ(trials.running(), static_cast<int>(running.size()));
      ASSERT_EQ(trials.best(false), scanned_best(plain, false)) << "step " << step;
      ASSERT_EQ(trials.best(true), scanned_best(plain, true)) << "step " << step;
    }
  }
}

TEST(Trials, ARecordPutPastTheEndLeavesDefaultRunningRecordsBelowIt) {
  Trials trials;
  TrialRecord t;
  t.index = 3;
  t.status = TrialStatus::kCompleted;
  t.history = {{1, 0.5}};
  trials.put(t);
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[1].index, 1);
  EXPECT_EQ(trials.running(), 3);  // trials 0-2: records not read yet count as running
  EXPECT_EQ(trials.best(false), 3);
}

TEST(Tuner, RetiredCheckpointsOfSomeTrialsAreTheFullAnswerForThoseTrials) {
  for (const std::string algorithm : {"random", "asha", "hyperband", "pbt"}) {
    Config s = test::one_parameter_spec(algorithm, 40, 3);
    s.max_epochs = 27;
    s.grace_epochs = 1;
    s.reduction_factor = 3;
    s.perturbation_interval = 4;
    auto tuner = make_tuner(s, 5);
    Trials trials;
    std::vector<int> running;
    std::map<int, int> target;
    std::mt19937 rng(11);
    int checked = 0;
    for (int step = 0; step < 2000; ++step) {
      while (auto seg = tuner->next(trials)) {
        TrialRecord r = static_cast<size_t>(seg->trial) < trials.size()
                            ? trials[static_cast<size_t>(seg->trial)]
                            : TrialRecord{};
        test::begin_segment(r, *seg);
        trials.put(r);
        running.push_back(seg->trial);
        target[seg->trial] = seg->target_epochs;
      }
      // Every other trial, and a random few: the answer for them is the full answer's.
      const auto full = tuner->retired_checkpoints(trials);
      std::vector<int> among;
      for (size_t i = 0; i < trials.size(); ++i)
        if (i % 2 == 0 || std::uniform_int_distribution<int>(0, 3)(rng) == 0)
          among.push_back(static_cast<int>(i));
      std::vector<std::pair<int, int>> expected;
      for (const auto& ck : full)
        if (std::count(among.begin(), among.end(), ck.first)) expected.push_back(ck);
      ASSERT_EQ(tuner->retired_checkpoints(trials, among), expected)
          << algorithm << " step " << step;
      checked += !expected.empty();
      if (running.empty()) break;
      // A random running segment finishes.
      const size_t k = std::uniform_int_distribution<size_t>(0, running.size() - 1)(rng);
      TrialRecord r = trials[static_cast<size_t>(running[k])];
      running.erase(running.begin() + static_cast<long>(k));
      r.epochs = target[r.index];
      r.history.emplace_back(r.epochs, r.params["x"].get<double>() + 1.0 / r.epochs);
      r.status = tuner->after_segment(r);
      trials.put(r);
    }
    EXPECT_TRUE(tuner->finished(trials)) << algorithm;
    EXPECT_GT(checked, 10) << algorithm << ": retired checkpoints were compared";
  }
}
