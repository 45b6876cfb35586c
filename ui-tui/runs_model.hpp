#pragma once
// The runs list as the TUI shows it (the data of `flow runs`): newest first, each run with
// its instance counts per state. Plain values, read from the Store in one go.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/state/store.hpp"

namespace flow::tui {

struct RunRow {
  std::string id;
  std::string dag;
  state::RunState state = state::RunState::kRunning;
  EpochMs started = 0;
  EpochMs ended = 0;
  bool cancel_requested = false;
  int owner_pid = 0;  // the engine executing it (0 = none recorded)
  std::string owner_host;
  std::map<std::string, int> counts;  // instance state name -> instances
};

// The counts of ended runs, kept from one load_runs to the next. An ended run's instances
// do not change until it runs again (resume, retry, cancel of a stale run), and that
// changes its state or its end time: a run is counted again only then. Counting a run of
// 1,000,000 instances takes about half a second, which the TUI would otherwise spend at
// every refresh.
class EndedRunCounts {
 public:
  // The counts kept for `run`, when it has ended and its state and end are what they were.
  const std::map<std::string, int>* find(const state::RunRecord& run) const;
  // Keeps `counts` of `run` if it has ended; forgets it otherwise.
  void keep(const state::RunRecord& run, const std::map<std::string, int>& counts);
  // Forgets the runs not in `ids` (deleted by `flow clean`, or no longer listed).
  void retain(const std::vector<std::string>& ids);
  size_t size() const { return kept_.size(); }

 private:
  struct Kept {
    state::RunState state;
    EpochMs ended;
    std::map<std::string, int> counts;
  };
  std::map<std::string, Kept> kept_;
};

// Newest first; only runs of `dag` unless it is empty; at most `limit` (0 = all). With
// `ended`, the counts of ended runs come from it when it has them, and go into it.
std::vector<RunRow> load_runs(state::Store& store, const std::string& dag, int limit,
                              EndedRunCounts* ended = nullptr);

// The filter of the runs view: id, DAG or state contains `filter` (any case).
bool run_matches(const RunRow& run, std::string_view filter);

}  // namespace flow::tui
