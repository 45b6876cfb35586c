#include "engine/run/try_log.hpp"

#include "engine/state/trial_segment.hpp"

namespace flow::run {

state::TryRecord& TryLog::begin(const state::InstanceRecord& inst, const Plan& plan,
                                const LaunchSpec& spec) {
  state::TryRecord& t = live_[inst.id];
  t = state::TryRecord{};
  t.run_id = run_id_;
  t.instance_id = inst.id;
  t.try_number = inst.try_number;
  t.site = inst.site;
  t.job_name = plan.handle.job_name;
  t.script = plan.handle.script;
  t.log_path = spec.files.log.string();
  t.started = inst.started;
  const state::SegmentTry s = state::segment_try_of(inst);
  t.segment = s.segment;
  t.segment_try = s.try_in_segment;
  return t;
}

state::TryRecord& TryLog::of(const state::InstanceRecord& inst) {
  auto& t = live_[inst.id];
  if (t.instance_id.empty()) {  // re-attached: rebuild the row from what is stored
    for (auto& x : store_.tries(run_id_, inst.id)) {
      if (x.try_number == inst.try_number) t = x;
    }
    if (t.instance_id.empty()) {  // not written yet
      const state::SegmentTry s = state::segment_try_of(inst);
      t.segment = s.segment;
      t.segment_try = s.try_in_segment;
    }
    t.run_id = run_id_;
    t.instance_id = inst.id;
    t.try_number = inst.try_number;
  }
  return t;
}

void TryLog::on_state(const state::InstanceRecord& inst, state::TaskState to,
                      const std::string& message) {
  auto it = live_.find(inst.id);
  if (it == live_.end() || !(state::is_in_flight(to) || state::is_terminal(to))) return;
  it->second.state = to;
  if (state::is_terminal(to)) {
    it->second.ended = now_ms();
    it->second.message = message;
  }
  batch_.add(it->second);
}

void TryLog::end_attempt(state::TryRecord& t, state::TaskState to, const std::string& message) {
  t.state = to;
  t.ended = now_ms();
  t.message = message;
  batch_.add(t);
}

}  // namespace flow::run
