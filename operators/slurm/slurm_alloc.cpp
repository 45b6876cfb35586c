// SlurmExecutor in allocation mode: claiming slots of live allocations, submitting new
// ones, placing task scripts in workers' inboxes, and the one batched command per round
// that writes, cancels, acknowledges and reads back everything of the site's allocations.
// The book-keeping is in allocation_pool.cpp, the worker in allocation_worker.cpp.
#include <algorithm>
#include <fstream>
#include <random>
#include <set>

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "engine/core/private_files.hpp"
#include "engine/core/shell.hpp"
#include "engine/core/text_file.hpp"
#include "operators/slurm/allocation_worker.hpp"
#include "operators/slurm/slurm_job.hpp"

namespace flow::slurm {

using run::AttemptKey;
using run::ExecEvent;
using run::Outcome;

namespace {

constexpr const char* kHeader = "# flow-allocation ";
constexpr std::chrono::milliseconds kAllocFirstLook{250};
constexpr std::chrono::seconds kSqueueEvery{10};

// The shell functions every allocation command starts with (see allocation_pool.cpp for
// the lines they print).
const char* const kFunctions = R"SH(dn=
fs() { for b in "$2"/n/*; do [ -d "$b" ] || continue; n=${b##*/}
[ -f "$b/info" ] && read -r v < "$b/info" && printf 'N %s %s %s\n' "$1" "$n" "$v"
for f in "$b"/run/*.start; do [ -e "$f" ] || continue; i=${f##*/}; read -r v < "$f"; printf 'S %s %s %s %s\n' "$1" "$n" "${i%.start}" "$v"; done
for f in "$b"/done/*.exit; do [ -e "$f" ] || continue; i=${f##*/}; i=${i%.exit}; read -r v < "$f"; printf 'E %s %s %s %s\n' "$1" "$n" "$i" "$v"; dn="$dn $i "; done
[ -e "$b/closed" ] && printf 'C %s %s\n' "$1" "$n"; done; return 0; }
fw() { b=$3; i=$4; v=
for f in "$b/done/$i.exit" "$b/done/acked/$i.exit" "$b/done/$i.acked"; do [ -e "$f" ] || continue
read -r v < "$f"; printf 'E %s %s %s %s\n' "$1" "$2" "$i" "$v"; dn="$dn $i "; return 0; done
for f in "$b/run/$i.start" "$b/run/begun/$i.start" "$b/run/$i.begun"; do [ -e "$f" ] || continue
read -r v < "$f"; printf 'S %s %s %s %s\n' "$1" "$2" "$i" "$v"; return 0; done
for f in "$b/inbox/$i.sh" "$b/run/$i.sh"; do [ -e "$f" ] && printf 'P %s %s %s\n' "$1" "$2" "$i" && return 0; done; return 0; }
fz() { set --; N=0; while read -r i k o p; do [ -f "$p" ] || continue
if [ "$k" = outputs ]; then case "$dn" in *" $i "*) ;; *) continue;; esac; fi
N=$((N + 1)); eval "i_$N=\$i k_$N=\$k o_$N=\$o p_$N=\$p"; set -- "$@" "$p"; done
[ "$N" -gt 0 ] || return 0
command -v tar >/dev/null 2>&1 && T=1 || T=
wc -c "$@" 2>/dev/null | { j=1; set --; while read -r n f; do
while [ "$j" -le "$N" ]; do eval "q=\$p_$j"; [ "$q" = "$f" ] && break; j=$((j + 1)); done
[ "$j" -le "$N" ] || break; eval "i=\$i_$j k=\$k_$j o=\$o_$j"; j=$((j + 1))
[ "$n" -gt "$o" ] 2>/dev/null || continue
if [ "$o" -eq 0 ] && [ -n "$T" ]; then printf 'T %s %s %s\n' "$i" "$k" "$f"; set -- "$@" "$f"; continue; fi
printf 'F %s %s %s\n' "$i" "$k" $((n - o))
if [ "$o" -eq 0 ]; then head -c "$n" "$f"; else tail -c +$((o + 1)) "$f" | head -c $((n - o)); fi; echo; done
[ "$#" -eq 0 ] || { echo t; tar cf - "$@" 2>/dev/null; }; }; }
)SH";

