#pragma once
// Shell commands for the install and package tests: run, capture, exit code.

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace flow::test {

struct Shell {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs `command` with /bin/sh (the caller quotes), stdin from /dev/null.
inline Shell sh(const std::string& command) {
  TempDir io("flow-sh");
  const auto out = io / "out", err = io / "err";
  const std::string full =
      "( " + command + " ) </dev/null >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(full.c_str());
  Shell r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

inline std::string quoted(const std::filesystem::path& p) {
  std::string out = "'";
  for (char c : p.string())
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A clean environment for an installed flow: no user site directories, no FLOW_* from the
// test run; HOME and the working directory are `dir`.
inline std::string in_clean_env(const std::filesystem::path& dir, const std::string& command) {
  return "cd " + quoted(dir) +
         " && env -u FLOW_SITES_PATH -u FLOW_HOME -u FLOW_DB HOME=" + quoted(dir) +
         " XDG_CONFIG_HOME=" + quoted(dir / ".config") + " " + command;
}

}  // namespace flow::test
