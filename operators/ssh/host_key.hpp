#pragma once
// Host keys: what a server offered, how it compares with the site's known_hosts file, the
// message a refusal prints, and `flow sites trust` (recording a key on purpose).
//
// Policy: only the site's own known_hosts file counts (no /etc/ssh/ssh_known_hosts, no
// ~/.ssh/config). A key that is unknown or differs from the recorded one is refused, never
// accepted silently; the user records it with `flow sites trust NAME` after comparing the
// fingerprint with the one the site publishes.

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/site/site.hpp"

namespace flow::ssh {

// A public key as known_hosts stores it.
struct HostKey {
  std::string type;         // "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"
  std::string base64;       // the key blob, as in known_hosts and *.pub files
  std::string fingerprint;  // "SHA256:<unpadded base64>", as ssh-keygen -l prints it

  // Parses "TYPE BASE64" (a known_hosts key or a *.pub line without the comment) and
  // computes the fingerprint. Throws InputError when the key does not parse.
  static HostKey from_base64(const std::string& type, const std::string& base64);
};

// How the offered key compares with the known_hosts file.
enum class HostKeyVerdict {
  kMatch,      // the file has this key for host:port
  kUnknown,    // no entry for host:port, or the file does not exist
  kChanged,    // an entry for host:port with a different key: refuse, possible attack
  kOtherType,  // entries for host:port, but none of the offered key's type: like kChanged
  kError,      // the file could not be read or parsed
};

std::string_view to_string(HostKeyVerdict v);  // "match", "unknown", "CHANGED", ...

// The name known_hosts files use for host:port: "host" for port 22, "[host]:port"
// otherwise; lower case, like OpenSSH and libssh.
std::string known_hosts_name(std::string_view host, int port);

// One known_hosts line without the newline: "[127.0.0.1]:2222 ssh-ed25519 AAAA...".
std::string known_hosts_line(std::string_view host, int port, const HostKey& key);

// `text` (a known_hosts file) without the entries for host:port, plain or hashed (|1|...);
// comments, blank lines and other hosts are kept. `*removed` (if given) counts the lines
// dropped.
std::string remove_known_hosts_entries(std::string_view text, std::string_view host, int port,
                                       int* removed = nullptr);

// The site's known_hosts file: `known_hosts:`, or ~/.ssh/known_hosts when that is empty.
std::filesystem::path known_hosts_file(const site::Site& site);

// Why a connection to `site` is refused, and what to do: names the site, host:port, the
// file, the offered key's type and SHA256 fingerprint, says whether the key is unknown or
// CHANGED (possible man-in-the-middle) and how to trust it (`flow sites trust NAME`; for a
// changed key, remove the old entry first or use --replace).
std::string host_key_refusal(const site::Site& site, HostKeyVerdict verdict, const HostKey& offered,
                             const std::string& error_detail = "");

// What `flow sites trust` did.
struct TrustOutcome {
  enum class Action { kAdded, kReplaced, kAlreadyTrusted };
  Action action = Action::kAdded;
  HostKey key;                 // the key the server offered
  std::string line;            // the known_hosts line for it
  std::filesystem::path file;  // the known_hosts file written (or checked)
  int removed = 0;             // old lines dropped (kReplaced)
  std::string host;            // whose key: the site's host:port, or its gateway's
  int port = 22;
  bool gateway = false;  // the key of the site's gateway (jump host)
};

std::string_view to_string(TrustOutcome::Action a);  // "added", "replaced", "already_trusted"

// Connects to the site without authenticating, reads its host key and records it in the
// site's known_hosts file (created, with its directory, when missing). When the file has a
// different key for host:port, refuses with a HostKeyError unless `replace`, which drops
// the old entries first. Throws ConnectionError when the host cannot be reached, InputError
// when the site does not use ssh.
// For a site behind a jump host the connection goes through the gateway, whose key must
// then already be trusted (trust_all() does both).
TrustOutcome trust(const site::Site& site, bool replace,
                   std::chrono::milliseconds connect_timeout = std::chrono::seconds(10));

// `flow sites trust`: trust() for every hop, the gateway (if any) first, then the site;
// one outcome each, in that order. Both keys go to the site's known_hosts file.
std::vector<TrustOutcome> trust_all(
    const site::Site& site, bool replace,
    std::chrono::milliseconds connect_timeout = std::chrono::seconds(10));

}  // namespace flow::ssh
