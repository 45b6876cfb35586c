#pragma once
// Starting a child process: the one place flow calls posix_spawn (task processes of the
// local executor, commands of the local transport, the TUI's `flow retry`/`flow cancel`).
//
// What the child gets is spelled out in SpawnOptions: the program (an absolute path; PATH
// is not searched), argv, the environment, the working directory, whether it leads a new
// session or process group, where its stdin/stdout/stderr go, whether descriptors above 2
// are closed, and whether its signal mask and dispositions are reset. Reset is the default:
// a child must not inherit the signals the engine blocks or ignores for itself.
//
// spawn() returns once the child has been created and the program is executing, or with the
// errno of whatever failed in between (opening a redirection, chdir, exec); then no child
// is left behind. Reaping the child (waitpid) is the caller's job.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace flow {

// Where one standard stream of the child comes from or goes to.
class ChildStream {
 public:
  static ChildStream inherit() { return ChildStream(Kind::kInherit); }  // the parent's
  static ChildStream null() { return ChildStream(Kind::kNull); }        // /dev/null
  // The file, created with mode 0600 if missing (flow's logs are private to the user,
  // engine/core/private_files.hpp), else emptied.
  static ChildStream truncate(std::filesystem::path file);
  // The file, created with mode 0600 if missing; writes go to its end.
  static ChildStream append(std::filesystem::path file);
  // A descriptor of the parent, duplicated into place (e.g. the write end of a pipe). It
  // may be close-on-exec: the child's copy is not.
  static ChildStream descriptor(int fd);
  // stderr only: wherever stdout goes.
  static ChildStream same_as_stdout() { return ChildStream(Kind::kStdout); }

  enum class Kind { kInherit, kNull, kTruncate, kAppend, kDescriptor, kStdout };
  Kind kind() const { return kind_; }
  const std::filesystem::path& file() const { return file_; }
  int fd() const { return fd_; }

 private:
  explicit ChildStream(Kind k) : kind_(k) {}
  Kind kind_;
  std::filesystem::path file_;
  int fd_ = -1;
};

struct SpawnOptions {
  std::filesystem::path program;  // absolute; executed as is
  std::vector<std::string> argv;  // argv[0] first; empty: {program}
  // NAME=VALUE strings, nullptr-terminated; nullptr: this process's environment. Not
  // copied (callers that spawn often keep one array and change a few entries).
  char* const* env = nullptr;
  std::filesystem::path workdir;  // empty: the parent's
  enum class Group {
    kInherit,          // the parent's process group and session
    kNewProcessGroup,  // leads a new process group (kill(-pid) reaches its children)
    kNewSession,       // leads a new session and process group, no controlling terminal
  };
  Group group = Group::kInherit;
  ChildStream in = ChildStream::null();
  ChildStream out = ChildStream::inherit();
  ChildStream err = ChildStream::inherit();
  bool close_other_fds = false;  // close every descriptor above 2 in the child
  bool reset_signals = true;     // empty signal mask, default action for every signal
};

struct SpawnResult {
  pid_t pid = -1;  // > 0 when started
  int error = 0;   // errno when not (ENOENT: no program or no working directory, ...)
  bool ok() const { return pid > 0; }
};

// Never throws for a child that could not start (see SpawnResult::error); throws
// std::invalid_argument for options that make no sense (same_as_stdout on stdin/stdout).
SpawnResult spawn(const SpawnOptions& options);

}  // namespace flow
