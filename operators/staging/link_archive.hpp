#pragma once
// A tar archive that holds nothing but hard-link entries, so that one `tar -x` on a site
// places any number of staged code files: each destination becomes a hard link to its object
// in the site's content cache (docs/STAGING.md, "Code"). One process instead of one `ln` per
// file: placing 1,000 files took 6 s with `ln` (a fork and exec each) and takes one command.
//
// Written with libarchive in the POSIX pax format, which keeps names and link targets of any
// length (ustar stops at 100 bytes for a link target). GNU tar, bsdtar and BusyBox tar all
// extract it; a site without tar falls back to `ln` (Stager).

#include <string>
#include <utility>
#include <vector>

namespace flow::staging {

struct HardLink {
  std::string target;  // absolute path of an existing file on the site (the cache object)
  std::string link;    // absolute path the link gets
};

// The archive's bytes. Names are stored relative to "/" (the leading slash dropped), so the
// site extracts it with `tar -x -f FILE -C /`. Throws std::invalid_argument for a path that
// is not absolute or holds a ".." component, std::runtime_error if libarchive fails.
std::string hard_link_archive(const std::vector<HardLink>& links);

}  // namespace flow::staging