ExecEvent capacity() {
  ExecEvent e;
  e.kind = ExecEvent::Kind::kCapacity;
  return e;
}

std::string node_dir(const site::Site& site, const Placement& p) {
  return allocation_dir(site, p.uid) + "/n/" + p.node;
}

std::string join_ids(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v)
    s += (s.empty() ? "" : ",") + x;
  return s;
}

// A here-document delimiter that does not occur in `text`.
std::string delimiter_for(const std::string& text) {
  static std::mt19937_64 rng{std::random_device{}()};
  for (;;) {
    const std::string d = "FLOW_EOF_" + std::to_string(rng());
    if (text.find(d) == std::string::npos) return d;
  }
}

}  // namespace

AllocationPool& SlurmExecutor::pool() {
  if (!pool_)
    pool_ = std::make_unique<AllocationPool>(site_.allocation.value_or(site::AllocationSpec{}));
  return *pool_;
}

bool SlurmExecutor::claim(const AttemptKey& key, const dag::Resources& need,
                          std::optional<dag::Duration> declared) {
  if (!site_.allocation) return true;
  if (!alloc_refused_.empty()) return true;  // launch() fails it with the site's reason
  const bool placed = pool().claim(key, need, declared, now_ms()).has_value();
  // No free slot (even when the try waits in a node's inbox): another allocation, if
  // `max` allows one and none is on its way.
  if (pool().wanted()) submit_allocation();
  return placed;
}

void SlurmExecutor::release(const AttemptKey& key) {
  if (pool_) pool_->release(key);
}

void SlurmExecutor::submit_allocation() {
  static std::mt19937 rng{std::random_device{}()};
  const std::string uid = "a" + std::to_string(now_ms()) + "-" + std::to_string(rng() % 100000);
  Allocation& a = pool().add(uid);
  std::string script;
  try {
    script = allocation_job_script(site_, uid, modules_);
  } catch (const Error& e) {
    alloc_refused_ = std::string("cannot make the allocation's job script: ") + e.what();
    a.state = Allocation::State::kEnded;
    boost::asio::post(io_, [this] { emit(capacity()); });
    return;
  }
  const std::string dir = allocation_dir(site_, uid);
  log::info("site '" + site_.name + "': submitting allocation " + allocation_job_name(uid) + " (" +
            std::to_string(pool().spec().nodes) + " node(s))");
  stats_.allocations++;
  offload(
      [this, dir, script] {
        return sort_submission([&] {
          transport_->put_file(dir + "/worker.sh", worker_script(), 0700);
          transport_->put_file(dir + "/allocation.sbatch", script, kPrivateFileMode);
          return client_.submit(dir + "/allocation.sbatch", {dir});
        });
      },
      [this, uid](SubmitResult r) {
        Allocation* al = pool().find(uid);
        if (!al) return;
        if (r.refused) {
          // Nothing Slurm will run: every try waiting for an allocation fails with this.
          al->state = Allocation::State::kEnded;
          alloc_refused_ = "sbatch refused the allocation: " + r.error;
          say(alloc_refused_);
          emit(capacity());
          return;
        }
        if (!r.error.empty()) {
          // Deferred by a submit limit, or the site out of reach: forget this one; the next
          // claim that finds no room asks again after the pause.
          say("cannot submit an allocation: " + r.error + "; trying again in " +
              std::to_string(options_.submit_retry.count() / 1000) + " s");
          pool().drop(uid);
          return after(options_.submit_retry, [this] { emit(capacity()); });
        }
        al->job_id = r.job_id;
        al->state = Allocation::State::kQueued;
        log::info("site '" + site_.name + "': allocation " + allocation_job_name(uid) +
                  " is Slurm job " + r.job_id);
        schedule_alloc_io(false);
      });
}

