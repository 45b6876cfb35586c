#pragma once
// Internal to operators/ssh: the small helpers ssh_session.cpp (connection, commands) and
// ssh_files.cpp (SFTP) share.

#include <cstddef>
#include <string>

namespace flow::ssh::detail {

inline constexpr size_t kChunk = 32 * 1024;  // read/write size: well under every server's limit
// Commands longer than this go to the server's shell through stdin, not as its argument
// (Linux refuses an argument of 128 KiB or more; the margin is for the quoting).
inline constexpr size_t kLongestArgument = 64 * 1024;

// 'text' for messages (not shell quoting: the text is shown, never run).
inline std::string quote(const std::string& s) {
  return "'" + s + "'";
}

// SFTP has no "~": a relative path is relative to the login directory.
inline std::string sftp_path(const std::string& path) {
  if (path == "~") return ".";
  if (path.rfind("~/", 0) == 0) return path.substr(2);
  return path;
}

inline std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace flow::ssh::detail
