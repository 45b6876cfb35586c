#pragma once
// What one tick of a run changed, committed in ONE transaction. The engine's rule is that
// every state change is committed before the engine acts on it; the controller collects a
// tick's changes here and acts (launches, tells the observer) only after commit() said so.
//
// The batch also fences: commit() first checks, inside the transaction, that this engine
// still owns the run (its token in the run row, engine/run/ownership.hpp). If another
// engine took the run over, nothing is written and the caller must stop acting.

#include <functional>
#include <string>
#include <vector>

#include "engine/state/records.hpp"
#include "engine/state/store.hpp"
#include "engine/state/trial_segment.hpp"

namespace flow::run {

// One state change of an instance, for the observer (progress lines), in order.
struct StateChange {
  std::string id;
  state::TaskState from, to;
  std::string message;
  int try_number = 0;  // the try the change belongs to (the instance may be on a later one)
  // An HPO trial's segment and try of it then (engine/state/trial_segment.hpp): a trial
  // promoted in the tick its segment ended is on the next segment by the time it is shown.
  state::SegmentTry segment;
};

class WriteBatch {
 public:
  // The instance's row changed (it is read back through the lookup at commit time, so
  // several changes in one tick cost one row write).
  void touch(const std::string& instance_id) { instances_.push_back(instance_id); }
  void add(state::TryRecord t) { tries_.push_back(std::move(t)); }
  // An event with an empty run_id is written with the run's.
  void add(state::EventRecord e) { events_.push_back(std::move(e)); }
  // A new instance's first event, written before the tick's other events (so before any
  // later change of the same instance): what add(EventRecord) records, in half the room.
  // The tick that expands a foreach of 1,000,000 items holds a million of them.
  void created(std::string instance_id, int try_number, state::TaskState state, EpochMs at,
               std::string message) {
    created_.push_back({std::move(instance_id), at, try_number, state, std::move(message)});
  }
  // Room for `n` more instances created in this tick, made at once rather than by doubling.
  void expect_created(size_t n);
  void add(state::MetricRecord m) { metrics_.push_back(std::move(m)); }
  void add(state::ArtifactRecord a) { artifacts_.push_back(std::move(a)); }
  void add(StateChange c) { changes_.push_back(std::move(c)); }
  void touch_run() { run_ = true; }

  bool empty() const;
  // State changes gathered since the last take_changes().
  size_t changes() const { return changes_.size(); }

  enum class Result {
    kCommitted,    // everything is in the database
    kNothingToDo,  // the batch was empty
    kNotOwner,     // another engine owns the run: nothing was written, the batch is kept
  };
  using Lookup = std::function<const state::InstanceRecord&(const std::string& id)>;
  // Writes the batch in one transaction if `owner_token` still owns `run`. After
  // kCommitted the batch is empty except for the state changes, which the caller takes
  // with take_changes() to tell the observer.
  Result commit(state::Store& store, const state::RunRecord& run, const std::string& owner_token,
                const Lookup& instance);

  std::vector<StateChange> take_changes();

 private:
  std::vector<std::string> instances_;  // touched ids, repeats included until commit()
  std::vector<state::TryRecord> tries_;
  struct Created {
    std::string instance_id;
    EpochMs at = 0;
    int try_number = 0;
    state::TaskState state = state::TaskState::kQueued;
    std::string message;
  };
  std::vector<Created> created_;
  std::vector<state::EventRecord> events_;
  std::vector<state::MetricRecord> metrics_;
  std::vector<state::ArtifactRecord> artifacts_;
  std::vector<StateChange> changes_;
  bool run_ = false;
};

}  // namespace flow::run
