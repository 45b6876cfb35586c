#pragma once
// How operators reach a site: run a command and move files. Two implementations:
// LocalTransport (this host; `transport: local` sites) and SshTransport (libssh, one
// authenticated session per site, a channel per command; operators/ssh/). Calls block;
// operators run them off the event loop and post results back to it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace flow::transport {

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
};

}  // namespace flow::transport
