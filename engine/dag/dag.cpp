#include "engine/dag/dag.hpp"

#include <algorithm>
#include <cmath>

namespace flow::dag {

bool SlurmSpec::empty() const {
  return nodes == 0 && ntasks == 0 && gpus == 0 && cpus_per_task == 0 && time.empty() &&
         partition.empty() && account.empty() && software.empty() && extra.empty();
}

const std::vector<std::string>& RetryStates::all() {
  static const std::vector<std::string> states = {"TIMEOUT",   "NODE_FAIL",     "PREEMPTED",
                                                  "BOOT_FAIL", "OUT_OF_MEMORY", "DEADLINE",
                                                  "FAILED",    "REVOKED",       "SPECIAL_EXIT"};
  return states;
}

RetryStates RetryStates::defaults() {
  static const RetryStates defaults = [] {
    RetryStates s;
    for (const char* state : {"TIMEOUT", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL"})
      s.add(state);
    return s;
  }();
  return defaults;  // every task starts with these: not looked up again per task
}

uint16_t RetryStates::bit_of(std::string_view state) {
  const auto& names = all();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == state) return static_cast<uint16_t>(1u << i);
  }
  return 0;
}

bool RetryStates::add(std::string_view state) {
  const uint16_t bit = bit_of(state);
  bits_ = static_cast<uint16_t>(bits_ | bit);
  return bit != 0;
}

bool RetryStates::contains(std::string_view state) const {
  return (bits_ & bit_of(state)) != 0;
}

std::vector<std::string> RetryStates::names() const {
  std::vector<std::string> out;
  const auto& states = all();
  for (size_t i = 0; i < states.size(); ++i) {
    if (bits_ & (1u << i)) out.push_back(states[i]);
  }
  return out;
}

Duration RetryPolicy::delay_before(int next_try) const {
  if (next_try <= 1) return Duration(0);
  double factor = std::pow(backoff, next_try - 2);
  double ms = static_cast<double>(delay.count()) * factor;
  ms = std::min(ms, static_cast<double>(max_delay.count()));
  return Duration(static_cast<long long>(ms));
}

const SourceLocation& Task::where() const {
  static const SourceLocation none;
  return source ? source->where : none;
}

SourceLocation Task::loc(const std::string& field) const {
  if (!source) return {};
  for (const auto& f : source->fields) {
    if (f.field == field) return SourceLocation{source->where.file, f.line, f.col};
  }
  return source->where;
}

SourceLocation Dag::loc(const std::string& field) const {
  auto it = field_where.find(field);
  return it == field_where.end() ? SourceLocation{source_file} : it->second;
}

std::string_view to_string(PathBase b) {
  switch (b) {
    case PathBase::kRun:
      return "run";
    case PathBase::kWorkdir:
      return "workdir";
    case PathBase::kSite:
      return "site";
  }
  return "run";
}

std::string staged_path_problem(const std::string& path, std::string* normal) {
  if (path.empty()) return "the path is empty";
  for (unsigned char c : path) {
    if (c < 0x20 || c == 0x7f) return "the path contains a control character";
    if (c == '\\') return "the path contains a backslash";
  }
  if (path.find("{{") != std::string::npos)
    return "templates are not expanded in staged paths; write the path itself";
  if (path[0] == '/' || path[0] == '~')
    return "the path must be relative (to the run directory, the working directory or the "
           "site's workdir, see 'base'), not absolute";
  std::string out;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t slash = path.find('/', pos);
    const std::string part =
        path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (part == "..") return "the path climbs out of its base directory with '..'";
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  if (out.empty())
    return "the path names the base directory itself; name a file or directory in it";
  if (normal) *normal = out;
  return "";
}

std::string StagedPath::label() const {
  return base == PathBase::kRun ? path : std::string(to_string(base)) + ":" + path;
}

const Task* Dag::find(const std::string& id) const {
  auto it = std::find_if(tasks.begin(), tasks.end(), [&](const Task& t) { return t.id == id; });
  return it == tasks.end() ? nullptr : &*it;
}

std::string_view to_string(NotifyEvent e) {
  switch (e) {
    case NotifyEvent::kFailure:
      return "failure";
    case NotifyEvent::kRetry:
      return "retry";
    case NotifyEvent::kSuccess:
      return "success";
    case NotifyEvent::kSlaMiss:
      return "sla_miss";
  }
  return "failure";
}

bool NotifySpec::wants(NotifyEvent e) const {
  return std::find(on.begin(), on.end(), e) != on.end();
}

std::string_view to_string(TriggerRule r) {
  switch (r) {
    case TriggerRule::kAllSuccess:
      return "all_success";
    case TriggerRule::kAllDone:
      return "all_done";
    case TriggerRule::kOneFailed:
      return "one_failed";
    case TriggerRule::kOneSuccess:
      return "one_success";
    case TriggerRule::kNoneFailed:
      return "none_failed";
  }
  return "all_success";
}

}  // namespace flow::dag
