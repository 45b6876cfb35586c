#pragma once
// Slurm's command-line interface on one site, over a Transport (SSH or local). Every call
// is one round trip (one command on the site) unless it says otherwise, and blocks: the
// SlurmExecutor calls it from its worker thread.
//
// Polling is the polite kind (see docs/SLURM.md): ONE `sacct` for all jobs of all runs on
// the site, with an explicit --starttime, and in the same command a `stat` of the files
// the engine mirrors (logs, metrics, outputs) so it fetches only what changed. When
// slurmdbd is unreachable the same question goes to `squeue`, then `scontrol` for the jobs
// squeue has already forgotten or whose exit code it does not show.

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.hpp"
#include "operators/slurm/job_query.hpp"
#include "operators/transport/transport.hpp"

namespace flow::slurm {

// sbatch answered, and said no (bad partition, invalid option, ...). Not a connection
// problem: resubmitting the same script will not help.
class SubmitRefused : public Error {
 public:
  explicit SubmitRefused(const std::string& message) : Error(ErrorKind::kFailure, message) {}
};

// sbatch said no for a reason that passes with time: a limit on how many jobs the user,
// account or QOS may have in the queue (MaxSubmitJobs, GrpSubmitJobs: "AssocMaxSubmitJobLimit",
// "QOSMaxSubmitJobPerUserLimit", ...), or a controller that takes no more jobs for now
// (MaxJobCount). Slurm did not create the job; the same script may be submitted later.
class SubmitDeferred : public SubmitRefused {
 public:
  using SubmitRefused::SubmitRefused;
};

// The passing reason in what sbatch printed ("AssocMaxSubmitJobLimit"), or "" when its
// refusal will not pass by waiting (bad partition, invalid option, over a time limit).
std::string passing_refusal(std::string_view sbatch_output);

struct ClientOptions {
  std::chrono::milliseconds command_timeout{std::chrono::seconds(120)};
  // --starttime for name look-ups, where sacct's default window (today only) would miss
  // jobs submitted before midnight. Slurm's relative time syntax.
  std::string lookup_since = "now-14days";
};

struct PollResult {
  std::map<std::string, JobRecord> jobs;  // by job id; a job Slurm does not report is absent
  std::map<std::string, transport::RemoteStat> files;  // by path; missing files are absent
  std::string source;            // "sacct", or "squeue+scontrol" when slurmdbd was unreachable
  std::string accounting_error;  // why sacct failed, when it did
};

class SlurmClient {
 public:
  SlurmClient(transport::Transport& transport, ClientOptions options = {});

  // Creates `dirs`, then `sbatch --parsable SCRIPT`; returns the job id. Throws
  // SubmitDeferred when sbatch refused for a passing reason (passing_refusal), SubmitRefused
  // when it refused for good, EnvironmentError when the site or the controller could not be
  // reached (the job may or may not exist then: look it up by name).
  std::string submit(const std::string& script_path, const std::vector<std::string>& dirs);

  // The state of `job_ids` and the size/mtime of `files`, in one command when slurmdbd is
  // up (plus one squeue when sacct says NODE_FAIL or PREEMPTED: confirm_requeues). `since`
  // is sacct's --starttime (e.g. the earliest submit time, minus a margin). With
  // `queue_reasons` the same command also asks squeue for the user's pending jobs: their
  // reason is slurmctld's current one (sacct's is stale), and a job sacct does not list
  // yet but squeue shows pending is reported pending.
  PollResult poll(const std::vector<std::string>& job_ids, const std::vector<std::string>& files,
                  const std::string& since, bool queue_reasons = false);

  // Jobs carrying these names (flow.<run>.<task>.<try>), from squeue and sacct, by name.
  // When a name appears with several ids, the newest (highest id) wins.
  std::map<std::string, JobRecord> find_by_names(const std::vector<std::string>& names);
  // Every job (and array element) carrying one of these names, from squeue and sacct (sacct's
  // record where both show a job). Throws EnvironmentError, like find_by_names, unless both
  // answered.
  std::vector<JobRecord> find_all_by_names(const std::vector<std::string>& names);

  // The site's MaxArraySize (`scontrol show config`): the largest array index is one less.
  // Slurm's default, 1001, when the controller does not say.
  long max_array_size();

  // scancel; an already finished job is not an error.
  void cancel(const std::vector<std::string>& job_ids);

  // Jobs sacct reports NODE_FAIL or PREEMPTED that slurmctld has requeued: replaced by
  // squeue's record (pending, reason "requeued after NODE_FAIL"). If squeue fails they are
  // dropped from `jobs` for this poll (not final until the controller can say).
  void confirm_requeues(std::map<std::string, JobRecord>& jobs);

  // squeue, then scontrol for what squeue does not show; used by poll() when sacct fails.
  std::map<std::string, JobRecord> query_controller(const std::vector<std::string>& job_ids);

  const std::string& describe() const { return where_; }

 private:
  static void add_queue_reasons(std::vector<JobRecord> pending,
                                const std::vector<std::string>& job_ids,
                                std::map<std::string, JobRecord>& jobs);
  // Queries (sacct, squeue, scontrol, scancel) may be re-run after a dropped connection;
  // sbatch may not (the caller looks the job up by name instead).
  transport::CommandResult query(const std::string& command);

  transport::Transport& transport_;
  ClientOptions options_;
  std::string where_;
};

}  // namespace flow::slurm
