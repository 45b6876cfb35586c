// SshSession: one libssh session to a site (through its gateway when it has one): connect,
// verify the host key, authenticate, run commands on exec channels, keep the link alive.
// The SFTP file calls are in ssh_files.cpp.
#include "operators/ssh/ssh_session.hpp"

#include <libssh/libssh.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/shell.hpp"
#include "operators/ssh/channel_pump.hpp"
#include "operators/ssh/errors.hpp"
#include "operators/ssh/libssh_handles.hpp"
#include "operators/ssh/session_detail.hpp"

namespace flow::ssh {

using namespace detail;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

void init_libssh() {
  // libssh initializes itself when loaded; this only makes the order explicit for static
  // links. ssh_init() is reference counted and thread-safe.
  [[maybe_unused]] static const int rc = ssh_init();
}

void set_timeout(ssh_session s, milliseconds d) {
  if (d.count() <= 0) d = milliseconds(1);
  long sec = static_cast<long>(d.count() / 1000);
  long usec = static_cast<long>(d.count() % 1000) * 1000;
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &sec);
  ssh_options_set(s, SSH_OPTIONS_TIMEOUT_USEC, &usec);
}

}  // namespace

void SshSession::SessionFree::operator()(ssh_session_struct* s) const {
  if (ssh_is_connected(s)) ssh_disconnect(s);
  ssh_free(s);
}

void SshSession::SftpFree::operator()(sftp_session_struct* s) const {
  sftp_free(s);
}

std::unique_ptr<SshSession> SshSession::open(const site::Site& site,
                                             const SessionOptions& options) {
  auto s = std::make_unique<SshSession>(site, options);
  s->connect();
  s->verify_host_key();
  s->authenticate();
  return s;
}

