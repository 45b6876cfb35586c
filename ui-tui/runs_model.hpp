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

// Newest first; only runs of `dag` unless it is empty; at most `limit` (0 = all).
std::vector<RunRow> load_runs(state::Store& store, const std::string& dag, int limit);

// The filter of the runs view: id, DAG or state contains `filter` (any case).
bool run_matches(const RunRow& run, std::string_view filter);

}  // namespace flow::tui
