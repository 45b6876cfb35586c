#pragma once
// The node a plain-process site (transport none) runs its tasks on: this machine. Its
// cores and GPUs are the slots tasks' `resources:` ask for (docs/REFERENCE.md §3.15).

#include <string>
#include <vector>

#include "engine/site/site.hpp"

namespace flow::site {

struct LocalNode {
  int cores = 1;
  // The GPU ids tasks are handed, as CUDA_VISIBLE_DEVICES names them ("0", "1", ... or
  // UUIDs when the engine itself was given a list of them).
  std::vector<std::string> gpus;
  // Where the GPU count came from, for messages: "gpus_per_node of sites/local.yaml",
  // "the engine's CUDA_VISIBLE_DEVICES", "/proc/driver/nvidia/gpus", "none found: ...".
  std::string gpus_from;
};

// What `site` (a site without a scheduler) offers:
// - cores: the site's cores_per_node, else the machine's hardware threads;
// - GPUs: with gpus_per_node > 0 that many: the first ones of the engine's
//   CUDA_VISIBLE_DEVICES when it has that many, else ids 0..N-1 (a count the machine
//   cannot confirm, as tests use it); with 0, the engine's CUDA_VISIBLE_DEVICES when set,
//   else one id per entry of /proc/driver/nvidia/gpus, else none.
LocalNode local_node(const Site& site);

// The entries of a CUDA_VISIBLE_DEVICES value: comma-separated, blanks trimmed, empty
// ones dropped; "-1" or "NoDevFiles" (CUDA's "no device") give none.
std::vector<std::string> parse_visible_devices(const std::string& value);

}  // namespace flow::site
