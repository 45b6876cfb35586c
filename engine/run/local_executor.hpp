#pragma once
// Runs attempts as local processes on the controller's io_context. Each attempt runs in its
// own session (process group), stdout and stderr straight into the try's log file, so the
// process survives the engine being killed and never blocks on a pipe. Its exit status is
// recorded in AttemptFiles::exit_status whoever is left to see it end: with a process
// keeper (LocalExecutorOptions::keeper, engine/run/process_keeper.hpp), the keeper starts the
// process, executing a plain command without a shell, and writes the file; without one, each
// attempt is `/bin/sh` with a tiny wrapper that writes it. That file and a marker of the
// attempt (its exit-status path on the wrapper's command line, or FLOW_OUTPUTS_FILE in the
// environment of a process the keeper started) are how a later engine re-attaches to a
// process it did not start (pidfd makes waiting on it event-driven).
//
// Tries share the machine's cores and GPUs (SlotTable): a try holds what its task's
// `resources:` ask from claim() until its process ends, and a task that declared them sees
// exactly its GPUs as CUDA_VISIBLE_DEVICES (none: empty) and its cores as OMP_NUM_THREADS.

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/run/executor.hpp"
#include "engine/run/process.hpp"
#include "engine/run/process_keeper.hpp"
#include "engine/run/slot_table.hpp"

namespace flow::run {

struct LocalExecutorOptions {
  int slots = 0;                               // cores tasks share (-j); 0 = hardware threads
  std::filesystem::path runs_root;             // run dirs: runs_root/RUN
  std::filesystem::path path_prefix;           // prepended to PATH (python shims); may be empty
  std::chrono::milliseconds kill_grace{5000};  // SIGTERM → SIGKILL
  std::vector<std::string> gpus;               // GPU ids tasks are given (site::local_node)
};

class LocalExecutor : public Executor {
 public:
  LocalExecutor(boost::asio::io_context& io, LocalExecutorOptions options);
  ~LocalExecutor() override;

  // Starts attempts through a process keeper: `program` run as `PROGRAM __keeper` (the flow
  // binary), started at the first launch. Without one, or with one that cannot start: a
  // shell wrapper per attempt. Attempts launched while the keeper is still loading use the
  // wrapper, unless `wait` (tests that need to know which one ran).
  void use_keeper(std::filesystem::path program, bool wait = false);

  std::string run_dir(const std::string& run_id) const override;
  Plan plan(const LaunchSpec& spec) override;
  void launch(const LaunchSpec& spec, const Plan& plan) override;
  void reattach(const LaunchSpec& spec, const AttemptHandle& handle) override;
  void cancel(const AttemptKey& key, CancelReason reason) override;
  int free_slots() const override;
  // Cores and GPUs (docs/REFERENCE.md §3.15): a task without `resources:` takes one core.
  bool claim(const AttemptKey& key, const dag::Resources& need,
             std::optional<dag::Duration> declared) override;
  void release(const AttemptKey& key) override;

  size_t active() const { return procs_.size(); }
  // Whether attempts are started by a process keeper (from the first launch on, once it is
  // ready).
  bool has_keeper() const { return keeper_ && keeper_events_; }
  const SlotTable& slot_table() const { return slots_; }

 private:
  struct Proc;
  void watch(const AttemptKey& key, std::shared_ptr<Proc> proc);
  // The process ended: `kept` is what its keeper reported, nullptr for a process the
  // engine waits for itself (its child) or watches (re-attached).
  void on_exit(const AttemptKey& key, const KeeperExit* kept = nullptr);
  void fail_to_start(const LaunchSpec& spec, int error);
  // The keeper, started at the first call; nullptr when there is none.
  ProcessKeeper* keeper();
  void wait_for_keeper();
  // Applies the ends the keeper reported; when it has gone, its processes are watched as
  // re-attached ones.
  void drain_keeper();
  void post(ExecEvent e);
  // A succeeded attempt that did not write a declared output fails (native state STAGE_OUT).
  static void check_outputs(const LaunchSpec& spec, ExecEvent& e);
  // KEY=VALUE strings of the engine's environment, read at the first launch.
  const std::vector<std::string>& base_env();

  boost::asio::io_context& io_;
  LocalExecutorOptions options_;
  SlotTable slots_;
  std::map<AttemptKey, std::shared_ptr<Proc>> procs_;
  std::set<std::string> made_run_dirs_;  // run ids whose run directory exists
  std::optional<std::vector<std::string>> base_env_;
  std::filesystem::path keeper_program_;
  bool wait_for_keeper_ = false;
  std::unique_ptr<ProcessKeeper> keeper_;
  bool keeper_tried_ = false;
  std::optional<boost::asio::posix::stream_descriptor> keeper_events_;  // its socket, for waits
  std::map<pid_t, AttemptKey> kept_;  // processes the keeper started and has not reported
};

}  // namespace flow::run
