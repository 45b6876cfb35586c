#include "hpo/asha.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace flow::hpo {

std::vector<int> rung_milestones(const Config& spec) {
  std::vector<int> out;
  const int rf = std::max(2, spec.reduction_factor);
  for (long long m = std::max(1, spec.grace_epochs); m < spec.max_epochs; m *= rf)
    out.push_back(static_cast<int>(m));
  out.push_back(spec.max_epochs);
  return out;
}

Asha::Asha(const Config& spec, uint64_t seed, int brackets)
    : Tuner(spec, seed), milestones_(rung_milestones(spec)) {
  const int rf = std::max(2, spec.reduction_factor);
  const int s_max = static_cast<int>(milestones_.size()) - 1;
  brackets_ = brackets <= 0 ? s_max + 1 : std::min(brackets, s_max + 1);
  // Hyperband's bracket sizes, dealt by smooth weighted round robin so that any prefix
  // of trials is spread over the brackets in about the right proportions.
  std::vector<long long> weight(static_cast<size_t>(brackets_));
  long long total = 0;
  for (int b = 0; b < brackets_; ++b) {
    const int s = s_max - b;
    weight[static_cast<size_t>(b)] =
        brackets_ == 1 ? 1
                       : static_cast<long long>(std::ceil((s_max + 1.0) / (s + 1.0) *
                                                          std::pow(static_cast<double>(rf), s)));
    total += weight[static_cast<size_t>(b)];
  }
  std::vector<long long> current(weight.size(), 0);
  for (long long i = 0; i < total; ++i) {
    size_t pick = 0;
    for (size_t b = 0; b < weight.size(); ++b) {
      current[b] += weight[b];
      if (current[b] > current[pick]) pick = b;
    }
    current[pick] -= total;
    deal_.push_back(static_cast<int>(pick));
  }
}

int Asha::bracket_of(int trial) const {
  return deal_[static_cast<size_t>(trial) % deal_.size()];
}

std::optional<Segment> Asha::promotion(const Trials& trials) const {
  const int rf = std::max(2, spec_.reduction_factor);
  for (int k = static_cast<int>(milestones_.size()) - 2; k >= 0; --k) {
    const int at = milestones_[static_cast<size_t>(k)];
    for (int b = 0; b < brackets_ && b <= k; ++b) {
      // Everyone in bracket b that finished rung k, best first.
      std::vector<std::pair<double, int>> finished;
      for (const auto& t : trials) {
        if (t.bracket != b) continue;
        if (auto m = t.metric_at(at)) finished.emplace_back(*m, t.index);
      }
      const size_t quota = finished.size() / static_cast<size_t>(rf);
      if (quota == 0) continue;
      std::sort(finished.begin(), finished.end(), [&](const auto& x, const auto& y) {
        if (x.first != y.first) return better(x.first, y.first);
        return x.second < y.second;
      });
      for (size_t i = 0; i < quota; ++i) {
        const TrialRecord& t = trials[static_cast<size_t>(finished[i].second)];
        if (t.status != TrialStatus::kPaused || t.rung != k) continue;
        Segment s;
        s.trial = t.index;
        s.fresh = false;
        s.params = t.params;
        s.target_epochs = milestones_[static_cast<size_t>(k) + 1];
        s.resume_from = t.index;
        s.start_epochs = t.epochs;
        s.bracket = b;
        s.rung = k + 1;
        return s;
      }
    }
  }
  return std::nullopt;
}

std::vector<Observation> Asha::observations(const Trials& trials) const {
  // BOHB: the model is fitted on the highest rung k (any bracket) with at least
  // startup_trials results, ranked by their metric there. Trials that stopped below rung k
  // are kept as evidence of where not to look: they rank after all of rung k's, by the rung
  // they reached (higher first) and their metric there. TPE uses only this order (its
  // good/bad split and observation weights), so the values handed to it are ranks.
  const size_t need = static_cast<size_t>(std::max(2, spec_.startup_trials));
  std::vector<size_t> reached(milestones_.size(), 0);
  for (const auto& t : trials) {
    if (t.status == TrialStatus::kFailed) continue;
    for (size_t k = 0; k < milestones_.size(); ++k) {
      auto m = t.metric_at(milestones_[k]);
      reached[k] += m && std::isfinite(*m);
    }
  }
  size_t top = milestones_.size();
  for (size_t k = milestones_.size(); k-- > 0;) {
    if (reached[k] >= need) {
      top = k;
      break;
    }
  }
  if (top == milestones_.size()) return {};
  std::vector<std::tuple<size_t, double, int>> key;  // (top - rung, signed metric, trial)
  for (const auto& t : trials) {
    if (t.status == TrialStatus::kFailed) continue;
    for (size_t k = top + 1; k-- > 0;) {
      auto m = t.metric_at(milestones_[k]);
      if (!m || !std::isfinite(*m)) continue;
      key.emplace_back(top - k, spec_.mode == "max" ? -*m : *m, t.index);
      break;
    }
  }
  std::sort(key.begin(), key.end());
  std::vector<Observation> out;
  for (size_t r = 0; r < key.size(); ++r) {
    const int i = std::get<2>(key[r]);
    out.push_back({i, trials[static_cast<size_t>(i)].params, static_cast<double>(r)});
  }
  return out;
}

std::vector<bool> Asha::continuable(const Trials& trials) const {
  std::vector<bool> alive(trials.size(), false);
  const int rf = std::max(2, spec_.reduction_factor);
  for (int b = 0; b < brackets_; ++b) {
    for (int k = b; k + 1 < static_cast<int>(milestones_.size()); ++k) {
      const int at = milestones_[static_cast<size_t>(k)];
      // Who finished rung k (best first), and how many more of the bracket may yet: running
      // below it, paused below it and still alive, and trials not started yet.
      std::vector<std::pair<double, int>> finished;
      long long may_come = 0;
      for (const auto& o : trials) {
        if (o.bracket != b || o.status == TrialStatus::kFailed) continue;
        if (auto m = o.metric_at(at)) {
          finished.emplace_back(*m, o.index);
        } else if (o.epochs < at &&
                   (o.status == TrialStatus::kRunning || alive[static_cast<size_t>(o.index)])) {
          ++may_come;
        }
      }
      for (int i = static_cast<int>(trials.size()); i < spec_.samples; ++i)
        may_come += bracket_of(i) == b;
      std::sort(finished.begin(), finished.end(), [&](const auto& x, const auto& y) {
        if (x.first != y.first) return better(x.first, y.first);
        return x.second < y.second;
      });
      const auto quota = (static_cast<long long>(finished.size()) + may_come) / rf;
      for (size_t r = 0; r < finished.size(); ++r) {
        const TrialRecord& t = trials[static_cast<size_t>(finished[r].second)];
        if (t.status == TrialStatus::kPaused && t.rung == k)
          alive[static_cast<size_t>(t.index)] = static_cast<long long>(r) < quota;
      }
    }
  }
  return alive;
}

std::optional<Segment> Asha::next(const Trials& trials) const {
  if (running(trials) >= spec_.parallel) return std::nullopt;
  if (auto p = promotion(trials)) return p;
  const int n = static_cast<int>(trials.size());
  if (n >= spec_.samples) return std::nullopt;
  Segment s;
  s.trial = n;
  s.params = propose(n, trials);
  s.bracket = bracket_of(n);
  s.rung = s.bracket;
  s.target_epochs = milestones_[static_cast<size_t>(s.rung)];
  return s;
}

}  // namespace flow::hpo
