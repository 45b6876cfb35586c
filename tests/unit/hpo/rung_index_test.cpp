// ASHA and Hyperband decide from an index kept up to date as records change
// (hpo/rung_index.hpp). These tests drive random sweeps and check, at every step, that the
// indexed decisions equal a scan of every trial (the algorithm as it was written before
// the index), and that the index survives copies of the Trials that carry it.
#include "hpo/rung_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "hpo/asha.hpp"
#include "tests/unit/hpo/sweep_support.hpp"

using namespace flow::hpo;

namespace {

Config asha_spec(const std::string& algo, int samples, int parallel, const std::string& mode) {
  Config s = test::one_parameter_spec(algo, samples, parallel, mode);
  s.max_epochs = 27;
  s.grace_epochs = 1;
  s.reduction_factor = 3;
  return s;
}

// The scan every step made before the index: the trials of bracket b that finished rung k
// (any status), best first, ties to the lower index.
std::vector<int> finished_scan(const std::vector<TrialRecord>& all, const Asha& a, const Config& c,
                               int b, int k) {
  std::vector<std::pair<double, int>> f;
  for (const auto& t : all) {
    if (t.bracket != b) continue;
    if (auto m = t.metric_at(a.milestones()[static_cast<size_t>(k)])) f.emplace_back(*m, t.index);
  }
  std::sort(f.begin(), f.end(), [&](const auto& x, const auto& y) {
    if (x.first != y.first) return c.mode == "max" ? x.first > y.first : x.first < y.first;
    return x.second < y.second;
  });
  std::vector<int> out;
  for (const auto& p : f)
    out.push_back(p.second);
  return out;
}

int brackets_of(const Config& c, const Asha& a) {
  return c.algorithm == "asha" ? 1 : static_cast<int>(a.milestones().size());
}

// Promotion by scan: rung by rung from the top, the first paused trial among the best
// floor(n/rf) of those that finished the rung.
std::optional<int> promotion_scan(const std::vector<TrialRecord>& all, const Asha& a,
                                  const Config& c) {
  const int last = static_cast<int>(a.milestones().size()) - 1;
  for (int k = last - 1; k >= 0; --k) {
    for (int b = 0; b < brackets_of(c, a) && b <= k; ++b) {
      const auto f = finished_scan(all, a, c, b, k);
      for (size_t i = 0; i < f.size() / 3; ++i) {
        const auto& t = all[static_cast<size_t>(f[i])];
        if (t.status == TrialStatus::kPaused && t.rung == k) return t.index;
      }
    }
  }
  return std::nullopt;
}

// Which paused trials may still be continued, by scan, rung by rung upwards.
std::vector<bool> continuable_scan(const std::vector<TrialRecord>& all, const Asha& a,
                                   const Config& c) {
  std::vector<bool> alive(all.size(), false);
  const int last = static_cast<int>(a.milestones().size()) - 1;
  for (int b = 0; b < brackets_of(c, a); ++b) {
    for (int k = b; k < last; ++k) {
      const int at = a.milestones()[static_cast<size_t>(k)];
      const auto f = finished_scan(all, a, c, b, k);
      long long may_come = 0;
      for (const auto& o : all) {
        if (o.bracket != b || o.status == TrialStatus::kFailed || o.metric_at(at)) continue;
        if (o.epochs < at &&
            (o.status == TrialStatus::kRunning || alive[static_cast<size_t>(o.index)]))
          ++may_come;
      }
      for (int i = static_cast<int>(all.size()); i < c.samples; ++i)
        may_come += a.bracket_of(i) == b;
      const long long quota = (static_cast<long long>(f.size()) + may_come) / 3;
      for (size_t r = 0; r < f.size(); ++r) {
        const auto& t = all[static_cast<size_t>(f[r])];
        if (t.status == TrialStatus::kPaused && t.rung == k)
          alive[static_cast<size_t>(t.index)] = static_cast<long long>(r) < quota;
      }
    }
  }
  return alive;
}

// The latest checkpoint of each trial that retired_checkpoints() gives up, as a set.
std::set<int> latest_retired(const Tuner& t, const Trials& trials) {
  std::set<int> out;
  for (const auto& [trial, epochs] : t.retired_checkpoints(trials)) {
    if (trials[static_cast<size_t>(trial)].epochs == epochs) out.insert(trial);
  }
  return out;
}

// One random sweep: segments end in random order, some fail, metrics are drawn from few
// values (ties are common). At every step the tuner is asked with the index attached to a
// Trials kept by put(), and the answers are compared with the scans.
void drive(const std::string& algo, const std::string& mode, int samples, int parallel,
           uint32_t seed) {
  SCOPED_TRACE(algo + " " + mode + " seed " + std::to_string(seed));
  const Config c = asha_spec(algo, samples, parallel, mode);
  Asha a(c, seed, algo == "asha" ? 1 : 0);
  test::DrivenSweep sweep(a);
  const std::vector<TrialRecord>& all = sweep.all;
  const Trials& indexed = sweep.indexed;
  const std::vector<int>& running = sweep.running;
  std::mt19937 rng(seed);
  for (int step = 0; step < 20 * samples; ++step) {
    // The indexed decisions and the scans, before anything changes.
    const auto seg = a.next(indexed);
    const auto scanned = promotion_scan(all, a, c);
    if (static_cast<int>(running.size()) < parallel) {
      ASSERT_TRUE(seg || static_cast<int>(all.size()) >= samples) << "step " << step;
      if (scanned) {
        ASSERT_TRUE(seg && !seg->fresh) << "step " << step;
        ASSERT_EQ(seg->trial, *scanned) << "step " << step;
      } else if (seg) {
        ASSERT_TRUE(seg->fresh) << "step " << step << ": promoted " << seg->trial;
      }
    }
    const auto alive = continuable_scan(all, a, c);
    const auto retired = latest_retired(a, indexed);
    for (const auto& t : all) {
      if (t.status != TrialStatus::kPaused) continue;
      const auto best = a.best(indexed);
      if (best && *best == t.index) continue;  // kept as the best whatever it is
      ASSERT_EQ(retired.count(t.index) == 0, alive[static_cast<size_t>(t.index)])
          << "step " << step << " trial " << t.index;
    }
    if (seg) {
      sweep.start(*seg);
      continue;
    }
    if (running.empty()) break;
    // A random running segment ends.
    TrialRecord& r = sweep.end_any(rng);
    if (std::uniform_int_distribution<int>(0, 14)(rng) == 0) {
      r.status = TrialStatus::kFailed;
    } else {
      r.epochs = a.milestones()[static_cast<size_t>(r.rung)];
      r.history.emplace_back(r.epochs, std::uniform_int_distribution<int>(0, 7)(rng) / 8.0);
      r.status = a.after_segment(r);
    }
    sweep.put(r);
    if (step % 97 == 0) {  // a copy carries a copy of the index, and decides the same
      Trials copy = indexed;
      const auto a1 = a.next(copy);
      const auto a2 = a.next(indexed);
      ASSERT_EQ(a1.has_value(), a2.has_value());
      if (a1) {
        ASSERT_EQ(a1->trial, a2->trial);
      }
    }
  }
  ASSERT_TRUE(running.empty());
}

}  // namespace

