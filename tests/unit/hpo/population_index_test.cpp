// PBT decides from an index kept up to date as records change (hpo/population_index.hpp).
// A random sweep checks, at every step, that the indexed decision equals the scan of the
// whole population PBT made before the index.
#include "hpo/population_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "hpo/pbt.hpp"
#include "tests/unit/hpo/sweep_support.hpp"

using namespace flow::hpo;

namespace {

Config pbt_spec(int samples, int parallel, const std::string& mode) {
  Config s = test::one_parameter_spec("pbt", samples, parallel, mode);
  s.max_epochs = 12;
  s.perturbation_interval = 3;
  return s;
}

// The scan PBT made before the index: the paused trial with the fewest epochs left goes
// next; in the bottom quarter of the population ranked by last metric, it copies one of
// the top quarter that has epochs left (which one is drawn; here: the list of them).
std::optional<std::pair<int, std::vector<int>>> pbt_scan(const std::vector<TrialRecord>& all,
                                                         const Config& c) {
  const auto better = [&](double a, double b) { return c.mode == "max" ? a > b : a < b; };
  const TrialRecord* next = nullptr;
  for (const auto& t : all) {
    if (t.status != TrialStatus::kPaused || t.epochs >= c.max_epochs) continue;
    if (!next || t.epochs < next->epochs) next = &t;
  }
  if (!next) return std::nullopt;
  std::vector<const TrialRecord*> ranked;
  for (const auto& t : all)
    if (t.status != TrialStatus::kFailed && t.metric()) ranked.push_back(&t);
  std::sort(ranked.begin(), ranked.end(), [&](const TrialRecord* a, const TrialRecord* b) {
    if (*a->metric() != *b->metric()) return better(*a->metric(), *b->metric());
    return a->index < b->index;
  });
  size_t q = ranked.size() <= 1
                 ? 0
                 : static_cast<size_t>(std::ceil(static_cast<double>(ranked.size()) * 0.25));
  q = std::min(q, ranked.size() / 2);
  const bool bottom =
      q > 0 && std::find(ranked.end() - static_cast<long>(q), ranked.end(), next) != ranked.end();
  std::vector<int> donors;
  for (size_t i = 0; bottom && i < q; ++i)
    if (ranked[i]->epochs < c.max_epochs) donors.push_back(ranked[i]->index);
  return std::make_pair(next->index, donors);
}

void drive(const std::string& mode, int samples, int parallel, uint32_t seed) {
  SCOPED_TRACE(mode + " seed " + std::to_string(seed));
  const Config c = pbt_spec(samples, parallel, mode);
  Pbt pbt(c, seed);
  test::DrivenSweep sweep(pbt);
  const std::vector<TrialRecord>& all = sweep.all;
  const Trials& indexed = sweep.indexed;
  const std::vector<int>& running = sweep.running;
  std::mt19937 rng(seed);
  int exploits = 0;
  for (int step = 0; step < 40 * samples; ++step) {
    const auto seg = pbt.next(indexed);
    if (seg && !seg->fresh) {
      const auto scanned = pbt_scan(all, c);
      ASSERT_TRUE(scanned) << "step " << step;
      ASSERT_EQ(seg->trial, scanned->first) << "step " << step;
      if (scanned->second.empty()) {
        ASSERT_EQ(seg->resume_from, seg->trial) << "step " << step;
      } else {
        // The same draw over the same list of donors.
        Rng draw =
            rng_for(seed, seg->trial, 2, all[static_cast<size_t>(seg->trial)].generation + 1);
        const int donor = scanned->second[std::uniform_int_distribution<size_t>(
            0, scanned->second.size() - 1)(draw)];
        ASSERT_EQ(seg->resume_from, donor) << "step " << step;
        ++exploits;
      }
    }
    if (seg) {
      sweep.start(*seg);
      continue;
    }
    if (running.empty()) break;
    TrialRecord& r = sweep.end_any(rng);
    if (std::uniform_int_distribution<int>(0, 19)(rng) == 0) {
      r.status = TrialStatus::kFailed;
    } else {
      r.epochs = std::min(r.epochs + c.perturbation_interval, c.max_epochs);
      r.history.emplace_back(r.epochs, std::uniform_int_distribution<int>(0, 9)(rng) / 10.0);
      r.status = pbt.after_segment(r);
    }
    sweep.put(r);
  }
  EXPECT_TRUE(running.empty());
  EXPECT_GT(exploits, samples / 4);
}

}  // namespace

TEST(PopulationIndex, PbtWithItsIndexPicksTheTrialAndDonorAScanOfThePopulationPicks) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    drive("min", 60, 4, seed);
    drive("max", 40, 1, seed);
  }
}
