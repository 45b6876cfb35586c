#pragma once
// Drives runs to their end on one io_context: one executor per site shared by every run
// (ExecutorPool: one SSH session and one sacct poll per site, one local process limit),
// one RunController per run, each executor event routed to the controller of its run.
// `flow run`, `resume`, `retry` and `cancel` drive one run with it; the scheduler,
// `backfill` and `trigger` drive several at once.
//
// The caller owns the io_context and runs it; the driver never stops it. A finished run
// is reported through its callback, then its controller is released.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/engine_timer.hpp"
#include "engine/run/delivery.hpp"
#include "engine/run/notifier.hpp"
#include "engine/run/run_controller.hpp"
#include "engine/runtime/executor_pool.hpp"
#include "engine/site/site.hpp"
#include "engine/state/store.hpp"

namespace flow::runtime {

class RunDriver {
 public:
  struct Finished {
    state::RunRecord run;
    // Instances per state at the end, fan-out tasks' own instances included. The instances
    // themselves are in the store (a run of 1,000,000 is read back a page at a time).
    std::map<state::TaskState, int> counts;
    // The DAG's tasks in reading order (dag::reading_order), for printing the run without
    // reading its DAG again.
    std::vector<std::string> task_order;
    // Set when another engine took the run over: this one stopped driving it (the run
    // goes on there). Why, in words.
    std::string abandoned;
  };
  // Called once the controller has dropped its instances: the engine's memory at the end
  // of a run is not the run's size again.
  using OnFinished = std::function<void(Finished)>;

  // `home` holds logs and run dirs; `parallelism` bounds local processes over all runs
  // (0 = number of cores); `notice` receives site news (connection lost, ...).
  RunDriver(boost::asio::io_context& io, state::Store& store, const site::SiteCatalog& sites,
            Services services, std::filesystem::path home, int parallelism, Notice notice = {});
  ~RunDriver();
  RunDriver(const RunDriver&) = delete;
  RunDriver& operator=(const RunDriver&) = delete;

  // Connects to every Slurm site `dag` uses. Throws EnvironmentError naming the site.
  // Call it before a new run is recorded, so an unreachable site leaves no run behind.
  void preflight(const dag::Dag& dag);

  // Starts executing `run`, which must be in the store. `observer` (may be null, must
  // outlive the run) sees its state changes; `on_finished` runs once it has ended.
  void start(dag::Dag dag, const state::RunRecord& run, run::RunObserver* observer,
             OnFinished on_finished);

  // Runs started and not yet finished.
  size_t active() const { return runs_.size(); }
  std::vector<std::string> active_ids() const;

  // Stops every run (Ctrl-C): running attempts are stopped, each run ends `interrupted`
  // and can be resumed. Runs started afterwards are not affected.
  void interrupt();

  // SIGINT/SIGTERM: the first calls interrupt() and then `on_first(signal)`; a second one
  // quits at once (exit 130), leaving attempts running for `flow resume` to re-attach.
  void handle_signals(std::function<void(int)> on_first = {});
  void stop_handling_signals();

  // Notifications (`notify:`, docs/ALERTS.md) still being delivered, of runs that may have
  // ended: a run's result never waits for them, but the process should before it exits.
  size_t pending_deliveries() const;
  // Runs the io_context until none is pending (at most the retry policy's waits plus each
  // attempt's timeout). Call after the io_context stopped, e.g. when the last run ended.
  void finish_deliveries();

 private:
  struct Entry;
  void watch();  // polls for finished runs while any is active

  boost::asio::io_context& io_;
  state::Store& store_;
  std::filesystem::path home_;
  // Declared before runs_: each run's Alerts hands its notifications to these.
  std::unique_ptr<run::WebhookSender> webhooks_;
  std::unique_ptr<run::Deliveries> deliveries_;
  ExecutorPool pool_;
  std::map<std::string, std::unique_ptr<Entry>> runs_;  // by run id
  // How often the driver looks for controllers that are done: real time, not the engine's
  // clock (it is how the loop works, not a time the run is about), so a run on a manual
  // clock ends as soon as its last attempt does.
  boost::asio::steady_timer watch_timer_;
  bool watching_ = false;
  boost::asio::signal_set signals_;
  std::function<void(const boost::system::error_code&, int)> on_signal_;
  int interrupts_ = 0;
};

}  // namespace flow::runtime
