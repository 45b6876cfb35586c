#include "engine/artifact/artifact_path.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "engine/artifact/registration_error.hpp"

namespace flow::artifact {

namespace {

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

// True if the lexically normal relative path climbs above its base.
bool climbs_out(const std::filesystem::path& relative) {
  auto normal = relative.lexically_normal();
  return !normal.empty() && *normal.begin() == "..";
}

}  // namespace

std::filesystem::path resolve_artifact_path(const std::string& given,
                                            const std::filesystem::path& workdir) {
  if (given.empty()) throw RegistrationError("\"path\" is empty");
  if (given.find('\0') != std::string::npos) {
    throw RegistrationError("\"path\" contains a NUL character");
  }
  std::filesystem::path p(given);
  if (p.is_relative()) {
    if (climbs_out(p)) {
      throw RegistrationError("the relative path " + given +
                              " climbs out of the task's working directory " + workdir.string() +
                              " with '..'; name a file outside it by its absolute path");
    }
    p = workdir / p;
  }
  p = p.lexically_normal();

  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    int err = errno;
    struct stat lst {};
    if (err == ENOENT && ::lstat(p.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      throw RegistrationError(p.string() + " is a symbolic link to a file that does not exist");
    }
    if (err == ENOENT || err == ENOTDIR) {
      std::string hint = given == p.string() ? "" : " (from \"" + given + "\")";
      throw RegistrationError("no such file " + p.string() + hint);
    }
    throw RegistrationError("cannot reach " + p.string() + ": " + std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    std::string what = kind_of(st.st_mode);
    std::string advice = S_ISDIR(st.st_mode)
                             ? "; register files (pack a directory into one, e.g. with tar)"
                             : "; only regular files can be registered";
    throw RegistrationError(p.string() + " is " + what + advice);
  }
  if (::access(p.c_str(), R_OK) != 0) {
    throw RegistrationError(p.string() + " is not readable by this user (" + std::strerror(errno) +
                            ")");
  }
  return p;
}

}  // namespace flow::artifact
