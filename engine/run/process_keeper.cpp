#include "engine/run/process_keeper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>

#include "engine/core/spawn.hpp"
#include "engine/run/process.hpp"

namespace flow::run {

namespace {

// Messages are one SOCK_SEQPACKET packet each: a kind letter and fields, each followed by NUL.
//   engine → keeper  L command exit_status log workdir env...
//   keeper → engine  H version            (once, when it is ready)
//                    P pid error start_ticks keeper_peak_kib
//                    X pid wait_status cpu_ms max_rss_kib
constexpr const char* kVersion = "1";
constexpr size_t kMaxMessage = 1 << 20;

std::string encode(char kind, const std::vector<std::string>& fields) {
  std::string m(1, kind);
  m.push_back('\0');
  for (const auto& f : fields) {
    m += f;
    m.push_back('\0');
  }
  return m;
}

std::vector<std::string> decode(const std::string& m) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (start < m.size()) {
    size_t end = m.find('\0', start);
    if (end == std::string::npos) end = m.size();
    fields.emplace_back(m, start, end - start);
    start = end + 1;
  }
  return fields;
}

long long number(const std::vector<std::string>& f, size_t i) {
  return i < f.size() ? std::strtoll(f[i].c_str(), nullptr, 10) : 0;
}

// Waits while the socket is full (it may be non-blocking).
bool send_message(int fd, const std::string& m) {
  for (;;) {
    ssize_t n = ::send(fd, m.data(), m.size(), MSG_NOSIGNAL);
    if (n >= 0) return n == static_cast<ssize_t>(m.size());
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, -1);
  }
}

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::strchr("_./,:+=@%-", c) != nullptr;
}

// dash's builtins and reserved words: run by the shell itself, or not a program at all.
bool is_shell_word(std::string_view w) {
  static constexpr std::array<std::string_view, 53> kWords = {
      ".",        ":",       "[",     "alias", "bg",    "break",  "cd",    "chdir", "command",
      "continue", "echo",    "eval",  "exec",  "exit",  "export", "false", "fc",    "fg",
      "getopts",  "hash",    "jobs",  "kill",  "local", "printf", "pwd",   "read",  "readonly",
      "return",   "set",     "shift", "test",  "times", "trap",   "true",  "type",  "ulimit",
      "umask",    "unalias", "unset", "wait",  "case",  "do",     "done",  "elif",  "else",
      "esac",     "fi",      "for",   "if",    "in",    "then",   "until", "while"};
  for (auto k : kWords) {
    if (k == w) return true;
  }
  return false;
}

std::string env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& kv : env) {
    if (kv.size() > name.size() && kv.compare(0, name.size(), name) == 0 && kv[name.size()] == '=')
      return kv.substr(name.size() + 1);
  }
  return {};
}

// The program /bin/sh would execute for `word` with this PATH, or "" when the shell should
// decide (a relative or empty PATH entry, or nothing found: the shell then says "not found").
std::string find_program(const std::string& word, const std::string& path) {
  if (word.find('/') != std::string::npos) return word;
  if (path.empty()) return {};
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty() || dir[0] != '/') return {};
    std::string candidate = dir + "/" + word;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return {};
}

// PWD as /bin/sh sets it for what it runs in `dir`: the inherited value when it names that
// directory, else the physical path.
std::string pwd_for(const std::string& dir, const std::vector<std::string>& env) {
  std::string inherited = env_value(env, "PWD");
  struct stat want {
  }, have{};
  if (!inherited.empty() && inherited[0] == '/' && ::stat(dir.c_str(), &want) == 0 &&
      ::stat(inherited.c_str(), &have) == 0 && want.st_dev == have.st_dev &&
      want.st_ino == have.st_ino)
    return inherited;
  char resolved[PATH_MAX];
  return ::realpath(dir.c_str(), resolved) ? std::string(resolved) : dir;
}