std::string SlurmExecutor::task_script(const run::LaunchSpec& spec, const Placement& p) const {
  const std::string base = remote_base(spec.key);
  const std::string nd = node_dir(site_, p);
  const std::string id = task_file_id(spec.key);
  std::string s = "#!/bin/sh\n";
  s += kHeader + p.uid + " " + (p.job_id.empty() ? "-" : p.job_id) + " " + p.node + " " +
       std::to_string(p.cores) + " " + (p.gpus.empty() ? "-" : join_ids(p.gpus)) + " " +
       (p.declared ? "1" : "0") + "\n";
  s += "# " + job_name(spec.key) + "\n";
  const std::string rd = run_dir(spec.key.run_id);
  s += "[ -d " + shell_quote(rd) + " ] || mkdir -p " + shell_quote(rd) + "\n(\n";
  s += "cd " + shell_quote(rd) + " || exit 127\n";
  for (const auto& [k, v] : spec.env)
    if (!spec.secret_env.count(k)) s += "export " + k + "=" + shell_quote(v) + "\n";
  if (!spec.secret_env.empty()) s += ". " + shell_quote(base + ".env") + "\n";
  if (p.declared) {
    s += "export CUDA_VISIBLE_DEVICES=" + shell_quote(join_ids(p.gpus)) + "\n";
    if (!spec.env.count("OMP_NUM_THREADS"))
      s += "export OMP_NUM_THREADS=" + std::to_string(p.cores) + "\n";
  }
  s += "export FLOW_OUTPUTS_FILE=" + shell_quote(base + ".outputs.json") + "\n";
  s += "export FLOW_METRICS_FILE=" + shell_quote(base + ".metrics.jsonl") + "\n";
  s += spec.command + "\n";
  s += ") > " + shell_quote(base + ".log") + " 2>&1 </dev/null\n";
  s += "s=$?\nd=" + shell_quote(nd + "/done") + "\n";
  s += "printf '%s %s\\n' \"$s\" \"$(date +%s%3N)\" > \"$d/." + id + "\" && mv -f \"$d/." + id +
       "\" \"$d/" + id + ".exit\"\n";
  return s;
}

void SlurmExecutor::dispatch(std::shared_ptr<Job> job) {
  job->stage = Job::Stage::kSubmitting;
  to_write_.push_back(std::move(job));
  schedule_alloc_io(true);
}

void SlurmExecutor::reattach_in_allocation(const run::LaunchSpec& spec,
                                           const run::AttemptHandle& handle, const Placement& p) {
  auto job = std::make_shared<Job>();
  job->spec = spec;
  job->name = handle.job_name.empty() ? job_name(spec.key) : handle.job_name;
  job->reattached = true;
  job->place = p;
  job->file_id = task_file_id(spec.key);
  job->job_id = p.job_id;
  job->script = handle.script;
  const std::string base = remote_base(spec.key);
  job->log = log_mirror(base + ".log", spec);
  job->metrics = Mirror{base + ".metrics.jsonl", spec.files.metrics};
  job->outputs = Mirror{base + ".outputs.json", spec.files.outputs, 0, true};
  job->stage = Job::Stage::kInAllocation;
  job->reported = Phase::kUnknown;
  jobs_[spec.key] = job;
  pool().adopt(spec.key, p);
  log::info(spec.key.instance_id + ": re-attached in allocation " + p.uid +
                (p.job_id.empty() ? "" : " (Slurm job " + p.job_id + ")") + " on node " + p.node,
            spec.key.run_id);
  schedule_alloc_io(true);
}

void SlurmExecutor::schedule_alloc_io(bool now) {
  if (alloc_in_flight_) return;  // on_alloc_io() looks again when it is back
  if (now) {
    if (alloc_io_posted_) return;
    alloc_io_posted_ = true;
    // After the current tick: every launch of it goes in the same command.
    boost::asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
      if (!alive.lock()) return;
      alloc_io_posted_ = false;
      if (!alloc_in_flight_) alloc_io();
    });
    return;
  }
  if (alloc_armed_) return;
  bool any = false;
  for (const auto& [_, a] : pool().all())
    any = any || a.state != Allocation::State::kEnded;
  for (const auto& [_, job] : jobs_)
    any = any || job->stage == Job::Stage::kInAllocation;
  if (!any) return;
  // Right after tries were placed, look again soon (a quarter second, then twice as long
  // each time, up to the poll interval): short tries are seen ending without waiting a
  // whole interval, long ones cost a few extra looks per placement round.
  auto delay = options_.interval;
  if (alloc_backoff_.count() > 0) {
    delay = std::min(alloc_backoff_, options_.interval);
    alloc_backoff_ =
        alloc_backoff_ * 2 >= options_.interval ? std::chrono::milliseconds(0) : alloc_backoff_ * 2;
  }
  alloc_armed_ = true;
  alloc_timer_.expires_after(delay);
  alloc_timer_.async_wait([this](const boost::system::error_code& ec) {
    alloc_armed_ = false;
    if (!ec && !alloc_in_flight_) alloc_io();
  });
}

