#pragma once
// The log of one try of a task instance, as the log view follows it.
//
// find_log() says where that log is: the try's local log file (the engine writes local
// tasks' output there; for Slurm jobs it is the copy the engine fetches while it polls
// the job and when the job ends). The TUI never opens an SSH connection: when a Slurm
// job's local copy is missing it says so and names `flow logs`, which reads the log on
// the site.
//
// LogTail reads that file incrementally: the first poll reads at most the last
// `first_read` bytes, later polls only what was appended; it keeps the last `max_lines`
// lines, shows a trailing line that has no newline yet, keeps only what follows the last
// carriage return of a line (progress bars), and starts over when the file shrinks or is
// replaced (a new try reuses nothing, but a user may truncate a file).

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <string>

#include "engine/state/store.hpp"
#include "engine/state/trial_segment.hpp"

namespace flow::tui {

struct LogSource {
  std::string run_id;
  std::string instance_id;
  int try_number = 0;         // 0: the instance has no try yet
  int tries = 0;              // tries that exist (1..tries)
  state::SegmentTry segment;  // an HPO trial's try: its segment and try of it
  std::filesystem::path path;
  std::string site;
  std::string job_id;
  bool slurm = false;  // the try is a batch job (its log is written on the site)
  state::TaskState state = state::TaskState::kQueued;  // of the try
  bool in_flight = false;                              // the try may still write
  // When there is nothing to read here, why, and what to do instead ("" = read `path`).
  std::string unavailable;
};

// The log of try `try_number` (0 = the latest) of `instance_id` in `run`. A relative log
// path is taken relative to the run's working directory, where its engine ran.
// InputError when the instance or the try does not exist.
LogSource find_log(state::Store& store, const state::RunRecord& run, const std::string& instance_id,
                   int try_number);

class LogTail {
 public:
  explicit LogTail(size_t max_lines = 20000, uint64_t first_read = uint64_t{4} << 20);

  // Follows `path` from now on (drops what was read before, unless it is the same path).
  void open(const std::filesystem::path& path);
  const std::filesystem::path& path() const { return path_; }

  // Reads what was appended since the last poll; true when the lines changed.
  bool poll();

  // Complete lines, oldest first, then the unterminated last line if any.
  const std::deque<std::string>& lines() const { return lines_; }
  bool exists() const { return exists_; }
  // Lines dropped from the front (max_lines, or the first read starting mid-file).
  bool truncated() const { return truncated_; }
  uint64_t bytes_read() const { return offset_; }

 private:
  void reset();
  void add(std::string&& line);

  size_t max_lines_;
  uint64_t first_read_;
  std::filesystem::path path_;
  std::deque<std::string> lines_;
  std::string partial_;         // bytes after the last newline
  bool partial_shown_ = false;  // lines_.back() is partial_
  uint64_t offset_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  bool exists_ = false;
  bool truncated_ = false;
};

}  // namespace flow::tui
