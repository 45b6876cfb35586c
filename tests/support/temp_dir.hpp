#pragma once
// The one scratch-directory helper of the test suite (unit and end-to-end): a fresh
// directory under the system temporary directory ($TMPDIR, else /tmp), made with mkdtemp
// (unique, mode 0700), removed with everything in it when the TempDir is destroyed.

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace flow::test {

class TempDir {
 public:
  // `prefix` names the directory (prefix-XXXXXX) so a leftover one says who made it.
  explicit TempDir(std::string_view prefix = "flow-test") {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data()))
      throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  // Writes `text` to path()/name, making the directories on the way; returns the path.
  std::filesystem::path write(const std::string& name, std::string_view text) const {
    auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
    return p;
  }

  // Opens the directory to every user (rwx for all), for processes that run as another
  // user, like a Slurm job's.
  void share_with_everyone() const {
    std::filesystem::permissions(path_, std::filesystem::perms::all);
  }

 private:
  std::filesystem::path path_;
};

}  // namespace flow::test
