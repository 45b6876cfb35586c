#pragma once
// `flow scheduler`: the daemon that starts runs of the DAGs in a folder that have a
// `schedule` — one run per due data interval (engine/schedule/catchup.hpp) — and executes
// them itself, many at once on one io_context (RunDriver).
//
// Each tick re-reads the folder (new, changed and removed files; a broken file is reported
// once, as file:line:col, and skipped), then for each scheduled DAG decides inside ONE
// write transaction which intervals are due and records their runs together with its own
// state (table `schedules`: first seen, last interval started). So a restarted scheduler
// neither skips nor repeats an interval, and of two schedulers on one database only one
// starts a given interval (the run id of a scheduled interval is unique, too). An interval
// that already has a succeeded run, or one a live engine is executing (a backfill), is
// skipped. max_active_runs counts the DAG's runs that a live engine is executing.
//
// A scheduled run that nobody drives any more is resumed, as `flow resume` would (taking it
// over is one transaction, so of two schedulers only one does): at every tick one whose
// engine died (state running, owner gone: a killed scheduler, a rebooted login node), and
// at the first tick also one that was interrupted (a scheduler stopped with Ctrl-C or
// SIGTERM). Runs of `flow trigger` and `flow backfill` are left to their commands.
//
// Ticks happen every `poll`, at the next fire time of any DAG, and when a run ends (a slot
// may have freed). SIGINT/SIGTERM: nothing more is started, running runs are interrupted
// (they end `interrupted`; `flow resume` continues them) and the scheduler exits once they
// have stopped. Output: one line per started, skipped and finished run (JSON lines with
// --json) on stdout; problems on stderr.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/engine_timer.hpp"
#include "engine/runtime/dag_folder.hpp"
#include "engine/runtime/run_driver.hpp"
#include "engine/schedule/timetable.hpp"
#include "engine/site/site.hpp"
#include "engine/state/store.hpp"

namespace flow::runtime {

class Scheduler {
 public:
  struct Options {
    std::filesystem::path dags_dir = "dags";
    bool once = false;    // one tick, then drive the runs it started to their end
    bool json = false;    // JSON lines instead of text lines
    int parallelism = 0;  // local processes over all runs (0 = number of cores)
    std::chrono::milliseconds poll{5000};
  };

  Scheduler(state::Store& store, const site::SiteCatalog& sites, Services services,
            std::filesystem::path home, Options options);

  // Runs until SIGINT/SIGTERM, or with `once` until the runs of its one tick ended.
  // Returns the exit code: 1 if a run it started did not succeed, 3 if a DAG could not be
  // scheduled (an unreachable site, a locked database), 130 if runs were interrupted,
  // else 0. Throws InputError if the folder does not exist.
  int run();

 private:
  void tick();
  void schedule_dag(const DagFile& file, schedule::Instant now);
  // Resumes the scheduled runs of `dag` nobody drives (see above).
  void resume_orphans(const dag::Dag& dag);
  void on_finished(const RunDriver::Finished& f);
  void arm(std::chrono::milliseconds delay);
  void report_folder_changes(const std::vector<std::filesystem::path>& changed);
  // One line on stdout: `text` after a timestamp, or `event` as a JSON line.
  void emit(nlohmann::json event, const std::string& text);

  boost::asio::io_context io_;
  state::Store& store_;
  std::filesystem::path home_;
  Options options_;
  Services services_;
  DagFolder folder_;
  RunDriver driver_;
  EngineTimer timer_;
  bool stopping_ = false;
  bool first_tick_ = true;
  bool failed_ = false;       // a run did not succeed
  bool env_error_ = false;    // a DAG could not be scheduled
  bool interrupted_ = false;  // a run ended interrupted
};

}  // namespace flow::runtime
