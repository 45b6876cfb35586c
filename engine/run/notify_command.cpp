#include "engine/run/notify_command.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "engine/core/duration.hpp"
#include "engine/core/private_files.hpp"
#include "engine/core/spawn.hpp"

extern char** environ;

namespace flow::run {

namespace {

struct Watch {
  pid_t pid = -1;
  std::chrono::steady_clock::time_point deadline;
  std::chrono::milliseconds timeout{0};
  bool killed = false;
  std::unique_ptr<boost::asio::steady_timer> timer;
  std::function<void(const std::string&)> done;
};

void poll(const std::shared_ptr<Watch>& w) {
  int status = 0;
  const pid_t r = ::waitpid(w->pid, &status, WNOHANG);
  if (r == w->pid || (r < 0 && errno != EINTR)) {
    std::string error;
    if (w->killed) {
      error = "killed after " + format_duration(w->timeout) + " (its timeout)";
    } else if (r < 0) {
      error = std::string("lost the process: ") + std::strerror(errno);
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
      error = "exit status " + std::to_string(WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
      error = "killed by signal " + std::to_string(WTERMSIG(status));
    }
    w->done(error);
    return;
  }
  if (!w->killed && std::chrono::steady_clock::now() >= w->deadline) {
    ::kill(-w->pid, SIGKILL);
    w->killed = true;
  }
  w->timer->expires_after(std::chrono::milliseconds(20));
  w->timer->async_wait([w](const boost::system::error_code& ec) {
    if (ec) {
      // The io_context is going away: do not leave the child behind unreaped.
      ::kill(-w->pid, SIGKILL);
      ::waitpid(w->pid, nullptr, 0);
      return;
    }
    poll(w);
  });
}

}  // namespace

void run_notify_command(boost::asio::io_context& io, NotifyCommand c,
                        std::function<void(const std::string& error)> done) {
  auto fail = [&io, &done](const std::string& why) {
    boost::asio::post(io, [done = std::move(done), why] { done(why); });
  };
  // The payload goes through a pipe: it is small (a few KiB, the message is cut), so it
  // fits the pipe's buffer and is written before the child starts, without blocking.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
  size_t off = 0;
  while (off < c.payload.size()) {
    const ssize_t n = ::write(fds[1], c.payload.data() + off, c.payload.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(fds[1]);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    const std::string name = kv.substr(0, kv.find('='));
    if (!c.env.count(name)) env_strings.push_back(kv);
  }
  for (const auto& [k, v] : c.env)
    env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings)
    envp.push_back(s.data());
  envp.push_back(nullptr);

  if (!c.log.empty()) {
    std::error_code ec;
    create_private_directories(c.log.parent_path(), ec);  // a failure shows at spawn
  }
  SpawnOptions o;
  o.program = "/bin/sh";
  o.argv = {"sh", "-c", c.command};
  o.env = envp.data();
  o.workdir = c.workdir;
  o.group = SpawnOptions::Group::kNewProcessGroup;
  o.in = ChildStream::descriptor(fds[0]);
  o.out = c.log.empty() ? ChildStream::null() : ChildStream::append(c.log);
  o.err = ChildStream::same_as_stdout();
  o.close_other_fds = true;
  const SpawnResult r = spawn(o);
  ::close(fds[0]);
  if (!r.ok()) return fail(std::string("cannot start /bin/sh: ") + std::strerror(r.error));

  auto w = std::make_shared<Watch>();
  w->pid = r.pid;
  w->timeout = c.timeout;
  w->deadline = std::chrono::steady_clock::now() + c.timeout;
  w->timer = std::make_unique<boost::asio::steady_timer>(io);
  w->done = std::move(done);
  boost::asio::post(io, [w] { poll(w); });
}

}  // namespace flow::run
