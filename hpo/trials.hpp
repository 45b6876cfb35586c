#pragma once
// The trial records of one sweep, indexed by trial number, with what the tuners ask of
// every step kept up to date as records change: how many trials run, which ones, and which
// trial is best. A tuner's step then costs what it looks at, not a scan of every trial —
// a sweep of 100,000 trials takes as long per trial as one of 1,000 (docs/BENCHMARKS.md
// "HPO sweeps"). The records themselves are read-only from outside; put() replaces one.

#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "hpo/trial_record.hpp"

namespace flow::hpo {

// What a tuner keeps about the records beyond what Trials keeps (hpo/rung_index.hpp for
// ASHA and Hyperband): told of each record as it is put and as it is replaced.
class TrialIndex {
 public:
  virtual ~TrialIndex() = default;
  virtual void add(const TrialRecord& t) = 0;
  virtual void remove(const TrialRecord& t) = 0;
  virtual std::unique_ptr<TrialIndex> clone() const = 0;
};

class Trials {
 public:
  Trials() = default;
  // From plain records, each at its index (records[i].index == i). Implicit: tests and
  // one-off callers hand a vector to the tuners.
  Trials(std::vector<TrialRecord> records);  // NOLINT(google-explicit-constructor)
  Trials(const Trials& o);
  Trials& operator=(const Trials& o);
  Trials(Trials&&) noexcept = default;
  Trials& operator=(Trials&&) noexcept = default;
  ~Trials() = default;

  size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  const TrialRecord& operator[](size_t i) const { return records_[i]; }
  std::vector<TrialRecord>::const_iterator begin() const { return records_.begin(); }
  std::vector<TrialRecord>::const_iterator end() const { return records_.end(); }
  const std::vector<TrialRecord>& records() const { return records_; }

  // Puts `t` at t.index, replacing what was there; indices below it that have no record
  // yet get a default one (status running, as a trial whose record was not read yet).
  void put(TrialRecord t);

  // Keeps `index` up to date from now on, beside those attached before: it is told of
  // every record held now, then of every put(). A copy of the Trials holds a copy of each
  // index. nullptr: nothing is attached.
  void attach(std::unique_ptr<TrialIndex> index);
  // The first attached index of type T, or nullptr.
  template <class T>
  const T* find_index() const {
    for (const auto& i : indices_) {
      if (const auto* t = dynamic_cast<const T*>(i.get())) return t;
    }
    return nullptr;
  }

  // Trials whose status is running, and their indices in ascending order.
  int running() const { return static_cast<int>(running_.size()); }
  const std::set<int>& running_trials() const { return running_; }

  // The trial with the lowest last metric (`maximize`: the highest); ties go to the lower
  // index. Failed trials and trials without a metric never count.
  std::optional<int> best(bool maximize) const;

 private:
  void add(const TrialRecord& t);
  void remove(const TrialRecord& t);
  static bool counts_for_best(const TrialRecord& t);

  std::vector<TrialRecord> records_;
  std::set<int> running_;
  std::set<std::pair<double, int>> ranked_;  // (last metric, index): finite metrics
  int unranked_ = 0;  // trials that count for best() with a NaN metric: best() scans
  std::vector<std::unique_ptr<TrialIndex>> indices_;
};

}  // namespace flow::hpo
