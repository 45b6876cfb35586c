#include "engine/cli/detach.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/core/error.hpp"
#include "engine/core/private_files.hpp"
#include "engine/core/text_file.hpp"

namespace flow::cli {

namespace {

constexpr const char kStarted[] = "started\n";

[[noreturn]] void report_and_exit(pid_t pid, const std::filesystem::path& console,
                                  const std::string& run_id, bool json, bool started) {
  if (started) {
    if (json) {
      std::cout << nlohmann::json{{"run", run_id},
                                  {"detached", true},
                                  {"pid", pid},
                                  {"console", console.string()}}
                       .dump(2)
                << "\n";
    } else {
      std::printf(
          "run %s goes on in the background (engine pid %d)\n"
          "  follow it: flow status %s (or flow tui); its output: %s\n",
          run_id.c_str(), static_cast<int>(pid), run_id.c_str(), console.c_str());
    }
    std::exit(0);
  }
  // The engine ended before the run was its own: say why, with its exit code.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::fputs(tail_lines(console, 20).c_str(), stderr);
  std::fprintf(stderr, "flow: the background engine for run %s stopped before the run started\n",
               run_id.c_str());
  std::exit(code == 0 ? static_cast<int>(ErrorKind::kFailure) : code);
}

}  // namespace

void Detached::started() {
  if (notify_fd_ < 0) return;
  ssize_t ignored = ::write(notify_fd_, kStarted, sizeof kStarted - 1);
  (void)ignored;
  ::close(notify_fd_);
  notify_fd_ = -1;
}

Detached detach(const std::filesystem::path& console, const std::string& run_id, bool json) {
  std::error_code ec;
  create_private_directories(console.parent_path(), ec);
  if (ec || !create_private_file(console, ec)) {
    throw EnvironmentError("cannot create " + console.string() +
                           " for the background engine's output: " + ec.message());
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw EnvironmentError(std::string("cannot start the background engine: pipe: ") +
                           std::strerror(errno));
  }
  std::cout.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw EnvironmentError(std::string("cannot start the background engine: fork: ") +
                           std::strerror(err));
  }
  if (pid > 0) {  // the command the user typed: wait for the run to be recorded
    ::close(fds[1]);
    std::string got;
    char buf[64];
    for (;;) {
      const ssize_t n = ::read(fds[0], buf, sizeof buf);
      if (n > 0) {
        got.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    ::close(fds[0]);
    report_and_exit(pid, console, run_id, json, got == kStarted);
  }

  // The background engine.
  ::close(fds[0]);
  ::setsid();  // a session of its own: the terminal closing sends it no SIGHUP
  ::signal(SIGHUP, SIG_IGN);
  const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const int out = ::open(console.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (in >= 0) ::dup2(in, STDIN_FILENO);
  if (out >= 0) {
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
  }
  if (in > STDERR_FILENO) ::close(in);
  if (out > STDERR_FILENO) ::close(out);
  Detached d;
  d.notify_fd_ = fds[1];
  return d;
}

}  // namespace flow::cli
