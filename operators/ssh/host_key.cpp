#include "operators/ssh/host_key.hpp"

#include <libssh/libssh.h>

#include <cstdlib>

#include "engine/core/ascii.hpp"
#include "engine/core/error.hpp"
#include "engine/core/shell.hpp"
#include "engine/core/text_file.hpp"
#include "operators/ssh/errors.hpp"
#include "operators/ssh/libssh_handles.hpp"
#include "operators/ssh/ssh_session.hpp"

namespace flow::ssh {

namespace detail {

HostKey host_key_of(ssh_key key) {
  HostKey k;
  if (const char* t = ssh_key_type_to_char(ssh_key_type(key))) k.type = t;
  char* b64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &b64) == SSH_OK) k.base64 = take_string(b64);
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) == SSH_OK) {
    k.fingerprint = take_string(ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len));
    ssh_clean_pubkey_hash(&hash);
  }
  return k;
}

}  // namespace detail

HostKey HostKey::from_base64(const std::string& type, const std::string& base64) {
  ssh_key raw = nullptr;
  enum ssh_keytypes_e t = ssh_key_type_from_name(type.c_str());
  if (t == SSH_KEYTYPE_UNKNOWN || ssh_pki_import_pubkey_base64(base64.c_str(), t, &raw) != SSH_OK)
    throw InputError(SourceLocation{}, "not a public key of type '" + type + "'");
  detail::KeyPtr key(raw);
  return detail::host_key_of(key.get());
}

std::string_view to_string(HostKeyVerdict v) {
  switch (v) {
    case HostKeyVerdict::kMatch:
      return "match";
    case HostKeyVerdict::kUnknown:
      return "unknown";
    case HostKeyVerdict::kChanged:
      return "CHANGED";
    case HostKeyVerdict::kOtherType:
      return "CHANGED (other key type)";
    case HostKeyVerdict::kError:
      return "error";
  }
  return "error";
}

std::string_view to_string(TrustOutcome::Action a) {
  switch (a) {
    case TrustOutcome::Action::kAdded:
      return "added";
    case TrustOutcome::Action::kReplaced:
      return "replaced";
    case TrustOutcome::Action::kAlreadyTrusted:
      return "already_trusted";
  }
  return "added";
}

std::string known_hosts_name(std::string_view host, int port) {
  const std::string h = ascii_lower(host);
  if (port == 22) return h;
  return "[" + h + "]:" + std::to_string(port);
}

std::string known_hosts_line(std::string_view host, int port, const HostKey& key) {
  return known_hosts_name(host, port) + " " + key.type + " " + key.base64;
}

std::string remove_known_hosts_entries(std::string_view text, std::string_view host, int port,
                                       int* removed) {
  const std::string name = known_hosts_name(host, port);
  std::string out;
  int dropped = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    size_t next = end == std::string_view::npos ? text.size() : end + 1;
    std::string line(text.substr(pos, next - pos));
    pos = next;
    std::string body = line;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r'))
      body.pop_back();
    size_t first = body.find_first_not_of(" \t");
    bool entry = first != std::string::npos && body[first] != '#';
    // Wildcard patterns cover other hosts too: keep them (they are not "this host's" line).
    std::string patterns =
        entry ? body.substr(first, body.find_first_of(" \t", first) - first) : "";
    bool wildcard = patterns.find_first_of("*?!") != std::string::npos;
    if (entry && !wildcard) {
      struct ssh_knownhosts_entry* e = nullptr;
      int rc = ssh_known_hosts_parse_line(name.c_str(), body.c_str() + first, &e);
      if (e) ssh_knownhosts_entry_free(e);
      if (rc == SSH_OK) {
        ++dropped;
        continue;
      }
    }
    out += line;
  }
  if (removed) *removed = dropped;
  return out;
}

std::filesystem::path known_hosts_file(const site::Site& site) {
  if (!site.known_hosts.empty()) return site.known_hosts;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home && *home ? home : ".") / ".ssh" / "known_hosts";
}

