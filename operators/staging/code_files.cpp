#include "operators/staging/code_files.hpp"

#include <map>

#include "operators/staging/stager.hpp"

namespace flow::staging {

std::vector<CodeFile> code_files(const std::filesystem::path& workdir,
                                 const std::vector<std::string>& entries) {
  namespace fs = std::filesystem;
  std::map<std::string, fs::path> found;
  for (const auto& entry : entries) {
    const fs::path root = workdir / entry;
    std::error_code ec;
    auto st = fs::status(root, ec);
    if (ec || !fs::exists(st))
      throw StageError("code '" + entry + "': no such file or directory " + root.string());
    if (fs::is_regular_file(st)) {
      found.emplace(fs::path(entry).lexically_normal().generic_string(), root);
      continue;
    }
    if (!fs::is_directory(st)) continue;
    fs::recursive_directory_iterator it(root, fs::directory_options::follow_directory_symlink, ec);
    if (ec)
      throw StageError("code '" + entry + "': cannot read " + root.string() + ": " + ec.message());
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec)
        throw StageError("code '" + entry + "': cannot read " + root.string() + ": " +
                         ec.message());
      const auto name = it->path().filename().string();
      if (it->is_directory(ec) && (name == "__pycache__" || name == ".git")) {
        it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      auto rel = (fs::path(entry) / it->path().lexically_relative(root)).lexically_normal();
      found.emplace(rel.generic_string(), it->path());
    }
  }
  std::vector<CodeFile> out;
  out.reserve(found.size());
  for (auto& [rel, path] : found)
    out.push_back({rel, path});
  return out;
}

}  // namespace flow::staging