std::string own_directory() {
  char cwd[PATH_MAX];
  return ::getcwd(cwd, sizeof cwd) ? std::string(cwd) : std::string(".");
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Starts one launch request's process; returns the answer for the engine.
std::string start_process(const std::vector<std::string>& f, std::map<pid_t, std::string>& exits) {
  const std::string& command = f[1];
  std::vector<std::string> env(f.begin() + 5, f.end());
  SpawnOptions o;
  o.workdir = f[4];
  o.group = SpawnOptions::Group::kNewSession;
  o.in = ChildStream::null();
  o.out = ChildStream::truncate(f[3]);
  o.err = ChildStream::same_as_stdout();

  SpawnResult child;
  const uint64_t before = boot_ticks_now();
  if (auto words = plain_command(command)) {
    std::string program = find_program((*words)[0], env_value(env, "PATH"));
    if (!program.empty()) {
      std::vector<std::string> direct_env = env;
      const std::string pwd = "PWD=" + pwd_for(o.workdir.empty() ? own_directory() : f[4], env);
      bool replaced = false;
      for (auto& kv : direct_env) {
        if (kv.compare(0, 4, "PWD=") == 0) kv = pwd, replaced = true;
      }
      if (!replaced) direct_env.push_back(pwd);
      auto envp = pointers(direct_env);
      o.program = program;
      o.argv = *words;
      o.env = envp.data();
      child = spawn(o);
    }
  }
  // Not plain, not found, or not executable as it is (a script without `#!`, ...): the
  // shell runs it and says what is wrong, exactly as it would have.
  if (!child.ok()) {
    auto envp = pointers(env);
    o.program = "/bin/sh";
    o.argv = {"/bin/sh", "-c", command};
    o.env = envp.data();
    child = spawn(o);
  }
  const uint64_t after = boot_ticks_now();
  if (child.ok()) exits[child.pid] = f[2];
  struct rusage self {};
  ::getrusage(RUSAGE_SELF, &self);
  const uint64_t ticks = !child.ok()       ? 0
                         : before == after ? before
                                           : process_start_ticks(child.pid);
  return encode('P', {std::to_string(child.pid), std::to_string(child.error), std::to_string(ticks),
                      std::to_string(self.ru_maxrss)});
}

void write_exit_status(const std::string& file, int code) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const std::string text = std::to_string(code) + "\n";
  [[maybe_unused]] ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
}

}  // namespace

std::optional<std::vector<std::string>> plain_command(std::string_view command) {
  while (!command.empty() && command.back() == '\n')  // `run: |` ends with one
    command.remove_suffix(1);
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= command.size()) {
    size_t end = command.find(' ', start);
    if (end == std::string_view::npos) end = command.size();
    std::string_view w = command.substr(start, end - start);
    if (w.empty()) return std::nullopt;  // leading, trailing or double space
    for (char c : w) {
      if (!is_word_char(c)) return std::nullopt;
    }
    words.emplace_back(w);
    start = end + 1;
  }
  if (words.empty() || words[0].find('=') != std::string::npos || is_shell_word(words[0]))
    return std::nullopt;
  return words;
}

// ---- the engine's side ----

namespace {
// Keepers whose connection was closed: reaped when they have exited, so that a long-lived
// engine (the scheduler) does not collect zombies.
std::vector<pid_t>& closed_keepers() {
  static std::vector<pid_t> pids;
  return pids;
}

void reap_closed_keepers() {
  auto& pids = closed_keepers();
  std::erase_if(pids, [](pid_t p) { return ::waitpid(p, nullptr, WNOHANG) != 0; });
}
}  // namespace

std::unique_ptr<ProcessKeeper> ProcessKeeper::start(const std::filesystem::path& program,
                                                    std::string& why) {
  reap_closed_keepers();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    why = std::string("socketpair: ") + std::strerror(errno);
    return nullptr;
  }
  SpawnOptions o;
  o.program = program;
  o.argv = {"flow", "__keeper"};
  o.group = SpawnOptions::Group::kNewSession;
  o.in = ChildStream::descriptor(sv[1]);
  o.out = ChildStream::null();
  // Nothing of the engine's: a pipe the engine writes to (`flow run | tee`) closes when
  // the engine ends, not when the last task the keeper waits for does.
  o.err = ChildStream::null();
  o.close_other_fds = true;
  SpawnResult child = spawn(o);
  ::close(sv[1]);
  if (!child.ok()) {
    ::close(sv[0]);
    why = "cannot start " + program.string() + ": " + std::strerror(child.error);
    return nullptr;
  }
  return std::unique_ptr<ProcessKeeper>(new ProcessKeeper(sv[0], child.pid));
}

bool ProcessKeeper::ready(bool wait) {
  if (ready_ || gone_) return ready_;
  if (wait) {
    pollfd p{fd_, POLLIN, 0};  // a minute covers a loaded machine
    if (::poll(&p, 1, 60000) <= 0) return false;
  }
  std::string hello;
  if (!receive(hello, false) || hello.empty()) return false;
  if (decode(hello) == std::vector<std::string>{"H", kVersion}) {
    ready_ = true;
  } else {
    gone_ = true;  // not a keeper of this version: never used
  }
  return ready_;
}

