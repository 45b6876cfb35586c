#include "operators/transport/local_transport.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "engine/core/error.hpp"
#include "engine/core/private_files.hpp"
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
  write_file_atomic(path, content, mode);
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

namespace {

// An fd closed on scope exit.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw EnvironmentError("cannot " + what + " " + path + ": " + std::strerror(errno));
}

constexpr size_t kChunk = 1 << 20;

}  // namespace

uint64_t LocalTransport::send_file(const std::filesystem::path& local, uint64_t offset,
                                   const std::string& remote, int mode, const ChunkSink& sent) {
  Fd in(::open(local.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) fail("read", local.string());
  Fd out(::open(remote.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, static_cast<mode_t>(mode)));
  if (out.fd < 0) fail("write", remote);
  std::string buf(kChunk, '\0');
  uint64_t pos = offset, total = 0;
  for (;;) {
    ssize_t n = ::pread(in.fd, buf.data(), buf.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read", local.string());
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::pwrite(out.fd, buf.data() + done, static_cast<size_t>(n - done),
                           static_cast<off_t>(pos + static_cast<uint64_t>(done)));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail("write", remote);
      done += w;
    }
    if (sent) sent(buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
    total += static_cast<uint64_t>(n);
  }
  if (::fsync(out.fd) != 0) fail("write", remote);
  return total;
}

uint64_t LocalTransport::receive_file(const std::string& remote, uint64_t offset,
                                      const ChunkSink& sink) {
  Fd in(::open(remote.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) fail("read", remote);
  std::string buf(kChunk, '\0');
  uint64_t pos = offset, total = 0;
  for (;;) {
    ssize_t n = ::pread(in.fd, buf.data(), buf.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read", remote);
    if (n == 0) break;
    sink(buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
    total += static_cast<uint64_t>(n);
  }
  return total;
}

void LocalTransport::rename(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) fail("rename " + from + " to", to);
}

void LocalTransport::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("remove", path);
}

void LocalTransport::make_dirs(const std::string& dir) {
  // Private to the user, as over SFTP (engine/core/private_files.hpp).
  std::error_code ec;
  create_private_directories(dir, ec);
  if (ec) throw EnvironmentError("cannot create directory " + dir + ": " + ec.message());
}

std::optional<SpaceInfo> LocalTransport::space(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return std::nullopt;
  return SpaceInfo{static_cast<uint64_t>(st.f_bavail) * st.f_frsize,
                   static_cast<uint64_t>(st.f_blocks) * st.f_frsize};
}

std::unique_ptr<Transport> LocalTransport::open_another() const {
  return std::make_unique<LocalTransport>();
}

}  // namespace flow::transport
