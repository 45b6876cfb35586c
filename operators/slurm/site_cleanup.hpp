#pragma once
// A run's files on a Slurm site, and removing them (`flow clean RUN`). A run leaves two
// directories under the site's workdir (see SlurmExecutor::run_dir and remote_base):
//
//   WORKDIR/runs/RUN   its run directory: staged code (hard links into the cache) and inputs,
//                      what its jobs wrote there, the checkpoints of its sweeps on the site
//   WORKDIR/logs/RUN   job scripts, environments, logs, outputs and metrics files
//
// Nothing else is touched: WORKDIR/cache/sha256 (the code cache every run shares, removing a
// hard link leaves the cached file), other runs, `base: site` files.
//
// Safety: an `rm -rf` with a wrong path can empty a user's home on the cluster. So the paths
// are built from a run id and a workdir that are both checked first (run_paths_on_site), each
// is checked to lie strictly below the workdir, and they reach the shell only quoted.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/site/site.hpp"
#include "operators/transport/transport.hpp"

namespace flow::slurm {

// One directory of a run on a site, before it was removed.
struct RunPath {
  std::string path;
  bool existed = false;
  // What it held, as the site counted it (`find` for files, `du -sb` for bytes: apparent
  // size; code files hard-linked to the cache count but free nothing). nullopt when the
  // site could not say.
  std::optional<uint64_t> files;
  std::optional<uint64_t> bytes;
};

// True when `path` lies strictly below `root`, judged on the text: both absolute, neither
// with empty, "." or ".." components (a trailing '/' is allowed), and `path` is `root` plus
// at least one more component.
bool strictly_under(std::string_view path, std::string_view root);

// WORKDIR/runs/RUN and WORKDIR/logs/RUN of `site`, in that order. Throws InputError when
// `run_id` is not a run id (empty, ".", "..", or a character other than letters, digits,
// '_', '.', '-') or the site's workdir is not a plain absolute path ("", "/", "~/...",
// relative, with "." or ".." components or control characters): flow then removes nothing.
std::vector<std::string> run_paths_on_site(const site::Site& site, const std::string& run_id);

// Measures the run's directories on the site and, unless `dry_run`, removes them, in one
// command. Paths that do not exist are reported with existed = false (cleaning twice is
// fine). Throws InputError as run_paths_on_site (before anything is sent),
// transport::Unreachable / EnvironmentError when the site cannot be reached, and
// EnvironmentError with the site's reason when it refuses the removal.
std::vector<RunPath> remove_run_files(transport::Transport& transport, const site::Site& site,
                                      const std::string& run_id, bool dry_run);

}  // namespace flow::slurm
