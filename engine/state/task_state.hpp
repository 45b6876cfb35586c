#pragma once
// States of task instances and runs, exactly as docs/REFERENCE.md §7.1 names them.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace flow::state {

enum class TaskState {
  kQueued,
  kStarting,  // intent committed; process being spawned
  kRunning,
  kSubmitting,  // intent committed; job being submitted to a batch system
  kPending,     // waiting in the batch queue
  kSucceeded,
  kFailed,
  kUpstreamFailed,
  kSkipped,
  kCancelled,
  kTimedOut,
  kUpForRetry,
};

enum class RunState { kRunning, kSucceeded, kFailed, kInterrupted, kCancelled };

// Every task state, in the order of the enum (the order §7.1 lists them).
std::span<const TaskState> all_task_states();

std::string_view to_string(TaskState s);
std::string_view to_string(RunState s);
std::optional<TaskState> task_state_from(std::string_view s);
std::optional<RunState> run_state_from(std::string_view s);

// No further change will happen without a user action (retry/resume).
bool is_terminal(TaskState s);
// An attempt exists somewhere (process or job) that may be running.
bool is_in_flight(TaskState s);
// Counts as failed for trigger rules and the run's result.
bool is_failure(TaskState s);

}  // namespace flow::state
