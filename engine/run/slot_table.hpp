#pragma once
// The cores and GPUs of one node, handed to attempts exclusively (docs/REFERENCE.md
// §3.15). An attempt holds what it claimed until it is released; a claim that does not fit
// now changes nothing. GPUs are handed out lowest-listed first, so a machine's GPUs are
// used in the order CUDA_VISIBLE_DEVICES or the site file names them.

#include <map>
#include <string>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/run/executor.hpp"

namespace flow::run {

class SlotTable {
 public:
  // `cores` >= 1; `gpus`: the ids a claim may be given.
  SlotTable(int cores, std::vector<std::string> gpus);

  struct Grant {
    int cores = 0;
    std::vector<std::string> gpus;  // ids, in the order of the table's list
  };

  // Gives `key` min(need.cpus, cores) cores and need.gpus GPUs when that many are free;
  // false (and nothing held) otherwise. A key that already holds something keeps it.
  bool claim(const AttemptKey& key, const dag::Resources& need);
  // Records what an attempt found running already holds (an engine re-attaching to it):
  // `gpus` it was given where they are still listed and not held, the rest of its need
  // from the free ones; cores even past the total, since the process is running anyway.
  void adopt(const AttemptKey& key, const dag::Resources& need,
             const std::vector<std::string>& gpus);
  void release(const AttemptKey& key);

  // What `key` holds; null when it holds nothing.
  const Grant* grant(const AttemptKey& key) const;
  int free_cores() const { return cores_ - used_cores_; }
  int free_gpus() const;
  int cores() const { return cores_; }
  const std::vector<std::string>& gpus() const { return gpus_; }

 private:
  void take_gpu(Grant& g, size_t index);
  // Free GPUs, lowest-listed first, until `g` holds `want`.
  void take_free_gpus(Grant& g, int want);

  int cores_;
  int used_cores_ = 0;
  std::vector<std::string> gpus_;
  std::vector<bool> gpu_busy_;  // by index into gpus_
  std::map<AttemptKey, Grant> grants_;
};

}  // namespace flow::run