std::string host_key_refusal(const site::Site& site, HostKeyVerdict verdict, const HostKey& offered,
                             const std::string& error_detail) {
  const std::string file = known_hosts_file(site).string();
  const std::string hp = site.host + ":" + std::to_string(site.port);
  const std::string head =
      site.is_gateway
          ? "site '" + site.name + "': refusing to connect to its gateway (jump host) " + hp + ": "
          : "site '" + site.name + "': refusing to connect to " + hp + ": ";
  const std::string key = offered.type + " key " + offered.fingerprint;
  const std::string trust_cmd = "flow sites trust " + shell_quote(site.name);
  switch (verdict) {
    case HostKeyVerdict::kMatch:
      return "";
    case HostKeyVerdict::kUnknown: {
      std::error_code ec;
      bool exists = std::filesystem::exists(file, ec);
      return head + "its host key is unknown (" +
             (exists ? "no entry for " + known_hosts_name(site.host, site.port) + " in " + file
                     : "the known_hosts file " + file + " does not exist") +
             ").\n  The server offers " + key +
             ".\n  If that is the fingerprint your site publishes, trust it with: " + trust_cmd;
    }
    case HostKeyVerdict::kChanged:
    case HostKeyVerdict::kOtherType:
      return head + "its host key has CHANGED since it was recorded in " + file +
             (verdict == HostKeyVerdict::kOtherType ? " (the recorded key is of another type)"
                                                    : "") +
             ".\n  Someone may be intercepting the connection (man-in-the-middle), or the "
             "administrators replaced the key.\n  The server now offers " +
             key +
             ".\n  If your site confirms the new fingerprint, remove the old entry and trust "
             "the new key:\n    ssh-keygen -R " +
             shell_quote(known_hosts_name(site.host, site.port)) + " -f " + shell_quote(file) +
             " && " + trust_cmd + "\n  or in one step: " + trust_cmd + " --replace";
    case HostKeyVerdict::kError:
      break;
  }
  return head + "cannot check its host key against " + file +
         (error_detail.empty() ? "" : " (" + error_detail + ")") +
         ".\n  Check that the file is readable and well-formed; the server offers " + key + ".";
}

TrustOutcome trust(const site::Site& site, bool replace,
                   std::chrono::milliseconds connect_timeout) {
  if (site.transport != site::Transport::kSsh)
    throw InputError(site.where, "site '" + site.name + "' uses transport " +
                                     std::string(site::to_string(site.transport)) +
                                     ": only ssh sites have a host key to trust");
  SessionOptions options;
  options.connect_timeout = connect_timeout;
  SshSession session(site, options);
  session.connect();

  TrustOutcome out;
  out.host = site.host;
  out.port = site.port;
  out.gateway = site.is_gateway;
  out.key = session.server_host_key();
  out.line = known_hosts_line(site.host, site.port, out.key);
  out.file = known_hosts_file(site);
  std::error_code ec;
  if (std::filesystem::is_symlink(out.file, ec)) {
    auto target = std::filesystem::canonical(out.file, ec);
    if (!ec) out.file = target;  // rewrite the file, keep the link
  }
  HostKeyVerdict verdict = session.check_host_key();
  if (verdict == HostKeyVerdict::kMatch) {
    out.action = TrustOutcome::Action::kAlreadyTrusted;
    return out;
  }
  std::string text;
  if (std::filesystem::exists(out.file, ec)) {
    auto content = read_file(out.file);
    if (!content)
      throw EnvironmentError("site '" + site.name + "': cannot read " + out.file.string() +
                             "; check its permissions");
    text = *content;
  }
  if (verdict == HostKeyVerdict::kError)
    throw EnvironmentError(host_key_refusal(site, verdict, out.key));
  if (verdict == HostKeyVerdict::kChanged || verdict == HostKeyVerdict::kOtherType) {
    if (!replace)
      throw HostKeyError(
          "site '" + site.name + "': not trusting the key of " +
          (site.is_gateway ? "its gateway (jump host) " : "") + site.host + ":" +
          std::to_string(site.port) + ": " + out.file.string() +
          " already has a DIFFERENT key for " + known_hosts_name(site.host, site.port) +
          ".\n  Someone may be intercepting the connection (man-in-the-middle), or the "
          "administrators replaced the key.\n  The server now offers " +
          out.key.type + " key " + out.key.fingerprint +
          ".\n  If your site confirms this fingerprint, replace the old entry with: flow sites "
          "trust " +
          shell_quote(site.name) + " --replace");
    text = remove_known_hosts_entries(text, site.host, site.port, &out.removed);
    out.action = TrustOutcome::Action::kReplaced;
  } else {
    out.action = TrustOutcome::Action::kAdded;
  }
  if (!text.empty() && text.back() != '\n') text += '\n';
  text += out.line + "\n";
  if (out.file.has_parent_path() && !std::filesystem::exists(out.file.parent_path(), ec)) {
    std::filesystem::create_directories(out.file.parent_path(), ec);
    if (!ec && out.file.parent_path().filename() == ".ssh")
      std::filesystem::permissions(out.file.parent_path(), std::filesystem::perms::owner_all, ec);
  }
  write_file_atomic(out.file, text);
  // libssh reads the file again: the entry must now be accepted exactly as written.
  if (session.check_host_key() != HostKeyVerdict::kMatch)
    throw EnvironmentError("site '" + site.name + "': wrote '" + out.line + "' to " +
                           out.file.string() +
                           " but the key is still not accepted; check the file by hand");
  return out;
}

std::vector<TrustOutcome> trust_all(const site::Site& site, bool replace,
                                    std::chrono::milliseconds connect_timeout) {
  std::vector<TrustOutcome> out;
  // The gateway first: the site's own key can only be read through a trusted gateway.
  if (site.transport == site::Transport::kSsh && site.jump)
    out.push_back(trust(gateway_site(site), replace, connect_timeout));
  out.push_back(trust(site, replace, connect_timeout));
  return out;
}

}  // namespace flow::ssh
