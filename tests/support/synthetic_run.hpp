#pragma once
// A run written straight into a state database, with the rows the engine writes (run,
// instances, tries, the state-change events of each try), for tests of readers such as
// `flow report` that need runs of a given shape or size without executing them.

#include <string>

#include "engine/state/store.hpp"

namespace flow::test {

class SyntheticRun {
 public:
  // A run of `dag_yaml` created at `created` (ms since the epoch), ended at `ended`.
  SyntheticRun(state::Store& store, std::string run_id, const std::string& dag_yaml,
               EpochMs created, EpochMs ended, state::RunState run_state)
      : store_(store), id_(std::move(run_id)) {
    state::RunRecord r;
    r.id = id_;
    r.dag = "synthetic";
    r.dag_yaml = dag_yaml;
    r.dag_file = "synthetic.yaml";
    r.state = run_state;
    r.created = created;
    r.started = created;
    r.ended = ended;
    r.owner_host = "testhost";
    store_.insert_run(r);
  }

  // One instance of `task` whose tries ran back to back: each try is launched at `at`,
  // waits `queued` ms in a batch queue when `job_id` is set (a `pending` event at
  // launch + 10 ms), runs `ran` ms and ends in `end` (the last try) or failed (earlier ones).
  void instance(const std::string& id, const std::string& task, state::TaskState end, int tries,
                EpochMs at, EpochMs queued, EpochMs ran, const std::string& job_id = "",
                const std::string& message = "") {
    using state::TaskState;
    state::InstanceRecord in;
    in.run_id = id_;
    in.id = id;
    in.task_id = task;
    in.state = end;
    in.try_number = tries;
    in.failures = end == TaskState::kSucceeded ? tries - 1 : tries;
    in.site = job_id.empty() ? "local" : "cluster";
    in.job_id = job_id;
    in.message = message;
    for (int n = 1; n <= tries; ++n) {
      state::TryRecord t;
      t.run_id = id_;
      t.instance_id = id;
      t.try_number = n;
      t.state = n == tries ? end : TaskState::kFailed;
      t.site = in.site;
      t.job_id = job_id;
      t.started = at;
      EpochMs submitted = at + 10;
      EpochMs running = (job_id.empty() ? at : submitted) + queued;
      t.ended = running + ran;
      event(id, n, at, "starting");
      if (!job_id.empty()) event(id, n, submitted, "pending");
      event(id, n, running, "running");
      event(id, n, t.ended, std::string(state::to_string(t.state)));
      store_.put_try(t);
      in.started = at;
      in.ended = t.ended;
      at = t.ended;
    }
    store_.put_instance(in);
  }

 private:
  void event(const std::string& instance, int try_number, EpochMs ts, const std::string& st) {
    store_.add_event(state::EventRecord{0, id_, instance, try_number, ts, st, ""});
  }

  state::Store& store_;
  std::string id_;
};

}  // namespace flow::test
