#include "operators/slurm/job_query.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "engine/core/shell.hpp"
#include "engine/core/suggest.hpp"
#include "operators/slurm/job_array.hpp"

namespace flow::slurm {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? p : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
  for (auto line : split(text, '\n')) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
      line.remove_suffix(1);
    if (!line.empty()) f(line);
  }
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

int64_t parse_sacct_duration(std::string_view text) {
  int64_t days = 0;
  if (auto dash = text.find('-'); dash != std::string_view::npos) {
    if (!all_digits(text.substr(0, dash)) || dash > 6) return -1;
    days = std::stoll(std::string(text.substr(0, dash)));
    text.remove_prefix(dash + 1);
  }
  int64_t ms = 0;
  if (auto dot = text.find('.'); dot != std::string_view::npos) {
    auto frac = text.substr(dot + 1);
    if (!all_digits(frac) || frac.size() > 6) return -1;
    std::string f(frac);
    f.resize(3, '0');
    ms = std::stoll(f);
    text = text.substr(0, dot);
  }
  auto parts = split(text, ':');
  if (parts.size() < 2 || parts.size() > 3) return -1;
  int64_t seconds = 0;
  for (auto p : parts) {
    if (!all_digits(p) || p.size() > 4) return -1;
    seconds = seconds * 60 + std::stoll(std::string(p));
  }
  return ((days * 24 * 3600) + seconds) * 1000 + ms;
}

int64_t parse_sacct_size(std::string_view text) {
  if (text.empty()) return -1;
  double unit = 1024;  // Slurm keeps memory in KiB: a bare number is KiB
  if (const char last = text.back(); last < '0' || last > '9') {
    const auto power = std::string_view("KMGTP").find(last);
    if (power == std::string_view::npos) return -1;
    unit = std::pow(1024.0, static_cast<double>(power + 1));
    text.remove_suffix(1);
  }
  double value = 0;
  auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > 1e15) return -1;
  return static_cast<int64_t>(value * unit + 0.5);
}

std::vector<JobRecord> parse_sacct(std::string_view text) {
  std::vector<JobRecord> out;
  std::map<std::string, size_t, std::less<>> index;  // job id -> its record in out
  for_each_line(text, [&](std::string_view line) {
    auto f = split(line, '|');
    if (f.size() < 4) return;  // warnings
    if (const auto dot = f[0].find('.'); dot != std::string_view::npos) {
      // A step ("123.batch", "123.extern", "123.0", "123_4.batch"): the job's peak memory is
      // its steps' peak.
      if (!is_job_id(f[0].substr(0, dot)) || f.size() < 10) return;
      auto job = index.find(f[0].substr(0, dot));
      const int64_t rss = parse_sacct_size(f[9]);
      if (job != index.end() && rss >= 0)
        out[job->second].max_rss_bytes = std::max(out[job->second].max_rss_bytes, rss);
      return;
    }
    // An array's pending elements come as one line ("123_[4-9%2]"): one record each.
    const auto ids = expand_job_id(f[0]);
    if (ids.empty()) return;
    JobRecord r;
    r.job_id = ids.front();
    r.name = std::string(f[1]);
    r.status = make_status(f[2], f[3]);
    if (f.size() > 4 && all_digits(f[4]) && f[4].size() < 15)
      r.start_ms = std::stoll(std::string(f[4])) * 1000;
    if (f.size() > 6 && r.status.phase == Phase::kPending && f[6] != "None")
      r.reason = std::string(f[6]);
    if (f.size() > 5 && r.start_ms > 0 && r.status.phase == Phase::kFinished && all_digits(f[5]) &&
        f[5].size() < 15)
      r.wall_ms = std::max<int64_t>(0, std::stoll(std::string(f[5])) * 1000 - r.start_ms);
    if (f.size() > 8 && r.status.phase == Phase::kFinished) {
      if (all_digits(f[7]) && f[7].size() < 9) r.alloc_cpus = std::stoi(std::string(f[7]));
      r.cpu_ms = parse_sacct_duration(f[8]);
    }
    if (f.size() > 9 && r.status.phase == Phase::kFinished)
      r.max_rss_bytes = parse_sacct_size(f[9]);
    if (f.size() > 10 && r.status.phase == Phase::kFinished) r.alloc_gpus = parse_alloc_gpus(f[10]);
    for (const auto& id : ids) {
      r.job_id = id;
      index[id] = out.size();
      out.push_back(r);
    }
  });
  // Without an accounting gather plugin (JobAcctGatherType=jobacct_gather/none) sacct says
  // 00:00:00 and no step has a MaxRSS: not known, rather than zero.
  for (auto& r : out)
    if (r.max_rss_bytes < 0 && r.cpu_ms == 0) r.cpu_ms = -1;
  return out;
}

