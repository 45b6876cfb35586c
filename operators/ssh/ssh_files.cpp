// SshSession's file calls, all over the session's one SFTP channel: whole small files
// (get_file, put_file: written to a temporary name and renamed over), stat, directories,
// and the streamed, resumable transfers staging uses (send_file, receive_file) with the
// remote error said in words (disk full, permission denied). Connection, host keys,
// authentication and commands are in ssh_session.cpp.
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include "engine/core/byte_size.hpp"
#include "engine/core/error.hpp"
#include "engine/core/shell.hpp"
#include "operators/ssh/errors.hpp"
#include "operators/ssh/libssh_handles.hpp"
#include "operators/ssh/session_detail.hpp"
#include "operators/ssh/ssh_session.hpp"

namespace flow::ssh {

using namespace detail;

namespace {

std::string random_suffix() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

const char* sftp_reason(int code) {
  switch (code) {
    case SSH_FX_NO_SUCH_FILE:
      return "no such file";
    case SSH_FX_PERMISSION_DENIED:
      return "permission denied";
    case SSH_FX_FAILURE:
      return "the server reported a failure (disk full, or a directory in the way?)";
    case SSH_FX_OP_UNSUPPORTED:
      return "operation not supported by the server";
    case SSH_FX_NO_SUCH_PATH:
      return "no such directory";
    case SSH_FX_FILE_ALREADY_EXISTS:
      return "file already exists";
    case SSH_FX_WRITE_PROTECT:
      return "file system is read-only";
    case SSH_FX_NO_MEDIA:
      return "no media";
    default:
      return "SFTP error";
  }
}

}  // namespace

sftp_session_struct* SshSession::sftp() {
  if (sftp_) return sftp_.get();
  sftp_session s = sftp_new(session_.get());
  if (!s) fail("start SFTP (is `Subsystem sftp` enabled in its sshd_config?)");
  std::unique_ptr<sftp_session_struct, SftpFree> owner(s);
  if (sftp_init(s) != SSH_OK) fail("start SFTP (is `Subsystem sftp` enabled in its sshd_config?)");
  sftp_ = std::move(owner);
  return sftp_.get();
}

void SshSession::fail_sftp(const std::string& what, const std::string& path,
                           const std::string& remove, int code) const {
  if (code < 0) code = sftp_ ? sftp_get_error(sftp_.get()) : SSH_FX_OK;
  bool server_said_no = alive() && code != SSH_FX_OK && code != SSH_FX_NO_CONNECTION &&
                        code != SSH_FX_CONNECTION_LOST && code != SSH_FX_BAD_MESSAGE;
  std::string hp = site_.host + ":" + std::to_string(site_.port);
  std::string detail = "lost the connection to " + hp + " while trying to " + what + " " +
                       quote(path) + ": " + ssh_get_error(session_.get());
  // Best effort: do not leave a half-written temp file behind on a live link.
  if (!remove.empty() && sftp_ && alive()) sftp_unlink(sftp_.get(), remove.c_str());
  if (server_said_no)
    throw EnvironmentError(who() + ": cannot " + what + " " + quote(path) + " on " + hp + ": " +
                           sftp_reason(code));
  throw ConnectionError(who() + ": " + detail, detail);
}

std::optional<std::string> SshSession::get_file(const std::string& path, uint64_t offset) {
  sftp_session sf = sftp();
  std::string p = sftp_path(path);
  SftpFilePtr file(sftp_open(sf, p.c_str(), O_RDONLY, 0));
  if (!file) {
    int code = sftp_get_error(sf);
    if (alive() && (code == SSH_FX_NO_SUCH_FILE || code == SSH_FX_NO_SUCH_PATH))
      return std::nullopt;
    fail_sftp("read", path);
  }
  if (offset > 0 && sftp_seek64(file.get(), offset) < 0) fail_sftp("seek in", path);
  std::string out;
  std::array<char, kChunk> buf;
  for (;;) {
    ssize_t n = sftp_read(file.get(), buf.data(), buf.size());
    if (n < 0) fail_sftp("read", path);
    if (n == 0) break;
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

std::optional<transport::RemoteStat> SshSession::stat(const std::string& path) {
  sftp_session sf = sftp();
  std::string p = sftp_path(path);
  SftpAttributesPtr attrs(sftp_stat(sf, p.c_str()));
  if (!attrs) {
    int code = sftp_get_error(sf);
    if (alive() && (code == SSH_FX_NO_SUCH_FILE || code == SSH_FX_NO_SUCH_PATH))
      return std::nullopt;
    fail_sftp("stat", path);
  }
  transport::RemoteStat st;
  st.size = attrs->size;
  st.mtime = static_cast<int64_t>(attrs->mtime);
  return st;
}

void SshSession::make_parent_dirs(const std::string& path) {
  std::string dir = parent_of(path);
  if (dir.empty() || dir == "/" || dir == ".") return;
  sftp_session sf = sftp();
  {
    SftpAttributesPtr a(sftp_stat(sf, dir.c_str()));
    if (a) {
      if (a->type != SSH_FILEXFER_TYPE_DIRECTORY)
        throw EnvironmentError(who() + ": cannot create " + quote(path) + ": " + quote(dir) +
                               " exists and is not a directory");
      return;
    }
    int code = sftp_get_error(sf);
    if (!alive() || (code != SSH_FX_NO_SUCH_FILE && code != SSH_FX_NO_SUCH_PATH))
      fail_sftp("stat", dir);
  }
  make_parent_dirs(dir);
  // Directories flow makes on a site are private to the user (engine/core/private_files.hpp);
  // the server's umask can only narrow 0700.
  if (sftp_mkdir(sf, dir.c_str(), 0700) == 0) return;
  // Someone else may have created it meanwhile; that is fine. Otherwise report why mkdir
  // failed (e.g. permission denied), not what the stat after it said.
  const int mkdir_code = sftp_get_error(sf);
  SftpAttributesPtr a(sftp_stat(sf, dir.c_str()));
  if (a && a->type == SSH_FILEXFER_TYPE_DIRECTORY) return;
  fail_sftp("create directory", dir, "", mkdir_code);
}

void SshSession::rename_over(const std::string& from, const std::string& to) {
  sftp_session sf = sftp();
  if (sftp_rename(sf, from.c_str(), to.c_str()) == 0) return;
  if (!alive()) fail_sftp("rename", from);  // the temp file stays; nothing can remove it now
  // SFTP v3 (OpenSSH) refuses to rename over an existing file, and libssh 0.10 has no
  // posix-rename@openssh.com call; mv on the same file system is rename(2): atomic.
  SftpAttributesPtr target(sftp_stat(sf, to.c_str()));
  if (target && target->type == SSH_FILEXFER_TYPE_DIRECTORY)
    throw EnvironmentError(who() + ": cannot write " + quote(to) + ": it is a directory");
  transport::CommandResult r;
  try {
    r = exec("mv -f -- " + shell_quote(from) + " " + shell_quote(to), options_.io_timeout);
  } catch (const ConnectionLost& e) {
    // put_file is safe to repeat as a whole: report a plain connection failure.
    throw ConnectionError(who() + ": " + e.detail(), e.detail());
  }
  if (r.exit_status != 0) {
    if (alive()) sftp_unlink(sf, from.c_str());
    throw EnvironmentError(who() + ": cannot move " + quote(from) + " to " + quote(to) + ": " +
                           r.err);
  }
}

void SshSession::put_file(const std::string& path, const std::string& content, int mode) {
  sftp_session sf = sftp();
  std::string p = sftp_path(path);
  make_parent_dirs(p);
  std::string tmp = p + ".tmp." + random_suffix();
  const mode_t perms = static_cast<mode_t>(mode) & 07777;
  {
    SftpFilePtr file(sftp_open(sf, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, perms));
    if (!file) fail_sftp("create", tmp);
    for (size_t done = 0; done < content.size();) {
      size_t n = std::min(kChunk, content.size() - done);
      ssize_t w = sftp_write(file.get(), content.data() + done, n);
      if (w <= 0) fail_sftp("write", tmp, tmp);
      done += static_cast<size_t>(w);
    }
    if (sftp_close(file.release()) != SSH_NO_ERROR) fail_sftp("write", tmp, tmp);
  }
  // The server applies its umask to the mode given at open; set it exactly.
  if (sftp_chmod(sf, tmp.c_str(), perms) != 0) fail_sftp("chmod", tmp, tmp);
  rename_over(tmp, p);
}

// ---- streamed transfers (staging) ------------------------------------------------------

namespace {

// Bytes per SFTP read/write request of a streamed transfer. libssh 0.10's sftp_write waits
// for each reply, so fewer, larger requests go faster. OpenSSH's sftp-server cuts a read to
// 255 KiB (SFTP_MAX_READ_LENGTH): 256 KiB reads would all come back short.
constexpr size_t kStreamChunk = 128 * 1024;

// Read requests receive_file keeps in flight: while the sink hashes and writes one chunk
// the server already reads and sends the next ones, and on a link with latency
// kReadsInFlight * kStreamChunk bytes (2 MiB) cover a round trip instead of 128 KiB.
// libssh's channel window (~1.25 MB) bounds what the server actually sends ahead.
constexpr size_t kReadsInFlight = 16;

}  // namespace

void SshSession::fail_write(const std::string& path) {
  const int code = sftp_ ? sftp_get_error(sftp_.get()) : SSH_FX_OK;
  if (code == SSH_FX_FAILURE && alive()) {
    // OpenSSH's sftp-server reports ENOSPC and EDQUOT as a bare "failure": say what ran out.
    std::string dir = parent_of(sftp_path(path));
    if (dir.empty()) dir = ".";
    sftp_statvfs_t st = sftp_statvfs(sftp_.get(), dir.c_str());
    if (st) {
      const uint64_t avail = st->f_bavail * st->f_frsize;
      const uint64_t size = st->f_blocks * st->f_frsize;
      sftp_statvfs_free(st);
      if (avail < 1024 * 1024) {
        throw EnvironmentError(who() + ": cannot write " + quote(path) + " on " + site_.host + ":" +
                               std::to_string(site_.port) +
                               ": no space left on device: the file system of " + dir + " has " +
                               human_bytes(avail) + " free of " + human_bytes(size));
      }
    }
  }
  fail_sftp("write", path, "", code);
}

uint64_t SshSession::send_file(const std::filesystem::path& local, uint64_t offset,
                               const std::string& path, int mode,
                               const transport::ChunkSink& sent) {
  const int in = ::open(local.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw EnvironmentError("cannot read " + local.string() + ": " + std::strerror(errno));
  struct CloseIn {
    int fd;
    ~CloseIn() { ::close(fd); }
  } close_in{in};
  sftp_session sf = sftp();
  const std::string p = sftp_path(path);
  SftpFilePtr file(sftp_open(sf, p.c_str(), O_WRONLY | O_CREAT, static_cast<mode_t>(mode) & 07777));
  if (!file) fail_write(path);
  if (offset > 0 && sftp_seek64(file.get(), offset) < 0) fail_sftp("seek in", path);
  std::vector<char> buf(kStreamChunk);
  uint64_t pos = offset, total = 0;
  for (;;) {
    const ssize_t n = ::pread(in, buf.data(), buf.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw EnvironmentError("cannot read " + local.string() + ": " + std::strerror(errno));
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = sftp_write(file.get(), buf.data() + done, static_cast<size_t>(n - done));
      if (w <= 0) fail_write(path);
      done += w;
    }
    if (sent) sent(buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
    total += static_cast<uint64_t>(n);
  }
  if (sftp_close(file.release()) != SSH_NO_ERROR) fail_write(path);
  return total;
}

uint64_t SshSession::receive_file(const std::string& path, uint64_t offset,
                                  const transport::ChunkSink& sink) {
  sftp_session sf = sftp();
  const std::string p = sftp_path(path);
  SftpFilePtr file(sftp_open(sf, p.c_str(), O_RDONLY, 0));
  if (!file) fail_sftp("read", path);
  sftp_file f = file.get();
  std::vector<char> buf(kStreamChunk);
  // Ids of the read requests in flight, oldest first. The oldest always asks for the bytes
  // at `pos`, the one after it for those at pos + kStreamChunk, and so on.
  std::deque<uint32_t> reads;
  uint64_t pos = offset;  // the next byte the sink gets
  size_t window = kReadsInFlight;
  auto request = [&] {
    // libssh sends a read at the file's offset and then moves it on by the request's size
    // (it moves it back after a short reply): say where, every time.
    sftp_seek64(f, pos + reads.size() * kStreamChunk);
    const int id = sftp_async_read_begin(f, static_cast<uint32_t>(kStreamChunk));
    if (id < 0) fail_sftp("read", path);
    reads.push_back(static_cast<uint32_t>(id));
  };
  // Reads and drops every reply still due, so that none is left in libssh's queue for the
  // rest of the session. Stops reading at a broken link (nothing more will come).
  auto drain = [&]() noexcept {
    bool link_ok = alive();
    for (; !reads.empty(); reads.pop_front()) {
      if (!link_ok) continue;
      sftp_seek64(f, pos);  // clears libssh's end-of-file flag, which would skip the read
      if (sftp_async_read(f, buf.data(), static_cast<uint32_t>(kStreamChunk), reads.front()) < 0 &&
          link_broken())
        link_ok = false;
    }
  };
  try {
    for (;;) {
      while (reads.size() < window)
        request();
      const int n =
          sftp_async_read(f, buf.data(), static_cast<uint32_t>(kStreamChunk), reads.front());
      reads.pop_front();
      if (n < 0) fail_sftp("read", path);
      if (n == 0) break;  // end of file at `pos`
      pos += static_cast<uint64_t>(n);
      sink(buf.data(), static_cast<size_t>(n));
      if (static_cast<size_t>(n) == kStreamChunk) {
        window = std::min(kReadsInFlight, 2 * window);
      } else {
        // A short reply: usually the end of the file (every file whose size is not a
        // multiple of kStreamChunk ends with one), else the file shrank or the server cut
        // the request. The requests behind it asked for the wrong offsets: drop them, go on
        // from `pos` with one request (most likely answered "end of file"), then more.
        drain();
        window = 1;
      }
    }
  } catch (const ConnectionError&) {
    throw;  // the session is dropped: nothing to drain, and a hung link would wait again
  } catch (...) {
    drain();  // a server's refusal, or the sink threw (staging's stop): the session goes on
    throw;
  }
  drain();  // the requests past the end of the file
  return pos - offset;
}

void SshSession::rename(const std::string& from, const std::string& to) {
  rename_over(sftp_path(from), sftp_path(to));
}

void SshSession::remove(const std::string& path) {
  sftp_session sf = sftp();
  const std::string p = sftp_path(path);
  if (sftp_unlink(sf, p.c_str()) == 0) return;
  const int code = sftp_get_error(sf);
  if (alive() && (code == SSH_FX_NO_SUCH_FILE || code == SSH_FX_NO_SUCH_PATH)) return;
  fail_sftp("remove", path);
}

void SshSession::make_dirs(const std::string& dir) {
  std::string p = sftp_path(dir);
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  if (p.empty() || p == "." || p == "/") return;
  make_parent_dirs(p + "/.");  // creates parent_of(p + "/.") == p and its parents
}

std::optional<transport::SpaceInfo> SshSession::space(const std::string& path) {
  sftp_statvfs_t st = sftp_statvfs(sftp(), sftp_path(path).c_str());
  if (!st) return std::nullopt;
  transport::SpaceInfo info{st->f_bavail * st->f_frsize, st->f_blocks * st->f_frsize};
  sftp_statvfs_free(st);
  return info;
}

}  // namespace flow::ssh
