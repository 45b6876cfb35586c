#include "ui-tui/format.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "engine/core/duration.hpp"

namespace flow::tui {

using state::RunState;
using state::TaskState;

Tone tone_of(TaskState s) {
  switch (s) {
    case TaskState::kSucceeded:
      return Tone::kGood;
    case TaskState::kFailed:
    case TaskState::kTimedOut:
    case TaskState::kUpstreamFailed:
      return Tone::kBad;
    case TaskState::kStarting:
    case TaskState::kRunning:
    case TaskState::kSubmitting:
      return Tone::kBusy;
    case TaskState::kQueued:
    case TaskState::kPending:
    case TaskState::kUpForRetry:
      return Tone::kWaiting;
    case TaskState::kCancelled:
      return Tone::kCancelled;
    case TaskState::kSkipped:
      return Tone::kDim;
  }
  return Tone::kNormal;
}

Tone tone_of(RunState s) {
  switch (s) {
    case RunState::kRunning:
      return Tone::kBusy;
    case RunState::kSucceeded:
      return Tone::kGood;
    case RunState::kFailed:
      return Tone::kBad;
    case RunState::kInterrupted:
    case RunState::kCancelled:
      return Tone::kCancelled;
  }
  return Tone::kNormal;
}

Tone tone_of_trial(std::string_view status) {
  if (status == "completed") return Tone::kGood;
  if (status == "failed") return Tone::kBad;
  if (status == "running") return Tone::kBusy;
  if (status == "paused") return Tone::kWaiting;
  if (status == "stopped") return Tone::kDim;
  return Tone::kNormal;
}

const std::vector<TaskState>& display_order() {
  static const std::vector<TaskState> order = {
      TaskState::kSucceeded,      TaskState::kRunning,   TaskState::kStarting,
      TaskState::kSubmitting,     TaskState::kPending,   TaskState::kQueued,
      TaskState::kUpForRetry,     TaskState::kFailed,    TaskState::kTimedOut,
      TaskState::kUpstreamFailed, TaskState::kCancelled, TaskState::kSkipped,
  };
  return order;
}

std::string_view short_name(TaskState s) {
  switch (s) {
    case TaskState::kSucceeded:
      return "ok";
    case TaskState::kRunning:
      return "run";
    case TaskState::kStarting:
      return "start";
    case TaskState::kSubmitting:
      return "submit";
    case TaskState::kPending:
      return "pend";
    case TaskState::kQueued:
      return "queued";
    case TaskState::kUpForRetry:
      return "retry";
    case TaskState::kFailed:
      return "failed";
    case TaskState::kTimedOut:
      return "timeout";
    case TaskState::kUpstreamFailed:
      return "upfail";
    case TaskState::kCancelled:
      return "cancel";
    case TaskState::kSkipped:
      return "skip";
  }
  return "?";
}

std::vector<std::pair<TaskState, int>> ordered_counts(const std::map<std::string, int>& counts) {
  std::vector<std::pair<TaskState, int>> out;
  for (TaskState s : display_order()) {
    auto it = counts.find(std::string(state::to_string(s)));
    if (it != counts.end() && it->second > 0) out.emplace_back(s, it->second);
  }
  return out;
}

std::string short_time(EpochMs t, EpochMs now) {
  if (t == 0) return "-";
  std::time_t secs = static_cast<std::time_t>(t / 1000),
              now_secs = static_cast<std::time_t>(now / 1000);
  std::tm tm{}, today{};
  ::localtime_r(&secs, &tm);
  ::localtime_r(&now_secs, &today);
  char buf[32];
  const bool same_day = tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday;
  std::strftime(buf, sizeof buf, same_day ? "%H:%M:%S" : "%m-%d %H:%M", &tm);
  return buf;
}

std::string span(EpochMs start, EpochMs end, EpochMs now) {
  if (start == 0) return "-";
  const EpochMs stop = end ? end : now;
  return human_duration(Millis(std::max<EpochMs>(stop - start, 0)));
}

std::string params_text(const nlohmann::json& params) {
  std::string s;
  if (!params.is_object()) return params.is_null() ? "" : params.dump();
  for (const auto& [k, v] : params.items()) {
    if (!s.empty()) s += ' ';
    s += k;
    s += '=';
    if (v.is_number_float()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
      s += buf;
    } else if (v.is_string()) {
      s += v.get<std::string>();
    } else {
      s += v.dump();
    }
  }
  return s;
}

std::string metric_text(std::optional<double> metric) {
  if (!metric) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", *metric);
  return buf;
}

std::string_view first_line(std::string_view text) {
  return text.substr(0, text.find('\n'));
}

bool matches(std::string_view filter, std::initializer_list<std::string_view> fields) {
  if (filter.empty()) return true;
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  for (std::string_view f : fields) {
    auto it = std::search(f.begin(), f.end(), filter.begin(), filter.end(),
                          [&](char a, char b) { return lower(a) == lower(b); });
    if (it != f.end()) return true;
  }
  return false;
}

}  // namespace flow::tui