void SlurmExecutor::alloc_io() {
  if (alloc_armed_) {
    alloc_timer_.cancel();
    alloc_armed_ = false;
  }
  std::string cmd = kFunctions;
  // 1. Task scripts to place, per node: written (by the shell's printf, no process per
  // script) into a directory of their own inside the node's inbox, then renamed into it
  // by one `mv`, so a worker never sees half a script; a closed inbox (the worker ended,
  // renaming it) makes the write fail. Everything written is private (umask 077).
  auto sent = std::move(to_write_);
  to_write_.clear();
  if (!sent.empty()) {
    std::set<std::string> dirs;
    std::map<std::string, std::vector<const Job*>> by_node;  // node dir -> its new tries
    for (const auto& job : sent) {
      dirs.insert(std::filesystem::path(remote_base(job->spec.key)).parent_path().string());
      by_node[node_dir(site_, *job->place)].push_back(job.get());
    }
    cmd += "umask 077\nmkdir -p --";
    for (const auto& d : dirs)
      cmd += " " + shell_quote(d);
    cmd += "\n";
    for (const auto& [nd, jobs] : by_node) {
      static std::mt19937_64 rng{std::random_device{}()};
      const std::string t = nd + "/inbox/.w" + std::to_string(rng());  // not an earlier round's
      cmd += "w=''\nif mkdir " + shell_quote(t) + " 2>/dev/null; then\n";
      for (const Job* job : jobs) {
        const std::string& id = job->file_id;
        std::string secret;
        for (const auto& k : job->spec.secret_env)
          if (auto it = job->spec.env.find(k); it != job->spec.env.end())
            secret += "export " + k + "=" + shell_quote(it->second) + "\n";
        if (!secret.empty())
          cmd += "printf '%s' " + shell_quote(secret) + " > " +
                 shell_quote(remote_base(job->spec.key) + ".env") + "\n";
        // Written before (by an earlier command whose answer was lost): not again.
        cmd += "if [ -e " + shell_quote(nd + "/run/" + id + ".sh") + " ] || [ -e " +
               shell_quote(nd + "/inbox/" + id + ".sh") + " ]; then echo 'W " + id +
               " ok'; else printf '%s' " + shell_quote(job->script) + " > " +
               shell_quote(t + "/" + id + ".sh") + " && w=\"$w " + id + "\"; fi\n";
      }
      cmd += "if [ -n \"$w\" ] && mv -f " + shell_quote(t) + "/*.sh " +
             shell_quote(nd + "/inbox/") +
             " 2>/dev/null; then s=ok; else s=closed; fi\n"
             "for i in $w; do echo \"W $i $s\"; done\nrm -rf " +
             shell_quote(t) + " 2>/dev/null\nelse\n";
      for (const Job* job : jobs)
        cmd += "echo 'W " + job->file_id + " closed'\n";
      cmd += "fi\n";
    }
  }
  // 2. Cancels and acknowledgements.
  auto cancels = std::move(alloc_cancels_);
  alloc_cancels_.clear();
  for (const auto& c : cancels)
    cmd += ": > " + shell_quote(c) + " 2>/dev/null\n";
  // A finished try's end record goes to done/acked/, its start to run/begun/ (where fs no
  // longer lists them, and a re-attached engine still finds them) and its pid file away:
  // three processes per node for the whole round, not three per try.
  auto acks = std::move(alloc_acks_);
  alloc_acks_.clear();
  for (const auto& [nd, ids] : acks) {
    std::string ends, starts, pids;
    for (const auto& id : ids) {
      ends += " " + shell_quote(nd + "/done/" + id + ".exit");
      starts += " " + shell_quote(nd + "/run/" + id + ".start");
      pids += " " + shell_quote(nd + "/run/" + id + ".pid");
    }
    const std::string acked = shell_quote(nd + "/done/acked"),
                      begun = shell_quote(nd + "/run/begun");
    cmd += "{ [ -d " + acked + " ] || mkdir -p " + acked + "; [ -d " + begun + " ] || mkdir -p " +
           begun + "; mv -f" + ends + " " + acked + "/; mv -f" + starts + " " + begun + "/; rm -f" +
           pids + "; } 2>/dev/null\n";
  }
  // 3. What Slurm says of the allocations, then what their workers wrote.
  // squeue (slurmctld's load) only while an allocation waits to start, else at most every
  // kSqueueEvery: running allocations speak through their workers' files.
  std::vector<std::string> names;
  bool waiting = false;
  for (const auto& [uid, a] : pool().all()) {
    if (a.state != Allocation::State::kEnded) names.push_back(allocation_job_name(uid));
    waiting = waiting || a.state == Allocation::State::kQueued;
  }
  const auto now = Clock::now();
  const bool ask_slurm =
      waiting || now - last_squeue_ >= std::max<Clock::duration>(options_.interval, kSqueueEvery);
  if (!names.empty() && ask_slurm) last_squeue_ = now;
  if (!names.empty() && ask_slurm)
    cmd += "squeue -h -o 'Q %i|%j|%T|%r' --name=" + shell_quote(join_ids(names)) + " && echo q\n";
  for (const auto& [uid, a] : pool().all())
    if (a.state == Allocation::State::kRunning || a.state == Allocation::State::kQueued)
      cmd += "fs " + shell_quote(uid) + " " + shell_quote(allocation_dir(site_, uid)) + "\n";
  // 4. Re-attached tries not seen yet: where they are. Then the files of tries in flight:
  // the log and metrics as they grow and, for those whose end record fs or fw printed
  // above (so it was there before the files are read), the outputs and everything to the
  // end: their final files, in the same round trip as the record itself.
  // The sizes of all their files come from one `wc -c` (fz): a file that did not grow
  // costs nothing more. Files read from their start (every file of a short try) come as
  // one tar stream at the end, one process for all of them, however many tries ended;
  // only a file read on from an offset costs processes of its own (tail, head).
  std::string files;  // "ID KIND OFFSET PATH" lines
  for (const auto& [key, job] : jobs_) {
    if (job->stage != Job::Stage::kInAllocation) continue;
    const Placement& p = *job->place;
    const std::string id = job->file_id;
    if (job->reattached && !job->seen)
      cmd += "fw " + shell_quote(p.uid) + " " + shell_quote(p.node) + " " +
             shell_quote(node_dir(site_, p)) + " " + id + "\n";
    files += id + " log " + std::to_string(job->log.offset) + " " + job->log.remote + "\n";
    files +=
        id + " metrics " + std::to_string(job->metrics.offset) + " " + job->metrics.remote + "\n";
    files += id + " outputs 0 " + job->outputs.remote + "\n";
  }
  if (!files.empty()) {
    const std::string d = delimiter_for(files);
    cmd += "fz <<'" + d + "'\n" + files + d + "\n";
  }
  alloc_in_flight_ = true;
  stats_.alloc_commands++;
  struct Result {
    std::string out, error;
  };
  offload(
      [this, cmd = std::move(cmd)]() -> Result {
        try {
          const auto t0 = Clock::now();
          auto r = transport_->run_idempotent(cmd, options_.client.command_timeout);
          log::debug("site '" + site_.name + "': allocation round of " +
                     std::to_string(cmd.size()) + " bytes took " +
                     std::to_string(
                         std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0)
                             .count()) +
                     " ms");
          return {std::move(r.out), ""};
        } catch (const std::exception& e) {
          return {"", e.what()};
        }
      },
      [this, sent = std::move(sent), cancels = std::move(cancels),
       acks = std::move(acks)](Result r) mutable {
        if (!r.error.empty()) {  // none of it is known to have happened: it all goes again
          alloc_cancels_.insert(alloc_cancels_.end(), cancels.begin(), cancels.end());
          for (auto& [nd, ids] : acks)
            alloc_acks_[nd].insert(alloc_acks_[nd].end(), ids.begin(), ids.end());
        }
        on_alloc_io(std::move(r.out), std::move(r.error), std::move(sent));
      });
}

