#include "engine/run/secrets.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "engine/core/error.hpp"
#include "engine/core/text_file.hpp"
#include "engine/dag/template.hpp"

namespace flow::run {

namespace {

std::string expand_home(const std::string& path) {
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home && *home) return std::string(home) + path.substr(1);
  }
  return path;
}

std::string read_secret_file(const std::string& name, const dag::SecretSource& src) {
  const std::string path = expand_home(src.ref);
  const std::string what = "secret '" + name + "' (" + src.where.str() + "): ";
  struct ::stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw EnvironmentError(what + "cannot read " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw EnvironmentError(what + path + " is not a regular file");
  if (st.st_mode & (S_IRWXG | S_IRWXO)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw EnvironmentError(what + path + " has mode " + mode +
                           ": others may read it; make it private (chmod 600 " + path + ")");
  }
  auto text = read_file(path);
  if (!text) throw EnvironmentError(what + "cannot read " + path);
  if (!text->empty() && text->back() == '\n') text->pop_back();
  if (!text->empty() && text->back() == '\r') text->pop_back();
  return *text;
}

}  // namespace

SecretValues read_secrets(const dag::Dag& dag) {
  SecretValues out;
  for (const auto& [name, src] : dag.secrets) {
    if (src.from == dag::SecretSource::From::kEnv) {
      const char* v = std::getenv(src.ref.c_str());
      if (!v) {
        throw EnvironmentError("secret '" + name + "' (" + src.where.str() +
                               "): the environment variable " + src.ref +
                               " is not set; set it in the shell that starts or resumes the run "
                               "(flow reads secrets there and never stores them)");
      }
      out[name] = v;
    } else {
      out[name] = read_secret_file(name, src);
    }
  }
  return out;
}

bool uses_secret(const dag::Template& value) {
  for (const auto& seg : value.segments())
    if (seg.is_ref() && !seg.ref->path.empty() && seg.ref->path[0] == "secrets") return true;
  return false;
}

}  // namespace flow::run
