#include "engine/run/alert_payload.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>

#include "engine/core/duration.hpp"

namespace flow::run {

namespace {

constexpr size_t kMessageBytes = 4000;
constexpr size_t kTextMessageBytes = 300;

// Cuts at `n` bytes without splitting a UTF-8 sequence.
std::string cut(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t end = n;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80)
    --end;
  return s.substr(0, end) + "...";
}

// Newlines and tabs become spaces, runs of spaces one, ends trimmed.
std::string one_line(const std::string& s) {
  std::string out;
  for (char c : s) {
    const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
    if (space) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

nlohmann::json or_null(const std::string& s) {
  return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s);
}

}  // namespace

std::string alert_text(const state::RunRecord& run, const AlertFacts& f) {
  const bool task = !f.instance_id.empty();
  std::string subject = task ? "task " + f.instance_id + " of " + run.dag : "run of " + run.dag;
  std::string where = "run " + run.id;
  if (task && f.try_number > 0) where += ", try " + std::to_string(f.try_number);
  std::string what;
  switch (f.event) {
    case dag::NotifyEvent::kFailure:
      what = f.state == "timed_out" ? "timed out" : "failed";
      break;
    case dag::NotifyEvent::kRetry:
      what = "failed and will be retried";
      break;
    case dag::NotifyEvent::kSuccess:
      what = "succeeded";
      break;
    case dag::NotifyEvent::kSlaMiss:
      what = "missed its SLA of " + format_duration(f.sla.value_or(dag::Duration(0))) +
             " (deadline " + iso_utc(f.deadline) + ", " + f.state + ")";
      break;
  }
  std::string text = "flow: " + subject + " " + what + " (" + where + ")";
  const std::string msg = one_line(f.message);
  if (!msg.empty() && f.event != dag::NotifyEvent::kSuccess)
    text += ": " + cut(msg, kTextMessageBytes);
  return text;
}

nlohmann::json alert_payload(const state::RunRecord& run, const AlertFacts& f) {
  const bool task = !f.instance_id.empty();
  const bool sla = f.event == dag::NotifyEvent::kSlaMiss;
  return {
      {"event", std::string(dag::to_string(f.event))},
      {"dag", run.dag},
      {"run", run.id},
      {"task", task ? nlohmann::json(f.task_id) : nlohmann::json(nullptr)},
      {"instance", task ? nlohmann::json(f.instance_id) : nlohmann::json(nullptr)},
      {"try", task ? nlohmann::json(f.try_number) : nlohmann::json(nullptr)},
      {"state", f.state},
      {"message", cut(f.message, kMessageBytes)},
      {"logical_date", or_null(run.logical_date)},
      {"data_interval_start", or_null(run.data_interval_start)},
      {"data_interval_end", or_null(run.data_interval_end)},
      {"time", iso_utc(f.at)},
      {"sla", sla && f.sla ? nlohmann::json(format_duration(*f.sla)) : nlohmann::json(nullptr)},
      {"deadline", sla ? nlohmann::json(iso_utc(f.deadline)) : nlohmann::json(nullptr)},
      {"text", alert_text(run, f)},
  };
}

EpochMs sla_start(const state::RunRecord& run) {
  // A scheduled run's id is DAG-scheduled-YYYYMMDDTHHMMSSZ (REFERENCE §8): its interval
  // ended when the schedule fired; the SLA is about how long after that the data is ready.
  const bool scheduled = run.id.rfind(run.dag + "-scheduled-", 0) == 0;
  if (scheduled && !run.data_interval_end.empty()) {
    // ISO 8601 UTC to the second, as stored: YYYY-MM-DDTHH:MM:SSZ.
    std::tm tm{};
    const std::string& s = run.data_interval_end;
    if (s.size() >= 20 && std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                                      &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
      tm.tm_year -= 1900;
      tm.tm_mon -= 1;
      return static_cast<EpochMs>(timegm(&tm)) * 1000;
    }
  }
  return run.created ? run.created : run.started;
}

std::string webhook_origin(const std::string& url) {
  std::string scheme;
  if (url.rfind("http://", 0) == 0) {
    scheme = "http";
  } else if (url.rfind("https://", 0) == 0) {
    scheme = "https";
  } else {
    return "";
  }
  std::string rest = url.substr(scheme.size() + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);  // user:pw@
  if (rest.empty()) return "";
  for (char c : rest) {
    const auto u = static_cast<unsigned char>(c);
    if (!(std::isalnum(u) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_'))
      return "";
  }
  return scheme + "://" + rest;
}

}  // namespace flow::run
