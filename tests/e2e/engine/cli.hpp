#pragma once
// Runs the real `flow` binary (build/flow) in a scratch directory, as a user would.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace flow::test {

struct CmdResult {
  int code = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A scratch project: cwd for commands, FLOW_HOME inside it.
class Project {
 public:
  Project() { std::filesystem::create_directories(home()); }
  const std::filesystem::path& dir() const { return tmp_.path(); }
  std::filesystem::path home() const { return tmp_.path() / ".flow"; }
  std::filesystem::path db() const { return home() / "flow.db"; }

  void write(const std::string& name, const std::string& text) const {
    auto p = dir() / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  // `args` is appended to the flow binary verbatim (caller quotes).
  CmdResult flow(const std::string& args, const std::string& env = "") const {
    return sh(env + " FLOW_HOME='" + home().string() + "' " FLOW_BINARY " " + args);
  }

  // `command` run by sh in the project's directory, stdin from /dev/null.
  CmdResult sh(const std::string& command) const {
    auto out = dir() / ".out", err = dir() / ".err";
    std::string cmd = "cd '" + dir().string() + "' && " + command + " >'" + out.string() + "' 2>'" +
                      err.string() + "' </dev/null";
    int status = std::system(cmd.c_str());
    CmdResult r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

 private:
  TempDir tmp_;
};

}  // namespace flow::test

namespace flow::test {

// A `flow` process running in the background (its own process group, so a test can send
// it signals like a terminal would).
class Background {
 public:
  // `env`: assignments put before the command, like Project::flow's.
  Background(const Project& p, const std::string& args, const std::string& tag = "bg",
             const std::string& env = "") {
    out_ = p.dir() / ("." + tag + ".out");
    err_ = p.dir() / ("." + tag + ".err");
    std::string cmd = "cd '" + p.dir().string() + "' && FLOW_HOME='" + p.home().string() + "' " +
                      env + " exec " FLOW_BINARY " " + args + " >'" + out_.string() + "' 2>'" +
                      err_.string() + "' </dev/null";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Background() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }
  // Waits for the exit code (bounded: a hung engine fails the test instead of hanging it).
  int wait(int timeout_s = 300) {
    for (int i = 0; i < timeout_s * 20; ++i) {
      int status = 0;
      if (reaped_) return code_;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return code_;
      }
      ::usleep(50'000);
    }
    ADD_FAILURE() << "flow did not exit within " << timeout_s << "s";
    return -1;
  }
  // The exit code if the process has ended (reaping it), nothing while it runs.
  std::optional<int> poll() {
    if (reaped_) return code_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    reaped_ = true;
    code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return code_;
  }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }

 private:
  int pid_ = -1;
  bool reaped_ = false;
  int code_ = -1;
  std::filesystem::path out_, err_;
};

// Polls `pred` every 50 ms for up to `timeout_s` seconds.
template <class Pred>
bool eventually(Pred pred, int timeout_s = 120) {
  for (int i = 0; i < timeout_s * 20; ++i) {
    if (pred()) return true;
    ::usleep(50'000);
  }
  return false;
}

}  // namespace flow::test