void SlurmExecutor::on_alloc_io(std::string output, std::string error,
                                std::vector<std::shared_ptr<Job>> sent) {
  alloc_in_flight_ = false;
  if (!error.empty()) {
    if (site_problem_ != error) say("cannot reach the allocations: " + error + "; retrying");
    site_problem_ = error;
    // The same writes go again (they are checked on the site, so none lands twice).
    for (auto& j : sent)
      if (jobs_.count(j->spec.key)) to_write_.push_back(j);
    return after(options_.submit_retry, [this] { schedule_alloc_io(true); });
  }
  if (!site_problem_.empty()) say("reachable again");
  site_problem_.clear();
  const AllocReport rep = parse_alloc_report(output);
  int unanswered = 0;  // task scripts sent that the output says nothing of

  // Placed task scripts.
  for (auto& job : sent) {
    if (jobs_.count(job->spec.key) == 0) continue;
    const std::string& id = job->file_id;
    const Allocation* home = pool().find(job->place->uid);
    if (!home || home->state == Allocation::State::kEnded) {
      // Its allocation ended while the script was on its way: no worker will take it.
      ExecEvent e;
      e.key = job->spec.key;
      e.kind = ExecEvent::Kind::kFinished;
      e.outcome = Outcome::kLost;
      e.message = "allocation " + job->place->job_id + " ended before the task reached it";
      finish(job, std::move(e));
      continue;
    }
    if (rep.written.count(id)) {
      alloc_backoff_ = kAllocFirstLook;
      job->stage = Job::Stage::kInAllocation;
      job->job_id = job->place->job_id;
      job->since = Clock::now();
      last_activity_ = Clock::now();
      ExecEvent e;
      e.key = job->spec.key;
      e.kind = ExecEvent::Kind::kSubmitted;
      e.handle.job_id = job->job_id;
      e.handle.job_name = job->name;
      emit(std::move(e));
      if (job->cancel_reason)
        alloc_cancels_.push_back(node_dir(site_, *job->place) + "/cancel/" + id);
    } else if (!rep.refused.count(id)) {
      // No word of it at all: the command stopped before its write (its shell failed to
      // start, or it was cut off). Nothing says the node closed: the same write goes again
      // after a pause (it is checked on the site, so it never lands twice).
      to_write_.push_back(job);
      ++unanswered;
    } else {
      // The node's worker had closed its inbox: this try never reached it. A new try goes
      // to another node (or a new allocation).
      pool().close(job->place->uid, job->place->node);
      ExecEvent e;
      e.key = job->spec.key;
      e.kind = ExecEvent::Kind::kFinished;
      e.outcome = Outcome::kLost;
      e.message = "node " + job->place->node + " of allocation " + job->place->uid +
                  " had closed (idle); placing the task again";
      finish(job, std::move(e));
    }
  }

  // Allocations: Slurm's view.
  std::set<std::string> listed;
  for (const auto& q : rep.queued) {
    const std::string prefix = "flow.alloc.";
    if (q.name.rfind(prefix, 0) != 0) continue;
    Allocation* a = pool().find(q.name.substr(prefix.size()));
    if (!a) continue;
    listed.insert(a->uid);
    a->missing = 0;
    if (a->job_id.empty()) a->job_id = q.job_id;
    if (q.state == "PENDING" || q.state == "CONFIGURING") {
      if (a->state == Allocation::State::kQueued && q.reason != a->reason) {
        a->reason = q.reason;
        log::debug("site '" + site_.name + "': allocation " + a->job_id + " waits (" + q.reason +
                   ")");
      }
    }
  }
  bool came_up = false;
  for (const auto& n : rep.nodes) {
    Allocation* a = pool().find(n.uid);
    if (!a || a->state == Allocation::State::kEnded) continue;
    const bool fresh = !a->nodes.count(n.node) || a->nodes[n.node].cores == 0;
    pool().node_up(n);
    if (fresh) {
      came_up = true;
      log::info("site '" + site_.name + "': allocation " + a->job_id + " node " + n.node +
                " is up (" + std::to_string(n.cores) + " cores, " + std::to_string(n.gpus.size()) +
                " GPUs)");
    }
  }
  for (const auto& [uid, node] : rep.closed)
    pool().close(uid, node);

  // Tries: started, ended, and their files.
  std::map<std::string, std::shared_ptr<Job>> by_id;
  for (const auto& [_, job] : jobs_)
    if (job->stage == Job::Stage::kInAllocation) by_id[job->file_id] = job;
  std::set<std::string> seen_now;
  for (const auto& s : rep.started) {
    seen_now.insert(s.id);
    auto it = by_id.find(s.id);
    if (it == by_id.end()) continue;
    auto job = it->second;
    job->seen = true;
    if (!job->alloc_started) {
      job->alloc_started = true;
      job->since_wall = s.at;
      job->reported = Phase::kRunning;
      ExecEvent e;
      e.key = job->spec.key;
      e.kind = ExecEvent::Kind::kRunning;
      e.handle.job_id = job->job_id;
      e.at = s.at;
      emit(std::move(e));
    }
  }
  for (const auto& en : rep.ended) {
    seen_now.insert(en.id);
    auto it = by_id.find(en.id);
    if (it == by_id.end()) continue;
    auto job = it->second;
    job->seen = true;
    if (!job->alloc_end) job->alloc_end = en;
  }
  for (const auto& id : rep.waiting) {  // re-attached tries still in an inbox
    seen_now.insert(id);
    if (auto j = by_id.find(id); j != by_id.end()) j->second->seen = true;
  }
  for (const auto& [fid, job] : by_id) {
    auto take = [&](const char* kind, Mirror& m, bool final) {
      auto f = rep.files.find({fid, kind});
      if (f == rep.files.end()) return false;
      return append_to_mirror(m, f->second, !final);
    };
    // Final: its end record is known and was there before its files were read.
    const bool final = job->alloc_end && rep.done.count(fid);
    const bool log_changed = take("log", job->log, final);
    const bool metrics_changed = take("metrics", job->metrics, final);
    if (final) {
      if (auto f = rep.files.find({fid, "outputs"}); f != rep.files.end())
        write_file_atomic(job->spec.files.outputs, f->second, kPrivateFileMode);
    }
    stats_.fetches += log_changed + metrics_changed;
    if (metrics_changed && !final) {
      ExecEvent e;
      e.key = job->spec.key;
      e.kind = ExecEvent::Kind::kProgress;
      emit(std::move(e));
    }
    if (!final) {
      if (job->reattached && !job->seen && !seen_now.count(fid)) job->unseen_polls++;
      continue;
    }
    // The end, with its final files here: report it, and put the worker's records of it away.
    const AllocReport::Ended& en = *job->alloc_end;
    const Placement& p = *job->place;
    const std::string nd = node_dir(site_, p);
    alloc_acks_[nd].push_back(fid);
    ExecEvent e;
    e.key = job->spec.key;
    e.kind = ExecEvent::Kind::kFinished;
    e.exit_code = en.exit_code;
    e.usage.cpus = p.cores;
    e.usage.gpus = static_cast<int>(p.gpus.size());
    if (job->alloc_started && en.at > job->since_wall) e.usage.wall_ms = en.at - job->since_wall;
    if (en.never_started) {
      e.outcome = job->cancel_reason && *job->cancel_reason == run::CancelReason::kTimeout
                      ? Outcome::kTimedOut
                      : Outcome::kCancelled;
      e.message = "cancelled before it started in allocation " + p.job_id;
    } else if (en.cancelled && job->cancel_reason) {
      if (*job->cancel_reason == run::CancelReason::kTimeout) {
        e.outcome = Outcome::kTimedOut;
        e.message = "timed out: stopped in allocation " + p.job_id + " after the task timeout";
      } else {
        e.outcome = Outcome::kCancelled;
        e.message = "cancelled (stopped in allocation " + p.job_id + ")";
      }
    } else if (en.exit_code == 0) {
      e.outcome = Outcome::kSucceeded;
    } else {
      e.outcome = Outcome::kFailed;
      std::string msg = en.exit_code == 137 && !en.cancelled
                            ? "killed on node " + p.node + " of allocation " + p.job_id
                            : "exit code " + std::to_string(en.exit_code) + " (allocation " +
                                  p.job_id + ", node " + p.node + ")";
      std::string tail = tail_lines(job->spec.files.log, options_.log_tail_lines);
      if (!tail.empty()) msg += "; last lines of " + job->spec.files.log.string() + ":\n" + tail;
      e.message = std::move(msg);
    }
    complete(job, std::move(e));
  }

  // Re-attached tries of which no trace is left anywhere, twice: never placed.
  for (const auto& [fid, job] : by_id) {
    if (!job->reattached || job->seen || job->unseen_polls < 2) continue;
    ExecEvent e;
    e.key = job->spec.key;
    e.kind = ExecEvent::Kind::kFinished;
    e.outcome = Outcome::kLost;
    e.message = "task " + job->name + " never reached allocation " + job->place->uid;
    finish(job, std::move(e));
  }

  // Allocations squeue no longer lists: ended (time limit, scancel, node failure, idle).
  if (rep.squeue_ok) {
    std::vector<std::string> gone;
    for (auto& [uid, a] : pool().all()) {
      if (a.state == Allocation::State::kEnded || a.state == Allocation::State::kSubmitting ||
          listed.count(uid))
        continue;
      if (++a.missing >= 2) gone.push_back(uid);
    }
    for (const auto& uid : gone)
      if (Allocation* a = pool().find(uid)) allocation_ended(*a);
  }
  if (came_up) emit(capacity());
  // An end seen without its final files (the record came between the two looks): fetch
  // them now rather than a poll interval later.
  bool need_finals = false;
  for (const auto& [_, job] : jobs_)
    need_finals = need_finals || (job->stage == Job::Stage::kInAllocation && job->alloc_end);
  if (unanswered > 0) {
    say("the allocations' command said nothing of " + std::to_string(unanswered) +
        " task script(s) it was to write; writing them again in " +
        std::to_string(options_.submit_retry.count() / 1000) + " s");
    return after(options_.submit_retry, [this] { schedule_alloc_io(true); });
  }
  if (!to_write_.empty() || need_finals || !alloc_cancels_.empty())
    schedule_alloc_io(true);
  else
    schedule_alloc_io(false);
}

