// SlurmExecutor's polling: one batched round trip per interval for every job of the site
// (sacct, or squeue/scontrol while accounting is down; squeue's pending jobs while any job
// waits, for the reason it waits; a stat of each running job's mirrored files), the mirrors copied
// back, and what the poll learned turned into events: requeues, ends (after the final copies and,
// for a COMPLETED job, staging out), jobs Slurm no longer knows. The rest of the executor is in
// slurm_executor.cpp; the job record in slurm_job.hpp.
#include <algorithm>
#include <fstream>

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/core/private_files.hpp"
#include "engine/core/text_file.hpp"
#include "operators/slurm/slurm_job.hpp"

namespace flow::slurm {

using run::AttemptKey;
using run::ExecEvent;
using run::Outcome;

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
  return append_to_mirror(m, std::move(*text), now.has_value());
}

bool append_to_mirror(Mirror& m, std::string text, bool whole_lines) {
  if (text.empty()) return false;
  if (!m.mask.empty() && whole_lines) {
    const size_t nl = text.rfind('\n');
    if (nl != std::string::npos)
      text.resize(nl + 1);
    else if (text.size() < 64 * 1024)
      return false;
  }
  const uint64_t read = text.size();
  if (!m.mask.empty()) text = m.mask.apply(std::move(text));
  // Copies of logs are private like the engine's own (engine/core/private_files.hpp).
  std::error_code ec;
  create_private_directories(m.local.parent_path(), ec);
  create_private_file(m.local, ec);
  std::ofstream out(m.local, std::ios::binary | (m.offset == 0 ? std::ios::trunc : std::ios::app));
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw EnvironmentError("cannot write " + m.local.string() + " (disk full?)");
  m.offset += read;
  return true;
}

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
          bool waiting = false;  // a job not seen running yet: ask squeue why it waits
          for (const auto& s : snap) {
            ids.push_back(s.job_id);
            if (s.running)
              files.insert(files.end(), {s.log.remote, s.metrics.remote, s.outputs.remote});
            else
              waiting = true;
          }
          auto r = client_.poll(ids, files, since_text, waiting);
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
    // A job that started (and maybe ended) between two polls: its start is reported with
    // the time sacct gives, so the try's queue wait and run time are what Slurm saw.
    const bool started =
        st.phase == Phase::kRunning || (st.phase == Phase::kFinished && rec->second.start_ms > 0);
    if (started && job->reported != Phase::kRunning) {
      job->reported = Phase::kRunning;
      ExecEvent e;
      e.key = s.key;
      e.kind = ExecEvent::Kind::kRunning;
      e.handle.job_id = s.job_id;
      e.at = rec->second.start_ms;
      emit(std::move(e));
    }
    if (st.phase == Phase::kPending &&
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
      job->queue_reason = rec->second.reason;  // said in this message already
      ExecEvent e;
      e.key = s.key;
      e.kind = ExecEvent::Kind::kSubmitted;
      e.handle.job_id = s.job_id;
      e.handle.job_name = job->name;
      e.message = "requeued by Slurm (" + why + "); waits in the queue to run again";
      emit(std::move(e));
    } else if (st.phase == Phase::kPending && job->reported == Phase::kPending &&
               !rec->second.reason.empty() && rec->second.reason != job->queue_reason) {
      // Why it still waits (Priority, Resources, BeginTime, QOSMaxJobsPerUserLimit, ...):
      // the try's message, so `flow status` can say it.
      job->queue_reason = rec->second.reason;
      ExecEvent e;
      e.key = s.key;
      e.kind = ExecEvent::Kind::kSubmitted;
      e.handle.job_id = s.job_id;
      e.handle.job_name = job->name;
      e.message = "Slurm reason: " + job->queue_reason;
      emit(std::move(e));
    } else if (st.phase == Phase::kFinished) {
      ExecEvent e;
      e.key = s.key;
      e.kind = ExecEvent::Kind::kFinished;
      e.outcome = outcome_of(st);
      e.exit_code = st.exit_code;
      e.signal = st.signal;
      e.native_state = st.state;
      e.usage.cpu_ms = rec->second.cpu_ms;
      e.usage.max_rss_bytes = rec->second.max_rss_bytes;
      e.usage.wall_ms = rec->second.wall_ms;
      e.usage.cpus = rec->second.alloc_cpus;
      e.usage.gpus = rec->second.alloc_gpus;
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

}  // namespace flow::slurm
