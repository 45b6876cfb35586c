#pragma once
// The Transport of `transport: ssh` sites (docs/REFERENCE.md §5). One authenticated SSH
// session per SshTransport, opened on first use and shared by every call; calls may come
// from any thread and are serialized by a mutex (libssh sessions are not thread-safe), so a
// long command delays the others.
//
// Reconnects: when the link breaks (socket error, EOF, sshd restarted, idle session dropped
// by a firewall) the session is thrown away and a new one is opened, waiting between
// attempts as ReconnectPolicy says (0.5 s doubling to 8 s, 60 s in total by default); a
// session that was already open gets one immediate reconnect first. The operation is then
// repeated only when repeating is safe:
//   - stat, get_file, put_file (atomic temp + rename), run_idempotent(): always;
//   - run(): only if the command had not been sent yet; if the link broke after that, the
//     command may have run and ConnectionLost is thrown (e.g. sbatch: look the job up).
// Host-key refusal (HostKeyError) and authentication failure (AuthError) are never retried.
// When the budget is spent: ConnectionError naming the site, host and the last error.
//
// Keepalive: libssh 0.10 has no keepalive option, so a background thread sends an
// SSH_MSG_IGNORE every keepalive_interval while the session is idle (and answers the
// server's keepalive requests); a dead session found that way is reopened on next use.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/site/site.hpp"
#include "operators/ssh/reconnect_policy.hpp"
#include "operators/ssh/ssh_session.hpp"
#include "operators/transport/transport.hpp"

namespace flow::ssh {

struct SshTransportOptions {
  SessionOptions session;
  ReconnectPolicy reconnect;
  std::chrono::milliseconds keepalive_interval{std::chrono::seconds(30)};  // 0: no thread
  // Told about reconnects ("site 'x': connection lost (...); reconnecting in 0.5 s").
  std::function<void(const std::string&)> on_event;
};

class SshTransport : public transport::Transport {
 public:
  // Does not connect. Throws InputError when `site` does not use transport ssh.
  explicit SshTransport(site::Site site, SshTransportOptions options = {});
  ~SshTransport() override;
  SshTransport(const SshTransport&) = delete;
  SshTransport& operator=(const SshTransport&) = delete;

  transport::CommandResult run(const std::string& command,
                               std::chrono::milliseconds timeout) override;
  transport::CommandResult run_idempotent(const std::string& command,
                                          std::chrono::milliseconds timeout) override;
  void put_file(const std::string& path, const std::string& content, int mode) override;
  std::optional<std::string> get_file(const std::string& path, uint64_t offset) override;
  std::optional<transport::RemoteStat> stat(const std::string& path) override;
  std::string describe() const override;  // "ssh flowuser@127.0.0.1:2222"

  // Streamed transfers are repeated after a reconnect like the other file calls: each
  // writes (or reads) at explicit offsets, so doing it again from the same offset is safe.
  uint64_t send_file(const std::filesystem::path& local, uint64_t offset, const std::string& remote,
                     int mode, const transport::ChunkSink& sent) override;
  uint64_t receive_file(const std::string& remote, uint64_t offset,
                        const transport::ChunkSink& sink) override;
  void rename(const std::string& from, const std::string& to) override;
  void remove(const std::string& path) override;
  void make_dirs(const std::string& dir) override;
  std::optional<transport::SpaceInfo> space(const std::string& path) override;
  std::unique_ptr<transport::Transport> open_another() const override;

  // Sessions opened so far: 1 after the first call, +1 per reconnect. For tests and
  // diagnostics.
  int sessions_opened() const { return sessions_opened_.load(); }

  // Closes the session; the next call opens a new one.
  void disconnect();

 private:
  enum class Repeat { kSafe, kOnlyIfNotStarted };

  // Runs `op` on a live session, reconnecting as described above.
  template <class Op>
  auto with_session(Repeat repeat, Op&& op) -> decltype(op(std::declval<SshSession&>()));

  void keepalive_loop(std::stop_token stop);
  void note(const std::string& message) const;

  site::Site site_;
  SshTransportOptions options_;
  std::mutex mutex_;  // guards session_ and last_used_
  std::unique_ptr<SshSession> session_;
  std::chrono::steady_clock::time_point last_used_{};
  std::atomic<int> sessions_opened_{0};
  std::condition_variable_any keepalive_wake_;
  std::mutex keepalive_mutex_;
  std::jthread keepalive_;  // last member: stopped and joined before the others go away
};

}  // namespace flow::ssh
