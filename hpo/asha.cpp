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
  dealt_.assign(static_cast<size_t>(brackets_), std::vector<long long>(deal_.size() + 1, 0));
  for (size_t b = 0; b < dealt_.size(); ++b) {
    for (size_t i = 0; i < deal_.size(); ++i)
      dealt_[b][i + 1] = dealt_[b][i] + (deal_[i] == static_cast<int>(b));
  }
}

long long Asha::to_come(int b, int from) const {
  const auto& d = dealt_[static_cast<size_t>(b)];
  const auto period = static_cast<long long>(deal_.size());
  // How many of trials 0 .. x-1 go to bracket b.
  const auto upto = [&](long long x) {
    return (x / period) * d.back() + d[static_cast<size_t>(x % period)];
  };
  const long long lo = std::max(from, 0);
  const long long hi = std::max<long long>(spec_.samples, lo);
  return upto(hi) - upto(lo);
}

std::vector<std::unique_ptr<TrialIndex>> Asha::make_indices() const {
  auto out = Tuner::make_indices();
  out.push_back(std::make_unique<RungIndex>(milestones_, brackets_, spec_.mode == "max"));
  return out;
}

const RungIndex& Asha::rungs(const Trials& trials, std::shared_ptr<RungIndex>& local) const {
  const bool max = spec_.mode == "max";
  if (const auto* attached = trials.find_index<RungIndex>();
      attached && attached->fits(milestones_, brackets_, max))
    return *attached;
  local = std::make_shared<RungIndex>(milestones_, brackets_, max);
  for (const auto& t : trials)
    local->add(t);
  return *local;
}

int Asha::bracket_of(int trial) const {
  return deal_[static_cast<size_t>(trial) % deal_.size()];
}

std::optional<Segment> Asha::promotion(const Trials& trials, const RungIndex& rungs) const {
  const int rf = std::max(2, spec_.reduction_factor);
  for (int k = static_cast<int>(milestones_.size()) - 2; k >= 0; --k) {
    for (int b = 0; b < brackets_ && b <= k; ++b) {
      // The best trial paused at rung k goes on if it is among the best
      // floor(n / rf) of the n in its bracket that finished rung k; if it is not, no
      // trial paused there is.
      const RankedSet& paused = rungs.paused(b, k);
      if (paused.empty()) continue;
      const size_t quota = rungs.finished(b, k).size() / static_cast<size_t>(rf);
      if (rungs.finished(b, k).rank(paused.best()) >= quota) continue;
      const TrialRecord& t = trials[static_cast<size_t>(paused.best().trial)];
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
    if (t.status == TrialStatus::kFailed || !space_.contains(t.params)) continue;
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
    if (t.status == TrialStatus::kFailed || !space_.contains(t.params)) continue;
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

Tuner::Continuable Asha::continuable(const Trials& trials) const {
  std::shared_ptr<RungIndex> local;
  const RungIndex& index = rungs(trials, local);
  const int rf = std::max(2, spec_.reduction_factor);
  const auto last = static_cast<int>(milestones_.size()) - 1;
  // quota[b * last + k]: how many of the best that finished rung k in bracket b may go on,
  // counting every trial of the bracket that may yet finish rung k: running below it,
  // paused below it and still alive, and trials not started yet.
  std::vector<long long> quota(static_cast<size_t>(brackets_ * std::max(last, 0)), 0);
  const int n = static_cast<int>(trials.size());
  for (int b = 0; b < brackets_; ++b) {
    const long long later = to_come(b, n);
    long long alive_below = 0;
    for (int k = b; k < last; ++k) {
      const RankedSet& finished = index.finished(b, k);
      const long long may_come = index.running_below(b, k) + alive_below + later;
      const long long q = (static_cast<long long>(finished.size()) + may_come) / rf;
      quota[static_cast<size_t>(b * last + k)] = q;
      // The paused trials among the best q that finished rung k.
      alive_below += static_cast<long long>(
          index.paused(b, k).count_before_rank_of(finished, static_cast<size_t>(q)));
    }
  }
  // `local` keeps a built index alive as long as the predicate.
  return [this, local, idx = &index, quota = std::move(quota), last](const TrialRecord& t) {
    if (t.status != TrialStatus::kPaused) return false;
    const int b = t.bracket;
    const int k = t.rung;
    if (b < 0 || b >= brackets_ || k < b || k >= last) return false;
    const auto m = t.metric_at(milestones_[static_cast<size_t>(k)]);
    if (!m) return false;
    const auto rank = idx->finished(b, k).rank(RankKey::of(*m, t.index, spec_.mode == "max"));
    return static_cast<long long>(rank) < quota[static_cast<size_t>(b * last + k)];
  };
}

std::optional<Segment> Asha::next(const Trials& trials) const {
  if (running(trials) >= spec_.parallel) return std::nullopt;
  std::shared_ptr<RungIndex> local;
  if (auto p = promotion(trials, rungs(trials, local))) return p;
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
