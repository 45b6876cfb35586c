#include "engine/run/process.hpp"

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>

#include "engine/core/text_file.hpp"

namespace flow::run {

namespace {
std::string read_cmdline(int pid) {
  return read_file("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
}
}  // namespace

uint64_t process_start_ticks(int pid) {
  // Called for every process the engine starts: parse in place, no streams.
  auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return 0;
  // Field 2 (comm) may contain spaces; fields after the last ')' are space-separated.
  auto pos = stat->rfind(')');
  if (pos == std::string::npos) return 0;
  const char* p = stat->c_str() + pos + 1;
  for (int field = 3; field <= 22; ++field) {
    while (*p == ' ')
      ++p;
    if (*p == '\0') return 0;
    if (field == 22) return std::strtoull(p, nullptr, 10);
    while (*p != ' ' && *p != '\0')
      ++p;
  }
  return 0;
}

uint64_t boot_ticks_now() {
  static const long hz = ::sysconf(_SC_CLK_TCK);
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  // As the kernel converts a task's start time for /proc/PID/stat (nsec_to_clock_t).
  const uint64_t ns = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + ts.tv_nsec;
  return ns / (1000000000ULL / static_cast<uint64_t>(hz > 0 ? hz : 100));
}

bool process_has_marker(int pid, const std::string& marker) {
  if (pid <= 0) return false;
  std::string cmd = read_cmdline(pid);
  return !cmd.empty() && cmd.find(marker) != std::string::npos;
}

namespace {
int find_process(const std::function<bool(int)>& match) {
  DIR* d = ::opendir("/proc");
  if (!d) return 0;
  int found = 0;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (match(static_cast<int>(pid))) {
      found = static_cast<int>(pid);
      break;
    }
  }
  ::closedir(d);
  return found;
}
}  // namespace

int find_process_with_marker(const std::string& marker) {
  return find_process([&](int pid) { return process_has_marker(pid, marker); });
}

std::optional<std::string> process_env(int pid, std::string_view name) {
  if (pid <= 0) return std::nullopt;
  auto env = read_file("/proc/" + std::to_string(pid) + "/environ");
  if (!env) return std::nullopt;
  size_t start = 0;
  while (start < env->size()) {
    size_t end = env->find('\0', start);
    if (end == std::string::npos) end = env->size();
    std::string_view entry(env->data() + start, end - start);
    if (entry.size() > name.size() && entry.substr(0, name.size()) == name &&
        entry[name.size()] == '=')
      return std::string(entry.substr(name.size() + 1));
    start = end + 1;
  }
  return std::nullopt;
}

int find_process_with_env(std::string_view name, const std::string& value) {
  return find_process([&](int pid) { return process_env(pid, name) == value; });
}

bool process_alive(int pid, uint64_t start_ticks) {
  return pid > 0 && start_ticks != 0 && process_start_ticks(pid) == start_ticks;
}

}  // namespace flow::run
