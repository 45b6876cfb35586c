#pragma once
// Runs attempts as Slurm jobs on one site, reached through a Transport (SSH or local). One
// SlurmExecutor per site per flow process, shared by every run the process drives, so
// there is one connection and ONE poll per site per interval whatever the number of jobs.
//
// Per attempt:
//  plan()      renders the job script with the LAMEC generator (site + task `slurm:` block
//              -> exactly what `flow lamec gen` prints) and names the job
//              flow.<run>.<instance>.<try>; the controller commits both as `submitting`.
//  launch()    stages the run's code and the task's inputs in (job_staging.hpp: checked,
//              resumable, on a second connection), then uploads the script to
//              <workdir>/logs/RUN/INSTANCE/TRY.sbatch and calls sbatch; reports kSubmitted
//              with the job id. A staging failure that would not change fails the attempt
//              (native state STAGE_IN); a lost link is retried, continuing the transfer.
//  poll        one `sacct` for all jobs (squeue/scontrol when slurmdbd is down) plus a
//              `stat` of the files mirrored back here: the log, FLOW_METRICS_FILE and
//              FLOW_OUTPUTS_FILE. Changed files are fetched (appended from the last offset)
//              and reported as kProgress; a state change as kRunning; an end state as
//              kFinished, after the final log, metrics and outputs were copied back and,
//              for a COMPLETED job, its declared outputs were staged out (a missing
//              declared output fails it: native state STAGE_OUT).
//  reattach()  with a job id: tracks it. Without one (the engine died between committing
//              `submitting` and learning the id): looks the job up by name in squeue and
//              sacct; only if it is in neither, twice, is the attempt reported kLost (never
//              submitted), so a job is never submitted twice.
//  cancel()    scancel; the job's end is reported once Slurm shows it ended.
//
// Job arrays (the site's `job_arrays:`, on by default; job_array.hpp, slurm_array.cpp): the
// foreach elements that reach submission together are gathered for 0.1 s and go to Slurm
// as one `sbatch --array` per run, task, try and #SBATCH header; each element is then the
// job ARRAY_INDEX for everything above.
//
// Allocation mode (the site's `allocation:`; allocation_pool.hpp, slurm_alloc.cpp): claim()
// places a try on a free node of a live allocation, or asks for a new allocation (one
// sbatch) and lets the try wait; launch() writes its task script into that node's inbox
// instead of calling sbatch, and every write, cancel and status read of the site's
// allocations goes in one command per poll interval (or per tick that launched something).
//
// Threading: the transport blocks, so every site call runs on this executor's one worker
// thread (calls are serialised: one command at a time per site) and its result is posted
// back to the controller's io_context. All other state lives on the io_context's thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/run/executor.hpp"
#include "engine/site/site.hpp"
#include "operators/lamec/lamec.hpp"
#include "operators/slurm/allocation_pool.hpp"
#include "operators/slurm/job_staging.hpp"
#include "operators/slurm/slurm_client.hpp"
#include "operators/transport/transport.hpp"

