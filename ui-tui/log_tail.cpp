#include "ui-tui/log_tail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/core/error.hpp"

namespace flow::tui {

LogSource find_log(state::Store& store, const state::RunRecord& run, const std::string& instance_id,
                   int try_number) {
  auto inst = store.get_instance(run.id, instance_id);
  if (!inst) {
    throw Error(ErrorKind::kInvalidInput, "run " + run.id + " has no task '" + instance_id + "'");
  }
  LogSource s;
  s.run_id = run.id;
  s.instance_id = instance_id;
  s.state = inst->state;
  s.site = inst->site;
  auto tries = store.tries(run.id, instance_id);
  if (tries.empty()) {
    const std::string st(state::to_string(inst->state));
    s.unavailable =
        state::is_terminal(inst->state)
            ? instance_id + " never ran (" + st + "), so it has no log"
            : instance_id + " has not started yet (" + st + "); its log appears when it does";
    return s;
  }
  s.tries = tries.back().try_number;
  const state::TryRecord* t = &tries.back();
  if (try_number > 0) {
    t = nullptr;
    for (const auto& x : tries)
      if (x.try_number == try_number) t = &x;
    if (!t) {
      throw Error(ErrorKind::kInvalidInput, instance_id + " has no try " +
                                                std::to_string(try_number) + " (tries: 1.." +
                                                std::to_string(s.tries) + ")");
    }
  }
  s.try_number = t->try_number;
  s.segment = state::segment_try_of(*t);
  s.site = t->site;
  s.job_id = t->job_id;
  s.slurm = !t->job_name.empty() || !t->job_id.empty();
  // The instance row holds the live state of its current try; older tries are final.
  s.state = t->try_number == inst->try_number ? inst->state : t->state;
  s.in_flight = t->try_number == inst->try_number && state::is_in_flight(inst->state);
  s.path = t->log_path;
  if (!s.path.empty() && s.path.is_relative() && !run.workdir.empty())
    s.path = std::filesystem::path(run.workdir) / s.path;

  std::error_code ec;
  if (s.path.empty() || !std::filesystem::exists(s.path, ec)) {
    const std::string flow_logs =
        "flow logs " + run.id + " '" + instance_id + "' --try " + std::to_string(s.try_number);
    if (s.slurm) {
      s.unavailable = "this try is Slurm job " +
                      (s.job_id.empty() ? "(not submitted yet)" : s.job_id) + " on site " + s.site +
                      "; its log is on the site and there is no local copy yet (the engine " +
                      "copies it while it polls the job and when the job ends). Read it over " +
                      "SSH with: " + flow_logs;
    } else if (s.in_flight) {
      s.unavailable = "the log " + s.path.string() + " does not exist yet";
    } else {
      s.unavailable =
          "the log " + s.path.string() + " does not exist (deleted, or written on another machine)";
    }
  }
  return s;
}

LogTail::LogTail(size_t max_lines, uint64_t first_read)
    : max_lines_(max_lines), first_read_(first_read) {}

void LogTail::open(const std::filesystem::path& path) {
  if (path == path_) return;
  path_ = path;
  reset();
}

void LogTail::reset() {
  lines_.clear();
  partial_.clear();
  partial_shown_ = false;
  offset_ = 0;
  dev_ = 0;
  ino_ = 0;
  exists_ = false;
  truncated_ = false;
}

void LogTail::add(std::string&& line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();  // CRLF
  if (auto cr = line.rfind('\r'); cr != std::string::npos) line.erase(0, cr + 1);
  lines_.push_back(std::move(line));
  if (lines_.size() > max_lines_) {
    lines_.pop_front();
    truncated_ = true;
  }
}

bool LogTail::poll() {
  if (path_.empty()) return false;
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const bool had = exists_ || !lines_.empty();
    reset();
    return had;
  }
  struct stat st {};
  bool changed = false;
  if (::fstat(fd, &st) == 0) {
    const auto size = static_cast<uint64_t>(st.st_size);
    if (exists_ && (st.st_dev != dev_ || st.st_ino != ino_ || size < offset_)) {
      reset();  // replaced or truncated: read it again from the start
      changed = true;
    }
    if (!exists_) {
      exists_ = true;
      changed = true;
      dev_ = st.st_dev;
      ino_ = st.st_ino;
      if (size > first_read_) {
        offset_ = size - first_read_;
        truncated_ = true;
      }
    }
    bool skip_first_line = truncated_ && offset_ > 0 && lines_.empty() && partial_.empty();
    if (size > offset_ && size - offset_ > first_read_) {
      // Far more was appended than a first read takes: jump ahead the same way.
      offset_ = size - first_read_;
      lines_.clear();  // what was before the gap would read as if it continued here
      partial_.clear();
      partial_shown_ = false;
      truncated_ = skip_first_line = true;
    }
    std::string data;
    if (size > offset_) {
      data.resize(static_cast<size_t>(size - offset_));
      const ssize_t n = ::pread(fd, data.data(), data.size(), static_cast<off_t>(offset_));
      data.resize(n > 0 ? static_cast<size_t>(n) : 0);
      offset_ += data.size();
    }
    size_t pos = 0;
    if (skip_first_line && !data.empty()) {
      // The first read started mid-file: the first line is probably cut.
      const size_t nl = data.find('\n');
      pos = nl == std::string::npos ? data.size() : nl + 1;
    }
    if (pos < data.size()) {
      changed = true;
      if (partial_shown_) {
        lines_.pop_back();
        partial_shown_ = false;
      }
      while (pos < data.size()) {
        const size_t nl = data.find('\n', pos);
        if (nl == std::string::npos) {
          partial_.append(data, pos, std::string::npos);
          break;
        }
        partial_.append(data, pos, nl - pos);
        add(std::move(partial_));
        partial_.clear();
        pos = nl + 1;
      }
      if (!partial_.empty()) {
        std::string shown = partial_;
        add(std::move(shown));
        partial_shown_ = true;
      }
    }
  }
  ::close(fd);
  return changed;
}

}  // namespace flow::tui
