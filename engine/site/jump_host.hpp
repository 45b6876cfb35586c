#pragma once
// Parsing a jump host, `[user@]host[:port]` (the site key `jump:` and ssh_config's
// ProxyJump; docs/REFERENCE.md §5). JumpHost, parse_jump() and JumpHost::spec() are
// declared in site.hpp with the Site they belong to; this header adds what the site
// parser needs besides: whether the text named a port.

#include <optional>
#include <string>
#include <string_view>

#include "engine/site/site.hpp"

namespace flow::site {

// parse_jump(), and whether the spec named a port (a gateway's ssh_config entry may then
// supply one). `port_given` may be null.
std::optional<JumpHost> parse_jump_spec(std::string_view spec, std::string& error,
                                        bool* port_given);

}  // namespace flow::site
