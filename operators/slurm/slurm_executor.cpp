// SlurmExecutor: one site's jobs — stage their files in, submit (deferring on submit
// limits), find again after a lost connection or restart, one batched poll for all of them
// (following requeues), stage outputs out, cancel. About 770 lines, not split yet: every
// step reads and moves the same Job record (defined here) through its stages, and reads
// best as one state machine; the parsing and the remote commands live in slurm_client.cpp,
// the transfers in job_staging.cpp, the scripts in operators/lamec. The split it is due for:
// the Job record into a private header, then the polling (poll/on_poll and the log, metrics
// and outputs mirrors) into a file of its own, leaving submission and re-attach here.
#include "operators/slurm/slurm_executor.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <fstream>
#include <future>
#include <optional>

#include "engine/core/clock.hpp"
#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/core/private_files.hpp"
#include "engine/core/shell.hpp"
#include "engine/core/text_file.hpp"
#include "engine/run/secret_mask.hpp"

namespace flow::slurm {

using run::AttemptKey;
using run::ExecEvent;
using run::Outcome;
using Clock = std::chrono::steady_clock;

namespace {

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
Mirror log_mirror(const std::string& remote, const run::LaunchSpec& spec) {
  Mirror m{remote, spec.files.log};
  m.mask = run::SecretMask(spec.env, spec.secret_env);
  return m;
}

// Copies what is new in `m` from the site; returns true if anything was copied. `now` is
// the file's stat from the poll; without one (a job that just ended) the file is read
// anyway. Runs on the worker thread.
bool fetch(transport::Transport& t, Mirror& m, const std::optional<transport::RemoteStat>& now) {
  if (m.whole_file) {
    if (now && now->size == m.seen.size && now->mtime == m.seen.mtime) return false;
    auto text = t.get_file(m.remote, 0);
    if (!text) return false;
    write_file_atomic(m.local, *text, kPrivateFileMode);
    m.seen = now.value_or(transport::RemoteStat{text->size(), 0});
    return true;
  }
  if (now && now->size <= m.offset) return false;
  auto text = t.get_file(m.remote, m.offset);
  if (!text || text->empty()) return false;
  if (!m.mask.empty()) {
    // Whole lines only while the job runs, so that no value is split across two copies
    // and copied half in clear (a line over 64 KiB is copied as it is).
    if (now) {
      const size_t nl = text->rfind('\n');
      if (nl != std::string::npos)
        text->resize(nl + 1);
      else if (text->size() < 64 * 1024)
        return false;
    }
  }
  const uint64_t read = text->size();
  if (!m.mask.empty()) *text = m.mask.apply(std::move(*text));
  // Copies of logs are private like the engine's own (engine/core/private_files.hpp).
  std::error_code ec;
  create_private_directories(m.local.parent_path(), ec);
  create_private_file(m.local, ec);
  std::ofstream out(m.local, std::ios::binary | (m.offset == 0 ? std::ios::trunc : std::ios::app));
  out.write(text->data(), static_cast<std::streamsize>(text->size()));
  if (!out) throw EnvironmentError("cannot write " + m.local.string() + " (disk full?)");
  m.offset += read;
  return true;
}

std::string strip_slash(std::string s) {
  while (s.size() > 1 && s.back() == '/')
    s.pop_back();
  return s;
}

}  // namespace

struct SlurmExecutor::Job {
  enum class Stage { kStagingIn, kSubmitting, kDeferred, kLookingUp, kInSlurm, kStagingOut };
  run::LaunchSpec spec;
  std::string name;
  std::string script;
  std::string job_id;
  Stage stage = Stage::kSubmitting;
  bool reattached = false;
  int deferrals = 0;                       // times sbatch put this submission off (SubmitDeferred)
  Phase reported = Phase::kPending;        // the phase last reported to the controller
  Clock::time_point since = Clock::now();  // submitted or re-attached
  EpochMs since_wall = now_ms();
  std::optional<run::CancelReason> cancel_reason;
  bool cancel_sent = false;
  Mirror log, metrics, outputs;
  std::shared_ptr<std::atomic<bool>> stop_staging = std::make_shared<std::atomic<bool>>(false);
};

// What a poll asks about one job, and what it learned (worker thread).
struct SlurmExecutor::PollSnapshot {
  AttemptKey key;
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

SlurmExecutor::SlurmExecutor(boost::asio::io_context& io, site::Site site,
                             std::unique_ptr<transport::Transport> transport,
                             lamec::ModuleCatalog modules, SlurmExecutorOptions options)
    : io_(io),
      site_(std::move(site)),
      transport_(std::move(transport)),
      client_(*transport_, options.client),
      modules_(std::move(modules)),
      options_(std::move(options)),
      poll_timer_(io),
      alive_(std::make_shared<bool>(true)),
      staging_(std::make_unique<JobStaging>(io, site_, *transport_)) {}

SlurmExecutor::~SlurmExecutor() {
  staging_.reset();  // joins its thread, which may be using the transport
  alive_.reset();
  poll_timer_.cancel();
  // Work not yet started is dropped: an sbatch that never ran leaves its attempt in
  // `submitting`, which a resume finds missing by name and starts again.
  worker_.stop();
  worker_.join();
}

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

void SlurmExecutor::preflight() {
  std::promise<transport::CommandResult> answer;
  auto got = answer.get_future();
  boost::asio::post(worker_, [&] {
    try {
      answer.set_value(transport_->run("sbatch --version", options_.client.command_timeout));
    } catch (...) {
      answer.set_exception(std::current_exception());
    }
  });
  transport::CommandResult r;
  try {
    r = got.get();
  } catch (const Error& e) {
    throw EnvironmentError("site '" + site_.name + "': " + e.what());
  }
  if (r.exit_status != 0) {
    throw EnvironmentError("site '" + site_.name + "' (" + transport_->describe() +
                           "): `sbatch --version` failed (exit " + std::to_string(r.exit_status) +
                           "): " + (r.err.empty() ? r.out : r.err) +
                           "; check that Slurm's commands are on the PATH there "
                           "(flow sites check " +
                           site_.name + ")");
  }
}

std::string SlurmExecutor::job_name(const AttemptKey& key) {
  return "flow." + key.run_id + "." + key.instance_id + "." + std::to_string(key.try_number);
}

std::string SlurmExecutor::run_dir(const std::string& run_id) const {
  return strip_slash(site_.workdir) + "/runs/" + run_id;
}

std::string SlurmExecutor::workdir(const run::LaunchSpec& spec) const {
  return run_dir(spec.key.run_id);
}

std::string SlurmExecutor::remote_base(const site::Site& site, const AttemptKey& key) {
  return strip_slash(site.workdir) + "/logs/" + key.run_id + "/" + key.instance_id + "/" +
         std::to_string(key.try_number);
}

run::Plan SlurmExecutor::make_plan(const run::LaunchSpec& spec) const {
  run::Plan p;
  p.intent = run::IntentState::kSubmitting;
  p.handle.job_name = job_name(spec.key);
  auto req = lamec::make_request(site_, spec.slurm, spec.command, modules_);
  const std::string base = remote_base(spec.key);
  req.job_name = p.handle.job_name;
  req.output = base + ".log";
  req.error.clear();  // stderr goes to the same log, as for local tasks
  req.workdir = run_dir(spec.key.run_id);
  for (const auto& [k, v] : spec.env)
    if (!spec.secret_env.count(k)) req.env.emplace_back(k, v);
  // Secret values go to a 0600 file of their own (submit() writes it), so the script, which
  // the database and Slurm keep, names the file and not the values (engine/run/secrets.hpp).
  if (!spec.secret_env.empty()) req.env_file = base + ".env";
  req.env.emplace_back("FLOW_OUTPUTS_FILE", base + ".outputs.json");
  req.env.emplace_back("FLOW_METRICS_FILE", base + ".metrics.jsonl");
  p.handle.script = lamec::render(req, modules_);
  return p;
}

run::Plan SlurmExecutor::plan(const run::LaunchSpec& spec) {
  try {
    return make_plan(spec);
  } catch (const Error& e) {
    // No script can be made (e.g. software the site's system does not have): the attempt
    // is committed as `submitting` and launch() fails it with this message.
    plan_errors_[spec.key] = e.what();
    run::Plan p;
    p.intent = run::IntentState::kSubmitting;
    p.handle.job_name = job_name(spec.key);
    return p;
  }
}

void SlurmExecutor::launch(const run::LaunchSpec& spec, const run::Plan& plan) {
  auto job = std::make_shared<Job>();
  job->spec = spec;
  job->name = plan.handle.job_name;
  job->script = plan.handle.script;
  const std::string base = remote_base(spec.key);
  job->log = log_mirror(base + ".log", spec);
  job->metrics = Mirror{base + ".metrics.jsonl", spec.files.metrics};
  job->outputs = Mirror{base + ".outputs.json", spec.files.outputs, 0, true};
  jobs_[spec.key] = job;
  if (auto err = plan_errors_.find(spec.key); err != plan_errors_.end()) {
    ExecEvent e;
    e.key = spec.key;
    e.kind = ExecEvent::Kind::kFinished;
    e.outcome = Outcome::kFailed;
    e.exit_code = -1;
    e.native_state = "INVALID";  // not retried: the same script would fail the same way
    e.message = "site '" + site_.name + "': cannot make a job script: " + err->second;
    plan_errors_.erase(err);
    return finish(job, std::move(e));
  }
  if (JobStaging::has_inputs(spec)) return stage_in(job);
  submit(job);
}

void SlurmExecutor::stage_in(std::shared_ptr<Job> job) {
  job->stage = Job::Stage::kStagingIn;
  staging_->stage_in(job->spec, job->stop_staging,
                     [this, job](StageResult r) { on_staged_in(job, std::move(r)); });
}

void SlurmExecutor::on_staged_in(const std::shared_ptr<Job>& job, StageResult r) {
  if (jobs_.count(job->spec.key) == 0) return;
  if (job->cancel_reason) return submit(job);  // reports it cancelled
  switch (r.status) {
    case StageResult::Status::kDone:
      if (!r.message.empty()) say(job->spec.key.instance_id + ": staged in: " + r.message);
      return submit(job);
    case StageResult::Status::kUnreachable:
      say("cannot stage in " + job->spec.key.instance_id + ": " + r.message +
          "; will continue the transfer in " +
          std::to_string(options_.submit_retry.count() / 1000) + " s");
      return after(options_.submit_retry, [this, job] { stage_in(job); });
    case StageResult::Status::kFailed:
      break;
  }
  ExecEvent e;
  e.key = job->spec.key;
  e.kind = ExecEvent::Kind::kFinished;
  e.outcome = Outcome::kFailed;
  e.exit_code = -1;
  e.native_state = run::kStageInFailed;
  e.message = "site '" + site_.name + "': cannot stage in: " + r.message;
  finish(job, std::move(e));
}

void SlurmExecutor::complete(const std::shared_ptr<Job>& job, ExecEvent e) {
  if (e.outcome == Outcome::kSucceeded && JobStaging::has_outputs(job->spec))
    return stage_out(job, std::move(e));
  finish(job, std::move(e));
}

void SlurmExecutor::stage_out(std::shared_ptr<Job> job, ExecEvent e) {
  job->stage = Job::Stage::kStagingOut;
  staging_->stage_out(job->spec, job->job_id, [this, job, e](StageResult r) mutable {
    if (jobs_.count(job->spec.key) == 0) return;
    switch (r.status) {
      case StageResult::Status::kDone:
        if (!r.message.empty()) say(job->spec.key.instance_id + ": staged out: " + r.message);
        return finish(job, std::move(e));
      case StageResult::Status::kUnreachable:
        say("cannot stage out " + job->spec.key.instance_id + ": " + r.message +
            "; will continue the transfer in " +
            std::to_string(options_.submit_retry.count() / 1000) + " s");
        return after(options_.submit_retry, [this, job, e] { stage_out(job, e); });
      case StageResult::Status::kFailed:
        break;
    }
    e.outcome = Outcome::kFailed;
    e.exit_code = -1;
    e.native_state = run::kStageOutFailed;
    e.message = "site '" + site_.name + "': job " + job->job_id + " completed, but " + r.message;
    finish(job, std::move(e));
  });
}

void SlurmExecutor::submit(std::shared_ptr<Job> job) {
  if (job->cancel_reason) {  // cancelled before it ever reached Slurm
    ExecEvent e;
    e.key = job->spec.key;
    e.kind = ExecEvent::Kind::kFinished;
    e.outcome = *job->cancel_reason == run::CancelReason::kTimeout ? Outcome::kTimedOut
                                                                   : Outcome::kCancelled;
    e.message = "cancelled before it was submitted";
    return finish(job, std::move(e));
  }
  job->stage = Job::Stage::kSubmitting;
  const std::string script_path = remote_base(job->spec.key) + ".sbatch";
  const std::vector<std::string> dirs = {std::filesystem::path(script_path).parent_path().string(),
                                         run_dir(job->spec.key.run_id)};
  struct Result {
    std::string job_id, error;
    bool refused = false, deferred = false;
  };
  std::string secret_env;  // `export NAME=value` lines of the task's secret env values
  for (const auto& k : job->spec.secret_env)
    if (auto it = job->spec.env.find(k); it != job->spec.env.end())
      secret_env += "export " + k + "=" + shell_quote(it->second) + "\n";
  const std::string env_path = remote_base(job->spec.key) + ".env";
  offload(
      [this, script_path, dirs, script = job->script, secret_env, env_path]() -> Result {
        try {
          if (!secret_env.empty()) transport_->put_file(env_path, secret_env, kPrivateFileMode);
          transport_->put_file(script_path, script, kPrivateFileMode);
          return {client_.submit(script_path, dirs), "", false, false};
        } catch (const SubmitDeferred& e) {
          return {"", e.what(), false, true};
        } catch (const SubmitRefused& e) {
          return {"", e.what(), true, false};
        } catch (const std::exception& e) {
          return {"", e.what(), false, false};
        }
      },
      [this, job](Result r) {
        on_submitted(job, std::move(r.job_id), std::move(r.error), r.refused, r.deferred);
      });
}

void SlurmExecutor::on_submitted(const std::shared_ptr<Job>& job, std::string job_id,
                                 std::string error, bool refused, bool deferred) {
  stats_.submits++;
  if (jobs_.count(job->spec.key) == 0) return;
  if (deferred) {
    // A submit limit or a full controller: Slurm made no job. Wait (doubling, capped) and
    // submit the same script again; a cancel meanwhile ends it at once (cancel()).
    stats_.deferrals++;
    auto delay = options_.defer_first;
    for (int i = 0; i < job->deferrals && delay < options_.defer_cap; ++i)
      delay *= 2;
    delay = std::min(delay, options_.defer_cap);
    job->deferrals++;
    job->stage = Job::Stage::kDeferred;
    say(job->name + ": " + error + "; submitting again in " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(delay).count()) + " s");
    return after(delay, [this, job] {
      if (jobs_.count(job->spec.key) == 0 || job->stage != Job::Stage::kDeferred) return;
      submit(job);
    });
  }
  if (refused) {
    ExecEvent e;
    e.key = job->spec.key;
    e.kind = ExecEvent::Kind::kFinished;
    e.outcome = Outcome::kFailed;
    e.exit_code = -1;
    e.message = "site '" + site_.name + "': " + error;
    return finish(job, std::move(e));
  }
  if (!error.empty()) {
    // The connection broke around sbatch: the job may exist. Look before submitting again.
    say("cannot submit " + job->name + ": " + error + "; will look it up and retry");
    return after(options_.submit_retry, [this, job] { look_up(job, 1); });
  }
  job->job_id = std::move(job_id);
  job->stage = Job::Stage::kInSlurm;
  job->since = Clock::now();
  job->since_wall = now_ms();
  last_activity_ = Clock::now();
  log::info(job->spec.key.instance_id + ": Slurm job " + job->job_id + " (" + job->name +
                ") submitted on site " + site_.name,
            job->spec.key.run_id);
  ExecEvent e;
  e.key = job->spec.key;
  e.kind = ExecEvent::Kind::kSubmitted;
  e.handle.job_id = job->job_id;
  e.handle.job_name = job->name;
  emit(std::move(e));
  if (job->cancel_reason) send_cancel(job);
  arm_poll();
}

void SlurmExecutor::reattach(const run::LaunchSpec& spec, const run::AttemptHandle& handle) {
  auto job = std::make_shared<Job>();
  job->spec = spec;
  job->name = handle.job_name.empty() ? job_name(spec.key) : handle.job_name;
  job->reattached = true;
  const std::string base = remote_base(spec.key);
  job->log = log_mirror(base + ".log", spec);
  job->metrics = Mirror{base + ".metrics.jsonl", spec.files.metrics};
  job->outputs = Mirror{base + ".outputs.json", spec.files.outputs, 0, true};
  // The job may have ended while no engine watched it: ask sacct about the last 14 days.
  job->since_wall = now_ms() - 14LL * 24 * 3600 * 1000;
  jobs_[spec.key] = job;
  if (!handle.job_id.empty() && parse_sbatch_job_id(handle.job_id) == handle.job_id) {
    job->job_id = handle.job_id;
    job->stage = Job::Stage::kInSlurm;
    job->reported = Phase::kUnknown;  // report whatever Slurm says first
    arm_poll();
    return;
  }
  look_up(job, 0);
}

void SlurmExecutor::look_up(std::shared_ptr<Job> job, int attempt) {
  if (jobs_.count(job->spec.key) == 0) return;
  job->stage = Job::Stage::kLookingUp;
  struct Result {
    std::optional<JobRecord> found;
    std::string error;
  };
  offload(
      [this, name = job->name]() -> Result {
        try {
          auto by_name = client_.find_by_names({name});
          if (auto it = by_name.find(name); it != by_name.end()) return {it->second, ""};
          return {std::nullopt, ""};
        } catch (const std::exception& e) {
          return {std::nullopt, e.what()};
        }
      },
      [this, job, attempt](Result r) {
        stats_.lookups++;
        if (jobs_.count(job->spec.key) == 0) return;
        if (!r.error.empty()) {
          say("cannot look up " + job->name + ": " + r.error + "; retrying");
          return after(options_.submit_retry, [this, job, attempt] { look_up(job, attempt); });
        }
        if (r.found) {
          log::info(job->spec.key.instance_id + ": found Slurm job " + r.found->job_id + " (" +
                        job->name + ") on site " + site_.name + "; not submitting it again",
                    job->spec.key.run_id);
          job->job_id = r.found->job_id;
          job->stage = Job::Stage::kInSlurm;
          job->since = Clock::now();
          job->reported = Phase::kPending;
          ExecEvent e;
          e.key = job->spec.key;
          e.kind = ExecEvent::Kind::kSubmitted;
          e.handle.job_id = job->job_id;
          e.handle.job_name = job->name;
          emit(std::move(e));
          if (job->cancel_reason) send_cancel(job);
          last_activity_ = Clock::now();
          return arm_poll();
        }
        if (attempt == 0) {  // an sbatch may still have been on its way: look once more
          return after(options_.lookup_recheck, [this, job] { look_up(job, 1); });
        }
        if (!job->reattached) return submit(job);  // it never arrived: submit it now
        ExecEvent e;
        e.key = job->spec.key;
        e.kind = ExecEvent::Kind::kFinished;
        e.outcome = Outcome::kLost;
        e.message = "job " + job->name + " was never submitted (not in squeue or sacct)";
        finish(job, std::move(e));
      });
}

void SlurmExecutor::cancel(const AttemptKey& key, run::CancelReason reason) {
  auto it = jobs_.find(key);
  if (it == jobs_.end()) return;
  auto job = it->second;
  if (!job->cancel_reason) job->cancel_reason = reason;
  if (job->stage == Job::Stage::kStagingIn) job->stop_staging->store(true);
  if (job->stage == Job::Stage::kInSlurm && !job->cancel_sent) send_cancel(job);
  if (job->stage == Job::Stage::kDeferred) return submit(job);  // ends it: nothing in Slurm
  // kSubmitting / kLookingUp: cancelled as soon as the job id is known.
}

void SlurmExecutor::send_cancel(const std::shared_ptr<Job>& job) {
  job->cancel_sent = true;
  last_activity_ = Clock::now();
  offload(
      [this, id = job->job_id]() -> std::string {
        try {
          client_.cancel({id});
          return "";
        } catch (const std::exception& e) {
          return e.what();
        }
      },
      [this, job](std::string error) {
        stats_.cancels++;
        if (!error.empty()) {
          say("cannot cancel job " + job->job_id + ": " + error + "; will try again");
          job->cancel_sent = false;  // the next poll sends it again
        }
        arm_poll();
      });
}

int SlurmExecutor::free_slots() const {
  if (site_.max_jobs <= 0) return -1;
  return std::max(0, site_.max_jobs - static_cast<int>(jobs_.size()));
}

// ---- polling --------------------------------------------------------------------------------

void SlurmExecutor::arm_poll() {
  if (poll_armed_ || poll_in_flight_) return;
  bool any = false, busy = false, all_long_pending = true;
  const auto now = Clock::now();
  const auto interval = options_.interval;
  for (const auto& [_, job] : jobs_) {
    if (job->stage != Job::Stage::kInSlurm) continue;
    any = true;
    if (job->cancel_reason) busy = true;
    if (job->reported != Phase::kPending || now - job->since < 10 * interval)
      all_long_pending = false;
  }
  if (!any) return;
  auto delay = interval;
  if (busy || now - last_activity_ < interval) {
    delay = std::min(options_.fast, interval);
  } else if (all_long_pending) {
    delay = std::max(interval, std::min(4 * interval, options_.slow_cap));
  }
  poll_armed_ = true;
  poll_timer_.expires_after(delay);
  poll_timer_.async_wait([this](const boost::system::error_code& ec) {
    poll_armed_ = false;
    if (!ec) poll();
  });
}

void SlurmExecutor::poll() {
  std::vector<PollSnapshot> snap;
  EpochMs since = now_ms();
  const auto now = Clock::now();
  for (const auto& [key, job] : jobs_) {
    if (job->stage != Job::Stage::kInSlurm) continue;
    if (job->cancel_reason && !job->cancel_sent) send_cancel(job);
    PollSnapshot s;
    s.key = key;
    s.job_id = job->job_id;
    s.ask_controller_if_missing = now - job->since >= options_.sacct_grace;
    s.running = job->reported == Phase::kRunning;
    s.log = job->log;
    s.metrics = job->metrics;
    s.outputs = job->outputs;
    since = std::min(since, job->since_wall);
    snap.push_back(std::move(s));
  }
  if (snap.empty()) return;
  log::debug("site '" + site_.name + "': polling " + std::to_string(snap.size()) +
             " job(s) in one round trip");
  poll_in_flight_ = true;
  // Relative to the site's clock: "now-N" seconds, with an hour's margin.
  const long long back_s = (now_ms() - since) / 1000 + 3600;
  const std::string since_text = "now-" + std::to_string(back_s);
  offload(
      [this, snap = std::move(snap), since_text]() mutable -> PollOutcome {
        PollOutcome out;
        try {
          std::vector<std::string> ids, files;
          for (const auto& s : snap) {
            ids.push_back(s.job_id);
            if (s.running)
              files.insert(files.end(), {s.log.remote, s.metrics.remote, s.outputs.remote});
          }
          auto r = client_.poll(ids, files, since_text);
          out.records = std::move(r.jobs);
          out.source = r.source;
          out.accounting_error = r.accounting_error;
          std::vector<std::string> missing;
          for (const auto& s : snap) {
            if (s.ask_controller_if_missing && !out.records.count(s.job_id))
              missing.push_back(s.job_id);
          }
          if (!missing.empty() && out.source == "sacct") {
            for (auto& [id, rec] : client_.query_controller(missing))
              out.records[id] = std::move(rec);
          }
          // Running jobs: copy what the stat shows changed. Ended jobs: copy the rest of
          // every file now, before the end is reported, so the controller reads final files.
          for (auto& s : snap) {
            auto rec = out.records.find(s.job_id);
            const bool ended =
                rec != out.records.end() && rec->second.status.phase == Phase::kFinished;
            for (auto [m, changed] : {std::pair{&s.log, static_cast<bool*>(nullptr)},
                                      std::pair{&s.metrics, &s.metrics_changed},
                                      std::pair{&s.outputs, &s.outputs_changed}}) {
              auto st = r.files.find(m->remote);
              bool copied = false;
              if (ended)
                copied = fetch(*transport_, *m, std::nullopt);
              else if (st != r.files.end())
                copied = fetch(*transport_, *m, st->second);
              if (changed) *changed = copied;
            }
          }
        } catch (const std::exception& e) {
          out.error = e.what();
        }
        out.jobs = std::move(snap);
        return out;
      },
      [this](PollOutcome o) { on_poll(std::move(o)); });
}

void SlurmExecutor::on_poll(PollOutcome o) {
  poll_in_flight_ = false;
  stats_.polls++;
  if (!o.error.empty()) {
    if (site_problem_ != o.error) say("cannot poll: " + o.error + "; jobs stay tracked, retrying");
    site_problem_ = o.error;
    return arm_poll();
  }
  if (!site_problem_.empty()) say("reachable again");
  site_problem_.clear();
  if (o.source != "sacct") {
    stats_.fallback_polls++;
    if (accounting_down_.empty())
      say("sacct failed (" + o.accounting_error + "): following jobs with squeue and scontrol");
    accounting_down_ = o.accounting_error.empty() ? "?" : o.accounting_error;
  } else if (!accounting_down_.empty()) {
    say("sacct answers again");
    accounting_down_.clear();
  }
  const auto now = Clock::now();
  for (auto& s : o.jobs) {
    auto it = jobs_.find(s.key);
    if (it == jobs_.end() || it->second->job_id != s.job_id) continue;
    auto job = it->second;
    stats_.fetches += (s.log.offset != job->log.offset) + s.metrics_changed + s.outputs_changed;
    job->log = s.log;
    job->metrics = s.metrics;
    job->outputs = s.outputs;
    auto rec = o.records.find(s.job_id);
    if (rec == o.records.end()) {
      // Not visible yet (sacct lags right after sbatch); after the grace period squeue and
      // scontrol were asked too, and nobody knows the job.
      if (s.ask_controller_if_missing && now - job->since >= 2 * options_.sacct_grace) {
        ExecEvent e;
        e.key = s.key;
        e.kind = ExecEvent::Kind::kFinished;
        e.outcome = Outcome::kFailed;
        e.exit_code = -1;
        e.message = "Slurm job " + s.job_id + " is known to neither sacct, squeue nor scontrol";
        finish(job, std::move(e));
      }
      continue;
    }
    const JobStatus& st = rec->second.status;
    if (s.metrics_changed || s.outputs_changed) {
      ExecEvent e;
      e.key = s.key;
      e.kind = ExecEvent::Kind::kProgress;
      emit(std::move(e));
    }
    if (st.phase == Phase::kRunning && job->reported != Phase::kRunning) {
      job->reported = Phase::kRunning;
      ExecEvent e;
      e.key = s.key;
      e.kind = ExecEvent::Kind::kRunning;
      e.handle.job_id = s.job_id;
      emit(std::move(e));
    } else if (st.phase == Phase::kPending &&
               (job->reported == Phase::kRunning || job->reported == Phase::kUnknown)) {
      // Back in the queue after it ran (scontrol requeue, preemption, a failed node): the
      // same job runs again later; follow it, its log starts over. Or the first sight of a
      // re-attached job, waiting: if the try was running when the last engine stopped,
      // Slurm requeued it meanwhile; the controller knows from its state and shows why.
      const std::string why = rec->second.reason.empty() ? st.state : rec->second.reason;
      if (job->reported == Phase::kRunning) {
        job->log = log_mirror(job->log.remote, job->spec);
        log::info(s.key.instance_id + ": Slurm job " + s.job_id + " requeued (" + why + ")",
                  s.key.run_id);
      }
      job->reported = Phase::kPending;
      ExecEvent e;
      e.key = s.key;
      e.kind = ExecEvent::Kind::kSubmitted;
      e.handle.job_id = s.job_id;
      e.handle.job_name = job->name;
      e.message = "requeued by Slurm (" + why + "); waits in the queue to run again";
      emit(std::move(e));
    } else if (st.phase == Phase::kFinished) {
      ExecEvent e;
      e.key = s.key;
      e.kind = ExecEvent::Kind::kFinished;
      e.outcome = outcome_of(st);
      e.exit_code = st.exit_code;
      e.signal = st.signal;
      e.native_state = st.state;
      if (job->cancel_reason && st.state == "CANCELLED") {
        if (*job->cancel_reason == run::CancelReason::kTimeout) {
          e.outcome = Outcome::kTimedOut;
          e.native_state.clear();  // flow's timeout, not Slurm's: retried like a local one
          e.message = "timed out: job " + s.job_id + " cancelled after the task timeout";
        } else {
          e.message = "cancelled (job " + s.job_id + " scancelled)";
        }
      } else if (e.outcome != Outcome::kSucceeded) {
        std::string msg = "Slurm job " + s.job_id + " " + st.state + ", exit code " +
                          std::to_string(st.exit_code);
        if (st.signal) msg += ", signal " + std::to_string(st.signal);
        if (!rec->second.reason.empty()) msg += " (" + rec->second.reason + ")";
        std::string tail = tail_lines(job->spec.files.log, options_.log_tail_lines);
        if (!tail.empty()) msg += "; last lines of " + job->spec.files.log.string() + ":\n" + tail;
        e.message = std::move(msg);
      }
      complete(job, std::move(e));
    }
  }
  arm_poll();
}

void SlurmExecutor::finish(const std::shared_ptr<Job>& job, ExecEvent e) {
  jobs_.erase(job->spec.key);
  e.handle.job_id = job->job_id;
  e.handle.job_name = job->name;
  emit(std::move(e));
}

void SlurmExecutor::after(std::chrono::milliseconds delay, std::function<void()> then) {
  auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
  std::weak_ptr<bool> alive = alive_;
  timer->async_wait([timer, alive, then = std::move(then)](const boost::system::error_code& ec) {
    if (!ec && alive.lock()) then();
  });
}

void SlurmExecutor::say(const std::string& text) {
  if (options_.notice) options_.notice("site '" + site_.name + "': " + text);
}

}  // namespace flow::slurm
