#include "engine/run/python_env.hpp"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/private_files.hpp"

namespace flow::run {

namespace {
bool executable(const std::filesystem::path& p) {
  return ::access(p.c_str(), X_OK) == 0;
}

std::string on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return {};
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    auto candidate = std::filesystem::path(dir) / name;
    if (executable(candidate)) return candidate.string();
  }
  return {};
}
}  // namespace

std::string resolve_python(const std::string& setting) {
  if (!setting.empty()) return setting;
  if (const char* env = std::getenv("FLOW_PYTHON"); env && *env) return env;
  if (executable("/usr/bin/python3")) return "/usr/bin/python3";
  return on_path("python3");
}

std::filesystem::path make_python_shims(const std::filesystem::path& dir,
                                        const std::string& interpreter) {
  std::error_code ec;
  create_private_directories(dir, ec);
  if (ec) throw EnvironmentError("cannot create " + dir.string() + ": " + ec.message());
  std::string target = interpreter;
  if (target.find('/') == std::string::npos) target = on_path(target);
  if (target.empty()) return dir;
  for (const char* name : {"python3", "python"}) {
    auto link = dir / name;
    std::error_code rec;
    if (std::filesystem::is_symlink(link, rec) &&
        std::filesystem::read_symlink(link, rec) == target) {
      continue;
    }
    // Replace atomically: concurrent engines may share the directory.
    auto tmp = dir / (std::string(name) + ".tmp." + std::to_string(::getpid()));
    std::filesystem::remove(tmp, rec);
    std::filesystem::create_symlink(target, tmp, rec);
    if (!rec) std::filesystem::rename(tmp, link, rec);
    if (rec) throw EnvironmentError("cannot create " + link.string() + ": " + rec.message());
  }
  return dir;
}

}  // namespace flow::run