SshSession::SshSession(const site::Site& site, const SessionOptions& options)
    : site_(site), options_(options) {
  init_libssh();
  session_.reset(ssh_new());
  if (!session_) throw EnvironmentError("cannot create an SSH session (out of memory)");
  ssh_session s = session_.get();
  auto set = [&](ssh_options_e option, const void* value, const char* what) {
    if (ssh_options_set(s, option, value) != SSH_OK)
      throw InputError(site_.where, who() + ": invalid " + what + ": " + ssh_get_error(s));
  };
  // Only what the site file says counts: no ~/.ssh/config, no global known_hosts, strict
  // host-key checking (libssh would otherwise accept unknown keys when the config says so).
  bool process_config = false;
  set(SSH_OPTIONS_PROCESS_CONFIG, &process_config, "ssh options");
  int log_level = SSH_LOG_NOLOG;  // libssh logs could show key exchange details; keep quiet
  set(SSH_OPTIONS_LOG_VERBOSITY, &log_level, "log level");
  set(SSH_OPTIONS_HOST, site_.host.c_str(), "host");
  unsigned int port = static_cast<unsigned int>(site_.port);
  set(SSH_OPTIONS_PORT, &port, "port");
  if (!site_.user.empty()) set(SSH_OPTIONS_USER, site_.user.c_str(), "user");
  std::string known = known_hosts_file(site_).string();
  set(SSH_OPTIONS_KNOWNHOSTS, known.c_str(), "known_hosts");
  set(SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null", "global known_hosts");
  int strict = 1;
  set(SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict, "host key checking");
  int nodelay = 1;
  set(SSH_OPTIONS_NODELAY, &nodelay, "TCP_NODELAY");
  set_timeout(s, options_.connect_timeout);
}

SshSession::~SshSession() {
  sftp_.reset();
  session_.reset();  // closes its socket: the pump sees end-of-file
  if (pending_fd_ >= 0) ::close(pending_fd_);
  pump_.reset();
  gateway_.reset();
}

std::string SshSession::endpoint() const {
  std::string user = site_.user;
  if (user.empty()) {
    char* u = nullptr;
    ssh_options_get(session_.get(), SSH_OPTIONS_USER, &u);
    user = take_string(u);
  }
  return (user.empty() ? "" : user + "@") + site_.host + ":" + std::to_string(site_.port);
}

void SshSession::connect() {
  if (site_.jump) connect_gateway();
  pending_fd_ = -1;  // from ssh_connect() on, libssh owns (and closes) the socket
  if (ssh_connect(session_.get()) != SSH_OK) {
    std::string detail = "cannot connect to " +
                         std::string(site_.is_gateway ? "the gateway " : "") + site_.host + ":" +
                         std::to_string(site_.port) + via() + ": " + ssh_get_error(session_.get());
    throw ConnectionError(who() + ": " + detail +
                              ". Check that the host is up and that the port is reachable from "
                              "here (VPN, firewall), then run `flow sites check " +
                              site_.name + "`.",
                          detail);
  }
  set_timeout(session_.get(), options_.io_timeout);
}

site::Site gateway_site(const site::Site& site) {
  site::Site g = site;
  g.host = site.jump ? site.jump->host : "";
  g.port = site.jump ? site.jump->port : 22;
  if (site.jump && !site.jump->user.empty()) g.user = site.jump->user;
  if (site.jump && !site.jump->identity.empty()) g.identity = site.jump->identity;
  g.jump.reset();
  g.is_gateway = true;
  return g;
}

std::string SshSession::who() const {
  if (!site_.is_gateway) return "site '" + site_.name + "'";
  return "site '" + site_.name + "' (its gateway " + site_.host + ":" + std::to_string(site_.port) +
         ")";
}

std::string SshSession::via() const {
  if (!site_.jump) return "";
  return " through the gateway " + site_.jump->host + ":" + std::to_string(site_.jump->port);
}

void SshSession::connect_gateway() {
  if (!site_.jump || gateway_) return;
  // The gateway is checked exactly like a site: its own host key against the site's
  // known_hosts file (refused with a message naming the gateway), then public-key login.
  gateway_ = SshSession::open(gateway_site(site_), options_);
  ssh_session g = gateway_->session_.get();
  const std::string hp = site_.host + ":" + std::to_string(site_.port);
  const std::string gw = site_.jump->host + ":" + std::to_string(site_.jump->port);
  ChannelPtr channel(ssh_channel_new(g));
  if (!channel) gateway_->fail("open a channel");
  if (ssh_channel_open_forward(channel.get(), site_.host.c_str(), site_.port, "127.0.0.1", 0) !=
      SSH_OK) {
    std::string detail =
        "the gateway " + gw + " could not open a connection to " + hp + ": " + ssh_get_error(g);
    throw ConnectionError(who() + ": " + detail +
                              ". Check that the gateway allows TCP forwarding to it "
                              "(AllowTcpForwarding, PermitOpen) and can reach it, then run `flow "
                              "sites check " +
                              site_.name + "`.",
                          detail);
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    throw EnvironmentError(
        who() + ": cannot create a socket pair for the gateway: " + std::strerror(errno));
  pump_ = std::make_unique<ChannelPump>(g, std::move(channel), sv[0]);
  pending_fd_ = sv[1];
  socket_t fd = sv[1];
  if (ssh_options_set(session_.get(), SSH_OPTIONS_FD, &fd) != SSH_OK)
    throw EnvironmentError(
        who() + ": cannot hand the gateway's channel to libssh: " + ssh_get_error(session_.get()));
}

std::string SshSession::server_banner() const {
  const char* b = ssh_get_serverbanner(session_.get());
  return b ? b : "";
}

HostKey SshSession::server_host_key() const {
  ssh_key raw = nullptr;
  if (ssh_get_server_publickey(session_.get(), &raw) != SSH_OK || !raw)
    throw EnvironmentError(who() + ": the server at " + site_.host + ":" +
                           std::to_string(site_.port) +
                           " offered no host key: " + ssh_get_error(session_.get()));
  KeyPtr key(raw);
  return host_key_of(key.get());
}

HostKeyVerdict SshSession::check_host_key() const {
  switch (ssh_session_is_known_server(session_.get())) {
    case SSH_KNOWN_HOSTS_OK:
      return HostKeyVerdict::kMatch;
    case SSH_KNOWN_HOSTS_CHANGED:
      return HostKeyVerdict::kChanged;
    case SSH_KNOWN_HOSTS_OTHER:
      return HostKeyVerdict::kOtherType;
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
      return HostKeyVerdict::kUnknown;
    case SSH_KNOWN_HOSTS_ERROR:
      break;
  }
  return HostKeyVerdict::kError;
}

void SshSession::verify_host_key() const {
  HostKey offered = server_host_key();
  HostKeyVerdict verdict = check_host_key();
  if (verdict == HostKeyVerdict::kMatch) return;
  throw HostKeyError(
      host_key_refusal(site_, verdict, offered,
                       verdict == HostKeyVerdict::kError ? ssh_get_error(session_.get()) : ""));
}

void SshSession::authenticate() {
  ssh_session s = session_.get();
  std::string as = "'" + endpoint() + "'";
  std::string prefix = who() + ": authentication as " + as + " failed: ";
  std::string where = site_.where.file.empty() ? "" : " (in " + site_.where.file + ")";
  int rc = SSH_AUTH_ERROR;
  std::string key_desc;
  if (!site_.identity.empty()) {
    ssh_key raw = nullptr;
    int irc = ssh_pki_import_privkey_file(site_.identity.c_str(), nullptr, nullptr, nullptr, &raw);
    KeyPtr key(raw);
    if (irc != SSH_OK || !key) {
      std::error_code ec;
      bool exists = std::filesystem::exists(site_.identity, ec);
      throw AuthError(prefix + "cannot load the private key " + quote(site_.identity) + " (" +
                      (exists ? "unreadable, not a private key, or protected by a passphrase"
                              : "no such file") +
                      "). flow never prompts: use a key without a passphrase, or load it into "
                      "ssh-agent and leave `identity:` empty" +
                      where + ".");
    }
    ssh_key rawpub = nullptr;
    if (ssh_pki_export_privkey_to_pubkey(key.get(), &rawpub) == SSH_OK && rawpub) {
      KeyPtr pub(rawpub);
      HostKey k = host_key_of(pub.get());
      key_desc = k.type + " " + k.fingerprint;
    }
    rc = ssh_userauth_publickey(s, nullptr, key.get());
    if (rc == SSH_AUTH_SUCCESS) return;
    if (rc == SSH_AUTH_ERROR && link_broken()) fail("authenticate");
    std::string user = site_.user.empty() ? "the user" : site_.user;
    throw AuthError(
        prefix + "the server refused the key " + quote(site_.identity) +
        (key_desc.empty() ? "" : " (" + key_desc + ")") +
        (rc == SSH_AUTH_PARTIAL ? "; it asks for a second factor, which flow cannot answer" : "") +
        ". Check that its public key (" + site_.identity + ".pub) is in ~" +
        (site_.user.empty() ? "" : site_.user) + "/.ssh/authorized_keys on " + site_.host +
        ", that `user:` is " + user + "'s login there, and that `identity:`" + where +
        " names the right key.");
  }
  rc = ssh_userauth_agent(s, nullptr);
  if (rc == SSH_AUTH_SUCCESS) return;
  if (rc == SSH_AUTH_ERROR && link_broken()) fail("authenticate");
  const char* sock = std::getenv("SSH_AUTH_SOCK");
  throw AuthError(prefix + "no `identity:` is set" + where + ", so flow asked ssh-agent" +
                  (sock && *sock ? std::string(" (SSH_AUTH_SOCK=") + sock + ")"
                                 : std::string(" but SSH_AUTH_SOCK is not set")) +
                  ", and no agent key was accepted. Set `identity:` to a private key file, or run "
                  "`ssh-add KEY` in the environment flow runs in.");
}

bool SshSession::alive() const {
  ssh_session s = session_.get();
  return ssh_is_connected(s) && !(ssh_get_status(s) & (SSH_CLOSED | SSH_CLOSED_ERROR));
}

bool SshSession::link_broken() const {
  // A server that refuses something says so (SSH_REQUEST_DENIED) over a live link; socket
  // errors, EOF and timeouts are everything else.
  return !alive() || ssh_get_error_code(session_.get()) != SSH_REQUEST_DENIED;
}

bool SshSession::keepalive() {
  if (!alive()) return false;
  if (ssh_send_ignore(session_.get(), "flow keepalive") != SSH_OK) return false;
  int ms = static_cast<int>(std::min<milliseconds::rep>(options_.io_timeout.count(), 60000));
  if (ssh_blocking_flush(session_.get(), ms) != SSH_OK) return false;
  return alive();
}

void SshSession::fail(const std::string& what) const {
  std::string detail = "lost the connection to " + site_.host + ":" + std::to_string(site_.port) +
                       " while trying to " + what + ": " + ssh_get_error(session_.get());
  if (!link_broken())
    throw EnvironmentError(who() + ": the server at " + site_.host + ":" +
                           std::to_string(site_.port) + " refused to " + what + ": " +
                           ssh_get_error(session_.get()));
  throw ConnectionError(who() + ": " + detail, detail);
}

transport::CommandResult SshSession::exec(const std::string& command, milliseconds timeout) {
  ssh_session s = session_.get();
  ChannelPtr channel(ssh_channel_new(s));
  if (!channel) fail("open a channel");
  ssh_channel ch = channel.get();
  if (ssh_channel_open_session(ch) != SSH_OK) fail("open a channel");
  // From here on the server may have started the command.
  auto lost = [&](const char* when) -> ConnectionLost {
    std::string shown = command.size() > 120 ? command.substr(0, 117) + "..." : command;
    std::string detail = "the connection to " + site_.host + ":" + std::to_string(site_.port) +
                         " broke " + when + " `" + shown + "` (" + ssh_get_error(s) + ")";
    return ConnectionLost(who() + ": " + detail +
                              ", so it may or may not have run. flow does not run such a command "
                              "again by itself; check its effect (for a submission: squeue or "
                              "sacct by job name) before retrying.",
                          detail);
  };
  // The command reaches the server as one argument of `$SHELL -c`, and Linux refuses to
  // start a program with an argument of 128 KiB or more (MAX_ARG_STRLEN): a longer one (an
  // allocation round placing hundreds of task scripts) goes through stdin instead, read by
  // the shell into a variable and run with eval, its stdin empty as for any other. Its
  // last line is a marker: a command cut off on the way (the connection broke) ends
  // without it and does not run at all.
  const bool via_stdin = command.size() > kLongestArgument;
  static const std::string kEnd = "# end of the command from flow";
  std::string wrapped =
      "exec /bin/sh -c " + shell_quote(via_stdin ? "c=$(cat) && [ \"${c##*\n}\" = '" + kEnd +
                                                       "' ] || exit 125\neval \"$c\" </dev/null"
                                                 : command);
  if (ssh_channel_request_exec(ch, wrapped.c_str()) != SSH_OK) {
    if (!link_broken()) fail("run a command");
    throw lost("while starting");
  }
  const std::string input = via_stdin ? command + "\n" + kEnd + "\n" : std::string();
  for (size_t sent = 0; sent < input.size();) {
    const size_t n = std::min(input.size() - sent, kChunk);
    const int w = ssh_channel_write(ch, input.data() + sent, static_cast<uint32_t>(n));
    if (w == SSH_ERROR) throw lost("while sending");
    sent += static_cast<size_t>(w);
  }
  ssh_channel_send_eof(ch);  // the command's stdin ends (empty for all but a long one)

  transport::CommandResult r;
  const bool limited = timeout.count() > 0;
  const auto deadline = steady_clock::now() + timeout;
  std::array<char, kChunk> buf;
  for (;;) {
    bool got = false;
    for (int is_stderr = 0; is_stderr < 2; ++is_stderr) {
      for (;;) {
        int n = ssh_channel_read_nonblocking(ch, buf.data(), buf.size(), is_stderr);
        if (n == SSH_ERROR) throw lost("while running");
        if (n <= 0) break;  // nothing buffered (0) or end of stream (SSH_EOF)
        (is_stderr ? r.err : r.out).append(buf.data(), static_cast<size_t>(n));
        got = true;
      }
    }
    if (ssh_channel_is_eof(ch) || ssh_channel_is_closed(ch)) break;
    if (got) continue;
    auto now = steady_clock::now();
    if (limited && now >= deadline) {
      ssh_channel_request_send_signal(ch, "TERM");
      r.exit_status = 124;
      r.err += "\nflow: timed out after " + human_duration(timeout) + " on site '" + site_.name +
               "'; sent SIGTERM and closed the channel\n";
      return r;  // the channel is closed by its owner
    }
    auto wait = milliseconds(100);
    if (limited)
      wait = std::min(wait,
                      std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1));
    if (ssh_channel_poll_timeout(ch, static_cast<int>(wait.count()), 0) == SSH_ERROR)
      throw lost("while running");
  }
  int status = ssh_channel_get_exit_status(ch);
  if (status < 0) {
    if (!alive()) throw lost("at the end of");
    status = 255;  // no exit-status: killed by a signal (ssh(1) says 255 too)
    r.err += "flow: the command ended without an exit status (killed by a signal?)\n";
  }
  r.exit_status = status;
  return r;
}

}  // namespace flow::ssh
