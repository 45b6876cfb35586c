#include "operators/staging/link_archive.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <stdexcept>

namespace flow::staging {

namespace {

std::string relative_to_root(const std::string& path) {
  if (path.empty() || path[0] != '/') throw std::invalid_argument("not an absolute path: " + path);
  for (size_t at = 0; at != std::string::npos;) {
    const size_t next = path.find('/', at + 1);
    if (path.compare(at + 1, (next == std::string::npos ? path.size() : next) - at - 1, "..") == 0)
      throw std::invalid_argument("'..' in a path: " + path);
    at = next;
  }
  return path.substr(path.find_first_not_of('/'));
}

la_ssize_t append(struct archive*, void* out, const void* data, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), n);
  return static_cast<la_ssize_t>(n);
}

}  // namespace

std::string hard_link_archive(const std::vector<HardLink>& links) {
  std::string out;
  std::unique_ptr<struct archive, decltype(&archive_write_free)> a(archive_write_new(),
                                                                   archive_write_free);
  auto check = [&](int rc, const char* what) {
    if (rc != ARCHIVE_OK)
      throw std::runtime_error(
          std::string("libarchive: ") + what + ": " +
          (archive_error_string(a.get()) ? archive_error_string(a.get()) : "failed"));
  };
  check(archive_write_set_format_pax_restricted(a.get()), "pax format");
  // No padding to 10 KiB records beyond what tar needs: the archive is uploaded.
  check(archive_write_set_bytes_per_block(a.get(), 512), "block size");
  check(archive_write_open(a.get(), &out, nullptr, append, nullptr), "open");
  std::unique_ptr<struct archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                         archive_entry_free);
  for (const auto& l : links) {
    archive_entry_clear(e.get());
    const std::string name = relative_to_root(l.link), target = relative_to_root(l.target);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_hardlink(e.get(), target.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0444);
    archive_entry_set_size(e.get(), 0);
    check(archive_write_header(a.get(), e.get()), "entry");
  }
  check(archive_write_close(a.get()), "close");
  return out;
}

}  // namespace flow::staging