void SlurmExecutor::allocation_ended(Allocation& a) {
  const std::string uid = a.uid;
  const std::string job_id = a.job_id;
  const bool out_of_time = a.start > 0 && a.left_ms(now_ms()) <= 0;
  bool idle = !a.nodes.empty();
  for (const auto& [_, n] : a.nodes)
    idle = idle && n.closed;
  log::info("site '" + site_.name + "': allocation " + job_id + " (" + uid + ") ended" +
            (idle          ? " after its idle timeout"
             : out_of_time ? " at its time limit"
                           : ""));
  // Tries placed there that ended have their records on the shared file system: they go
  // on. The others ran (or would have run) in an allocation that is gone.
  std::vector<std::shared_ptr<Job>> lost;
  for (const auto& [_, job] : jobs_)
    if (job->place && job->place->uid == uid && !job->alloc_end &&
        job->stage == Job::Stage::kInAllocation)
      lost.push_back(job);
  for (auto& job : lost) {
    ExecEvent e;
    e.key = job->spec.key;
    e.kind = ExecEvent::Kind::kFinished;
    if (!job->alloc_started) {
      e.outcome = Outcome::kLost;
      e.message = "allocation " + job_id + " ended before the task started";
    } else {
      e.outcome = Outcome::kFailed;
      e.exit_code = -1;
      e.native_state = out_of_time ? "TIMEOUT" : "";
      e.message = "allocation " + job_id + " ended while the task ran (" +
                  (out_of_time ? std::string("its time limit") : "scancel or a node failure") +
                  "); the task's retry policy applies";
    }
    finish(job, std::move(e));
  }
  a.state = Allocation::State::kEnded;
  // Keep the record while ended tries still finish from it; it holds nothing anymore.
  bool busy = false;
  for (const auto& [_, job] : jobs_)
    busy = busy || (job->place && job->place->uid == uid);
  if (!busy) pool().drop(uid);
}

}  // namespace flow::slurm
