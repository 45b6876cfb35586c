// SlurmExecutor: one site's jobs — stage their files in, submit (deferring on submit
// limits), find again after a lost connection or restart, stage outputs out, cancel. The
// job record every step moves through its stages is in slurm_job.hpp; the batched poll
// and the file mirrors in slurm_poll.cpp; the parsing and the remote commands in
// slurm_client.cpp, the transfers in job_staging.cpp, the scripts in operators/lamec.
#include "operators/slurm/slurm_executor.hpp"

#include <algorithm>
#include <future>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/core/private_files.hpp"
#include "engine/core/shell.hpp"
#include "operators/slurm/allocation_worker.hpp"
#include "operators/slurm/job_array.hpp"
#include "operators/slurm/remote_dir.hpp"
#include "operators/slurm/slurm_job.hpp"

namespace flow::slurm {

using run::AttemptKey;
using run::ExecEvent;
using run::Outcome;

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
      staging_(std::make_unique<JobStaging>(io, site_, *transport_)),
      alloc_timer_(io) {
  if (site_.allocation) pool_ = std::make_unique<AllocationPool>(*site_.allocation);
}

SlurmExecutor::~SlurmExecutor() {
  staging_.reset();  // joins its thread, which may be using the transport
  alive_.reset();
  poll_timer_.cancel();
  alloc_timer_.cancel();
  // Work not yet started is dropped: an sbatch that never ran leaves its attempt in
  // `submitting`, which a resume finds missing by name and starts again.
  worker_.stop();
  worker_.join();
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
  return without_trailing_slash(site_.workdir) + "/runs/" + run_id;
}

std::string SlurmExecutor::workdir(const run::LaunchSpec& spec) const {
  return run_dir(spec.key.run_id);
}

std::string SlurmExecutor::remote_base(const site::Site& site, const AttemptKey& key) {
  return without_trailing_slash(site.workdir) + "/logs/" + key.run_id + "/" + key.instance_id +
         "/" + std::to_string(key.try_number);
}

run::Plan SlurmExecutor::make_plan(const run::LaunchSpec& spec) const {
  run::Plan p;
  p.intent = run::IntentState::kSubmitting;
  p.handle.job_name = job_name(spec.key);
  auto req = lamec::make_request(site_, spec.slurm, spec.command, modules_, spec.resources);
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
  if (site_.allocation) {
    run::Plan p;
    p.intent = run::IntentState::kSubmitting;
    p.handle.job_name = job_name(spec.key);
    if (const Placement* at = pool_ ? pool_->placed(spec.key) : nullptr)
      p.handle.script = task_script(spec, *at);
    else
      plan_errors_[spec.key] =
          alloc_refused_.empty() ? "no allocation to place it in" : alloc_refused_;
    return p;
  }
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
  if (const Placement* at = pool_ ? pool_->placed(spec.key) : nullptr) {
    job->place = *at;
    job->file_id = task_file_id(spec.key);
  }
  if (auto err = plan_errors_.find(spec.key); err != plan_errors_.end()) {
    ExecEvent e;
    e.key = spec.key;
    e.kind = ExecEvent::Kind::kFinished;
    e.outcome = Outcome::kFailed;
    e.exit_code = -1;
    e.native_state = "INVALID";  // not retried: the same script would fail the same way
    e.message = "site '" + site_.name + "': " +
                (site_.allocation ? err->second : "cannot make a job script: " + err->second);
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
  if (e.outcome == Outcome::kSucceeded &&
      (JobStaging::has_outputs(job->spec) || staging_->registers_artifacts(job->spec)))
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

void SlurmExecutor::finish_unsubmitted(const std::shared_ptr<Job>& job) {
  ExecEvent e;
  e.key = job->spec.key;
  e.kind = ExecEvent::Kind::kFinished;
  e.outcome =
      *job->cancel_reason == run::CancelReason::kTimeout ? Outcome::kTimedOut : Outcome::kCancelled;
  e.message = "cancelled before it was submitted";
  finish(job, std::move(e));
}

void SlurmExecutor::submit(std::shared_ptr<Job> job) {
  if (job->cancel_reason) return finish_unsubmitted(job);  // it never reached Slurm
  if (job->place) return dispatch(job);
  if (joins_array(*job)) return queue_for_array(job);
  submit_one(job);
}

void SlurmExecutor::submit_one(std::shared_ptr<Job> job) {
  job->stage = Job::Stage::kSubmitting;
  const std::string script_path = remote_base(job->spec.key) + ".sbatch";
  const std::vector<std::string> dirs = {std::filesystem::path(script_path).parent_path().string(),
                                         run_dir(job->spec.key.run_id)};
  std::string secret_env;  // `export NAME=value` lines of the task's secret env values
  for (const auto& k : job->spec.secret_env)
    if (auto it = job->spec.env.find(k); it != job->spec.env.end())
      secret_env += "export " + k + "=" + shell_quote(it->second) + "\n";
  const std::string env_path = remote_base(job->spec.key) + ".env";
  offload(
      [this, script_path, dirs, script = job->script, secret_env, env_path] {
        return sort_submission([&] {
          if (!secret_env.empty()) transport_->put_file(env_path, secret_env, kPrivateFileMode);
          transport_->put_file(script_path, script, kPrivateFileMode);
          return client_.submit(script_path, dirs);
        });
      },
      [this, job](SubmitResult r) {
        stats_.submits++;
        on_submitted(job, std::move(r.job_id), std::move(r.error), r.refused, r.deferred);
      });
}

void SlurmExecutor::on_submitted(const std::shared_ptr<Job>& job, std::string job_id,
                                 std::string error, bool refused, bool deferred) {
  if (jobs_.count(job->spec.key) == 0) return;
  if (deferred) {
    // A submit limit or a full controller: Slurm made no job. Wait (doubling, capped) and
    // submit the same script again; a cancel meanwhile ends it at once (cancel()).
    stats_.deferrals++;
    const auto delay = defer(job);
    say(job->name + ": " + error + "; submitting again in " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(delay).count()) + " s");
    return;
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

std::chrono::milliseconds SlurmExecutor::defer(const std::shared_ptr<Job>& job) {
  auto delay = options_.defer_first;
  for (int i = 0; i < job->deferrals && delay < options_.defer_cap; ++i)
    delay *= 2;
  delay = std::min(delay, options_.defer_cap);
  job->deferrals++;
  job->stage = Job::Stage::kDeferred;
  after(delay, [this, job] {
    if (jobs_.count(job->spec.key) == 0 || job->stage != Job::Stage::kDeferred) return;
    submit(job);
  });
  return delay;
}

void SlurmExecutor::reattach(const run::LaunchSpec& spec, const run::AttemptHandle& handle) {
  // A try placed in an allocation: its script's second line says where.
  const std::string header = "#!/bin/sh\n# flow-allocation ";
  if (handle.script.rfind(header, 0) == 0) {
    std::istringstream in(handle.script.substr(
        header.size(), handle.script.find('\n', header.size()) - header.size()));
    Placement p;
    std::string job_id, gpus;
    int declared = 0;
    in >> p.uid >> job_id >> p.node >> p.cores >> gpus >> declared;
    if (in && !p.uid.empty() && !p.node.empty()) {
      p.job_id = job_id == "-" ? handle.job_id : job_id;
      if (gpus != "-") {
        std::string g;
        std::istringstream gs(gpus);
        while (std::getline(gs, g, ','))
          p.gpus.push_back(g);
      }
      p.declared = declared != 0;
      return reattach_in_allocation(spec, handle, p);
    }
  }
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
  if (is_job_id(handle.job_id)) {
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
  // A foreach element may have gone to Slurm as an element of an array (job_array.hpp):
  // that array's name and the element's index follow from the key alone.
  std::optional<long> index;
  if (site_.job_arrays) index = foreach_index(job->spec.key.instance_id, job->spec.task_id);
  offload(
      [this, name = job->name, key = job->spec.key, task = job->spec.task_id, index]() -> Result {
        try {
          if (!index) {
            auto by_name = client_.find_by_names({name});
            if (auto it = by_name.find(name); it != by_name.end()) return {it->second, ""};
            return {std::nullopt, ""};
          }
          const ArraySlot slot = array_slot(key, task, *index, max_array_size());
          return {pick_element(client_.find_all_by_names({name, slot.name}), name, slot), ""};
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
  if (job->stage == Job::Stage::kInAllocation && job->place) {
    alloc_cancels_.push_back(allocation_dir(site_, job->place->uid) + "/n/" + job->place->node +
                             "/cancel/" + job->file_id);
    return schedule_alloc_io(true);
  }
  if (job->place && job->stage == Job::Stage::kSubmitting) {
    auto w = std::find(to_write_.begin(), to_write_.end(), job);
    if (w != to_write_.end()) {  // not written yet: it never reaches the allocation
      to_write_.erase(w);
      return submit(job);
    }
  }
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
  if (site_.allocation) return -1;  // claim() places tries on the allocations' slots
  if (site_.max_jobs <= 0) return -1;
  return std::max(0, site_.max_jobs - static_cast<int>(jobs_.size()));
}

void SlurmExecutor::finish(const std::shared_ptr<Job>& job, ExecEvent e) {
  jobs_.erase(job->spec.key);
  if (pool_) {
    pool_->release(job->spec.key);
    if (job->place) {  // an ended allocation is forgotten once nothing finishes from it
      Allocation* a = pool_->find(job->place->uid);
      bool busy = false;
      for (const auto& [_, other] : jobs_)
        busy = busy || (other->place && other->place->uid == job->place->uid);
      if (a && a->state == Allocation::State::kEnded && !busy) pool_->drop(a->uid);
    }
  }
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
