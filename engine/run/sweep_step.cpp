#include "engine/run/sweep_step.hpp"

namespace flow::run {

using state::InstanceRecord;
using state::TaskState;

SweepStep advance_sweep(Sweep& sweep, const dag::Task& task, InstanceTable& table,
                        const std::string& run_dir) {
  SweepStep step;
  // The trials that changed since the last step (all of them at the first step of this
  // engine): a step of a sweep of 10,000 trials does not read the other 9,999 again.
  const bool first = !sweep.has_trials();
  if (first) table.track_children(task.id);
  std::vector<InstanceRecord*> changed;
  if (first) {
    changed = table.children(task.id);
  } else {
    for (const auto& cid : table.take_changed_children(task.id))
      changed.push_back(&table.at(cid));
  }
  std::vector<const InstanceRecord*> kids;
  for (InstanceRecord* each : changed) {
    auto& c = *each;
    const auto& trial = c.attr("trial");
    const std::string status = trial.is_object() ? trial.value("status", "") : "";
    if (state::is_failure(c.state) && status != "failed") {
      sweep.fail(c);
      table.touch(c.id);
    } else if ((c.state == TaskState::kQueued || state::is_in_flight(c.state) ||
                c.state == TaskState::kUpForRetry) &&
               status != "running") {
      c.attrs["trial"]["status"] = "running";
      table.touch(c.id);
    }
    kids.push_back(&c);
  }
  auto& records = sweep.update_trials(kids);
  while (auto seg = sweep.next(records)) {
    const std::string cid = Sweep::trial_instance_id(task.id, seg->trial);
    const InstanceRecord* source =
        seg->resume_from < 0 ? nullptr
                             : table.find(Sweep::trial_instance_id(task.id, seg->resume_from));
    if (seg->fresh) {
      const InstanceRecord& parent = table.at(task.id);
      InstanceRecord c;
      c.id = cid;
      c.task_id = task.id;
      c.parent = task.id;
      c.map_index = seg->trial;
      c.site = parent.site;
      sweep.begin_segment(c, *seg, records, run_dir, source);
      const std::string message = "trial " + c.attrs["trial"]["params"].dump();
      table.create(std::move(c), message);
    } else {
      auto& c = table.at(cid);
      sweep.begin_segment(c, *seg, records, run_dir, source);
      c.failures = 0;  // each segment has the task's full retry budget
      table.set_state(c, TaskState::kQueued,
                      "continue to epoch " + std::to_string(seg->target_epochs) +
                          (seg->resume_from >= 0 && seg->resume_from != seg->trial
                               ? " from trial-" + std::to_string(seg->resume_from) + "'s checkpoint"
                               : ""));
    }
    step.queued.push_back(cid);
  }
  if (!sweep.finished(records)) return step;
  std::vector<InstanceRecord*> all;
  for (InstanceRecord* c : table.children(task.id)) {
    all.push_back(c);
    table.touch(c->id);
  }
  step.finished = true;
  step.best = sweep.conclude(all);
  return step;
}

}  // namespace flow::run
