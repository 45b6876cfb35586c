#include "engine/run/instance_table.hpp"

#include "engine/state/trial_segment.hpp"

namespace flow::run {

using state::InstanceRecord;

InstanceTable::InstanceTable(WriteBatch& batch, IsSummary is_summary)
    : batch_(batch), is_summary_(std::move(is_summary)) {}

InstanceRecord& InstanceTable::insert(InstanceRecord r) {
  r.run_id = std::string();  // the table's run (records.hpp); a copy each is an allocation
  count(r, +1);
  std::string id = r.id;
  auto [it, _] = records_.emplace(std::move(id), std::move(r));
  InstanceRecord& added = it->second;
  order_.push_back(&added);
  if (!added.parent.empty()) children_[added.parent].push_back(&added);
  changed(added);
  return added;
}

void InstanceTable::touch(const std::string& id) {
  batch_.touch(id);
  if (changed_children_.empty()) return;
  if (auto it = records_.find(id); it != records_.end()) changed(it->second);
}

void InstanceTable::changed(const InstanceRecord& inst) {
  if (inst.parent.empty() || changed_children_.empty()) return;
  if (auto it = changed_children_.find(inst.parent); it != changed_children_.end())
    it->second.insert(inst.id);
}

void InstanceTable::track_children(const std::string& task_id) {
  changed_children_.try_emplace(task_id);
}

std::vector<std::string> InstanceTable::take_changed_children(const std::string& task_id) {
  auto it = changed_children_.find(task_id);
  if (it == changed_children_.end()) return {};
  std::vector<std::string> out(it->second.begin(), it->second.end());
  it->second.clear();
  return out;
}

InstanceRecord& InstanceTable::load(InstanceRecord r) {
  return insert(std::move(r));
}

void InstanceTable::expect_children(const std::string& parent, size_t n) {
  records_.reserve(records_.size() + n);
  order_.reserve(order_.size() + n);
  auto& kids = children_[parent];
  kids.reserve(kids.size() + n);
  batch_.expect_created(n);
}

InstanceRecord& InstanceTable::create(InstanceRecord r, const std::string& message) {
  InstanceRecord& added = insert(std::move(r));
  batch_.touch(added.id);
  batch_.created(added.id, added.try_number, added.state, now_ms(), message);
  return added;
}

const InstanceRecord* InstanceTable::find(const std::string& id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : &it->second;
}

const std::vector<InstanceRecord*>& InstanceTable::children(const std::string& task_id) const {
  static const std::vector<InstanceRecord*> none;
  auto it = children_.find(task_id);
  return it == children_.end() ? none : it->second;
}

void InstanceTable::clear() {
  // Swapped with empty containers: clear() keeps a hash map's buckets and a vector's room.
  decltype(records_)().swap(records_);
  decltype(order_)().swap(order_);
  decltype(children_)().swap(children_);
  child_tallies_.clear();
  changed_children_.clear();
  counts_.clear();
  summary_counts_.clear();
}

InstanceTable::ChildTally InstanceTable::child_tally(const std::string& task_id) const {
  auto it = child_tallies_.find(task_id);
  return it == child_tallies_.end() ? ChildTally{} : it->second;
}

void InstanceTable::set_state(InstanceRecord& inst, state::TaskState to, const std::string& message,
                              EpochMs at) {
  const state::TaskState from = inst.state;
  count(inst, -1);
  inst.state = to;
  count(inst, +1);
  if (!message.empty() || state::is_terminal(to)) inst.message = message;
  batch_.touch(inst.id);
  changed(inst);
  // Without the run's id: WriteBatch::commit supplies it (no heap copy held per event).
  batch_.add(state::EventRecord{0, std::string(), inst.id, inst.try_number, at ? at : now_ms(),
                                std::string(state::to_string(to)), message});
  batch_.add(StateChange{inst.id, from, to, message, inst.try_number, state::segment_try_of(inst)});
}

void InstanceTable::count(const InstanceRecord& inst, int delta) {
  (is_summary_(inst) ? summary_counts_ : counts_)[inst.state] += delta;
  if (inst.parent.empty() || !state::is_terminal(inst.state)) return;
  auto& tally = child_tallies_[inst.parent];
  const auto add = [delta](size_t& n) { n = delta > 0 ? n + 1 : n - 1; };
  add(tally.terminal);
  if (state::is_failure(inst.state)) add(tally.failed);
}

}  // namespace flow::run
