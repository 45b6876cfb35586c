#include "engine/cli/foreground.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>

#include "engine/cli/progress.hpp"
#include "engine/cli/render.hpp"
#include "engine/cli/status_pages.hpp"
#include "engine/cli/wiring.hpp"
#include "engine/core/error.hpp"
#include "engine/run/ownership.hpp"
#include "engine/runtime/run_driver.hpp"

namespace flow::cli {

int drive_in_foreground(const GlobalOptions& g, state::Store& store, const site::SiteCatalog& sites,
                        dag::Dag dag, const state::RunRecord& record, int parallelism,
                        bool print_result, bool insert, const std::function<void()>& on_recorded) {
  boost::asio::io_context io;
  const bool tty = !g.json && ::isatty(STDOUT_FILENO);
  ProgressPrinter progress(g.json ? stderr : stdout, tty);
  // Site news goes to stderr; on a TTY the live line is cleared first and redrawn later.
  runtime::RunDriver driver(
      io, store, sites, services(), g.home(), parallelism, [tty](const std::string& text) {
        std::fprintf(stderr, "%sflow: %s\n", tty ? "\r\x1b[K" : "", text.c_str());
      });
  driver.preflight(dag);
  if (insert) {
    state::RunRecord owned = record;
    run::EngineIdentity::self().stamp(owned, now_ms());
    store.insert_run(owned);
    if (!g.json)
      std::printf("run %s of %s (%zu tasks)\n", record.id.c_str(), dag.name.c_str(),
                  dag.tasks.size());
    std::fflush(stdout);
  }
  if (on_recorded) on_recorded();
  std::optional<runtime::RunDriver::Finished> result;
  // The DAG moves on to the run's controller: a DAG of 1,000,000 tasks is held once.
  driver.start(std::move(dag), record, &progress, [&](runtime::RunDriver::Finished f) {
    result = std::move(f);
    driver.stop_handling_signals();
    io.stop();
  });
  driver.handle_signals();
  io.run();
  progress.finish();
  // What the finished run left queued runs now, its controller's release among it: the
  // instances and the DAG are gone before the end is read back from the store.
  io.restart();
  io.poll();
  // The run is over and recorded; its last notifications may still be on their way
  // (docs/ALERTS.md). A Ctrl-C now leaves them `pending` for a resume to abandon.
  if (driver.pending_deliveries() > 0) {
    if (!g.json && result && result->abandoned.empty())
      std::fprintf(stderr, "flow: waiting for %zu notification(s) to be delivered\n",
                   driver.pending_deliveries());
    driver.finish_deliveries();
  }
  if (!result) throw Error(ErrorKind::kFailure, "run " + record.id + " did not finish");
  if (!result->abandoned.empty()) {
    throw EnvironmentError(result->abandoned +
                           "; this engine stopped driving it and started nothing more");
  }

  const auto& run = result->run;
  if (print_result) {
    StatusPages pages(store, run, result->task_order);
    if (g.json) {
      std::fflush(stdout);
      print_status_json(stdout, run, pages);
    } else {
      print_summary(stdout, run, result->counts, pages, g.home());
    }
  }
  switch (run.state) {
    case state::RunState::kSucceeded:
      return 0;
    case state::RunState::kInterrupted:
      return 130;
    default:
      return 1;
  }
}

}  // namespace flow::cli
