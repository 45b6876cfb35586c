#pragma once
// The seam between the run controller and the things that actually run tasks. An
// Executor runs attempts (one try of one task instance) somewhere: local processes
// (engine/run/local_executor.hpp) or Slurm jobs (operators/slurm/). Executors never touch
// the Store: they report ExecEvents through a Sink, on the controller's io_context, and
// the controller commits them before acting on them.
//
// Crash-safety protocol, as seen from an executor:
//  1. plan(spec) is pure: it says which state the controller commits as its intent
//     (kStarting for processes, kSubmitting for batch jobs) and what to store to find the
//     attempt again (job name, job script).
//  2. launch(spec) starts it and reports kStarted (pid) or kSubmitted (job id), then
//     kRunning / kProgress / kFinished.
//  3. After the engine died, reattach(spec, handle) finds the attempt from what was stored
//     and reports its events as if it had launched it. It never starts a second copy of
//     something that may be running; if the attempt provably never started it reports
//     kFinished with Outcome::kLost, and the controller starts a new try.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "engine/core/clock.hpp"
#include "engine/dag/dag.hpp"
#include "engine/run/staging.hpp"
#include "engine/state/records.hpp"

namespace flow::run {

// One try of one task instance ("tiles[3]", "tune[trial-7]", "train").
struct AttemptKey {
  std::string run_id;
  std::string instance_id;
  int try_number = 1;
  auto operator<=>(const AttemptKey&) const = default;
  std::string str() const;  // "RUN/INSTANCE#TRY"
};

// Local files of an attempt. For remote attempts the executor maps them to the site and
// copies the remote content back here before reporting kFinished (and kProgress).
struct AttemptFiles {
  std::filesystem::path log;          // stdout+stderr
  std::filesystem::path outputs;      // FLOW_OUTPUTS_FILE (one JSON object)
  std::filesystem::path metrics;      // FLOW_METRICS_FILE (JSON lines)
  std::filesystem::path exit_status;  // written when the command ends (local re-attach)
};

struct LaunchSpec {
  AttemptKey key;
  std::string dag;
  std::string task_id;  // the task in the DAG ("tiles" for "tiles[3]")
  std::string command;  // rendered shell command, values already shell-quoted
  // Environment for the task: FLOW_RUN_ID, FLOW_TASK_ID, FLOW_TRY, FLOW_RUN_DIR, trial
  // variables and the task's env:. The executor adds FLOW_OUTPUTS_FILE and
  // FLOW_METRICS_FILE pointing at wherever the files live on its side.
  std::map<std::string, std::string> env;
  // The names in `env` whose value uses a secret (engine/run/secrets.hpp): an executor
  // passes them to the task without writing them into anything it keeps or shows.
  std::set<std::string> secret_env;
  AttemptFiles files;
  std::string workdir;  // local processes start here ("" = inherit the engine's cwd)
  std::string site;
  dag::SlurmSpec slurm;
  dag::Resources resources;  // the task's `resources:` (docs/REFERENCE.md §3.15)
  // The DAG's code and the task's declared inputs/outputs (engine/run/staging.hpp). The
  // local executor checks them; the Slurm executor uploads code and inputs before a try is
  // submitted and brings outputs back after it succeeded, before it reports kFinished.
  StagePlan staging;
};

// What the controller stores to find an attempt again after a crash.
struct AttemptHandle {
  int pid = 0;             // local process (group leader)
  uint64_t pid_start = 0;  // its start time in clock ticks since boot (/proc/PID/stat)
  std::string job_id;      // Slurm job id
  std::string job_name;    // Slurm job name: flow.<run>.<task>.<try>
  std::string script;      // the submitted job script
};

enum class IntentState { kStarting, kSubmitting };

struct Plan {
  IntentState intent = IntentState::kStarting;
  AttemptHandle handle;  // job_name / script filled in by batch executors
};

enum class Outcome {
  kSucceeded,
  kFailed,     // nonzero exit or a failed batch state
  kTimedOut,   // killed by the task timeout, or Slurm TIMEOUT
  kCancelled,  // cancel() or scancel from outside
  kLost,       // provably never started (reattach only): start a new try
};

struct ExecEvent {
  enum class Kind {
    kStarted,    // local process running; handle.pid / pid_start set
    kSubmitted,  // batch job accepted; handle.job_id set; waiting in the queue
    kRunning,    // batch job started running
    kProgress,   // metrics/outputs files were refreshed
    kFinished,
    // Not about one attempt (key empty): the executor has room again that no attempt's end
    // announced (an allocation came up); every run waiting on it should look again.
    kCapacity,
  };
  AttemptKey key;
  Kind kind = Kind::kStarted;
  AttemptHandle handle;
  EpochMs at = 0;  // when it happened, if the controller may apply it later (0 = now)
  // kFinished only:
  Outcome outcome = Outcome::kFailed;
  int exit_code = 0;
  int signal = 0;
  std::string native_state;  // e.g. Slurm "OUT_OF_MEMORY"; decides retry_on
  // Human-readable reason, e.g. "exit code 3" + log tail. Also on kSubmitted for a job the
  // scheduler put back in its queue after it ran ("requeued by Slurm (...)").
  std::string message;
  // kFinished only: what the attempt used, where the executor could tell.
  state::ResourceUse usage;
};

enum class CancelReason { kUser, kTimeout, kShutdown };

class Executor {
 public:
  using Sink = std::function<void(ExecEvent)>;
  virtual ~Executor() = default;

  // Where the run directory of `run_id` is on this executor's side ({{ run.dir }}).
  virtual std::string run_dir(const std::string& run_id) const = 0;
  // The directory an attempt's command runs in, on this executor's side ("" = the engine's
  // own working directory). Relative artifact paths a task reports are taken from here.
  virtual std::string workdir(const LaunchSpec& spec) const { return spec.workdir; }
  virtual Plan plan(const LaunchSpec& spec) = 0;
  virtual void launch(const LaunchSpec& spec, const Plan& plan) = 0;
  virtual void reattach(const LaunchSpec& spec, const AttemptHandle& handle) = 0;
  // Stops an attempt; it still reports kFinished (kTimedOut for kTimeout, else
  // kCancelled) when it has stopped. Unknown keys are ignored.
  virtual void cancel(const AttemptKey& key, CancelReason reason) = 0;
  // How many more attempts may be launched now (site max_jobs, -j); <0 = unlimited.
  virtual int free_slots() const { return -1; }
  // Holds the cores and GPUs `need` asks of this side for attempt `key`, if they are free
  // now; false leaves everything as it was (the attempt waits). What is held is the
  // attempt's until it ends, or until release() when it is not launched after all. An
  // executor whose scheduler does the allocating holds nothing and says yes. `declared` is
  // the task's `timeout:`, the time the try may take (an allocation must have that left).
  virtual bool claim(const AttemptKey& /*key*/, const dag::Resources& /*need*/,
                     std::optional<dag::Duration> /*declared*/) {
    return true;
  }
  virtual void release(const AttemptKey& /*key*/) {}
  // Called once before a run that uses this executor starts: a remote one connects and
  // checks that its tools answer, so an unreachable site stops the run before anything
  // is recorded. Throws EnvironmentError naming the site. Local executors need nothing.
  virtual void preflight() {}
  // Events are delivered by posting to the io_context given at construction.
  void set_sink(Sink sink) { sink_ = std::move(sink); }

 protected:
  void emit(ExecEvent e) const {
    if (sink_) sink_(std::move(e));
  }

 private:
  Sink sink_;
};

}  // namespace flow::run
