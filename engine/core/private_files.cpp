#include "engine/core/private_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace flow {

bool create_private_directories(const std::filesystem::path& dir, std::error_code& ec) {
  ec.clear();
  if (dir.empty()) return false;
  // The missing components, deepest first; then create them top-down.
  std::vector<std::filesystem::path> missing;
  for (std::filesystem::path p = dir; !p.empty(); p = p.parent_path()) {
    struct ::stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        ec = std::make_error_code(std::errc::not_a_directory);
        return false;
      }
      break;
    }
    if (errno != ENOENT) {
      ec = std::error_code(errno, std::generic_category());
      return false;
    }
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  bool created = false;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), kPrivateDirMode) != 0) {
      if (errno == EEXIST) continue;  // made by someone else meanwhile: theirs, left alone
      ec = std::error_code(errno, std::generic_category());
      return false;
    }
    if (::chmod(it->c_str(), kPrivateDirMode) != 0) {
      ec = std::error_code(errno, std::generic_category());
      return false;
    }
    created = true;
  }
  return created;
}

bool create_private_file(const std::filesystem::path& path, std::error_code& ec) {
  ec.clear();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) {
    if (errno == EEXIST) return true;
    ec = std::error_code(errno, std::generic_category());
    return false;
  }
  const bool ok = ::fchmod(fd, kPrivateFileMode) == 0;
  if (!ok) ec = std::error_code(errno, std::generic_category());
  ::close(fd);
  return ok;
}

}  // namespace flow
