#include "engine/artifact/content_check.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "engine/core/error.hpp"

namespace flow::artifact {

std::string_view to_string(ContentCheck::Status s) {
  switch (s) {
    case ContentCheck::Status::kMatches:
      return "matches";
    case ContentCheck::Status::kChanged:
      return "changed";
    case ContentCheck::Status::kMissing:
      return "missing";
    case ContentCheck::Status::kNotAFile:
      return "not_a_file";
    case ContentCheck::Status::kUnreadable:
      return "unreadable";
  }
  return "unknown";
}

ContentCheck check_content(const state::ArtifactRecord& a, const std::string& this_host) {
  ContentCheck c;
  struct stat st {};
  if (::stat(a.path.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      c.status = ContentCheck::Status::kMissing;
      c.problem = "the file is missing: no such file " + a.path;
      if (!a.host.empty() && a.host != this_host) {
        c.problem += " (it was registered on host " + a.host + "; this is " + this_host + ")";
      }
    } else {
      c.status = ContentCheck::Status::kUnreadable;
      c.problem = "cannot reach " + a.path + ": " + std::strerror(err);
    }
    return c;
  }
  if (!S_ISREG(st.st_mode)) {
    c.status = ContentCheck::Status::kNotAFile;
    c.problem = a.path + " is no longer a regular file";
    return c;
  }
  if (::access(a.path.c_str(), R_OK) != 0) {
    c.status = ContentCheck::Status::kUnreadable;
    c.problem = a.path + " is not readable by this user (" + std::strerror(errno) + ")";
    return c;
  }
  try {
    c.actual = digest_file(a.path);
  } catch (const Error& e) {
    c.status = ContentCheck::Status::kUnreadable;
    c.problem = e.what();
    return c;
  }
  std::vector<std::string> diffs;
  if (c.actual->sha256 != a.sha256) {
    diffs.push_back("sha256 differs: expected " + a.sha256 + ", actual " + c.actual->sha256);
  }
  if (static_cast<int64_t>(c.actual->size) != a.size) {
    diffs.push_back("size differs: expected " + std::to_string(a.size) + " bytes, actual " +
                    std::to_string(c.actual->size) + " bytes");
  }
  if (diffs.empty()) {
    c.status = ContentCheck::Status::kMatches;
    return c;
  }
  c.status = ContentCheck::Status::kChanged;
  c.problem = "the file changed since it was registered: " + diffs[0];
  if (diffs.size() > 1) c.problem += "; " + diffs[1];
  return c;
}

}  // namespace flow::artifact
