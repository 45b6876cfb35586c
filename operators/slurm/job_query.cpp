#include "operators/slurm/job_query.hpp"

#include <algorithm>
#include <cctype>

#include "engine/core/shell.hpp"

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

std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

}  // namespace

std::vector<JobRecord> parse_sacct(std::string_view text) {
  std::vector<JobRecord> out;
  for_each_line(text, [&](std::string_view line) {
    auto f = split(line, '|');
    if (f.size() < 4 || !all_digits(f[0])) return;  // steps ("123.batch"), warnings
    JobRecord r;
    r.job_id = std::string(f[0]);
    r.name = std::string(f[1]);
    r.status = make_status(f[2], f[3]);
    if (f.size() > 4 && all_digits(f[4]) && f[4].size() < 15)
      r.start_ms = std::stoll(std::string(f[4])) * 1000;
    if (f.size() > 6 && r.status.phase == Phase::kPending && f[6] != "None")
      r.reason = std::string(f[6]);
    out.push_back(std::move(r));
  });
  return out;
}

std::vector<JobRecord> parse_squeue(std::string_view text) {
  std::vector<JobRecord> out;
  for_each_line(text, [&](std::string_view line) {
    auto f = split(line, '|');
    if (f.size() < 3 || !all_digits(f[0])) return;
    JobRecord r;
    r.job_id = std::string(f[0]);
    r.name = std::string(f[1]);
    r.status = make_status(f[2], "");
    if (f.size() > 3 && f[3] != "None") r.reason = std::string(f[3]);
    out.push_back(std::move(r));
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
  return "SLURM_TIME_FORMAT=%s sacct -X -n -P --format=" + std::string(kSacctFormat) +
         " --starttime=" + shell_quote(since) + " --jobs=" + join(ids, ',');
}

std::string sacct_by_names(const std::vector<std::string>& names, const std::string& since) {
  return "SLURM_TIME_FORMAT=%s sacct -X -n -P --format=" + std::string(kSacctFormat) +
         " --starttime=" + shell_quote(since) + " --name=" + shell_quote(join(names, ','));
}

std::string squeue_all() {
  return "squeue --me --states=all -h -o '%i|%j|%T|%r'";
}

std::string squeue_by_names(const std::vector<std::string>& names) {
  return squeue_all() + " --name=" + shell_quote(join(names, ','));
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
