#pragma once
// How reaching a site over SSH fails, as types, so that callers can react to each case:
// reconnect and try again (ConnectionError), look up what a command did instead of running
// it again (ConnectionLost), or tell the user to fix their setup (HostKeyError, AuthError).
// All are EnvironmentErrors (exit 3); each message names the site and host:port and says
// what to do. No message ever contains key material or a password.

#include <string>
#include <utility>

#include "engine/core/error.hpp"
#include "operators/transport/transport.hpp"

namespace flow::ssh {

// The link could not be made, or broke before a command was started: trying again is safe.
// `detail()` is the cause without the site prefix ("cannot connect to 127.0.0.1:2222:
// Connection refused"), for messages that wrap it.
class ConnectionError : public transport::Unreachable {
 public:
  ConnectionError(const std::string& message, std::string detail)
      : transport::Unreachable(message), detail_(std::move(detail)) {}
  const std::string& detail() const { return detail_; }

 private:
  std::string detail_;
};

// The link broke after a command had been sent: it may or may not have run. SshTransport
// throws this for commands not marked idempotent (e.g. sbatch) instead of running them
// again; the caller should look up the effect (squeue/sacct by job name) first.
class ConnectionLost : public transport::Unreachable {
 public:
  ConnectionLost(const std::string& message, std::string detail)
      : transport::Unreachable(message), detail_(std::move(detail)) {}
  const std::string& detail() const { return detail_; }

 private:
  std::string detail_;
};

// The server's host key is not in the site's known_hosts file, or differs from it.
// Never retried: the user has to decide (`flow sites trust NAME`).
class HostKeyError : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};

// The server refused our key, or the key could not be loaded. Never retried.
class AuthError : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};

}  // namespace flow::ssh
