#pragma once
// A small reader for OpenSSH client config files (~/.ssh/config), for sites that say
// `ssh_config: true|ALIAS` (docs/SSH.md). It answers one question: what do the `Host`
// blocks of this file say about HostName, Port, User, IdentityFile and ProxyJump for one
// alias? libssh 0.10 could parse the file itself, but it turns ProxyJump into a ProxyCommand
// running OpenSSH, and flow makes the hop itself (operators/ssh/), so it reads these five
// keywords here. Plain text only: no libssh, no network.
//
// Rules, as ssh_config(5): keywords are case-insensitive and may be followed by spaces or
// `=`; `#` starts a comment line; a `Host` line lists patterns (`*` any run of characters,
// `?` one character, `!pattern` excludes) and the lines after it apply when one pattern
// matches the alias and no negated one does; lines before the first `Host` apply to every
// host; for each keyword the FIRST value found wins. `Match` blocks are skipped and
// `Include` is not followed (see docs/SSH.md for what that means for a site).

#include <optional>
#include <string>
#include <string_view>

namespace flow::site {

// One value and the line (1-based) it came from.
struct SshConfigValue {
  std::string value;
  int line = 0;
};

struct SshConfigEntry {
  std::optional<SshConfigValue> hostname, port, user, identity_file, proxy_jump;
  // True when a `Host` line matched the alias through a pattern other than a bare `*`:
  // the file really has an entry for it, not only defaults for every host.
  bool named = false;
};

// True when `host` matches one OpenSSH pattern (`*` and `?`, case-insensitive).
bool ssh_pattern_match(std::string_view pattern, std::string_view host);

// What `config` (the text of an ssh_config file) says for `alias`. `%h` in HostName
// becomes the alias; `~` at the start of IdentityFile stays as written (the caller
// expands it).
SshConfigEntry ssh_config_lookup(std::string_view config, std::string_view alias);

}  // namespace flow::site
