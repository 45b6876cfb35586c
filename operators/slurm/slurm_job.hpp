#pragma once
// Private to operators/slurm: the record SlurmExecutor keeps per job, and the mirrors that
// copy a job's log, metrics and outputs files back from the site. Shared by
// slurm_executor.cpp (staging, submission, re-attach, cancel) and slurm_poll.cpp (the
// batched poll and what it learns); nothing outside this folder includes it.

#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/run/secret_mask.hpp"
#include "operators/slurm/slurm_executor.hpp"

namespace flow::slurm {

using Clock = std::chrono::steady_clock;

// A file mirrored from the site: the remote path, the local copy, how much was copied.
struct Mirror {
  std::string remote;
  std::filesystem::path local;
  uint64_t offset = 0;      // append-only files (log, metrics): bytes copied so far
  bool whole_file = false;  // outputs: copied whole whenever it changes
  transport::RemoteStat seen{};
  run::SecretMask mask{};  // the log: secrets masked as copied (engine/run/secret_mask.hpp)
};

// A log mirror of `spec`'s try: its secrets masked.
inline Mirror log_mirror(const std::string& remote, const run::LaunchSpec& spec) {
  Mirror m{remote, spec.files.log};
  m.mask = run::SecretMask(spec.env, spec.secret_env);
  return m;
}

// Copies what is new in `m` from the site; returns true if anything was copied. `now` is
// the file's stat from the poll; without one (a job that just ended) the file is read
// anyway. Runs on the worker thread.
bool fetch(transport::Transport& t, Mirror& m, const std::optional<transport::RemoteStat>& now);

// Appends `text`, read from the mirror's offset, to its local copy and moves the offset on.
// With `whole_lines` (the try still runs) a masked log takes whole lines only, so that no
// secret is split across two copies and copied half in clear; the rest is read again next
// time (a line over 64 KiB is taken as it is). Returns false when nothing was taken.
bool append_to_mirror(Mirror& m, std::string text, bool whole_lines);

// What one sbatch call came to (submission of a try's job or of an allocation).
struct SubmitResult {
  std::string job_id, error;
  bool refused = false;   // sbatch said no for good (SubmitRefused)
  bool deferred = false;  // a passing limit (SubmitDeferred)
};

// Runs `submit` (which returns the job id) and sorts what it threw.
template <typename Submit>
SubmitResult sort_submission(Submit submit) {
  try {
    return {submit(), "", false, false};
  } catch (const SubmitDeferred& e) {
    return {"", e.what(), false, true};
  } catch (const SubmitRefused& e) {
    return {"", e.what(), true, false};
  } catch (const std::exception& e) {
    return {"", e.what(), false, false};
  }
}

struct SlurmExecutor::Job {
  enum class Stage {
    kStagingIn,
    kSubmitting,
    kDeferred,
    kLookingUp,
    kInSlurm,
    kStagingOut,
    kInAllocation,  // its task script is in an allocation's inbox, running, or ended
  };
  run::LaunchSpec spec;
  std::string name;
  std::string script;
  std::string job_id;
  Stage stage = Stage::kSubmitting;
  bool reattached = false;
  int deferrals = 0;                       // times sbatch put this submission off (SubmitDeferred)
  Phase reported = Phase::kPending;        // the phase last reported to the controller
  std::string queue_reason;                // Slurm's pending reason last reported ("Priority")
  Clock::time_point since = Clock::now();  // submitted or re-attached
  EpochMs since_wall = now_ms();
  std::optional<run::CancelReason> cancel_reason;
  bool cancel_sent = false;
  Mirror log, metrics, outputs;
  // Allocation mode: where it runs, and what the workers said of it so far.
  std::optional<Placement> place;
  std::string file_id;   // task_file_id(key)
  bool seen = false;     // a worker's record of it (inbox, start or end) was seen
  int unseen_polls = 0;  // re-attached: looks that found no trace of it
  bool alloc_started = false;
  std::optional<AllocReport::Ended> alloc_end;  // its end record; the final copies follow
  std::shared_ptr<std::atomic<bool>> stop_staging = std::make_shared<std::atomic<bool>>(false);
};

// What a poll asks about one job, and what it learned (worker thread).
struct SlurmExecutor::PollSnapshot {
  run::AttemptKey key;
  std::string job_id;
  bool ask_controller_if_missing = false;
  bool running = false;  // last seen running: its files are stat'ed in the poll command
  Mirror log, metrics, outputs;
  bool metrics_changed = false;
  bool outputs_changed = false;
};

struct SlurmExecutor::PollOutcome {
  std::vector<PollSnapshot> jobs;
  std::map<std::string, JobRecord> records;
  std::string source;
  std::string accounting_error;
  std::string error;  // the site could not be reached
};

template <typename Work, typename Done>
void SlurmExecutor::offload(Work work, Done done) {
  std::weak_ptr<bool> alive = alive_;
  boost::asio::post(worker_, [this, alive, work = std::move(work),
                              done = std::move(done)]() mutable {
    auto result = work();
    boost::asio::post(io_, [alive, done = std::move(done), result = std::move(result)]() mutable {
      if (alive.lock()) done(std::move(result));
    });
  });
}

}  // namespace flow::slurm