namespace flow::slurm {

struct SlurmExecutorOptions {
  // Polling: `interval` is the site's poll_interval. Right after a submit or scancel the
  // next poll comes after `fast` (at most `interval`); when every job has been pending for
  // more than 10 intervals, polls slow down to 4x the interval, at most `slow_cap`.
  std::chrono::milliseconds interval{std::chrono::seconds(30)};
  std::chrono::milliseconds fast{std::chrono::seconds(1)};
  std::chrono::milliseconds slow_cap{std::chrono::minutes(5)};
  // A submitted job that sacct does not show yet is pending for this long; after that
  // squeue/scontrol are asked, and a job nobody knows is reported failed.
  std::chrono::milliseconds sacct_grace{std::chrono::seconds(120)};
  // Re-attach by name: the second look-up waits this long after the first.
  std::chrono::milliseconds lookup_recheck{std::chrono::seconds(2)};
  // Submission retries when the site cannot be reached (the transport reconnects inside
  // each call; this is the pause between whole calls).
  std::chrono::milliseconds submit_retry{std::chrono::seconds(5)};
  // A submission sbatch refused for a passing reason (a MaxSubmitJobs limit, SubmitDeferred)
  // waits and is tried again: first after `defer_first`, then twice as long each time, at
  // most `defer_cap`. It never fails the try.
  std::chrono::milliseconds defer_first{std::chrono::seconds(15)};
  std::chrono::milliseconds defer_cap{std::chrono::minutes(5)};
  int log_tail_lines = 20;
  ClientOptions client;
  // Site-level news (connection lost/back, accounting down/back), called on the io thread.
  std::function<void(const std::string&)> notice;
};

class SlurmExecutor : public run::Executor {
 public:
  SlurmExecutor(boost::asio::io_context& io, site::Site site,
                std::unique_ptr<transport::Transport> transport, lamec::ModuleCatalog modules,
                SlurmExecutorOptions options);
  ~SlurmExecutor() override;
  SlurmExecutor(const SlurmExecutor&) = delete;
  SlurmExecutor& operator=(const SlurmExecutor&) = delete;

  // Blocking: `sbatch --version` on the site, which proves connection, host key,
  // authentication and that Slurm's commands are there. Throws EnvironmentError naming
  // the site. The CLI calls it before a run starts.
  void preflight() override;

  std::string run_dir(const std::string& run_id) const override;
  std::string workdir(const run::LaunchSpec& spec) const override;  // run_dir: the job's --chdir
  run::Plan plan(const run::LaunchSpec& spec) override;
  void launch(const run::LaunchSpec& spec, const run::Plan& plan) override;
  void reattach(const run::LaunchSpec& spec, const run::AttemptHandle& handle) override;
  void cancel(const run::AttemptKey& key, run::CancelReason reason) override;
  int free_slots() const override;
  bool claim(const run::AttemptKey& key, const dag::Resources& need,
             std::optional<dag::Duration> declared) override;
  void release(const run::AttemptKey& key) override;

  // flow.<run>.<instance>.<try>
  static std::string job_name(const run::AttemptKey& key);
  // Where an attempt's files live on the site: <workdir>/logs/RUN/INSTANCE/TRY, to which
  // ".log", ".sbatch", ".outputs.json" and ".metrics.jsonl" are appended.
  static std::string remote_base(const site::Site& site, const run::AttemptKey& key);

  // What this executor asked of the site so far (benchmarks, tests).
  struct Stats {
    int polls = 0;           // poll round trips
    int fallback_polls = 0;  // of which sacct failed and squeue/scontrol answered
    int submits = 0;
    int deferrals = 0;  // submissions sbatch put off (SubmitDeferred)
    int lookups = 0;    // re-attach by name
    int cancels = 0;
    int fetches = 0;         // files copied back
    int allocations = 0;     // allocations submitted (allocation mode)
    int alloc_commands = 0;  // round trips of allocation mode (writes + status, batched)
  };
  const Stats& stats() const { return stats_; }

 private:
  struct Job;
  struct PollSnapshot;
  struct PollOutcome;
  struct ArrayMember;
  struct ArrayPart;
  struct ArrayOutcome;

