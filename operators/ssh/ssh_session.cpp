// Longer than our usual 600 lines: the session's commands, its SFTP file calls and the
// streamed calls staging uses share the private helpers here (sftp_path, fail_sftp).
#include "operators/ssh/ssh_session.hpp"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "engine/core/byte_size.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/shell.hpp"
#include "operators/ssh/channel_pump.hpp"
#include "operators/ssh/errors.hpp"
#include "operators/ssh/libssh_handles.hpp"

namespace flow::ssh {

using namespace detail;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr size_t kChunk = 32 * 1024;  // SFTP read/write size: well under every server's limit

void init_libssh() {
  // libssh initializes itself when loaded; this only makes the order explicit for static
  // links. ssh_init() is reference counted and thread-safe.
  [[maybe_unused]] static const int rc = ssh_init();
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

// SFTP has no "~": a relative path is relative to the login directory.
std::string sftp_path(const std::string& path) {
  if (path == "~") return ".";
  if (path.rfind("~/", 0) == 0) return path.substr(2);
  return path;
}

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

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
  std::string wrapped = "exec /bin/sh -c " + shell_quote(command);
  if (ssh_channel_request_exec(ch, wrapped.c_str()) != SSH_OK) {
    if (!link_broken()) fail("run a command");
    throw lost("while starting");
  }
  ssh_channel_send_eof(ch);  // the command's stdin is empty

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

// Bytes per SFTP read/write request of a streamed transfer. OpenSSH's sftp-server accepts
// up to 256 KiB; libssh 0.10 waits for each reply, so fewer, larger requests go faster.
constexpr size_t kStreamChunk = 128 * 1024;

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
  if (offset > 0 && sftp_seek64(file.get(), offset) < 0) fail_sftp("seek in", path);
  std::vector<char> buf(kStreamChunk);
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = sftp_read(file.get(), buf.data(), buf.size());
    if (n < 0) fail_sftp("read", path);
    if (n == 0) break;
    sink(buf.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  return total;
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
