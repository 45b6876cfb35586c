#include "operators/slurm/job_state.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace flow::slurm {

namespace {

struct Entry {
  std::string_view state;
  Phase phase;
};

// sacct(1), squeue(1) "JOB STATE CODES", Slurm 22.05.
constexpr std::array<Entry, 25> kStates{{
    {"PENDING", Phase::kPending},        {"REQUEUED", Phase::kPending},
    {"REQUEUE_FED", Phase::kPending},    {"REQUEUE_HOLD", Phase::kPending},
    {"RESV_DEL_HOLD", Phase::kPending},  {"CONFIGURING", Phase::kPending},
    {"RUNNING", Phase::kRunning},        {"COMPLETING", Phase::kRunning},
    {"SUSPENDED", Phase::kRunning},      {"STOPPED", Phase::kRunning},
    {"SIGNALING", Phase::kRunning},      {"STAGE_OUT", Phase::kRunning},
    {"RESIZING", Phase::kRunning},       {"COMPLETED", Phase::kFinished},
    {"FAILED", Phase::kFinished},        {"CANCELLED", Phase::kFinished},
    {"TIMEOUT", Phase::kFinished},       {"NODE_FAIL", Phase::kFinished},
    {"PREEMPTED", Phase::kFinished},     {"OUT_OF_MEMORY", Phase::kFinished},
    {"BOOT_FAIL", Phase::kFinished},     {"DEADLINE", Phase::kFinished},
    {"SPECIAL_EXIT", Phase::kFinished},  {"REVOKED", Phase::kFinished},
    {"LAUNCH_FAILED", Phase::kFinished},
}};

int to_int(std::string_view s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : 0;
}

}  // namespace

std::string canonical_state(std::string_view text) {
  auto end = text.find_first_of(" +");
  return std::string(text.substr(0, end));
}

Phase phase_of(std::string_view canonical) {
  for (const auto& e : kStates) {
    if (e.state == canonical) return e.phase;
  }
  return Phase::kUnknown;
}

std::pair<int, int> parse_exit_code(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return {to_int(text), 0};
  return {to_int(text.substr(0, colon)), to_int(text.substr(colon + 1))};
}

JobStatus make_status(std::string_view state_text, std::string_view exit_code_text) {
  JobStatus s;
  s.state = canonical_state(state_text);
  s.phase = phase_of(s.state);
  std::tie(s.exit_code, s.signal) = parse_exit_code(exit_code_text);
  return s;
}

run::Outcome outcome_of(const JobStatus& s) {
  if (s.state == "COMPLETED" && s.exit_code == 0 && s.signal == 0) return run::Outcome::kSucceeded;
  if (s.state == "TIMEOUT" || s.state == "DEADLINE") return run::Outcome::kTimedOut;
  if (s.state == "CANCELLED") return run::Outcome::kCancelled;
  return run::Outcome::kFailed;
}

}  // namespace flow::slurm
