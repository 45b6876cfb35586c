#include "engine/core/data_dir.hpp"

#include <fstream>
#include <string>

#ifndef FLOW_DATA_FROM_BIN
#define FLOW_DATA_FROM_BIN "../share/flow"
#endif

namespace flow {

namespace {

constexpr const char* kBuildTreeMarker = "flow-build-tree";

bool is_dir(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_directory(p, ec);
}

// The source directory a build-tree marker names (its first line), if it is one.
std::optional<std::filesystem::path> source_of_marker(const std::filesystem::path& marker) {
  std::ifstream in(marker);
  std::string line;
  if (!in || !std::getline(in, line) || line.empty()) return std::nullopt;
  std::filesystem::path src(line);
  if (!src.is_absolute() || !is_dir(src / "sites")) return std::nullopt;
  return src;
}

}  // namespace

std::optional<std::filesystem::path> data_dir_of(const std::filesystem::path& executable) {
  const std::filesystem::path bin = executable.parent_path();
  if (bin.empty()) return std::nullopt;
  const std::filesystem::path installed = (bin / FLOW_DATA_FROM_BIN).lexically_normal();
  if (is_dir(installed / "sites")) return installed;
  // build/flow, or a test binary deeper in build/ (build/tests/unit/sites/...).
  for (std::filesystem::path dir = bin; !dir.empty(); dir = dir.parent_path()) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir / kBuildTreeMarker, ec))
      return source_of_marker(dir / kBuildTreeMarker);
    if (dir == dir.root_path()) break;
  }
  return std::nullopt;
}

std::optional<std::filesystem::path> data_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  return data_dir_of(exe);
}

}  // namespace flow
