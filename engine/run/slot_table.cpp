#include "engine/run/slot_table.hpp"

#include <algorithm>

namespace flow::run {

SlotTable::SlotTable(int cores, std::vector<std::string> gpus)
    : cores_(std::max(1, cores)), gpus_(std::move(gpus)), gpu_busy_(gpus_.size(), false) {}

int SlotTable::free_gpus() const {
  return static_cast<int>(std::count(gpu_busy_.begin(), gpu_busy_.end(), false));
}

bool SlotTable::claim(const AttemptKey& key, const dag::Resources& need) {
  if (grants_.count(key)) return true;
  const int cores = std::min(std::max(need.cpus, 1), cores_);
  if (cores > free_cores() || need.gpus > free_gpus()) return false;
  Grant g;
  g.cores = cores;
  take_free_gpus(g, need.gpus);
  used_cores_ += cores;
  grants_.emplace(key, std::move(g));
  return true;
}

void SlotTable::take_gpu(Grant& g, size_t i) {
  gpu_busy_[i] = true;
  g.gpus.push_back(gpus_[i]);
}

void SlotTable::take_free_gpus(Grant& g, int want) {
  for (size_t i = 0; i < gpus_.size() && static_cast<int>(g.gpus.size()) < want; ++i) {
    if (!gpu_busy_[i]) take_gpu(g, i);
  }
}

void SlotTable::adopt(const AttemptKey& key, const dag::Resources& need,
                      const std::vector<std::string>& gpus) {
  if (grants_.count(key)) return;
  Grant g;
  g.cores = std::min(std::max(need.cpus, 1), cores_);
  for (const auto& id : gpus) {
    auto it = std::find(gpus_.begin(), gpus_.end(), id);
    if (it == gpus_.end()) continue;
    const auto i = static_cast<size_t>(it - gpus_.begin());
    if (!gpu_busy_[i] && static_cast<int>(g.gpus.size()) < need.gpus) take_gpu(g, i);
  }
  take_free_gpus(g, need.gpus);
  used_cores_ += g.cores;
  grants_.emplace(key, std::move(g));
}

void SlotTable::release(const AttemptKey& key) {
  auto it = grants_.find(key);
  if (it == grants_.end()) return;
  used_cores_ -= it->second.cores;
  for (const auto& id : it->second.gpus) {
    auto g = std::find(gpus_.begin(), gpus_.end(), id);
    if (g != gpus_.end()) gpu_busy_[static_cast<size_t>(g - gpus_.begin())] = false;
  }
  grants_.erase(it);
}

const SlotTable::Grant* SlotTable::grant(const AttemptKey& key) const {
  auto it = grants_.find(key);
  return it == grants_.end() ? nullptr : &it->second;
}

}  // namespace flow::run
