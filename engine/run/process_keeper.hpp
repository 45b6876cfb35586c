#pragma once
// The process keeper: one small process per local executor that starts the executor's task
// processes and waits for them. Because it, not the engine, is their parent, the exit status
// of every task is recorded (AttemptFiles::exit_status) even when the engine is killed, and a
// task needs no shell of its own for that: a plain command (`touch out/x`, `python3 train.py
// --lr 0.1`) is executed directly, one process instead of a shell and its child; anything
// else runs as `/bin/sh -c COMMAND`, as before.
//
// The keeper is the flow binary run as `flow __keeper`, in its own session, its stdin a
// socket to the engine. For each launch the engine sends what to start and waits for the
// answer (the pid, or why it could not start); when a process ends the keeper writes its exit
// status file, then tells the engine (wait status and resources used). When the engine goes
// away the keeper keeps waiting for the processes it started, records how each ended, and
// exits after the last. A later engine re-attaches to those processes as to any it did not
// start (LocalExecutor::reattach).
//
// docs/ENGINE.md "How a task is run" says this for users; docs/BENCHMARKS.md "Local engine
// vs ninja, make, snakemake" has what it changed.

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flow::run {

// The words of `command` when /bin/sh would run it as one program with those words as its
// arguments: only letters, digits and `_ . / , : + = @ % -`, words separated by single
// spaces (a trailing newline ignored), and a first word that is neither an assignment nor a
// shell builtin or keyword.
// nullopt: the command needs a shell (quotes, `$`, globs, `;`, `|`, `>`, `~`, `cd`, ...).
std::optional<std::vector<std::string>> plain_command(std::string_view command);

// What the engine asks the keeper to start.
struct KeeperLaunch {
  std::string command;                // run directly when plain_command() allows, else by sh -c
  std::filesystem::path exit_status;  // "CODE\n" (mode 0600) when it ends; 128+N for signal N
  std::filesystem::path log;          // stdout and stderr; created 0600 or emptied
  std::string workdir;                // empty: the keeper's (the engine's at its start)
  char* const* env = nullptr;         // NAME=VALUE, nullptr-terminated, the whole environment
};

struct KeeperStarted {
  pid_t pid = -1;            // > 0: started; it leads a new session
  int error = 0;             // errno when not (as flow::spawn reports it)
  uint64_t start_ticks = 0;  // its start time as /proc/PID/stat has it (process.hpp)
  long keeper_peak_kib = 0;  // the keeper's peak memory: the process's ru_maxrss starts there
};

struct KeeperExit {
  pid_t pid = 0;
  int wait_status = 0;  // as wait(2) reports it
  int64_t cpu_ms = 0;   // user + system time of the process and the children it waited for
  long max_rss_kib = 0;
};

// The engine's side of one keeper.
class ProcessKeeper {
 public:
  // Starts `program __keeper` and returns at once (the keeper loads meanwhile; see ready()).
  // nullptr, with the reason in `why`, when it cannot.
  static std::unique_ptr<ProcessKeeper> start(const std::filesystem::path& program,
                                              std::string& why);
  // Whether the keeper has said it is ready (a greeting that names this protocol). With
  // `wait`, waits for that up to a minute; without, only looks. A program that is not a
  // keeper closes the connection instead, and then gone() is true.
  bool ready(bool wait = false);
  bool gone() const { return gone_; }
  // Closes the connection: the keeper exits once the processes it started have ended.
  ~ProcessKeeper();
  ProcessKeeper(const ProcessKeeper&) = delete;
  ProcessKeeper& operator=(const ProcessKeeper&) = delete;

  // Starts one process and returns once it runs or could not start. nullopt: the keeper is
  // not ready or gone, or the request could not be sent (too large); the caller starts it
  // some other way.
  std::optional<KeeperStarted> launch(const KeeperLaunch& launch);
  // The ends reported so far, without blocking. false once the keeper has gone away (after
  // returning what it reported before).
  bool take_exits(std::vector<KeeperExit>& out);
  // Whether ends were read (while waiting for a launch's answer) and not yet taken.
  bool has_exits() const { return !exits_.empty(); }
  // Readable when the keeper has reported something (for the caller's event loop).
  int fd() const { return fd_; }
  pid_t pid() const { return pid_; }

 private:
  ProcessKeeper(int fd, pid_t pid) : fd_(fd), pid_(pid) {}
  // One message, blocking or not; false at the end of the connection or on an error.
  bool receive(std::string& message, bool block);
  void queue_exit(const std::string& message);

  int fd_;
  pid_t pid_;
  bool gone_ = false;
  bool ready_ = false;
  std::deque<KeeperExit> exits_;  // read while waiting for a launch's answer
};

// The keeper's side: serves the engine connected on descriptor `fd` until it closes the
// connection and every process started has ended. Returns the keeper's exit status.
int keeper_main(int fd);

}  // namespace flow::run
