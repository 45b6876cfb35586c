#pragma once
// When a run is over, and how it ended, from the number of instances per state. Checked
// after every tick; pure, so every case is unit-tested.

#include <map>
#include <optional>

#include "engine/state/task_state.hpp"

namespace flow::run {

struct RunActivity {
  const std::map<state::TaskState, int>* counts = nullptr;          // instances that run commands
  const std::map<state::TaskState, int>* summary_counts = nullptr;  // foreach/hpo task instances
  bool launching = false;  // attempts picked but not launched yet
  bool waiting = false;    // instances waiting for a free slot or a retry's due time
  bool stopping = false;   // interrupted or cancelled: nothing new starts
};

enum class RunEnd {
  kGoesOn,     // something is in flight or will become runnable
  kSucceeded,  // every instance terminal, none failed
  kFailed,     // every instance terminal, some failed
  kStopped,    // stopping, and nothing is in flight any more
  kStuck,      // unfinished instances, yet nothing in flight and nothing due: they can
               // never become runnable (the run must end with an error, not wait forever)
};

RunEnd run_end(const RunActivity& a);

}  // namespace flow::run
