#pragma once
// The engine's diagnostics (spdlog underneath, which no other header sees).
//
// Two destinations:
//  - stderr, filtered by the verbosity the command line asked for: by default warnings and
//    errors only (lines about a run start with its id); `-v` adds what the engine does
//    (submissions, takeovers, reconnects);
//    `-vv` adds debugging detail (every state change, every poll). Written as
//    "flow: MESSAGE", like the rest of flow's stderr.
//  - the engine log of a run, $FLOW_HOME/runs/RUN/engine.log, while a RunLog for it is
//    open: every message about that run at every level, with a UTC time stamp and the
//    level, appended (a resumed run continues the same file). Messages never contain
//    environment values or secrets: callers pass ids, states, paths and job ids.
//
// Logging never fails a run: a log file that cannot be opened is reported once on stderr
// and skipped.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace flow::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// 0: warnings and errors reach stderr; 1: also info; 2 or more: also debug.
void set_verbosity(int verbosity);
int verbosity();

// Writes `message` to stderr if `level` is shown, and to the engine log of `run_id` if one
// is open (whatever the level).
void write(Level level, std::string_view message, std::string_view run_id = {});

inline void debug(std::string_view m, std::string_view run_id = {}) {
  write(Level::kDebug, m, run_id);
}
inline void info(std::string_view m, std::string_view run_id = {}) {
  write(Level::kInfo, m, run_id);
}
inline void warn(std::string_view m, std::string_view run_id = {}) {
  write(Level::kWarn, m, run_id);
}
inline void error(std::string_view m, std::string_view run_id = {}) {
  write(Level::kError, m, run_id);
}

// The engine log of one run, open while this object lives (one per run and process; a
// second one for the same run shares the file).
class RunLog {
 public:
  RunLog(std::string run_id, const std::filesystem::path& file);
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  const std::filesystem::path& file() const { return file_; }

 private:
  std::string run_id_;
  std::filesystem::path file_;
};

}  // namespace flow::log
