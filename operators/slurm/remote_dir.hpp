#pragma once
// Directories on a Slurm site, as the site file names them: its `workdir:` may end in '/',
// the paths flow builds under it ("WORKDIR/runs/RUN", "WORKDIR/allocations/ID") must not
// hold "//".

#include <string>

namespace flow::slurm {

// `dir` without trailing slashes; "/" stays "/".
inline std::string without_trailing_slash(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  return dir;
}

}  // namespace flow::slurm
