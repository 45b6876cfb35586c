#pragma once
// Finding local processes again after the engine restarted: by pid plus start time, or by
// a marker: the attempt's unique exit-status path on their command line (a task run under
// the shell wrapper), or one of the attempt's unique variables in their environment (a task
// the process keeper started, engine/run/process_keeper.hpp).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace flow::run {

// Start time of a process in clock ticks since boot, or 0 if it does not exist.
uint64_t process_start_ticks(int pid);
// The current time in the same unit (CLOCK_BOOTTIME in clock ticks). A process created
// between two calls that return the same value has that start time: launching a process
// uses this instead of reading /proc, which costs as much as the rest of the launch.
uint64_t boot_ticks_now();
// Does process `pid` exist and carry `marker` in its command line?
bool process_has_marker(int pid, const std::string& marker);
// A live process whose command line contains `marker`, or 0.
int find_process_with_marker(const std::string& marker);
// The value of variable `name` in the environment process `pid` started with (nullopt: no
// such process or variable).
std::optional<std::string> process_env(int pid, std::string_view name);
// A live process whose environment has `name` set to `value`, or 0.
int find_process_with_env(std::string_view name, const std::string& value);
// Is the process `pid` alive and the one that started at `start_ticks`?
bool process_alive(int pid, uint64_t start_ticks);

}  // namespace flow::run
