#include "hpo/asha.hpp"

#include <algorithm>
#include <cmath>

namespace flow::hpo {

Asha::Asha(const Config& spec, uint64_t seed, int brackets) : Tuner(spec, seed) {
  const int rf = std::max(2, spec.reduction_factor);
  for (long long m = std::max(1, spec.grace_epochs); m < spec.max_epochs; m *= rf)
    milestones_.push_back(static_cast<int>(m));
  milestones_.push_back(spec.max_epochs);
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

std::optional<Segment> Asha::promotion(const std::vector<TrialRecord>& trials) const {
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

std::optional<Segment> Asha::next(const std::vector<TrialRecord>& trials) const {
  if (running(trials) >= spec_.parallel) return std::nullopt;
  if (auto p = promotion(trials)) return p;
  const int n = static_cast<int>(trials.size());
  if (n >= spec_.samples) return std::nullopt;
  Segment s;
  s.trial = n;
  s.params = sample(n);
  s.bracket = bracket_of(n);
  s.rung = s.bracket;
  s.target_epochs = milestones_[static_cast<size_t>(s.rung)];
  return s;
}

}  // namespace flow::hpo
