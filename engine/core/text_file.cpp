#include "engine/core/text_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/core/error.hpp"
#include "engine/core/private_files.hpp"

namespace flow {

std::optional<std::string> read_file(const std::filesystem::path& path) {
  // Plain read(2): the run controller calls this for every finished task (outputs file,
  // exit status, /proc), where an ifstream's setup costs more than the read.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // end of file; a read error (e.g. a directory) keeps what was read
    }
  }
  ::close(fd);
  return out;
}

std::string tail_lines(const std::filesystem::path& path, int n) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::streamoff size = in.tellg();
  std::streamoff start = std::max<std::streamoff>(0, size - 65536);
  in.seekg(start);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!data.empty() && data.back() == '\n')
    data.pop_back();
  size_t pos = data.size();
  for (int i = 0; i < n; ++i) {
    size_t nl = pos == 0 ? std::string::npos : data.rfind('\n', pos - 1);
    if (nl == std::string::npos) return data;
    pos = nl;
  }
  return data.substr(pos + 1);
}

void write_file_atomic(const std::filesystem::path& path, const std::string& content, int mode) {
  std::error_code ec;
  if (path.has_parent_path()) create_private_directories(path.parent_path(), ec);
  auto tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  auto fail = [&](const char* what) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    std::string hint = err == ENOSPC ? " (disk full: free some space and retry)" : "";
    throw EnvironmentError("cannot " + std::string(what) + " " + path.string() + ": " +
                           std::strerror(err) + hint);
  };
  if (fd < 0) fail("create");
  size_t off = 0;
  while (off < content.size()) {
    ssize_t w = ::write(fd, content.data() + off, content.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write");
    }
    off += static_cast<size_t>(w);
  }
  if (::close(fd) != 0) {
    fd = -1;
    fail("write");
  }
  fd = -1;
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("rename into");
}

}  // namespace flow
