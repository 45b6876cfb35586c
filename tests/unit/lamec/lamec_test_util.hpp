#pragma once
// Helpers shared by the LAMEC tests.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "operators/lamec/lamec.hpp"
#include "tests/support/temp_dir.hpp"

namespace lamec_test {

namespace fs = std::filesystem;

inline const fs::path kBuiltInModules = fs::path(FLOW_SOURCE_DIR) / "sites" / "modules";

inline flow::lamec::ModuleCatalog builtin_modules() {
  return flow::lamec::ModuleCatalog::load({kBuiltInModules});
}

using flow::test::TempDir;

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Result {
  int code = -1;
  std::string out;  // stdout
};

// Runs a shell command line; stdout captured, stderr passed through unless redirected.
inline Result run(const std::string& cmd) {
  Result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `bash -n` on the script text: "" when the syntax is fine, else bash's complaint.
inline std::string bash_syntax_errors(const std::string& script) {
  TempDir d;
  auto f = d.write("job.sh", script);
  auto r = run("bash -n '" + f.string() + "' 2>&1");
  return r.code == 0 ? "" : (r.out.empty() ? "bash -n failed" : r.out);
}

}  // namespace lamec_test