ProcessKeeper::~ProcessKeeper() {
  ::close(fd_);
  if (::waitpid(pid_, nullptr, WNOHANG) == 0) closed_keepers().push_back(pid_);
}

bool ProcessKeeper::receive(std::string& message, bool block) {
  if (gone_) return false;
  message.resize(4096);
  ssize_t n;
  for (;;) {
    // The socket is non-blocking (the event loop shares it): a blocking read polls first.
    n = ::recv(fd_, message.data(), message.size(), MSG_DONTWAIT);
    if (n >= 0 || errno == EINTR) {
      if (n >= 0) break;
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) break;
    if (!block) {
      message.clear();
      return true;
    }
    pollfd p{fd_, POLLIN, 0};
    ::poll(&p, 1, -1);
  }
  if (n <= 0) {
    gone_ = true;
    return false;
  }
  message.resize(static_cast<size_t>(n));
  return true;
}

void ProcessKeeper::queue_exit(const std::string& message) {
  auto f = decode(message);
  KeeperExit e;
  e.pid = static_cast<pid_t>(number(f, 1));
  e.wait_status = static_cast<int>(number(f, 2));
  e.cpu_ms = number(f, 3);
  e.max_rss_kib = static_cast<long>(number(f, 4));
  exits_.push_back(e);
}

std::optional<KeeperStarted> ProcessKeeper::launch(const KeeperLaunch& l) {
  if (!ready()) return std::nullopt;
  std::string request = encode('L', {l.command, l.exit_status.string(), l.log.string(), l.workdir});
  for (char* const* e = l.env; e && *e; ++e) {
    request += *e;
    request.push_back('\0');
  }
  if (request.size() > kMaxMessage || !send_message(fd_, request)) return std::nullopt;
  std::string m;
  while (receive(m, true)) {
    if (m.empty()) continue;
    if (m[0] == 'X') {
      queue_exit(m);
      continue;
    }
    if (m[0] != 'P') continue;
    auto f = decode(m);
    KeeperStarted s;
    s.pid = static_cast<pid_t>(number(f, 1));
    s.error = static_cast<int>(number(f, 2));
    s.start_ticks = static_cast<uint64_t>(number(f, 3));
    s.keeper_peak_kib = static_cast<long>(number(f, 4));
    return s;
  }
  // Sent, and the keeper ended before it answered: whether it started the process is not
  // known, so it is not started again.
  KeeperStarted lost;
  lost.error = ECONNRESET;
  return lost;
}

bool ProcessKeeper::take_exits(std::vector<KeeperExit>& out) {
  std::string m;
  while (receive(m, false) && !m.empty()) {
    if (m[0] == 'X') queue_exit(m);
  }
  out.insert(out.end(), exits_.begin(), exits_.end());
  exits_.clear();
  return !gone_;
}

// ---- the keeper ----

int keeper_main(int fd) {
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  ::signal(SIGINT, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  const int sfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) return 1;
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  bool engine = send_message(fd, encode('H', {kVersion}));
  std::map<pid_t, std::string> exits;  // running processes → their exit-status files
  std::string buffer(kMaxMessage, '\0');

  auto reap = [&] {
    int status = 0;
    struct rusage ru {};
    pid_t pid;
    while ((pid = ::wait4(-1, &status, WNOHANG, &ru)) > 0) {
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      auto it = exits.find(pid);
      if (it == exits.end()) continue;
      write_exit_status(it->second, code);
      exits.erase(it);
      auto ms = [](const timeval& tv) {
        return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
      };
      if (engine &&
          !send_message(fd, encode('X', {std::to_string(pid), std::to_string(status),
                                         std::to_string(ms(ru.ru_utime) + ms(ru.ru_stime)),
                                         std::to_string(ru.ru_maxrss)})))
        engine = false;
    }
  };

  while (engine || !exits.empty()) {
    pollfd p[2] = {{sfd, POLLIN, 0}, {engine ? fd : -1, POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (p[0].revents & POLLIN) {
      signalfd_siginfo info;
      while (::read(sfd, &info, sizeof info) == sizeof info) {
      }
      reap();
    }
    if (engine && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        engine = false;  // the engine went away: keep waiting for what runs
        continue;
      }
      auto f = decode(std::string(buffer.data(), static_cast<size_t>(n)));
      if (f.size() >= 5 && f[0] == "L" && !send_message(fd, start_process(f, exits)))
        engine = false;
      reap();  // a process that ended at once must not wait for the next signal
    }
  }
  ::close(fd);
  return 0;
}

}  // namespace flow::run
