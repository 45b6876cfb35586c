#pragma once
// The rows of table `tries` for a run's attempts in flight: one per attempt, created when
// it is planned, updated as the instance changes state, written with the tick's batch and
// forgotten once the instance is terminal or queued again.

#include <map>
#include <string>
#include <utility>

#include "engine/run/executor.hpp"
#include "engine/run/write_batch.hpp"
#include "engine/state/records.hpp"
#include "engine/state/store.hpp"

namespace flow::run {

class TryLog {
 public:
  // The attempts of run `run_id` (live instance records do not carry it).
  TryLog(state::Store& store, WriteBatch& batch, std::string run_id)
      : store_(store), batch_(batch), run_id_(std::move(run_id)) {}

  // A new attempt of `inst` (its try_number already counted), as planned.
  state::TryRecord& begin(const state::InstanceRecord& inst, const Plan& plan,
                          const LaunchSpec& spec);
  // The row of `inst`'s current attempt; after a restart it is read back from the store.
  state::TryRecord& of(const state::InstanceRecord& inst);
  // `inst` moved to `to`: an in-flight or terminal state is the try's too.
  void on_state(const state::InstanceRecord& inst, state::TaskState to, const std::string& message);
  // The attempt ended with `to` while the instance goes on (a retry, an interrupt).
  void end_attempt(state::TryRecord& t, state::TaskState to, const std::string& message);
  void forget(const std::string& instance_id) { live_.erase(instance_id); }

 private:
  state::Store& store_;
  WriteBatch& batch_;
  std::string run_id_;
  std::map<std::string, state::TryRecord> live_;  // by instance id
};

}  // namespace flow::run
