#include "engine/run/local_executor.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/core/private_files.hpp"
#include "engine/core/spawn.hpp"
#include "engine/core/suggest.hpp"
#include "engine/core/text_file.hpp"
#include "engine/run/secret_mask.hpp"
#include "engine/site/local_node.hpp"

extern char** environ;

namespace flow::run {

namespace {

// $1 = command, $2 = exit-status file. The EXIT trap records the status however the
// command ends (including `exit N` inside it); the file is what a re-attaching engine
// reads, since it cannot wait() for a process it did not start.
constexpr const char* kWrapper =
    "__flow_cmd=$1; __flow_exit=$2; shift 2; "
    "trap '__flow_s=$?; umask 077; echo $__flow_s > \"$__flow_exit\"' EXIT; "
    "eval \"$__flow_cmd\"";

int pidfd_open(int pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

std::optional<int> read_exit_status(const std::filesystem::path& p) {
  auto text = read_file(p);
  if (!text || text->empty()) return std::nullopt;
  try {
    return std::stoi(*text);
  } catch (...) {
    return std::nullopt;
  }
}

// The engine's own peak resident memory so far, in KiB.
long engine_peak_kib() {
  struct rusage self {};
  return ::getrusage(RUSAGE_SELF, &self) == 0 ? self.ru_maxrss : 0;
}

// The process's rusage from wait4: its own and that of every descendant it waited for (the
// wrapper shell waits for the command), as Linux reports it: CPU time summed, ru_maxrss the
// largest of them, in KiB. The wrapper's own ru_maxrss starts at the engine's peak: exec
// records the high-water mark of the memory it replaces, here the engine's (Linux's
// exec_mmap). So a peak up to `engine_peak` may be the engine's, and is not known; above
// it, it is a process of the task's.
state::ResourceUse usage_of(const struct rusage& ru, long engine_peak) {
  state::ResourceUse u;
  auto ms = [](const struct timeval& tv) {
    return static_cast<int64_t>(tv.tv_sec) * 1000 + static_cast<int64_t>(tv.tv_usec) / 1000;
  };
  u.cpu_ms = ms(ru.ru_utime) + ms(ru.ru_stime);
  if (ru.ru_maxrss > engine_peak) u.max_rss_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  return u;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string with_log_tail(std::string msg, const std::filesystem::path& log) {
  std::string tail = tail_lines(log, 10);
  if (!tail.empty()) msg += "; last lines of " + log.string() + ":\n" + tail;
  return msg;
}

}  // namespace

struct LocalExecutor::Proc {
  Proc(boost::asio::io_context& io) : fd(io), kill_timer(io), poll_timer(io) {}
  int pid = 0;
  bool is_child = true;
  LaunchSpec spec;
  boost::asio::posix::stream_descriptor fd;  // pidfd
  boost::asio::steady_timer kill_timer;
  boost::asio::steady_timer poll_timer;  // when pidfd is unavailable
  std::optional<CancelReason> cancel_reason;
  bool done = false;
  std::chrono::steady_clock::time_point spawned;  // children only: for the try's wall time
  long engine_peak_kib = 0;  // the engine's peak memory when it started the process
  int exit_file_waits = 0;   // see on_exit
};

namespace {

int cores_or_hardware(int slots) {
  return slots > 0 ? slots : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// CUDA_VISIBLE_DEVICES of a running process, from /proc/PID/environ: the GPUs a try an
// earlier engine started was given.
std::vector<std::string> visible_devices_of(int pid) {
  auto devices = process_env(pid, "CUDA_VISIBLE_DEVICES");
  return devices ? site::parse_visible_devices(*devices) : std::vector<std::string>{};
}

}  // namespace

LocalExecutor::LocalExecutor(boost::asio::io_context& io, LocalExecutorOptions options)
    : io_(io),
      options_(std::move(options)),
      slots_(cores_or_hardware(options_.slots), options_.gpus) {}

LocalExecutor::~LocalExecutor() {
  for (auto& [_, p] : procs_) {
    boost::system::error_code ec;
    p->fd.close(ec);
    p->kill_timer.cancel();
    p->poll_timer.cancel();
  }
}

std::string LocalExecutor::run_dir(const std::string& run_id) const {
  return (options_.runs_root / run_id).string();
}

Plan LocalExecutor::plan(const LaunchSpec&) {
  return Plan{IntentState::kStarting, {}};
}

const std::vector<std::string>& LocalExecutor::base_env() {
  if (!base_env_) {
    base_env_.emplace();
    for (char** e = environ; *e; ++e) {
      if (std::strchr(*e, '=')) base_env_->emplace_back(*e);
    }
  }
  return *base_env_;
}

int LocalExecutor::free_slots() const {
  return std::max(0, slots_.free_cores());
}

bool LocalExecutor::claim(const AttemptKey& key, const dag::Resources& need,
                          std::optional<dag::Duration> /*declared*/) {
  return slots_.claim(key, need);
}

void LocalExecutor::release(const AttemptKey& key) {
  slots_.release(key);
}

void LocalExecutor::check_outputs(const LaunchSpec& spec, ExecEvent& e) {
  if (e.outcome != Outcome::kSucceeded || spec.staging.outputs.empty()) return;
  if (auto gone = missing_outputs(spec.staging); !gone.empty()) {
    e.outcome = Outcome::kFailed;
    e.native_state = kStageOutFailed;
    e.message = gone;
  }
}

void LocalExecutor::post(ExecEvent e) {
  boost::asio::post(io_, [this, e = std::move(e)]() mutable { emit(std::move(e)); });
}

void LocalExecutor::launch(const LaunchSpec& spec, const Plan&) {
  // One mkdir per attempt in the common case (a new instance's log directory); the parents
  // and the run directory are made once per run. A directory this call created cannot
  // hold a stale exit-status file, so only an existing one is cleaned.
  // Both are private to the user (engine/core/private_files.hpp), whatever the umask.
  const auto& log_dir = spec.files.log.parent_path();
  bool fresh_dir = ::mkdir(log_dir.c_str(), kPrivateDirMode) == 0;
  std::error_code dir_error;
  if (fresh_dir) {
    ::chmod(log_dir.c_str(), kPrivateDirMode);
  } else if (errno == ENOENT) {
    fresh_dir = create_private_directories(log_dir, dir_error);
  } else if (errno != EEXIST) {
    dir_error = std::error_code(errno, std::generic_category());
  }
  if (dir_error) {
    // Said as it is: the spawn would fail opening the log in it, as "no such file" (a
    // full disk or file system out of inodes read as a missing working directory).
    ExecEvent e;
    e.key = spec.key;
    e.kind = ExecEvent::Kind::kFinished;
    e.outcome = Outcome::kFailed;
    e.exit_code = 127;
    e.message = "could not start the process: cannot create its log directory " + log_dir.string() +
                ": " + dir_error.message();
    slots_.release(spec.key);
    post(std::move(e));
    return;
  }
  if (!fresh_dir) ::unlink(spec.files.exit_status.c_str());
  if (made_run_dirs_.insert(spec.key.run_id).second) {
    std::error_code ec;
    create_private_directories(run_dir(spec.key.run_id), ec);
  }
  // Declared inputs are read in place here; one that is missing fails the try before it
  // starts (docs/STAGING.md).
  if (!spec.staging.inputs.empty()) {
    if (auto gone = missing_inputs(spec.staging); !gone.empty()) {
      ExecEvent e;
      e.key = spec.key;
      e.kind = ExecEvent::Kind::kFinished;
      e.outcome = Outcome::kFailed;
      e.exit_code = -1;
      e.native_state = kStageInFailed;
      e.message = gone;
      slots_.release(spec.key);
      post(std::move(e));
      return;
    }
  }

  // The engine's environment (read once) with the task's variables on top. Only the few
  // task variables are built per launch: rebuilding the whole environment as a map cost
  // more than the rest of launch() apart from posix_spawn itself.
  const auto& base = base_env();
  std::map<std::string, std::string, std::less<>> own(spec.env.begin(), spec.env.end());
  own["FLOW_OUTPUTS_FILE"] = spec.files.outputs.string();
  own["FLOW_METRICS_FILE"] = spec.files.metrics.string();
  // A launch without a claim (a caller that skipped it) holds what it asks from here on.
  if (!slots_.grant(spec.key)) slots_.adopt(spec.key, spec.resources, {});
  if (spec.resources.declared) {
    const SlotTable::Grant& g = *slots_.grant(spec.key);
    own["CUDA_VISIBLE_DEVICES"] = join(g.gpus, ",");
    own.try_emplace("OMP_NUM_THREADS", std::to_string(g.cores));
  }
  if (!options_.path_prefix.empty()) {
    std::optional<std::string> path;
    if (auto it = own.find("PATH"); it != own.end()) {
      path = it->second;
    } else {
      for (const auto& kv : base) {
        if (kv.compare(0, 5, "PATH=") == 0) path = kv.substr(5);
      }
    }
    own["PATH"] = options_.path_prefix.string() + (path ? ":" + *path : "");
  }
  std::vector<std::string> own_strings;
  own_strings.reserve(own.size());
  for (const auto& [k, v] : own)
    own_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  envp.reserve(base.size() + own_strings.size() + 1);
  for (const auto& kv : base) {
    if (!own.count(std::string_view(kv).substr(0, kv.find('='))))
      envp.push_back(const_cast<char*>(kv.c_str()));
  }
  for (auto& kv : own_strings)
    envp.push_back(kv.data());
  envp.push_back(nullptr);

  const std::string& cwd = spec.workdir;
  if (ProcessKeeper* k = keeper()) {
    KeeperLaunch l;
    l.command = spec.command;
    l.exit_status = spec.files.exit_status;
    l.log = spec.files.log;
    l.workdir = cwd;
    l.env = envp.data();
    const auto spawned = std::chrono::steady_clock::now();
    if (auto started = k->launch(l)) {
      if (k->has_exits()) boost::asio::post(io_, [this] { drain_keeper(); });  // read meanwhile
      if (started->pid <= 0) return fail_to_start(spec, started->error);
      auto p = std::make_shared<Proc>(io_);
      p->pid = started->pid;
      p->is_child = false;
      p->spec = spec;
      p->spawned = spawned;
      p->engine_peak_kib = started->keeper_peak_kib;
      procs_[spec.key] = p;
      kept_[started->pid] = spec.key;
      ExecEvent e;
      e.key = spec.key;
      e.kind = ExecEvent::Kind::kStarted;
      e.handle.pid = started->pid;
      e.handle.pid_start = started->start_ticks;
      e.at = now_ms();
      post(std::move(e));
      return;
    }
    // Not sent (the keeper has gone, or the request is too large): the shell wrapper.
  }

  SpawnOptions o;
  o.program = "/bin/sh";
  o.argv = {"/bin/sh", "-c", kWrapper, "flow-task", spec.command, spec.files.exit_status.string()};
  o.env = envp.data();
  o.workdir = cwd;
  o.group = SpawnOptions::Group::kNewSession;
  o.in = ChildStream::null();
  o.out = ChildStream::truncate(spec.files.log);
  o.err = ChildStream::same_as_stdout();
  const uint64_t ticks_before = boot_ticks_now();
  // Before the spawn: posix_spawn returns once the child runs its command, so a clock read
  // after it made a `sleep 1` last 0.998 s (a busy engine reads it late).
  const auto spawned = std::chrono::steady_clock::now();
  const SpawnResult child = spawn(o);
  const uint64_t ticks_after = boot_ticks_now();
  // The engine's peak once the child has exec'd (posix_spawn returns after the exec): the
  // high-water mark exec recorded for the child is at most this. Read before the spawn, it
  // missed what the engine's other threads took meanwhile, and a `sleep 1` was reported
  // with the engine's 200 MB (ASan test build, two tests at a time).
  const long peak_kib = engine_peak_kib();
  const int rc = child.error;
  const pid_t pid = child.pid;
  if (rc != 0) return fail_to_start(spec, rc);
  auto p = std::make_shared<Proc>(io_);
  p->pid = pid;
  p->spec = spec;
  p->spawned = spawned;
  p->engine_peak_kib = peak_kib;
  procs_[spec.key] = p;
  ExecEvent started;
  started.key = spec.key;
  started.kind = ExecEvent::Kind::kStarted;
  started.handle.pid = pid;
  // The kernel stamped the child between the two reads; only if a tick boundary fell in
  // between is /proc asked.
  started.handle.pid_start = ticks_before == ticks_after ? ticks_before : process_start_ticks(pid);
  started.at = now_ms();
  post(std::move(started));
  watch(spec.key, p);
}

void LocalExecutor::fail_to_start(const LaunchSpec& spec, int error) {
  ExecEvent e;
  e.key = spec.key;
  e.kind = ExecEvent::Kind::kFinished;
  e.outcome = Outcome::kFailed;
  e.exit_code = 127;
  e.message =
      "could not start the process: " +
      (error == ECONNRESET ? std::string("the process keeper ended while starting it")
                           : std::string(std::strerror(error))) +
      (error == ENOENT && !spec.workdir.empty() ? " (working directory " + spec.workdir + ")" : "");
  slots_.release(spec.key);
  post(std::move(e));
}

void LocalExecutor::use_keeper(std::filesystem::path program, bool wait) {
  keeper_program_ = std::move(program);
  wait_for_keeper_ = wait;
}

ProcessKeeper* LocalExecutor::keeper() {
  if (!keeper_tried_ && !keeper_program_.empty()) {
    keeper_tried_ = true;
    std::string why;  // without one, tasks run as before: each under a shell wrapper
    keeper_ = ProcessKeeper::start(keeper_program_, why);
  }
  if (!keeper_) return nullptr;
  if (!keeper_events_) {  // not ready at the last look
    if (!keeper_->ready(wait_for_keeper_)) {
      if (keeper_->gone()) keeper_.reset();
      return nullptr;
    }
    keeper_events_.emplace(io_, ::dup(keeper_->fd()));
    wait_for_keeper();
  }
  return keeper_.get();
}

void LocalExecutor::wait_for_keeper() {
  keeper_events_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                             [this](const boost::system::error_code& ec) {
                               if (ec || !keeper_) return;
                               drain_keeper();
                               if (keeper_) wait_for_keeper();
                             });
}

void LocalExecutor::drain_keeper() {
  if (!keeper_) return;
  std::vector<KeeperExit> ends;
  const bool alive = keeper_->take_exits(ends);
  for (const auto& x : ends) {
    auto it = kept_.find(x.pid);
    if (it == kept_.end()) continue;
    const AttemptKey key = it->second;
    kept_.erase(it);
    on_exit(key, &x);
  }
  if (alive) return;
  // The keeper is gone (killed): what it started is watched like a re-attached process, and
  // new attempts run under the shell wrapper.
  keeper_events_.reset();
  keeper_.reset();
  for (const auto& [pid, key] : kept_) {
    auto it = procs_.find(key);
    if (it == procs_.end()) continue;
    watch(key, it->second);
  }
  kept_.clear();
}

namespace {
// Is `pid` the process of this attempt (see the header: its marker)?
bool is_attempt_process(int pid, const LaunchSpec& spec) {
  return process_has_marker(pid, spec.files.exit_status.string()) ||
         (::getsid(pid) == pid &&
          process_env(pid, "FLOW_OUTPUTS_FILE") == spec.files.outputs.string());
}
}  // namespace

void LocalExecutor::reattach(const LaunchSpec& spec, const AttemptHandle& handle) {
  const std::string marker = spec.files.exit_status.string();
  int pid = is_attempt_process(handle.pid, spec) ? handle.pid : find_process_with_marker(marker);
  if (pid <= 0) {
    pid = find_process_with_env("FLOW_OUTPUTS_FILE", spec.files.outputs.string());
    if (pid > 0 && ::getsid(pid) != pid) pid = ::getsid(pid);  // the session's leader
  }
  ExecEvent e;
  e.key = spec.key;
  if (pid > 0) {
    auto p = std::make_shared<Proc>(io_);
    p->pid = pid;
    p->is_child = false;
    p->spec = spec;
    procs_[spec.key] = p;
    // The process keeps what it was given: its GPUs are read from its environment.
    slots_.adopt(spec.key, spec.resources,
                 spec.resources.declared ? visible_devices_of(pid) : std::vector<std::string>{});
    e.kind = ExecEvent::Kind::kStarted;
    e.handle.pid = pid;
    e.handle.pid_start = process_start_ticks(pid);
    post(std::move(e));
    watch(spec.key, p);
    return;
  }
  e.kind = ExecEvent::Kind::kFinished;
  SecretMask(spec.env, spec.secret_env).apply_to_file(spec.files.log);
  if (auto status = read_exit_status(spec.files.exit_status)) {
    e.exit_code = *status;
    e.outcome = *status == 0 ? Outcome::kSucceeded : Outcome::kFailed;
    if (*status != 0)
      e.message = with_log_tail("exit code " + std::to_string(*status), spec.files.log);
    check_outputs(spec, e);
  } else if (handle.pid > 0 || std::filesystem::exists(spec.files.log)) {
    e.outcome = Outcome::kFailed;
    e.exit_code = -1;
    e.message = "the process is gone and left no exit status (killed, or the machine restarted)";
  } else {
    e.outcome = Outcome::kLost;
    e.message = "the attempt never started";
  }
  post(std::move(e));
}

void LocalExecutor::watch(const AttemptKey& key, std::shared_ptr<Proc> p) {
  int fd = pidfd_open(p->pid);
  if (fd >= 0) {
    p->fd.assign(fd);
    p->fd.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                     [this, key, p](const boost::system::error_code& ec) {
                       if (ec != boost::asio::error::operation_aborted) on_exit(key);
                     });
    return;
  }
  // No pidfd (old kernel): poll. Also covers a process that exited before pidfd_open.
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [this, key, p, tick]() {
    bool gone = false;
    if (p->is_child) {
      gone = ::waitpid(p->pid, nullptr, WNOHANG | WNOWAIT) != 0 || errno == ECHILD;
    } else {
      gone = !is_attempt_process(p->pid, p->spec);
    }
    if (gone) return on_exit(key);
    p->poll_timer.expires_after(std::chrono::milliseconds(100));
    p->poll_timer.async_wait([tick](const boost::system::error_code& ec) {
      if (!ec) (*tick)();
    });
  };
  (*tick)();
}

void LocalExecutor::on_exit(const AttemptKey& key, const KeeperExit* kept) {
  auto it = procs_.find(key);
  if (it == procs_.end()) return;
  auto p = it->second;
  std::optional<int> code;
  if (!p->is_child && !kept) {
    code = read_exit_status(p->spec.files.exit_status);
    // A process a keeper started is reported ended (pidfd) a moment before the keeper has
    // reaped it and written the file: wait for the file up to 2 s.
    if (!code && p->exit_file_waits++ < 40) {
      p->poll_timer.expires_after(std::chrono::milliseconds(50));
      p->poll_timer.async_wait([this, key](const boost::system::error_code& ec) {
        if (!ec) on_exit(key);
      });
      return;
    }
  }
  procs_.erase(it);
  // A try that declared resources was allotted its cores and GPUs: its share of the machine.
  int allotted_cpus = 0, allotted_gpus = 0;
  if (const SlotTable::Grant* g = slots_.grant(key); g && p->spec.resources.declared) {
    allotted_cpus = g->cores;
    allotted_gpus = static_cast<int>(g->gpus.size());
  }
  slots_.release(key);
  p->kill_timer.cancel();
  boost::system::error_code ec;
  p->fd.close(ec);

  ExecEvent e;
  e.key = key;
  e.kind = ExecEvent::Kind::kFinished;
  int sig = 0;
  if (kept) {
    if (WIFEXITED(kept->wait_status)) code = WEXITSTATUS(kept->wait_status);
    if (WIFSIGNALED(kept->wait_status)) sig = WTERMSIG(kept->wait_status);
    e.usage.cpu_ms = kept->cpu_ms;
    if (kept->max_rss_kib > p->engine_peak_kib)
      e.usage.max_rss_bytes = static_cast<int64_t>(kept->max_rss_kib) * 1024;
    e.usage.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - p->spawned)
                          .count();
  } else if (p->is_child) {
    int status = 0;
    pid_t r;
    struct rusage ru {};
    do {
      r = ::wait4(p->pid, &status, 0, &ru);
    } while (r < 0 && errno == EINTR);
    if (r == p->pid) {
      if (WIFEXITED(status)) code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) sig = WTERMSIG(status);
      e.usage = usage_of(ru, p->engine_peak_kib);
      e.usage.wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - p->spawned)
                            .count();
    }
  }
  const auto& log = p->spec.files.log;
  SecretMask(p->spec.env, p->spec.secret_env).apply_to_file(log);
  if (code && *code == 0) {
    e.outcome = Outcome::kSucceeded;
    check_outputs(p->spec, e);
  } else if (p->cancel_reason) {
    e.outcome =
        *p->cancel_reason == CancelReason::kTimeout ? Outcome::kTimedOut : Outcome::kCancelled;
    e.exit_code = code.value_or(-1);
    e.signal = sig;
    e.message = *p->cancel_reason == CancelReason::kTimeout
                    ? "timed out: stopped after the task timeout"
                    : "cancelled";
  } else if (code) {
    e.outcome = Outcome::kFailed;
    e.exit_code = *code;
    e.message = with_log_tail("exit code " + std::to_string(*code), log);
  } else if (sig) {
    e.outcome = Outcome::kFailed;
    e.exit_code = 128 + sig;
    e.signal = sig;
    e.message = with_log_tail("killed by " + signal_name(sig), log);
  } else {
    e.outcome = Outcome::kFailed;
    e.exit_code = -1;
    e.message = "the process ended without recording an exit status";
  }
  e.usage.cpus = allotted_cpus;
  e.usage.gpus = allotted_gpus;
  post(std::move(e));
}

void LocalExecutor::cancel(const AttemptKey& key, CancelReason reason) {
  auto it = procs_.find(key);
  if (it == procs_.end()) return;
  auto p = it->second;
  if (p->cancel_reason) return;  // already stopping
  p->cancel_reason = reason;
  ::kill(-p->pid, SIGTERM);
  ::kill(p->pid, SIGTERM);
  p->kill_timer.expires_after(options_.kill_grace);
  p->kill_timer.async_wait([p](const boost::system::error_code& ec) {
    if (ec) return;
    ::kill(-p->pid, SIGKILL);
    ::kill(p->pid, SIGKILL);
  });
}

}  // namespace flow::run
