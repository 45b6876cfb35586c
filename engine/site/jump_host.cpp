#include "engine/site/jump_host.hpp"

#include <algorithm>
#include <cctype>

namespace flow::site {

std::optional<JumpHost> parse_jump_spec(std::string_view spec, std::string& error,
                                        bool* port_given) {
  if (port_given) *port_given = false;
  std::string_view s = spec;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  if (s.rfind("ssh://", 0) == 0) s.remove_prefix(6);
  if (s.empty()) {
    error = "is empty; write [user@]host[:port]";
    return std::nullopt;
  }
  if (s.find(',') != std::string_view::npos) {
    error = "'" + std::string(s) +
            "' names several gateways; flow goes through one jump host ([user@]host[:port])";
    return std::nullopt;
  }
  if (s.find_first_of(" \t/") != std::string_view::npos) {
    error = "'" + std::string(s) + "' is not [user@]host[:port]";
    return std::nullopt;
  }
  JumpHost j;
  if (auto at = s.rfind('@'); at != std::string_view::npos) {
    j.user = std::string(s.substr(0, at));
    s.remove_prefix(at + 1);
    if (j.user.empty() || j.user.find('@') != std::string::npos) {
      error = "'" + std::string(spec) + "' has an empty or malformed user before '@'";
      return std::nullopt;
    }
  }
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) {
      error = "'" + std::string(spec) + "' has '[' without ']' (write [address]:port)";
      return std::nullopt;
    }
    j.host = std::string(s.substr(1, close - 1));
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        error = "'" + std::string(spec) + "' has text after ']' that is not :port";
        return std::nullopt;
      }
      port = rest.substr(1);
      if (port.empty()) {
        error = "'" + std::string(spec) + "' ends in ':' without a port";
        return std::nullopt;
      }
    }
  } else if (auto colon = s.find(':'); colon != std::string_view::npos) {
    if (s.find(':', colon + 1) != std::string_view::npos) {
      error = "'" + std::string(spec) + "': write an IPv6 address in brackets, [address]:port";
      return std::nullopt;
    }
    j.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
    if (port.empty()) {
      error = "'" + std::string(spec) + "' ends in ':' without a port";
      return std::nullopt;
    }
  } else {
    j.host = std::string(s);
  }
  if (j.host.empty()) {
    error = "'" + std::string(spec) + "' has no host";
    return std::nullopt;
  }
  if (!port.empty()) {
    bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), [](char c) {
                    return std::isdigit(static_cast<unsigned char>(c));
                  });
    long n = digits ? std::stol(std::string(port)) : 0;
    if (!digits || n < 1 || n > 65535) {
      error = "port '" + std::string(port) + "' of '" + std::string(spec) +
              "' is not a number from 1 to 65535";
      return std::nullopt;
    }
    j.port = static_cast<int>(n);
    if (port_given) *port_given = true;
  }
  return j;
}

std::string JumpHost::spec() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return (user.empty() ? "" : user + "@") + h + (port == 22 ? "" : ":" + std::to_string(port));
}

std::optional<JumpHost> parse_jump(std::string_view spec, std::string& error) {
  return parse_jump_spec(spec, error, nullptr);
}

}  // namespace flow::site
