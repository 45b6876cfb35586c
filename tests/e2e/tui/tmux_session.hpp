#pragma once
// A terminal for end-to-end tests of `flow tui`: a detached tmux session on a private
// socket (so tests neither see nor disturb other tmux servers), sized like a real
// terminal. Tests send keys and read the screen as text; wait_for() polls the screen with
// a bounded wait instead of sleeping fixed times.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

#include "../engine/cli.hpp"

namespace flow::test {

class TmuxSession {
 public:
  // Runs `script` (a file in the project; sh runs it) in a new session of cols x rows.
  TmuxSession(const Project& p, const std::string& script, int cols = 100, int rows = 30)
      : socket_(p.dir() / "tmux.sock") {
    // The server starts with this process's environment (FLOW_HOME etc. are set by the
    // script itself); -f /dev/null: no user configuration.
    const int rc = run("-f /dev/null new-session -d -s tui -x " + std::to_string(cols) + " -y " +
                       std::to_string(rows) + " \"sh '" + (p.dir() / script).string() + "'\"");
    if (rc != 0) {
      ADD_FAILURE() << "cannot start tmux (is it installed? scripts/install-deps.sh installs it)";
      return;
    }
    started_ = true;
  }
  ~TmuxSession() {
    if (started_) run("kill-server");
  }
  bool started() const { return started_; }

  // tmux send-keys arguments, e.g. "Enter", "q", "-l /tune" (literal text).
  void keys(const std::string& args) { run("send-keys -t tui " + args); }

  // The screen as text, one line per row.
  std::string screen() const {
    std::string out;
    const std::string cmd = "tmux -S '" + socket_.string() + "' capture-pane -p -t tui 2>/dev/null";
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        out.append(buf, n);
      ::pclose(f);
    }
    return out;
  }

  // Polls the screen until `pred` holds (true) or `timeout_s` passed (false).
  bool wait_for(const std::function<bool(const std::string&)>& pred, int timeout_s = 120) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(screen())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }
  // Some line of the screen contains every one of `parts`.
  bool wait_for_line(const std::vector<std::string>& parts, int timeout_s = 120) {
    return wait_for([&](const std::string& s) { return line_with(s, parts) != std::string::npos; },
                    timeout_s);
  }
  bool wait_for(const std::string& text, int timeout_s = 120) {
    return wait_for([&](const std::string& s) { return s.find(text) != std::string::npos; },
                    timeout_s);
  }

  // Index of the first line of `screen` containing all `parts`, or npos.
  static size_t line_with(const std::string& screen, const std::vector<std::string>& parts) {
    size_t index = 0, start = 0;
    while (start <= screen.size()) {
      size_t end = screen.find('\n', start);
      if (end == std::string::npos) end = screen.size();
      const std::string line = screen.substr(start, end - start);
      bool all = true;
      for (const auto& p : parts)
        all = all && line.find(p) != std::string::npos;
      if (all) return index;
      start = end + 1;
      ++index;
    }
    return std::string::npos;
  }
  static std::string line(const std::string& screen, size_t index) {
    size_t start = 0;
    for (size_t i = 0; i < index; ++i) {
      start = screen.find('\n', start);
      if (start == std::string::npos) return {};
      ++start;
    }
    return screen.substr(start, screen.find('\n', start) - start);
  }

 private:
  int run(const std::string& args) const {
    const std::string cmd = "tmux -S '" + socket_.string() + "' " + args + " >/dev/null 2>&1";
    return std::system(cmd.c_str());
  }

  std::filesystem::path socket_;
  bool started_ = false;
};

}  // namespace flow::test
