#pragma once
// Helpers for the SSH tests against the real test cluster (scripts/test-cluster.sh): its
// settings (`test-cluster.sh env`), temp dirs, and running local shell commands.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "engine/site/site.hpp"
#include "tests/support/temp_dir.hpp"

namespace ssh_test {

struct Shell {
  int code = -1;
  std::string out;
};

// Runs `command` with /bin/sh here; stdout captured, stderr passed through.
inline Shell sh(const std::string& command) {
  Shell r;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string cluster_script() {
  return std::string(FLOW_SOURCE_DIR) + "/scripts/test-cluster.sh";
}

// FLOW_TEST_* settings from `test-cluster.sh env`.
inline const std::map<std::string, std::string>& cluster_env() {
  static const std::map<std::string, std::string> env = [] {
    std::map<std::string, std::string> m;
    std::istringstream in(sh("'" + cluster_script() + "' env").out);
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
    }
    return m;
  }();
  return env;
}

inline std::string env(const std::string& key) {
  auto it = cluster_env().find(key);
  return it == cluster_env().end() ? "" : it->second;
}

// The test cluster as a site, as sites/localslurm.yaml describes it.
inline flow::site::Site cluster_site(const std::string& name = "ssh-e2e") {
  flow::site::Site s;
  s.name = name;
  s.transport = flow::site::Transport::kSsh;
  s.host = env("FLOW_TEST_SSH_HOST");
  s.port = std::stoi(env("FLOW_TEST_SSH_PORT"));
  s.user = env("FLOW_TEST_SSH_USER");
  s.identity = env("FLOW_TEST_SSH_KEY");
  s.known_hosts = env("FLOW_TEST_KNOWN_HOSTS");
  s.scheduler = "slurm";
  s.partition = env("FLOW_TEST_SLURM_PARTITION");
  s.workdir = env("FLOW_TEST_WORKDIR");
  return s;
}

inline std::string random_name() {
  std::random_device rd;
  std::ostringstream o;
  o << std::hex << rd() << rd();
  return o.str();
}

using flow::test::TempDir;

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void spit(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace ssh_test
