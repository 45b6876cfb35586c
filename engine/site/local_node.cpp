#include "engine/site/local_node.hpp"

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace flow::site {

std::vector<std::string> parse_visible_devices(const std::string& value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string::npos) end = value.size();
    std::string item = value.substr(start, end - start);
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, last - first + 1);
    if (item == "-1" || item == "NoDevFiles") return {};
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

namespace {

int proc_nvidia_gpus() {
  std::error_code ec;
  int n = 0;
  for (std::filesystem::directory_iterator it("/proc/driver/nvidia/gpus", ec), end;
       !ec && it != end; it.increment(ec))
    ++n;
  return n;
}

}  // namespace

LocalNode local_node(const Site& site) {
  LocalNode node;
  node.cores = site.cores_per_node > 0
                   ? site.cores_per_node
                   : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const char* env = std::getenv("CUDA_VISIBLE_DEVICES");
  const bool env_set = env != nullptr;
  std::vector<std::string> visible =
      env_set ? parse_visible_devices(env) : std::vector<std::string>{};
  const std::string file = site.where.file.empty() ? "the site" : site.where.file;
  if (site.gpus_per_node > 0) {
    node.gpus_from = "gpus_per_node of " + file;
    if (static_cast<int>(visible.size()) >= site.gpus_per_node) {
      node.gpus.assign(visible.begin(), visible.begin() + site.gpus_per_node);
    } else {
      for (int i = 0; i < site.gpus_per_node; ++i)
        node.gpus.push_back(std::to_string(i));
    }
  } else if (env_set) {
    node.gpus = visible;
    node.gpus_from = "the engine's CUDA_VISIBLE_DEVICES";
  } else if (int n = proc_nvidia_gpus(); n > 0) {
    for (int i = 0; i < n; ++i)
      node.gpus.push_back(std::to_string(i));
    node.gpus_from = "/proc/driver/nvidia/gpus";
  } else {
    node.gpus_from =
        "none found: no CUDA_VISIBLE_DEVICES, no /proc/driver/nvidia/gpus; "
        "gpus_per_node in " +
        file + " declares them";
  }
  return node;
}

}  // namespace flow::site
