#include "engine/core/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <stdexcept>

#include "engine/core/private_files.hpp"

extern char** environ;

namespace flow {

ChildStream ChildStream::truncate(std::filesystem::path file) {
  ChildStream s(Kind::kTruncate);
  s.file_ = std::move(file);
  return s;
}

ChildStream ChildStream::append(std::filesystem::path file) {
  ChildStream s(Kind::kAppend);
  s.file_ = std::move(file);
  return s;
}

ChildStream ChildStream::descriptor(int fd) {
  ChildStream s(Kind::kDescriptor);
  s.fd_ = fd;
  return s;
}

namespace {

// posix_spawn's two attribute objects, destroyed on every path out.
struct Actions {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  Actions() {
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
  }
  ~Actions() {
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
  }
  Actions(const Actions&) = delete;
  Actions& operator=(const Actions&) = delete;
};

int redirect(posix_spawn_file_actions_t* fa, int target, const ChildStream& s) {
  switch (s.kind()) {
    case ChildStream::Kind::kInherit:
      return 0;
    case ChildStream::Kind::kNull:
      return posix_spawn_file_actions_addopen(fa, target, "/dev/null",
                                              target == 0 ? O_RDONLY : O_WRONLY, 0);
    case ChildStream::Kind::kTruncate:
      return posix_spawn_file_actions_addopen(fa, target, s.file().c_str(),
                                              O_WRONLY | O_CREAT | O_TRUNC, kPrivateFileMode);
    case ChildStream::Kind::kAppend:
      return posix_spawn_file_actions_addopen(fa, target, s.file().c_str(),
                                              O_WRONLY | O_CREAT | O_APPEND, kPrivateFileMode);
    case ChildStream::Kind::kDescriptor:
      return posix_spawn_file_actions_adddup2(fa, s.fd(), target);
    case ChildStream::Kind::kStdout:
      if (target != 2) throw std::invalid_argument("ChildStream::same_as_stdout is for stderr");
      return posix_spawn_file_actions_adddup2(fa, 1, 2);
  }
  return 0;
}

}  // namespace

SpawnResult spawn(const SpawnOptions& o) {
  Actions a;
  SpawnResult result;
  // The file actions run in order in the child: the streams (relative paths are the
  // parent's), then the working directory, then closing the rest.
  for (auto [target, stream] : {std::pair{0, &o.in}, std::pair{1, &o.out}, std::pair{2, &o.err}}) {
    if (int rc = redirect(&a.fa, target, *stream); rc != 0) {
      result.error = rc;
      return result;
    }
  }
  if (!o.workdir.empty()) posix_spawn_file_actions_addchdir_np(&a.fa, o.workdir.c_str());
  if (o.close_other_fds) posix_spawn_file_actions_addclosefrom_np(&a.fa, 3);

  short flags = 0;
  if (o.group == SpawnOptions::Group::kNewSession) flags |= POSIX_SPAWN_SETSID;
  if (o.group == SpawnOptions::Group::kNewProcessGroup) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&a.attr, 0);
  }
  if (o.reset_signals) {
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&a.attr, &none);
    posix_spawnattr_setsigdefault(&a.attr, &all);
    flags |= POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  }
  posix_spawnattr_setflags(&a.attr, flags);

  std::vector<std::string> args = o.argv.empty() ? std::vector{o.program.string()} : o.argv;
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& s : args)
    argv.push_back(s.data());
  argv.push_back(nullptr);

  pid_t pid = -1;
  const int rc =
      ::posix_spawn(&pid, o.program.c_str(), &a.fa, &a.attr, argv.data(), o.env ? o.env : environ);
  if (rc != 0) {
    result.error = rc;
    return result;
  }
  result.pid = pid;
  return result;
}

}  // namespace flow
