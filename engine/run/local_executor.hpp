#pragma once
// Runs attempts as local processes on the controller's io_context. Each attempt is
// `/bin/sh` in its own session (process group), stdout and stderr straight into the try's
// log file, so the process survives the engine being killed and never blocks on a pipe.
// A tiny shell wrapper records the exit status in AttemptFiles::exit_status; that file and
// the attempt's unique path on the process command line are how a later engine re-attaches
// to a process it did not start (pidfd makes waiting on it event-driven).
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
  const SlotTable& slot_table() const { return slots_; }

 private:
  struct Proc;
  void watch(const AttemptKey& key, std::shared_ptr<Proc> proc);
  void on_exit(const AttemptKey& key);
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
};

}  // namespace flow::run
