#pragma once
// How operators reach a site: run a command and move files. Two implementations:
// LocalTransport (this host; `transport: local` sites) and SshTransport (libssh, one
// authenticated session per site, a channel per command; operators/ssh/). Calls block;
// operators run them off the event loop and post results back to it.
//
// Two kinds of file calls: small whole files (put_file/get_file: job scripts, logs, outputs)
// and streamed ones for staging (send_file/receive_file and the calls after them), which
// operators/staging/stager.hpp composes into checked, resumable transfers.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/core/error.hpp"

namespace flow::transport {

// The site could not be reached, or the link broke during a call. Repeating a call that
// is safe to repeat (or resuming a transfer) may succeed once the site is back; every other
// error is the site's answer and would not change. ssh::ConnectionError and
// ssh::ConnectionLost are ones.
class Unreachable : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};

// Streamed data: called with each chunk, in file order.
using ChunkSink = std::function<void(const char* data, size_t size)>;

struct SpaceInfo {
  uint64_t available = 0;  // bytes an unprivileged user may still write
  uint64_t size = 0;       // of the whole file system
};

struct CommandResult {
  int exit_status = 0;
  std::string out;
  std::string err;
};

struct RemoteStat {
  uint64_t size = 0;
  int64_t mtime = 0;  // seconds since the epoch
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Runs `command` with /bin/sh on the site. Throws flow::EnvironmentError when the site
  // cannot be reached (after the implementation's own reconnect attempts).
  virtual CommandResult run(const std::string& command, std::chrono::milliseconds timeout) = 0;

  // Like run(), for a command that is safe to run twice (sacct, squeue, cat, test -f). If
  // the connection breaks while it runs, the implementation may reconnect and run it again.
  // run() itself never re-runs a command that may already have started: SshTransport throws
  // ssh::ConnectionLost instead, so the caller can look up what happened (e.g. after sbatch).
  // Transports that cannot lose a connection need not override this.
  virtual CommandResult run_idempotent(const std::string& command,
                                       std::chrono::milliseconds timeout) {
    return run(command, timeout);
  }

  // Writes `content` to `path` atomically (temp file + rename), creating parent dirs.
  virtual void put_file(const std::string& path, const std::string& content, int mode) = 0;

  // Reads `path` from byte `offset` on; nullopt if the file does not exist.
  virtual std::optional<std::string> get_file(const std::string& path, uint64_t offset) = 0;

  virtual std::optional<RemoteStat> stat(const std::string& path) = 0;

  // "ssh flowuser@127.0.0.1:2222" or "local", for messages.
  virtual std::string describe() const = 0;

  // ---- streamed files (staging). Each throws Unreachable when the link fails (what was
  // written so far stays), EnvironmentError with the site's own reason otherwise. Implemented
  // by LocalTransport and SshTransport; the defaults throw.

  // Writes bytes [offset, end) of local file `local` to `remote` at the same offsets,
  // creating it with `mode` if missing; bytes before `offset` are kept, nothing is truncated.
  // Constant memory whatever the size. `sent` sees every chunk written, in order (after a
  // reconnect the call may start over at `offset`: progress, not content). Returns the bytes
  // written.
  virtual uint64_t send_file(const std::filesystem::path& local, uint64_t offset,
                             const std::string& remote, int mode, const ChunkSink& sent);
  // Reads `remote` from byte `offset` to its end into `sink`; returns the bytes read. Throws
  // EnvironmentError when it does not exist. After Unreachable the sink may have seen part
  // of the file (SshTransport resumes where the sink stopped when it reconnects by itself).
  virtual uint64_t receive_file(const std::string& remote, uint64_t offset, const ChunkSink& sink);
  // Renames `from` over `to` atomically (a reader sees the old file or the new one).
  virtual void rename(const std::string& from, const std::string& to);
  // Removes a file; one that does not exist is fine.
  virtual void remove(const std::string& path);
  // Creates `dir` and its parents as needed.
  virtual void make_dirs(const std::string& dir);
  // Free space of the file system holding `path` (nullopt if the site cannot say).
  virtual std::optional<SpaceInfo> space(const std::string& path);
  // A second, independent connection to the same site: staging runs on its own, so a large
  // copy never delays the status polls that share this one.
  virtual std::unique_ptr<Transport> open_another() const;
};

}  // namespace flow::transport
