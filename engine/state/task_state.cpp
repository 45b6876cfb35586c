#include "engine/state/task_state.hpp"

#include <array>
#include <utility>

namespace flow::state {

namespace {
constexpr std::array<std::pair<TaskState, std::string_view>, 12> kTaskNames{{
    {TaskState::kQueued, "queued"},
    {TaskState::kStarting, "starting"},
    {TaskState::kRunning, "running"},
    {TaskState::kSubmitting, "submitting"},
    {TaskState::kPending, "pending"},
    {TaskState::kSucceeded, "succeeded"},
    {TaskState::kFailed, "failed"},
    {TaskState::kUpstreamFailed, "upstream_failed"},
    {TaskState::kSkipped, "skipped"},
    {TaskState::kCancelled, "cancelled"},
    {TaskState::kTimedOut, "timed_out"},
    {TaskState::kUpForRetry, "up_for_retry"},
}};
constexpr std::array<std::pair<RunState, std::string_view>, 5> kRunNames{{
    {RunState::kRunning, "running"},
    {RunState::kSucceeded, "succeeded"},
    {RunState::kFailed, "failed"},
    {RunState::kInterrupted, "interrupted"},
    {RunState::kCancelled, "cancelled"},
}};
}  // namespace

std::span<const TaskState> all_task_states() {
  static constexpr auto kAll = [] {
    std::array<TaskState, kTaskNames.size()> all{};
    for (size_t i = 0; i < kTaskNames.size(); ++i)
      all[i] = kTaskNames[i].first;
    return all;
  }();
  return kAll;
}

std::string_view to_string(TaskState s) {
  for (const auto& [k, v] : kTaskNames) {
    if (k == s) return v;
  }
  return "queued";
}

std::string_view to_string(RunState s) {
  for (const auto& [k, v] : kRunNames) {
    if (k == s) return v;
  }
  return "running";
}

std::optional<TaskState> task_state_from(std::string_view s) {
  for (const auto& [k, v] : kTaskNames) {
    if (v == s) return k;
  }
  return std::nullopt;
}

std::optional<RunState> run_state_from(std::string_view s) {
  for (const auto& [k, v] : kRunNames) {
    if (v == s) return k;
  }
  return std::nullopt;
}

bool is_terminal(TaskState s) {
  switch (s) {
    case TaskState::kSucceeded:
    case TaskState::kFailed:
    case TaskState::kUpstreamFailed:
    case TaskState::kSkipped:
    case TaskState::kCancelled:
    case TaskState::kTimedOut:
      return true;
    default:
      return false;
  }
}

bool is_in_flight(TaskState s) {
  return s == TaskState::kStarting || s == TaskState::kRunning || s == TaskState::kSubmitting ||
         s == TaskState::kPending;
}

bool is_failure(TaskState s) {
  return s == TaskState::kFailed || s == TaskState::kUpstreamFailed || s == TaskState::kTimedOut ||
         s == TaskState::kCancelled;
}

}  // namespace flow::state
