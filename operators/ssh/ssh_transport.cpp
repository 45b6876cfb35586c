#include "operators/ssh/ssh_transport.hpp"

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/log.hpp"
#include "operators/ssh/errors.hpp"

namespace flow::ssh {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

SshTransport::SshTransport(site::Site site, SshTransportOptions options)
    : site_(std::move(site)), options_(std::move(options)) {
  if (site_.transport != site::Transport::kSsh)
    throw InputError(site_.where, "site '" + site_.name + "' uses transport " +
                                      std::string(site::to_string(site_.transport)) + ", not ssh");
  if (options_.keepalive_interval.count() > 0)
    keepalive_ = std::jthread([this](std::stop_token stop) { keepalive_loop(stop); });
}

SshTransport::~SshTransport() {
  if (keepalive_.joinable()) {
    keepalive_.request_stop();
    keepalive_wake_.notify_all();
    keepalive_.join();
  }
}

std::string SshTransport::describe() const {
  return "ssh " + (site_.user.empty() ? "" : site_.user + "@") + site_.host + ":" +
         std::to_string(site_.port);
}

void SshTransport::note(const std::string& message) const {
  if (options_.on_event) options_.on_event(message);
}

void SshTransport::disconnect() {
  std::lock_guard lock(mutex_);
  session_.reset();
}

template <class Op>
auto SshTransport::with_session(Repeat repeat, Op&& op)
    -> decltype(op(std::declval<SshSession&>())) {
  std::lock_guard lock(mutex_);
  const auto waits = options_.reconnect.delays();
  size_t next_wait = 0;
  int attempts = 0;
  bool immediate_retry_left = true;
  const auto started = steady_clock::now();
  for (;;) {
    const bool reused = session_ != nullptr;
    std::string detail;
    try {
      if (!session_) {
        ++attempts;
        session_ = SshSession::open(site_, options_.session);
        ++sessions_opened_;
        log::debug("site '" + site_.name + "': SSH session " +
                   std::to_string(sessions_opened_.load()) + " to " + site_.user + "@" +
                   site_.host + ":" + std::to_string(site_.port) + " is open");
      }
      last_used_ = steady_clock::now();
      auto result = op(*session_);
      last_used_ = steady_clock::now();
      return result;
    } catch (const ConnectionLost& e) {
      session_.reset();
      if (repeat == Repeat::kOnlyIfNotStarted) throw;
      detail = e.detail();
    } catch (const ConnectionError& e) {
      session_.reset();
      detail = e.detail();
    }
    // An idle session may simply have been dropped by the server: reconnect at once.
    if (reused && immediate_retry_left) {
      immediate_retry_left = false;
      note("site '" + site_.name + "': " + detail + "; reconnecting");
      continue;
    }
    if (next_wait == waits.size()) {
      auto spent = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
      throw ConnectionError(
          "site '" + site_.name + "' (" + describe() + "): " +
              (waits.empty()
                   ? detail
                   : "gave up after " + std::to_string(attempts) + " connection attempts in " +
                         human_duration(spent) + "; last error: " + detail) +
              ". Check that " + site_.host +
              " is up and reachable from here, then run `flow sites check " + site_.name + "`.",
          detail);
    }
    note("site '" + site_.name + "': " + detail + "; reconnecting in " +
         human_duration(waits[next_wait]));
    std::this_thread::sleep_for(waits[next_wait++]);
  }
}

transport::CommandResult SshTransport::run(const std::string& command, milliseconds timeout) {
  return with_session(Repeat::kOnlyIfNotStarted,
                      [&](SshSession& s) { return s.exec(command, timeout); });
}

transport::CommandResult SshTransport::run_idempotent(const std::string& command,
                                                      milliseconds timeout) {
  return with_session(Repeat::kSafe, [&](SshSession& s) { return s.exec(command, timeout); });
}

void SshTransport::put_file(const std::string& path, const std::string& content, int mode) {
  with_session(Repeat::kSafe, [&](SshSession& s) {
    s.put_file(path, content, mode);
    return 0;
  });
}

std::optional<std::string> SshTransport::get_file(const std::string& path, uint64_t offset) {
  return with_session(Repeat::kSafe, [&](SshSession& s) { return s.get_file(path, offset); });
}

std::optional<transport::RemoteStat> SshTransport::stat(const std::string& path) {
  return with_session(Repeat::kSafe, [&](SshSession& s) { return s.stat(path); });
}

uint64_t SshTransport::send_file(const std::filesystem::path& local, uint64_t offset,
                                 const std::string& remote, int mode,
                                 const transport::ChunkSink& sent) {
  // A repeat after a reconnect sends from `offset` again: `sent` sees those bytes twice.
  return with_session(
      Repeat::kSafe, [&](SshSession& s) { return s.send_file(local, offset, remote, mode, sent); });
}

uint64_t SshTransport::receive_file(const std::string& remote, uint64_t offset,
                                    const transport::ChunkSink& sink) {
  // After a reconnect, go on where the sink stopped: it never sees a byte twice.
  uint64_t delivered = 0;
  return with_session(Repeat::kSafe, [&](SshSession& s) {
    s.receive_file(remote, offset + delivered, [&](const char* d, size_t n) {
      sink(d, n);
      delivered += n;
    });
    return delivered;
  });
}

void SshTransport::rename(const std::string& from, const std::string& to) {
  with_session(Repeat::kSafe, [&](SshSession& s) {
    s.rename(from, to);
    return 0;
  });
}

void SshTransport::remove(const std::string& path) {
  with_session(Repeat::kSafe, [&](SshSession& s) {
    s.remove(path);
    return 0;
  });
}

void SshTransport::make_dirs(const std::string& dir) {
  with_session(Repeat::kSafe, [&](SshSession& s) {
    s.make_dirs(dir);
    return 0;
  });
}

std::optional<transport::SpaceInfo> SshTransport::space(const std::string& path) {
  return with_session(Repeat::kSafe, [&](SshSession& s) { return s.space(path); });
}

std::unique_ptr<transport::Transport> SshTransport::open_another() const {
  SshTransportOptions o = options_;
  o.keepalive_interval = std::chrono::milliseconds(0);  // used in bursts, reconnects on demand
  return std::make_unique<SshTransport>(site_, std::move(o));
}

void SshTransport::keepalive_loop(std::stop_token stop) {
  const auto interval = options_.keepalive_interval;
  while (!stop.stop_requested()) {
    {
      std::unique_lock wait_lock(keepalive_mutex_);
      keepalive_wake_.wait_for(wait_lock, stop, interval, [] { return false; });
    }
    if (stop.stop_requested()) break;
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock || !session_) continue;  // busy means in use: no keepalive needed
    if (steady_clock::now() - last_used_ < interval) continue;
    if (!session_->keepalive()) {
      note("site '" + site_.name + "': the idle connection is gone; reconnecting on next use");
      session_.reset();
    }
  }
}

}  // namespace flow::ssh
