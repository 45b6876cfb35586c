#include "operators/slurm/slurm_client.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "engine/core/shell.hpp"
#include "engine/core/suggest.hpp"
#include "operators/slurm/job_array.hpp"

namespace flow::slurm {

namespace {

constexpr std::string_view kSacctExit = "@@flow sacct-exit ";
constexpr std::string_view kSqueueExit = "@@flow squeue-exit ";

std::string first_line(const std::string& s) {
  auto text = s.substr(0, s.find('\n'));
  return text.empty() ? "(no message)" : text;
}

}  // namespace

std::string passing_refusal(std::string_view sbatch_output) {
  // Slurm's reason names (job_reason_codes) for submit limits, and sbatch's words when the
  // controller is at MaxJobCount.
  for (std::string_view token : {std::string_view("MaxSubmitJob"), std::string_view("GrpSubmitJob"),
                                 std::string_view("temporarily unable to accept job")}) {
    auto at = sbatch_output.find(token);
    if (at == std::string_view::npos) continue;
    if (token.front() == 't') return std::string(token);
    // The whole reason word around the token: "AssocMaxSubmitJobLimit".
    auto begin = at, end = at + token.size();
    auto word = [&](size_t i) {
      const char c = sbatch_output[i];
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    };
    while (begin > 0 && word(begin - 1))
      --begin;
    while (end < sbatch_output.size() && word(end))
      ++end;
    return std::string(sbatch_output.substr(begin, end - begin));
  }
  return "";
}

SlurmClient::SlurmClient(transport::Transport& transport, ClientOptions options)
    : transport_(transport), options_(std::move(options)), where_(transport.describe()) {}

transport::CommandResult SlurmClient::query(const std::string& command) {
  return transport_.run_idempotent(command, options_.command_timeout);
}

std::string SlurmClient::submit(const std::string& script_path,
                                const std::vector<std::string>& dirs) {
  std::string cmd;
  if (!dirs.empty()) {
    // Private to the user (0700) like the engine's own directories; sbatch itself keeps
    // the login's umask, so the job's files follow the user's choice inside them.
    cmd = "(umask 077 && mkdir -p --";
    for (const auto& d : dirs)
      cmd += " " + shell_quote(d);
    cmd += ") && ";
  }
  cmd += "sbatch --parsable " + shell_quote(script_path);
  auto r = transport_.run(cmd, options_.command_timeout);
  if (r.exit_status != 0) {
    const std::string& said = r.err.empty() ? r.out : r.err;
    if (auto why = passing_refusal(said); !why.empty())
      throw SubmitDeferred("sbatch did not take the job yet: " + why);
    // The controller did not answer in time: sbatch cannot tell whether the job was
    // created, so neither can flow. Treated like a lost connection: look it up by name.
    for (const char* uncertain : {"Socket timed out", "Unable to contact slurm controller",
                                  "Zero Bytes were transmitted or received"}) {
      if (said.find(uncertain) != std::string::npos)
        throw EnvironmentError("sbatch could not reach the controller: " + first_line(said));
    }
    throw SubmitRefused("sbatch refused the job (exit " + std::to_string(r.exit_status) +
                        "): " + first_line(said));
  }
  std::string id = parse_sbatch_job_id(r.out);
  if (id.empty()) throw SubmitRefused("sbatch printed no job id: " + first_line(r.out));
  return id;
}

PollResult SlurmClient::poll(const std::vector<std::string>& job_ids,
                             const std::vector<std::string>& files, const std::string& since,
                             bool queue_reasons) {
  PollResult result;
  std::string cmd;
  queue_reasons = queue_reasons && !job_ids.empty();
  if (!job_ids.empty())
    cmd = sacct_by_ids(job_ids, since) + "; echo \"" + std::string(kSacctExit) + "$?\"";
  if (queue_reasons)
    cmd += "; " + squeue_pending() + " 2>/dev/null; echo \"" + std::string(kSqueueExit) + "$?\"";
  if (!files.empty()) {
    if (!cmd.empty()) cmd += "; ";
    cmd += "stat -c '%s %Y %n' --";
    for (const auto& f : files)
      cmd += " " + shell_quote(f);
    cmd += " 2>/dev/null; true";
  }
  if (cmd.empty()) return result;
  auto r = query(cmd);

  // Output: sacct lines, the marker with sacct's exit status, [squeue lines, the marker
  // with squeue's,] then "size mtime path" lines.
  std::string_view out = r.out;
  int sacct_exit = job_ids.empty() ? 0 : -1;
  std::string_view stat_part = out;
  if (auto m = out.find(kSacctExit); m != std::string_view::npos) {
    std::string_view tail = out.substr(m + kSacctExit.size());
    std::from_chars(tail.data(), tail.data() + tail.size(), sacct_exit);
    auto nl = tail.find('\n');
    stat_part = nl == std::string_view::npos ? std::string_view() : tail.substr(nl + 1);
    if (sacct_exit == 0) {
      for (auto& rec : parse_sacct(out.substr(0, m)))
        result.jobs[rec.job_id] = std::move(rec);
    }
  }
  if (queue_reasons) {
    if (auto q = stat_part.find(kSqueueExit); q != std::string_view::npos) {
      std::string_view tail = stat_part.substr(q + kSqueueExit.size());
      int squeue_exit = -1;
      std::from_chars(tail.data(), tail.data() + tail.size(), squeue_exit);
      if (squeue_exit == 0 && sacct_exit == 0)
        add_queue_reasons(parse_squeue(stat_part.substr(0, q)), job_ids, result.jobs);
      auto nl = tail.find('\n');
      stat_part = nl == std::string_view::npos ? std::string_view() : tail.substr(nl + 1);
    }
  }
  size_t pos = 0;
  while (pos < stat_part.size()) {
    auto nl = stat_part.find('\n', pos);
    auto line = stat_part.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? stat_part.size() : nl + 1;
    auto s1 = line.find(' ');
    auto s2 = s1 == std::string_view::npos ? s1 : line.find(' ', s1 + 1);
    if (s2 == std::string_view::npos) continue;
    transport::RemoteStat st;
    auto a = std::from_chars(line.data(), line.data() + s1, st.size);
    auto b = std::from_chars(line.data() + s1 + 1, line.data() + s2, st.mtime);
    if (a.ec != std::errc() || b.ec != std::errc()) continue;
    result.files[std::string(line.substr(s2 + 1))] = st;
  }
  if (job_ids.empty()) return result;
  if (sacct_exit == 0) {
    result.source = "sacct";
    confirm_requeues(result.jobs);
    return result;
  }
  result.accounting_error = first_line(r.err);
  result.source = "squeue+scontrol";
  result.jobs = query_controller(job_ids);
  return result;
}

void SlurmClient::add_queue_reasons(std::vector<JobRecord> pending,
                                    const std::vector<std::string>& job_ids,
                                    std::map<std::string, JobRecord>& jobs) {
  const std::set<std::string> wanted(job_ids.begin(), job_ids.end());
  for (auto& rec : pending) {
    if (!wanted.count(rec.job_id) || rec.status.phase != Phase::kPending) continue;
    auto it = jobs.find(rec.job_id);
    if (it == jobs.end()) {
      // sacct does not list it (yet): a job whose --begin lies ahead is outside sacct's
      // window. slurmctld knows it waits.
      jobs[rec.job_id] = std::move(rec);
    } else if (it->second.status.phase == Phase::kPending) {
      it->second.reason = std::move(rec.reason);  // slurmctld's current reason (may be "")
    }
  }
}

void SlurmClient::confirm_requeues(std::map<std::string, JobRecord>& jobs) {
  std::vector<std::string> maybe;
  for (const auto& [id, rec] : jobs)
    if (rec.status.state == "NODE_FAIL" || rec.status.state == "PREEMPTED") maybe.push_back(id);
  if (maybe.empty()) return;
  // sacct shows NODE_FAIL or PREEMPTED for a few seconds after slurmctld has already put
  // the job back in the queue (JobRequeue, PreemptMode=REQUEUE): the controller knows.
  auto r = query(squeue_all());
  if (r.exit_status != 0) {  // cannot tell yet: not final this time, ask again next poll
    for (const auto& id : maybe)
      jobs.erase(id);
    return;
  }
  std::set<std::string> wanted(maybe.begin(), maybe.end());
  for (auto& rec : parse_squeue(r.out)) {
    if (!wanted.count(rec.job_id) || rec.status.phase == Phase::kFinished) continue;
    rec.reason = "requeued after " + jobs[rec.job_id].status.state;
    jobs[rec.job_id] = std::move(rec);
  }
}

std::map<std::string, JobRecord> SlurmClient::query_controller(
    const std::vector<std::string>& job_ids) {
  std::map<std::string, JobRecord> found;
  auto r = query(squeue_all());
  if (r.exit_status != 0) {
    throw EnvironmentError("squeue failed on " + where_ + " (exit " +
                           std::to_string(r.exit_status) + "): " + first_line(r.err));
  }
  std::set<std::string> wanted(job_ids.begin(), job_ids.end());
  for (auto& rec : parse_squeue(r.out)) {
    if (wanted.count(rec.job_id)) found[rec.job_id] = std::move(rec);
  }
  // squeue shows no exit codes and forgets finished jobs after MinJobAge: ask scontrol
  // about those (one command, one scontrol per job).
  std::vector<std::string> ask;
  for (const auto& id : job_ids) {
    auto it = found.find(id);
    if (it == found.end() ||
        (it->second.status.phase == Phase::kFinished && it->second.status.state != "COMPLETED")) {
      ask.push_back(id);
    }
  }
  if (!ask.empty()) {
    auto s = query(scontrol_show(ask));
    for (auto& rec : parse_scontrol(s.out))
      found[rec.job_id] = std::move(rec);
  }
  return found;
}

std::map<std::string, JobRecord> SlurmClient::find_by_names(const std::vector<std::string>& names) {
  std::map<std::string, JobRecord> by_name;
  for (auto& rec : find_all_by_names(names)) {
    auto it = by_name.find(rec.name);
    if (it == by_name.end() || newer_job_id(rec.job_id, it->second.job_id))
      by_name[rec.name] = std::move(rec);
  }
  return by_name;
}

std::vector<JobRecord> SlurmClient::find_all_by_names(const std::vector<std::string>& names) {
  std::vector<JobRecord> all;
  if (names.empty()) return all;
  // squeue knows a job the moment sbatch returns; sacct may lag but remembers longer. A
  // name is "not found" only when both answered: squeue forgets an ended job after
  // MinJobAge, so with sacct down a job that ran while the engine was away would look
  // never submitted, and be submitted again.
  auto q = query(squeue_by_names(names) + "; echo \"" + std::string(kSqueueExit) + "$?\"; " +
                 sacct_by_names(names, options_.lookup_since) + "; echo \"" +
                 std::string(kSacctExit) + "$?\"");
  std::string_view out = q.out;
  auto exit_after = [&](size_t marker, std::string_view tag) {
    int code = -1;
    if (marker == std::string_view::npos) return code;
    auto digits = out.substr(marker + tag.size());
    std::from_chars(digits.data(), digits.data() + digits.size(), code);
    return code;
  };
  const auto sq = out.find(kSqueueExit);
  const auto sa = sq == std::string_view::npos ? sq : out.find(kSacctExit, sq);
  const int squeue_exit = exit_after(sq, kSqueueExit);
  const int sacct_exit = exit_after(sa, kSacctExit);
  if (squeue_exit != 0 || sacct_exit != 0) {
    const std::string which = squeue_exit != 0 && sacct_exit != 0 ? "squeue and sacct"
                              : squeue_exit != 0                  ? "squeue"
                                                                  : "sacct";
    throw EnvironmentError("cannot tell whether job " + join(names, ", ") + " exists on " + where_ +
                           ": " + which + " failed" +
                           (q.err.empty() ? std::string() : ": " + first_line(q.err)) +
                           "; not submitting it again until Slurm can say");
  }
  std::string_view squeue_part = out.substr(0, sq);
  std::string_view sacct_part;
  if (auto nl = out.find('\n', sq); nl != std::string_view::npos && nl < sa)
    sacct_part = out.substr(nl + 1, sa - nl - 1);
  // sacct has the exit code: its record wins for a job both show.
  std::map<std::string, JobRecord> by_id;
  for (auto& rec : parse_squeue(squeue_part))
    by_id[rec.job_id] = std::move(rec);
  for (auto& rec : parse_sacct(sacct_part))
    by_id[rec.job_id] = std::move(rec);
  for (auto& [_, rec] : by_id)
    all.push_back(std::move(rec));
  return all;
}

long SlurmClient::max_array_size() {
  auto r = query("scontrol show config 2>/dev/null | grep '^MaxArraySize'");
  return parse_max_array_size(r.out).value_or(1001);
}

void SlurmClient::cancel(const std::vector<std::string>& job_ids) {
  if (job_ids.empty()) return;
  std::string cmd = "scancel";
  for (const auto& id : job_ids)
    cmd += " " + id;
  auto r = query(cmd);
  // scancel of a job that already ended prints "Job/step already completing or completed"
  // (exit 0 or 1 depending on the version): only a failure to talk to slurmctld matters.
  if (r.exit_status != 0 && r.err.find("already") == std::string::npos &&
      r.err.find("Invalid job id") == std::string::npos) {
    throw EnvironmentError("scancel failed on " + where_ + " (exit " +
                           std::to_string(r.exit_status) + "): " + first_line(r.err));
  }
}

}  // namespace flow::slurm
