#pragma once
// One SSH connection to a site (RAII over a libssh session): TCP connect and key exchange,
// the host-key check against the site's known_hosts file, public-key authentication (the
// site's `identity` file, or ssh-agent when it is empty; never a password, never a
// prompt), then any number of commands (one channel each) and one SFTP session, opened on
// first use. Not thread-safe: SshTransport owns one and serializes access to it.
//
// How failures are reported (SshTransport's retry policy depends on it):
//   ConnectionError  the link failed before anything was started: trying again is safe
//   ConnectionLost   the link failed after exec() had sent its command
//   HostKeyError, AuthError   setup problems the user must fix; never retried
//   EnvironmentError the server answered but refused (permission denied, no sftp, ...)

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "engine/site/site.hpp"
#include "operators/ssh/host_key.hpp"
#include "operators/transport/transport.hpp"

struct ssh_session_struct;
struct sftp_session_struct;

namespace flow::ssh {

namespace detail {
class ChannelPump;
}

// The Site flow connects to for the gateway (jump host) of `site`: its host and port,
// user and identity (the jump's own, else the site's), the site's known_hosts file,
// is_gateway set so that every message names the gateway.
site::Site gateway_site(const site::Site& site);

struct SessionOptions {
  // TCP connect plus key exchange.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  // Any single blocking protocol step after that (opening a channel, one SFTP request).
  // Commands have their own timeout (exec()).
  std::chrono::milliseconds io_timeout{std::chrono::seconds(60)};
};

class SshSession {
 public:
  // Connects, verifies the host key and authenticates: a usable session or an exception.
  static std::unique_ptr<SshSession> open(const site::Site& site, const SessionOptions& options);

  // The steps of open(), one by one, for `flow sites check` and `flow sites trust`. The
  // constructor only records the settings; nothing touches the network before connect().
  SshSession(const site::Site& site, const SessionOptions& options);
  ~SshSession();
  SshSession(const SshSession&) = delete;
  SshSession& operator=(const SshSession&) = delete;

  // For a site with a jump host: opens the gateway's session (connect, host-key check,
  // login: HostKeyError, AuthError or ConnectionError naming the gateway) and its
  // direct-tcpip channel to the site's host:port. connect() calls it when not done yet.
  void connect_gateway();
  void connect();                         // throws ConnectionError
  HostKey server_host_key() const;        // after connect()
  HostKeyVerdict check_host_key() const;  // the offered key against the site's known_hosts
  void verify_host_key() const;           // throws HostKeyError unless the key matches
  void authenticate();                    // throws AuthError (or ConnectionError)
  std::string server_banner() const;      // "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"

  // False once the socket is closed or the session hit a protocol error.
  bool alive() const;

  // Sends an SSH_MSG_IGNORE and flushes it, answering anything the server sent meanwhile
  // (its keepalive requests): keeps NAT and firewall state fresh and notices a dead socket.
  // Returns alive().
  bool keepalive();

  // Runs `command` with /bin/sh on the site (exec /bin/sh -c '...' under the login
  // shell), stdin closed; collects stdout and stderr to EOF. A command still running after
  // `timeout` (<= 0: none) is sent SIGTERM and its channel closed; the result is exit 124
  // with a note on stderr, like timeout(1) and LocalTransport. A command killed by a
  // signal reports 255, like ssh(1).
  transport::CommandResult exec(const std::string& command, std::chrono::milliseconds timeout);

  // SFTP. Relative paths (and "~/...") are relative to the login directory.
  // put_file writes `path.tmp.<random>` then renames it over `path`, creating parent
  // directories; readers never see a partial file.
  void put_file(const std::string& path, const std::string& content, int mode);
  std::optional<std::string> get_file(const std::string& path, uint64_t offset);
  std::optional<transport::RemoteStat> stat(const std::string& path);

  // Streamed transfers for staging (see transport::Transport for what each does), on this
  // session's SFTP channel; memory use does not depend on the file's size. A refusal names
  // the site, the path and the server's reason; a write the server failed with a bare
  // "failure" is explained with the file system's free space when that is what ran out.
  // receive_file keeps up to 16 reads of 128 KiB in flight and hands them to `sink` in
  // order; when it returns or throws (the sink's exception too), every reply has been read
  // and the file is closed, so the session can go on.
  uint64_t send_file(const std::filesystem::path& local, uint64_t offset, const std::string& path,
                     int mode, const transport::ChunkSink& sent);
  uint64_t receive_file(const std::string& path, uint64_t offset, const transport::ChunkSink& sink);
  void rename(const std::string& from, const std::string& to);
  void remove(const std::string& path);
  void make_dirs(const std::string& dir);
  std::optional<transport::SpaceInfo> space(const std::string& path);

  const site::Site& site() const { return site_; }
  // "flowuser@127.0.0.1:2222"
  std::string endpoint() const;

 private:
  sftp_session_struct* sftp();
  [[noreturn]] void fail(const std::string& what) const;
  // Throws for a failed SFTP call on `path`; removes `remove` first when the link is up.
  // `code` is the call's SFTP status when other calls were made since (-1: ask libssh).
  [[noreturn]] void fail_sftp(const std::string& what, const std::string& path,
                              const std::string& remove = "", int code = -1) const;
  void make_parent_dirs(const std::string& path);
  void rename_over(const std::string& from, const std::string& to);
  // fail_sftp() for a failed write of `path`, naming the free space when the disk is full.
  [[noreturn]] void fail_write(const std::string& path);

  struct SessionFree {
    void operator()(ssh_session_struct* s) const;
  };
  struct SftpFree {
    void operator()(sftp_session_struct* s) const;
  };

  bool link_broken() const;  // after a failed call: the link, not the server, is at fault
  std::string who() const;   // "site 'NAME'", or "site 'NAME' (its gateway HOST:PORT)"
  std::string via() const;   // " through the gateway HOST:PORT" for a site with a jump host

  site::Site site_;
  SessionOptions options_;
  // A site behind a jump host: the gateway's session and the pump of its channel. Declared
  // before session_: the target session is closed first, then the pump, then the gateway.
  std::unique_ptr<SshSession> gateway_;
  std::unique_ptr<detail::ChannelPump> pump_;
  int pending_fd_ = -1;  // the target's end of the socketpair until ssh_connect() owns it
  std::unique_ptr<ssh_session_struct, SessionFree> session_;
  std::unique_ptr<sftp_session_struct, SftpFree> sftp_;  // declared after session_: freed first
};

}  // namespace flow::ssh
