#pragma once
// The live task instances of one run: one record per instance (static tasks, mapped
// instances, HPO trials) in creation order, the children of every fan-out task, and the
// number of instances per state. Every change of an instance goes through here, so the
// counts stay right and the tick's WriteBatch records it (row, event, observer change).
//
// A "summary" instance is the task-level instance of a foreach or hpo task: its state
// sums up its children's, so it is counted apart (it never runs a command itself).

#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/run/write_batch.hpp"
#include "engine/state/records.hpp"

namespace flow::run {

class InstanceTable {
 public:
  using IsSummary = std::function<bool(const state::InstanceRecord&)>;
  // The records of one run, whose id they do not carry (records.hpp: run_id is left empty).
  InstanceTable(WriteBatch& batch, IsSummary is_summary);

  // `n` children of `parent` are about to be created (a foreach's expansion): room for them
  // in the table and the batch is made once, not by doubling (which at 1,000,000 items
  // holds the old and the new arrays at once).
  void expect_children(const std::string& parent, size_t n);
  // An instance as stored (start or resume): no event is written.
  state::InstanceRecord& load(state::InstanceRecord r);
  // A new instance: its row and a `queued` event with `message` go into the batch.
  state::InstanceRecord& create(state::InstanceRecord r, const std::string& message);

  state::InstanceRecord& at(const std::string& id) { return records_.at(id); }
  const state::InstanceRecord& at(const std::string& id) const { return records_.at(id); }
  const state::InstanceRecord* find(const std::string& id) const;
  bool empty() const { return records_.empty(); }
  size_t size() const { return records_.size(); }
  // The instances in creation order. (Pointers into the table, which keeps every record
  // where it was put until clear(): an id's string is not copied again per list.)
  const std::vector<state::InstanceRecord*>& order() const { return order_; }
  // The mapped instances or trials of a fan-out task, in creation order.
  const std::vector<state::InstanceRecord*>& children(const std::string& task_id) const;
  // How many of them are terminal, and how many of those are failures (kept with every
  // change, so a fan-out task learns that its children are all done in O(1)).
  struct ChildTally {
    size_t terminal = 0;
    size_t failed = 0;
  };
  ChildTally child_tally(const std::string& task_id) const;

  // Moves `inst` to `to`: counts, the row, an event at `at` (0 = now) with `message`, and
  // the change for the observer. The message replaces the instance's message when it is
  // not empty or the state is terminal.
  void set_state(state::InstanceRecord& inst, state::TaskState to, const std::string& message,
                 EpochMs at = 0);
  // The row changed in some other way (outputs, attrs, pid): write it with the batch.
  void touch(const std::string& id);

  // From now on, remember which children of `task_id` are created, loaded, touched or
  // moved to another state (an HPO node's: each step reads only the trials that changed).
  void track_children(const std::string& task_id);
  // The ids of the tracked `task_id`'s children that changed since the last call (or since
  // track_children), each once, in no particular order.
  std::vector<std::string> take_changed_children(const std::string& task_id);

  // Forgets every instance (and gives their memory back): the table is empty afterwards.
  void clear();

  // Instances per state, summary instances apart.
  const std::map<state::TaskState, int>& counts() const { return counts_; }
  const std::map<state::TaskState, int>& summary_counts() const { return summary_counts_; }

 private:
  void count(const state::InstanceRecord& inst, int delta);
  void changed(const state::InstanceRecord& inst);
  state::InstanceRecord& insert(state::InstanceRecord r);

  WriteBatch& batch_;
  IsSummary is_summary_;
  // A hash map: looked up several times per instance per tick; references to elements
  // stay valid when instances are added.
  std::unordered_map<std::string, state::InstanceRecord> records_;
  std::vector<state::InstanceRecord*> order_;
  std::unordered_map<std::string, std::vector<state::InstanceRecord*>> children_;  // by task id
  std::unordered_map<std::string, ChildTally> child_tallies_;                      // by task id
  // Tracked parents (track_children) -> their children changed since the last take.
  std::unordered_map<std::string, std::unordered_set<std::string>> changed_children_;
  std::map<state::TaskState, int> counts_;
  std::map<state::TaskState, int> summary_counts_;
};

}  // namespace flow::run