TEST(RungIndex, AshaWithItsIndexPromotesAndRetiresAsAScanOfEveryTrial) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    drive("asha", "min", 120, 4, seed);
    drive("asha", "max", 60, 1, seed);
  }
}

TEST(RungIndex, HyperbandWithItsIndexPromotesAndRetiresAsAScanOfEveryTrial) {
  for (uint32_t seed : {4u, 5u, 6u}) {
    drive("hyperband", "min", 150, 5, seed);
    drive("hyperband", "max", 80, 2, seed);
  }
}

// Before the index, deciding which paused trials may continue left out trials that
// finished the rung and failed later, while promotion counted them: with six trials at
// rung 0 (quota 2) of which one failed further up, trial 1 (rank 1) was promoted after its
// checkpoint had been deleted as retired (rank 1 >= 5 / 3).
TEST(RungIndex, ATrialThatFailedAboveARungStillCountsThereSoAPromotableTrialKeepsItsCheckpoint) {
  Config c = asha_spec("asha", 6, 1, "min");
  Asha a(c, 1, 1);  // rungs 1, 3, 9, 27
  std::vector<TrialRecord> tr;
  const double at_rung0[] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.35};
  for (int i = 0; i < 6; ++i) {
    TrialRecord r;
    r.index = i;
    r.epochs = 1;
    r.history = {{1, at_rung0[i]}};
    r.status = TrialStatus::kPaused;
    tr.push_back(r);
  }
  tr[0].status = TrialStatus::kRunning;  // promoted to rung 1
  tr[0].rung = 1;
  tr[0].source = 0;
  tr[5].status = TrialStatus::kFailed;  // was promoted, then its rung-1 segment failed
  tr[5].rung = 1;
  const auto retired = a.retired_checkpoints(tr);
  EXPECT_EQ(std::count(retired.begin(), retired.end(), std::make_pair(1, 1)), 0);
  EXPECT_EQ(std::count(retired.begin(), retired.end(), std::make_pair(2, 1)), 1);
  // Once trial 0's segment ends, trial 1 is the one promoted.
  tr[0].status = TrialStatus::kPaused;
  tr[0].epochs = 3;
  tr[0].history.emplace_back(3, 0.05);
  const auto seg = a.next(tr);
  ASSERT_TRUE(seg);
  EXPECT_FALSE(seg->fresh);
  EXPECT_EQ(seg->trial, 1);
}