  std::string remote_base(const run::AttemptKey& key) const { return remote_base(site_, key); }
  run::Plan make_plan(const run::LaunchSpec& spec) const;  // throws InputError
  void stage_in(std::shared_ptr<Job> job);
  void on_staged_in(const std::shared_ptr<Job>& job, StageResult r);
  // A job Slurm says ended: stage its outputs out first if it succeeded, then finish().
  void complete(const std::shared_ptr<Job>& job, run::ExecEvent e);
  void stage_out(std::shared_ptr<Job> job, run::ExecEvent e);
  void submit(std::shared_ptr<Job> job);      // alone, in an array, or into an allocation
  void submit_one(std::shared_ptr<Job> job);  // its own sbatch
  void finish_unsubmitted(const std::shared_ptr<Job>& job);  // cancelled before it reached Slurm
  std::chrono::milliseconds defer(const std::shared_ptr<Job>& job);  // submit again later
  void on_submitted(const std::shared_ptr<Job>& job, std::string job_id, std::string error,
                    bool refused, bool deferred);
  void look_up(std::shared_ptr<Job> job, int attempt);
  void send_cancel(const std::shared_ptr<Job>& job);
  void arm_poll();
  void poll();
  void on_poll(PollOutcome outcome);
  void finish(const std::shared_ptr<Job>& job, run::ExecEvent e);
  // ---- allocation mode (slurm_alloc.cpp)
  AllocationPool& pool();
  void submit_allocation();
  std::string task_script(const run::LaunchSpec& spec, const Placement& p) const;
  void reattach_in_allocation(const run::LaunchSpec& spec, const run::AttemptHandle& handle,
                              const Placement& p);
  void dispatch(std::shared_ptr<Job> job);
  void schedule_alloc_io(bool now);
  void alloc_io();
  void on_alloc_io(std::string output, std::string error, std::vector<std::shared_ptr<Job>> sent);
  void allocation_ended(Allocation& a);
  // ---- job arrays (slurm_array.cpp)
  bool joins_array(const Job& job) const;
  void queue_for_array(std::shared_ptr<Job> job);
  void submit_arrays();
  long max_array_size();  // worker thread: the site's MaxArraySize, asked once
  void say(const std::string& text);
  void after(std::chrono::milliseconds delay, std::function<void()> then);  // on the io thread
  // Runs `work` on the worker thread, then `done` with its result on the io thread.
  template <typename Work, typename Done>
  void offload(Work work, Done done);

  boost::asio::io_context& io_;
  site::Site site_;
  std::unique_ptr<transport::Transport> transport_;
  SlurmClient client_;  // worker thread only
  lamec::ModuleCatalog modules_;
  SlurmExecutorOptions options_;
  std::map<run::AttemptKey, std::shared_ptr<Job>> jobs_;
  std::map<run::AttemptKey, std::string> plan_errors_;  // plan() could not make a script
  boost::asio::steady_timer poll_timer_;
  bool poll_armed_ = false;
  bool poll_in_flight_ = false;
  std::chrono::steady_clock::time_point last_activity_{};  // last submit/scancel
  std::string site_problem_;     // the last connection error reported, "" when fine
  std::string accounting_down_;  // why sacct failed, "" when it works
  Stats stats_;
  std::shared_ptr<bool> alive_;  // results posted after destruction are dropped
  boost::asio::thread_pool worker_{1};
  std::unique_ptr<JobStaging> staging_;  // its own thread and connection
  // Allocation mode: set when the site has `allocation:` (or a re-attached try ran in one).
  std::unique_ptr<AllocationPool> pool_;
  std::string alloc_refused_;                   // why sbatch refused the allocation: its tries fail
  std::vector<std::shared_ptr<Job>> to_write_;  // task scripts to place, next command
  std::vector<std::string> alloc_cancels_;      // <node dir>/cancel/<id> to create
  // Node dir -> task file ids of finished tries whose records are to be put away.
  std::map<std::string, std::vector<std::string>> alloc_acks_;
  boost::asio::steady_timer alloc_timer_;
  bool alloc_armed_ = false;
  bool alloc_in_flight_ = false;
  bool alloc_io_posted_ = false;
  std::chrono::milliseconds alloc_backoff_{0};           // the next look after a placement, then x2
  std::chrono::steady_clock::time_point last_squeue_{};  // allocation mode's last squeue
  // Job arrays: tries that may share an array, gathered for a moment before one sbatch.
  std::vector<std::shared_ptr<Job>> array_queue_;
  bool array_flush_armed_ = false;
  long max_array_size_ = 0;  // worker thread only; 0 = not asked yet
};

}  // namespace flow::slurm
