// RunController, part 3: the end of a run and stopping it — deciding that the run is over
// and committing its final state, cancel requests from other processes (`flow cancel`),
// Ctrl-C, and abandoning a run another engine took over. Part 1,
// engine/run/run_controller.cpp, is the loop; part 2, engine/run/attempt_events.cpp,
// applies the executors' reports. One class in three files: the header is the one spec.
#include "engine/core/error.hpp"
#include "engine/run/run_controller.hpp"
#include "engine/run/run_end.hpp"

namespace flow::run {

using state::InstanceRecord;
using state::TaskState;

void RunController::abandon(const std::string& why) {
  abandoned_ = why;
  done_ = true;
  to_launch_.clear();
  store_.set_manual_checkpoints(false);
  control_timer_.cancel();
  retry_timer_.cancel();
  lazy_timer_.cancel();
  for (auto& [_, t] : timeouts_)
    t->cancel();
}

void RunController::check_finished() {
  RunActivity activity{
      &table_.counts(), &table_.summary_counts(), !to_launch_.empty(),
      !runnable_.empty() || !retry_due_.empty() || !undecided_.empty() || tick_was_full_,
      stopping_};
  switch (run_end(activity)) {
    case RunEnd::kGoesOn:
      return;
    case RunEnd::kStopped:
      if (stop_state_ == state::RunState::kCancelled) {
        end_unfinished(TaskState::kCancelled, "run cancelled");
      }
      run_.state = stop_state_;
      break;
    case RunEnd::kSucceeded:
      run_.state = state::RunState::kSucceeded;
      break;
    case RunEnd::kFailed:
      run_.state = state::RunState::kFailed;
      break;
    case RunEnd::kStuck:
      end_unfinished(TaskState::kFailed,
                     "can never run: nothing is in flight or due, and what it waits for cannot "
                     "finish (an engine bug; please report it with this run's DAG)");
      run_.state = state::RunState::kFailed;
      break;
  }
  run_.ended = now_ms();
  run_.owner_pid = 0;
  run_.owner_start = 0;
  run_.owner_token.clear();
  batch_.touch_run();
  if (!flush()) return;
  done_ = true;
  log::info("run " + run_.id + " " + std::string(state::to_string(run_.state)), run_.id);
  store_.checkpoint();
  store_.set_manual_checkpoints(false);
  control_timer_.cancel();
  retry_timer_.cancel();
  lazy_timer_.cancel();
  for (auto& [_, t] : timeouts_)
    t->cancel();
}

void RunController::end_unfinished(TaskState to, const std::string& message) {
  for (InstanceRecord* each : table_.order()) {
    auto& r = *each;
    if (!state::is_terminal(r.state)) {
      r.ended = now_ms();
      set_state(r, to, message);
    }
  }
}

void RunController::control_poll() {
  if (done_) return;
  if (auto stored = store_.get_run_without_dag(run_.id);
      stored && stored->cancel_requested && !stopping_) {
    cancel();
  }
  run_.heartbeat = now_ms();
  batch_.touch_run();
  if (!flush()) return;
  store_.checkpoint();
  if (run_.cancel_requested) cancel();  // `flow cancel` of a run with no live engine
  control_timer_.expires_after(options_.control_interval);
  control_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) control_poll();
  });
}

void RunController::stop_all(CancelReason reason) {
  for (const InstanceRecord* each : table_.order()) {
    const auto& r = *each;
    if (!state::is_in_flight(r.state)) continue;
    if (r.parent.empty() && node_by_task_.at(r.task_id)->fans_out()) continue;
    try {
      executors_(r.site).cancel(AttemptKey{run_.id, r.id, r.try_number}, reason);
    } catch (const Error&) {
    }
  }
}

void RunController::interrupt() {
  if (stopping_ || done_) return;
  stopping_ = true;
  stop_state_ = state::RunState::kInterrupted;
  runnable_.clear();
  stop_all(CancelReason::kShutdown);
  schedule_tick();
}

void RunController::cancel() {
  if (done_) return;
  stopping_ = true;
  stop_state_ = state::RunState::kCancelled;
  runnable_.clear();
  stop_all(CancelReason::kUser);
  schedule_tick();
}

}  // namespace flow::run
