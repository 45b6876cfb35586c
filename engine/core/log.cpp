#include "engine/core/log.hpp"

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <map>
#include <mutex>

#include "engine/core/private_files.hpp"

namespace flow::log {

namespace {

std::atomic<int> g_verbosity{0};

spdlog::level::level_enum to_spdlog(Level l) {
  switch (l) {
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::err;
}

spdlog::level::level_enum stderr_level(int verbosity) {
  return verbosity >= 2   ? spdlog::level::debug
         : verbosity == 1 ? spdlog::level::info
                          : spdlog::level::warn;
}

spdlog::logger& stderr_logger() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto l =
        std::make_shared<spdlog::logger>("flow", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("flow: %v");
    l->set_level(stderr_level(g_verbosity.load()));
    l->flush_on(spdlog::level::debug);
    return l;
  }();
  return *logger;
}

struct OpenLog {
  std::shared_ptr<spdlog::logger> logger;
  int users = 0;
};

std::mutex g_mutex;
std::map<std::string, OpenLog, std::less<>>& run_logs() {
  static std::map<std::string, OpenLog, std::less<>> logs;
  return logs;
}

}  // namespace

void set_verbosity(int verbosity) {
  g_verbosity = verbosity;
  stderr_logger().set_level(stderr_level(verbosity));
}

int verbosity() {
  return g_verbosity.load();
}

void write(Level level, std::string_view message, std::string_view run_id) {
  const auto lvl = to_spdlog(level);
  const spdlog::string_view_t text(message.data(), message.size());
  if (run_id.empty()) {
    stderr_logger().log(lvl, text);
    return;
  }
  // On stderr, where several runs may speak (the scheduler), each line names its run.
  if (stderr_logger().should_log(lvl)) {
    std::string line;
    line.reserve(run_id.size() + 2 + message.size());
    line.append(run_id).append(": ").append(message);
    stderr_logger().log(lvl, spdlog::string_view_t(line.data(), line.size()));
  }
  std::shared_ptr<spdlog::logger> file;
  {
    std::lock_guard lock(g_mutex);
    auto it = run_logs().find(run_id);
    if (it == run_logs().end()) return;
    file = it->second.logger;
  }
  file->log(lvl, text);
}

RunLog::RunLog(std::string run_id, const std::filesystem::path& file)
    : run_id_(std::move(run_id)), file_(file) {
  std::lock_guard lock(g_mutex);
  auto& entry = run_logs()[run_id_];
  if (!entry.logger) {
    try {
      // Private to the user, like every file flow writes (engine/core/private_files.hpp):
      // created 0600 here, then appended to by spdlog.
      std::error_code ec;
      create_private_directories(file_.parent_path(), ec);
      create_private_file(file_, ec);
      auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file_.string(),
                                                                      /*truncate=*/false);
      entry.logger = std::make_shared<spdlog::logger>("run " + run_id_, std::move(sink));
      entry.logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
      entry.logger->set_level(spdlog::level::debug);
      entry.logger->flush_on(spdlog::level::info);
    } catch (const spdlog::spdlog_ex& e) {
      run_logs().erase(run_id_);
      stderr_logger().warn(std::string("cannot write the engine log ") + file_.string() + ": " +
                           e.what());
      return;
    }
  }
  ++entry.users;
}

RunLog::~RunLog() {
  std::lock_guard lock(g_mutex);
  auto it = run_logs().find(run_id_);
  if (it == run_logs().end()) return;
  if (--it->second.users <= 0) run_logs().erase(it);
}

}  // namespace flow::log
