#include "hpo/trials.hpp"

#include <cmath>

namespace flow::hpo {

Trials::Trials(std::vector<TrialRecord> records) : records_(std::move(records)) {
  for (size_t i = 0; i < records_.size(); ++i) {
    records_[i].index = static_cast<int>(i);
    add(records_[i]);
  }
}

Trials::Trials(const Trials& o)
    : records_(o.records_), running_(o.running_), ranked_(o.ranked_), unranked_(o.unranked_) {
  for (const auto& i : o.indices_)
    indices_.push_back(i->clone());
}

Trials& Trials::operator=(const Trials& o) {
  if (this != &o) *this = Trials(o);
  return *this;
}

void Trials::attach(std::unique_ptr<TrialIndex> index) {
  if (!index) return;
  for (const auto& t : records_)
    index->add(t);
  indices_.push_back(std::move(index));
}

void Trials::put(TrialRecord t) {
  const auto at = static_cast<size_t>(t.index < 0 ? 0 : t.index);
  t.index = static_cast<int>(at);
  while (records_.size() <= at) {
    TrialRecord& fresh = records_.emplace_back();
    fresh.index = static_cast<int>(records_.size() - 1);
    add(fresh);
  }
  remove(records_[at]);
  records_[at] = std::move(t);
  add(records_[at]);
}

bool Trials::counts_for_best(const TrialRecord& t) {
  return !t.history.empty() && t.status != TrialStatus::kFailed;
}

void Trials::add(const TrialRecord& t) {
  for (const auto& i : indices_)
    i->add(t);
  if (t.status == TrialStatus::kRunning) running_.insert(t.index);
  if (!counts_for_best(t)) return;
  const double m = t.history.back().second;
  if (std::isnan(m))
    ++unranked_;
  else
    ranked_.emplace(m, t.index);
}

void Trials::remove(const TrialRecord& t) {
  for (const auto& i : indices_)
    i->remove(t);
  if (t.status == TrialStatus::kRunning) running_.erase(t.index);
  if (!counts_for_best(t)) return;
  const double m = t.history.back().second;
  if (std::isnan(m))
    --unranked_;
  else
    ranked_.erase({m, t.index});
}

std::optional<int> Trials::best(bool maximize) const {
  const auto better = [&](double a, double b) { return maximize ? a > b : a < b; };
  if (unranked_ > 0) {
    // A NaN has no place in the order: the first trial that counts, replaced by each
    // strictly better one, as the tuners always chose.
    std::optional<int> best;
    for (const auto& t : records_) {
      if (!counts_for_best(t)) continue;
      if (!best || better(*t.metric(), *records_[static_cast<size_t>(*best)].metric()))
        best = t.index;
    }
    return best;
  }
  if (ranked_.empty()) return std::nullopt;
  if (!maximize) return ranked_.begin()->second;
  // The highest metric, and of the trials that have it the lowest index.
  const double top = ranked_.rbegin()->first;
  return ranked_.lower_bound({top, -1})->second;
}

}  // namespace flow::hpo
