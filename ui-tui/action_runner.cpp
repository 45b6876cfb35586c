#include "ui-tui/action_runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include "engine/core/error.hpp"
#include "engine/core/private_files.hpp"
#include "engine/core/spawn.hpp"

namespace flow::tui {

std::string ActionRequest::describe() const {
  switch (kind) {
    case Kind::kRetry:
      return "retry " + task_id;
    case Kind::kRetryDownstream:
      return "retry " + task_id + " and downstream";
    case Kind::kCancel:
      return "cancel";
  }
  return "?";
}

std::vector<std::string> ActionRequest::args(const std::filesystem::path& db) const {
  std::vector<std::string> a;
  if (kind == Kind::kCancel) {
    a = {"cancel", run_id};
  } else {
    a = {"retry", run_id, task_id};
    if (kind == Kind::kRetryDownstream) a.emplace_back("--downstream");
  }
  a.emplace_back("--db");
  a.push_back(db.string());
  return a;
}

std::string ActionOutcome::summary() const {
  std::string what = request.describe() + " (run " + request.run_id + ")";
  if (!finished)
    return what + ": running, pid " + std::to_string(pid) + ", output in " + log.string();
  std::string how;
  if (exit_code == 0) {
    how = "done";
  } else if (exit_code == 1) {
    how = "ended with failures (exit 1)";
  } else if (exit_code == 130) {
    how = "interrupted (exit 130)";
  } else {
    how = "failed (exit " + std::to_string(exit_code) + ")";
  }
  std::string s = what + ": " + how;
  if (!last_line.empty()) s += ": " + last_line;
  return s + "  [" + log.string() + "]";
}

std::string last_line_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > 65536 ? size - 65536 : 0;
  in.seekg(from);
  std::string text(static_cast<size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  // Trailing newlines and blanks end where the last line with text ends.
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' '))
    --end;
  if (end == 0) return {};
  const size_t nl = text.rfind('\n', end - 1);
  const size_t begin = nl == std::string::npos ? 0 : nl + 1;
  return text.substr(begin, end - begin);
}

ActionRunner::ActionRunner(std::filesystem::path flow_binary, std::filesystem::path db,
                           std::filesystem::path log_dir)
    : flow_binary_(std::move(flow_binary)), db_(std::move(db)), log_dir_(std::move(log_dir)) {}

ActionRunner::~ActionRunner() = default;

const ActionOutcome& ActionRunner::start(const ActionRequest& request) {
  std::error_code ec;
  create_private_directories(log_dir_, ec);
  if (ec) {
    throw EnvironmentError("cannot create " + log_dir_.string() +
                           " for the action's output: " + ec.message());
  }
  // logs: <log_dir>/20260328T140307-retry-RUN-TASK.log (ids are safe path components).
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y%m%dT%H%M%S", &tm);
  std::string name = std::string(ts) + "-" +
                     (request.kind == ActionRequest::Kind::kCancel ? "cancel" : "retry") + "-" +
                     request.run_id;
  if (request.kind != ActionRequest::Kind::kCancel) name += "-" + request.task_id;
  ActionOutcome out;
  out.request = request;
  out.log = log_dir_ / (name + ".log");

  std::vector<std::string> args = request.args(db_);
  args.insert(args.begin(), flow_binary_.string());
  SpawnOptions o;
  o.program = flow_binary_;
  o.argv = std::move(args);
  // Its own session: the terminal's Ctrl-C and the TUI quitting do not reach it.
  o.group = SpawnOptions::Group::kNewSession;
  o.in = ChildStream::null();
  o.out = ChildStream::append(out.log);
  o.err = ChildStream::same_as_stdout();
  o.close_other_fds = true;
  // Signals the TUI handles or ignores go back to their default action (reset_signals).
  const SpawnResult child = spawn(o);
  if (!child.ok()) {
    throw EnvironmentError("cannot start " + flow_binary_.string() + " for " + request.describe() +
                           ": " + std::strerror(child.error));
  }
  const pid_t pid = child.pid;
  out.pid = pid;
  running_.push_back(std::move(out));
  return running_.back();
}

std::vector<ActionOutcome> ActionRunner::reap() {
  std::vector<ActionOutcome> done;
  for (auto it = running_.begin(); it != running_.end();) {
    int status = 0;
    const pid_t r = ::waitpid(it->pid, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR)) {
      ++it;
      continue;
    }
    it->finished = true;
    if (r < 0) {
      it->exit_code = -1;  // not our child any more (cannot happen unless reaped elsewhere)
    } else {
      it->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    it->last_line = last_line_of(it->log);
    done.push_back(std::move(*it));
    it = running_.erase(it);
  }
  return done;
}

}  // namespace flow::tui