int parse_alloc_gpus(std::string_view tres) {
  int untyped = -1, typed = 0;
  for (auto item : split(tres, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const auto key = item.substr(0, eq), value = item.substr(eq + 1);
    if (!all_digits(value) || value.size() > 6) continue;
    const int n = std::stoi(std::string(value));
    if (key == "gres/gpu")
      untyped = n;
    else if (key.substr(0, 9) == "gres/gpu:")
      typed += n;
  }
  return untyped >= 0 ? untyped : typed;
}

std::vector<JobRecord> parse_squeue(std::string_view text) {
  std::vector<JobRecord> out;
  for_each_line(text, [&](std::string_view line) {
    auto f = split(line, '|');
    if (f.size() < 3) return;
    const auto ids = expand_job_id(f[0]);
    JobRecord r;
    r.name = std::string(f[1]);
    r.status = make_status(f[2], "");
    if (f.size() > 3 && f[3] != "None") r.reason = std::string(f[3]);
    for (const auto& id : ids) {
      r.job_id = id;
      out.push_back(r);
    }
  });
  return out;
}

std::vector<JobRecord> parse_scontrol(std::string_view text) {
  std::vector<JobRecord> out;
  for_each_line(text, [&](std::string_view line) {
    std::map<std::string_view, std::string_view> kv;
    for (auto word : split(line, ' ')) {
      auto eq = word.find('=');
      if (eq != std::string_view::npos) kv.emplace(word.substr(0, eq), word.substr(eq + 1));
    }
    auto id = kv.find("JobId");
    if (id == kv.end() || !all_digits(id->second)) return;
    JobRecord r;
    r.job_id = std::string(id->second);
    // An array element: JobId is its own, ArrayJobId_ArrayTaskId the name flow knows it by.
    auto array = kv.find("ArrayJobId"), task = kv.find("ArrayTaskId");
    if (array != kv.end() && task != kv.end() && all_digits(array->second) &&
        all_digits(task->second))
      r.job_id = std::string(array->second) + "_" + std::string(task->second);
    if (auto n = kv.find("JobName"); n != kv.end()) r.name = std::string(n->second);
    auto st = kv.find("JobState");
    auto ec = kv.find("ExitCode");
    r.status = make_status(st == kv.end() ? "" : st->second, ec == kv.end() ? "" : ec->second);
    if (auto rs = kv.find("Reason"); rs != kv.end() && rs->second != "None")
      r.reason = std::string(rs->second);
    out.push_back(std::move(r));
  });
  return out;
}

std::string parse_sbatch_job_id(std::string_view out) {
  for_each_line(out, [&](std::string_view line) { out = line; });  // the last line
  auto id = out.substr(0, out.find(';'));
  return all_digits(id) ? std::string(id) : std::string();
}

bool is_safe_job_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-' ||
           c == '[' || c == ']';
  });
}

std::string sacct_by_ids(const std::vector<std::string>& ids, const std::string& since) {
  // No -X: the steps' lines carry MaxRSS (parse_sacct folds them into their job's record).
  // An array element is asked about through its array: sacct --jobs=123_4 does not list a
  // pending element, --jobs=123 lists them all (the pending ones as one "123_[4-9]" line).
  std::vector<std::string> asked;
  std::set<std::string> seen;
  for (const auto& id : ids)
    if (auto job = array_job_of(id); seen.insert(job).second) asked.push_back(job);
  return "SLURM_TIME_FORMAT=%s sacct -n -P --format=" + std::string(kSacctFormat) +
         " --starttime=" + shell_quote(since) + " --jobs=" + join(asked, ",");
}

std::string sacct_by_names(const std::vector<std::string>& names, const std::string& since) {
  return "SLURM_TIME_FORMAT=%s sacct -X -n -P --format=" + std::string(kSacctFormat) +
         " --starttime=" + shell_quote(since) + " --name=" + shell_quote(join(names, ","));
}

std::string squeue_all() {
  return "squeue --me -r --states=all -h -o '%i|%j|%T|%r'";
}

std::string squeue_pending() {
  return "squeue --me -r --states=PENDING -h -o '%i|%j|%T|%r'";
}

std::string squeue_by_names(const std::vector<std::string>& names) {
  return squeue_all() + " --name=" + shell_quote(join(names, ","));
}

std::string scontrol_show(const std::vector<std::string>& ids) {
  std::string cmd;
  for (const auto& id : ids) {
    if (!cmd.empty()) cmd += "; ";
    cmd += "scontrol -o show job " + id + " 2>/dev/null";
  }
  return cmd;
}

}  // namespace flow::slurm
