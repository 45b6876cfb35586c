#pragma once
// `flow backfill`: one run per schedule interval in a range, executed by this process.
// Intervals that already have a succeeded run are skipped, and so are those a live engine
// is running right now; the others run oldest first, at most max_active_runs of the DAG
// at a time (counting runs of other engines, such as the scheduler's). Backfill does not
// look at the clock: it runs what it is asked for, even an interval that has not ended.

#include <filesystem>
#include <string>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/runtime/services.hpp"
#include "engine/schedule/timetable.hpp"
#include "engine/site/site.hpp"
#include "engine/state/store.hpp"

namespace flow::runtime {

struct BackfillOptions {
  std::filesystem::path home;  // $FLOW_HOME: logs and run directories
  bool json = false;           // lines to stderr, the summary document to stdout
  int parallelism = 0;         // local processes over all runs (0 = number of cores)
};

// Runs `intervals` of `dag` (already validated) to their end. Prints one line per started,
// skipped and finished run and a summary; with --json those lines go to stderr and stdout
// gets {"dag", "runs": [{"id", "state", "logical_date", "data_interval_start",
// "data_interval_end"}], "skipped": [{"data_interval_start", "data_interval_end", "run",
// "state"}]}. Returns 0 when every run succeeded (or none was needed), 130 when
// interrupted, else 1.
int run_backfill(const BackfillOptions& options, state::Store& store,
                 const site::SiteCatalog& sites, Services services, const dag::Dag& dag,
                 const std::vector<schedule::DataInterval>& intervals);

}  // namespace flow::runtime
