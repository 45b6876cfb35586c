// RunController, part 2: what executors report about attempts (ExecEvent) and what it
// does to the run — a process started, a job was submitted or runs, metrics arrived, an
// attempt ended (succeeded: outputs, HPO metric, artifacts; failed: retry or not; lost;
// cancelled). Part 1, engine/run/run_controller.cpp, is the loop that decides, launches
// and commits. One class in two files: the header is the one spec of both.
#include <algorithm>

#include "engine/artifact/provenance.hpp"
#include "engine/artifact/registration.hpp"
#include "engine/artifact/registration_error.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/run/attempt_files.hpp"
#include "engine/run/run_controller.hpp"

namespace flow::run {

using state::InstanceRecord;
using state::TaskState;

// ---- events from executors ----------------------------------------------------------------

void RunController::apply(ExecEvent e) {
  auto it = table_.find(e.key.instance_id);
  if (!it) return;
  auto& r = table_.at(e.key.instance_id);
  if (r.try_number != e.key.try_number || !state::is_in_flight(r.state)) return;  // stale
  auto& t = tries_.of(r);
  using K = ExecEvent::Kind;
  switch (e.kind) {
    case K::kCapacity:
      return;  // routed to poke() by whoever owns the controllers
    case K::kStarted:
      r.pid = e.handle.pid;
      r.pid_start = e.handle.pid_start;
      t.pid = r.pid;
      if (r.state != TaskState::kRunning) set_state(r, TaskState::kRunning, "", e.at);
      table_.touch(r.id);
      start_timeout(r);
      return;
    case K::kSubmitted:
      r.job_id = e.handle.job_id;
      if (!e.handle.job_name.empty()) r.job_name = e.handle.job_name;
      t.job_id = r.job_id;
      t.job_name = r.job_name;
      if (r.state == TaskState::kRunning) {
        // The scheduler requeued a job that ran: it waits in the queue again, and its
        // `timeout` counts from when it runs again (kRunning), not through the wait.
        if (auto tt = timeouts_.find(r.id); tt != timeouts_.end()) {
          tt->second->cancel();
          timeouts_.erase(tt);
        }
        set_state(r, TaskState::kPending, e.message);
      } else if (r.state != TaskState::kPending) {
        // The job id is a column of its own (status, progress lines); no message repeats it.
        set_state(r, TaskState::kPending);
      } else if (!e.message.empty() && e.message != r.message) {
        // Still in the queue, for another reason (Slurm's Priority, Resources, ...): the
        // message says why; no state change, no event.
        r.message = e.message;
      }
      table_.touch(r.id);
      return;
    case K::kRunning:
      if (!e.handle.job_id.empty()) r.job_id = e.handle.job_id;
      if (r.state != TaskState::kRunning) {
        // A queued try (a Slurm job) starts its clock when it leaves the queue: `started`,
        // the duration and the task's `timeout` do not count the queue wait. Stored, so a
        // restarted engine times it out at the same moment.
        r.started = e.at > 0 ? e.at : now_ms();
        t.started = r.started;
        if (r.state == TaskState::kPending) r.message.clear();  // why it waited: over
        set_state(r, TaskState::kRunning, "", r.started);
        start_timeout(r);
      }
      return;
    case K::kProgress:
      read_metrics(r);
      return;
    case K::kFinished:
      on_finished(r, t, e);
      return;
  }
}

void RunController::on_finished(InstanceRecord& r, state::TryRecord& t, const ExecEvent& e) {
  if (auto tt = timeouts_.find(r.id); tt != timeouts_.end()) {
    tt->second->cancel();
    timeouts_.erase(tt);
  }
  read_metrics(r);
  metrics_.forget(r.id, r.try_number);
  r.exit_code = t.exit_code = e.exit_code;
  r.signal = t.signal = e.signal;
  r.native_state = t.native_state = e.native_state;
  t.usage = e.usage;
  switch (e.outcome) {
    case Outcome::kSucceeded:
      return on_succeeded(r);
    case Outcome::kLost:
      r.try_number--;  // that try never happened
      tries_.forget(r.id);
      set_state(r, TaskState::kQueued, e.message);
      make_runnable(r);
      return;
    case Outcome::kCancelled:
      if (stopping_ && stop_state_ == state::RunState::kInterrupted) {
        tries_.end_attempt(t, TaskState::kCancelled, "interrupted");
        set_state(r, TaskState::kQueued, "interrupted; will run again on resume");
        return;
      }
      finish_instance(r, TaskState::kCancelled, e.message.empty() ? "cancelled" : e.message);
      return;
    case Outcome::kFailed:
    case Outcome::kTimedOut:
      return on_failed(r, t, e);
  }
}

void RunController::on_succeeded(InstanceRecord& r) {
  const auto files = files_for(r.id, r.try_number);
  auto outputs = read_outputs(files.outputs);
  if (!outputs.problem.empty()) {
    r.failures++;
    return finish_instance(r, TaskState::kFailed, outputs.problem);
  }
  if (outputs.written) r.outputs = std::move(outputs.value);
  // A trial's segment first records its metric (the sweep trusts the instance state, so
  // a registration failure below also fails the trial); then the try's artifacts.
  Node* n = node_by_task_.at(r.task_id);
  const bool is_trial = n->swept() && !r.parent.empty();
  if (is_trial) {
    if (!n->sweep) n->sweep = std::make_unique<Sweep>(*n->task, run_.id);
    if (auto err = n->sweep->end_segment(r, files.metrics)) {
      r.failures++;
      return finish_instance(r, TaskState::kFailed, *err);
    }
  }
  if (auto problem = register_artifacts(r); !problem.empty()) {
    r.failures++;
    return finish_instance(r, TaskState::kFailed, problem);
  }
  if (!is_trial) return finish_instance(r, TaskState::kSucceeded, "");
  const auto& trial = r.attrs["trial"];
  finish_instance(r, TaskState::kSucceeded,
                  n->task->hpo->metric + "=" + trial["history"].back()[1].dump() + " after " +
                      std::to_string(trial.value("epochs", 0)) + " epochs (" +
                      trial.value("status", "") + ")");
}

void RunController::on_failed(InstanceRecord& r, state::TryRecord& t, const ExecEvent& e) {
  Node* n = node_by_task_.at(r.task_id);
  const dag::Task& task = *n->task;
  // A trial stopped by a time limit after it saved a checkpoint goes on from there: a
  // continuation, not a failure (no retry used, no delay).
  const bool time_limit = e.outcome == Outcome::kTimedOut || e.native_state == "TIMEOUT";
  if (time_limit && !stopping_ && n->swept() && !r.parent.empty()) {
    if (!n->sweep) n->sweep = std::make_unique<Sweep>(task, run_.id);
    if (auto epoch =
            n->sweep->continue_after_time_limit(r, files_for(r.id, r.try_number).metrics)) {
      const std::string why = "stopped by its time limit; continues from its checkpoint at epoch " +
                              std::to_string(*epoch) + ": " + e.message;
      tries_.end_attempt(t, TaskState::kTimedOut, why);
      r.next_try_at = now_ms();
      r.ended = now_ms();
      set_state(r, TaskState::kUpForRetry, why);
      return;
    }
  }
  r.failures++;
  const bool retriable = e.native_state.empty() || e.native_state == "FAILED" ||
                         task.retry->retry_on.contains(e.native_state);
  const TaskState final_state =
      e.outcome == Outcome::kTimedOut ? TaskState::kTimedOut : TaskState::kFailed;
  if (stopping_ || !retriable || r.failures > task.retry->retries) {
    return finish_instance(r, final_state, e.message);
  }
  tries_.end_attempt(t, final_state, e.message);
  auto delay = task.retry->delay_before(r.try_number + 1);
  r.next_try_at = now_ms() + delay.count();
  r.ended = now_ms();
  set_state(r, TaskState::kUpForRetry,
            e.message + " — retry " + std::to_string(r.failures) + "/" +
                std::to_string(task.retry->retries) + " in " + format_duration(delay));
}

void RunController::read_metrics(const InstanceRecord& inst) {
  for (auto& m : metrics_.read(inst.id, inst.try_number,
                               files_for(inst.id, inst.try_number).metrics, now_ms()))
    batch_.add(std::move(m));
}

std::string RunController::register_artifacts(const InstanceRecord& inst) {
  if (!inst.outputs.is_object() || !inst.outputs.contains("artifacts")) return "";
  artifact::TryContext ctx;
  ctx.run = &run_;
  ctx.instance_id = inst.id;
  ctx.task_id = inst.task_id;
  ctx.try_number = inst.try_number;
  ctx.site = inst.site;
  ctx.host = run_.owner_host;
  LaunchSpec spec;
  spec.key = AttemptKey{run_.id, inst.id, inst.try_number};
  spec.workdir = run_.workdir;
  spec.site = inst.site;
  ctx.started = inst.started;
  ctx.now = now_ms();
  try {
    std::string workdir = executors_(inst.site).workdir(spec);
    ctx.workdir = std::filesystem::absolute(workdir.empty() ? "." : workdir);
  } catch (const Error& e) {
    return "task '" + inst.id + "': cannot register its artifacts: " + e.what();
  }
  try {
    ctx.derived_from = artifact::upstream_artifacts(store_, dag_, run_.id, inst.task_id);
    ctx.fetched = artifact::read_fetched(files_for(inst.id, inst.try_number).outputs);
    for (auto& row : artifact::register_artifacts(inst.outputs, ctx))
      batch_.add(std::move(row));
  } catch (const artifact::RegistrationError& e) {
    return e.what();
  }
  return "";
}

void RunController::start_timeout(const InstanceRecord& inst) {
  const dag::Task& task = *node_by_task_.at(inst.task_id)->task;
  if (!task.extras->timeout || timeouts_.count(inst.id)) return;
  auto timer = std::make_unique<EngineTimer>(io_);
  EpochMs elapsed = std::max<EpochMs>(0, now_ms() - inst.started);
  auto left = std::max<long long>(0, task.extras->timeout->count() - elapsed);
  timer->expires_after(std::chrono::milliseconds(left));
  AttemptKey key{run_.id, inst.id, inst.try_number};
  std::string site = inst.site;
  timer->async_wait([this, key, site](const boost::system::error_code& ec) {
    if (ec) return;
    try {
      executors_(site).cancel(key, CancelReason::kTimeout);
    } catch (const Error&) {
    }
  });
  timeouts_[inst.id] = std::move(timer);
}

}  // namespace flow::run
