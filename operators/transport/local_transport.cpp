#include "operators/transport/local_transport.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "engine/core/error.hpp"
#include "engine/core/spawn.hpp"
#include "engine/core/text_file.hpp"

namespace flow::transport {

namespace {

// Closes both ends of a pipe on scope exit unless released.
struct Pipe {
  int fd[2] = {-1, -1};
  Pipe() {
    if (::pipe2(fd, O_CLOEXEC) != 0)
      throw EnvironmentError(std::string("pipe: ") + std::strerror(errno));
  }
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

}  // namespace

CommandResult LocalTransport::run(const std::string& command, std::chrono::milliseconds timeout) {
  Pipe out, err;
  SpawnOptions o;
  o.program = "/bin/sh";
  o.argv = {"/bin/sh", "-c", command};
  o.group = SpawnOptions::Group::kNewProcessGroup;  // a timeout kills the whole command
  o.in = ChildStream::null();
  o.out = ChildStream::descriptor(out.fd[1]);
  o.err = ChildStream::descriptor(err.fd[1]);
  const SpawnResult child = spawn(o);
  if (!child.ok())
    throw EnvironmentError(std::string("cannot start /bin/sh: ") + std::strerror(child.error));
  const pid_t pid = child.pid;
  out.close_end(1);
  err.close_end(1);

  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::array<pollfd, 2> fds{pollfd{out.fd[0], POLLIN, 0}, pollfd{err.fd[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  bool timed_out = false;
  int open = 2;
  char buf[65536];
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    int n =
        ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long long>(left.count(), 1000)));
    if (n < 0 && errno != EINTR) break;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r > 0) {
        sinks[i]->append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        fds[i].fd = -1;
        --open;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    result.exit_status = 124;
    result.err += "flow: command timed out after " + std::to_string(timeout.count()) + " ms\n";
  } else if (WIFEXITED(status)) {
    result.exit_status = WEXITSTATUS(status);
  } else {
    result.exit_status = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  }
  return result;
}

void LocalTransport::put_file(const std::string& path, const std::string& content, int mode) {
  write_file_atomic(path, content);
  if (::chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    throw EnvironmentError("cannot chmod " + path + ": " + std::strerror(errno));
  }
}

std::optional<std::string> LocalTransport::get_file(const std::string& path, uint64_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  in.seekg(static_cast<std::streamoff>(offset));
  if (!in) return std::string();
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::optional<RemoteStat> LocalTransport::stat(const std::string& path) {
  struct ::stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return RemoteStat{static_cast<uint64_t>(st.st_size), static_cast<int64_t>(st.st_mtime)};
}

}  // namespace flow::transport
