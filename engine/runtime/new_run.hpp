#pragma once
// What every command that starts a new run needs (`flow run`, `trigger`, `backfill`, the
// scheduler): the DAG loaded, `-p` overrides applied and validated against the site
// catalogue, and the run record that will hold it, with its logical date and data
// interval (docs/SCHEDULER.md).

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/run/waiting.hpp"
#include "engine/runtime/services.hpp"
#include "engine/schedule/timetable.hpp"
#include "engine/site/site.hpp"
#include "engine/state/store.hpp"

namespace flow::runtime {

// The site catalogue: sites/ of the installation and ~/.config/flow/sites/.
site::SiteCatalog load_sites();

// Each site's max_jobs from the catalogue, for the waiting reasons the read side shows
// (flow status, the TUI, the report). A catalogue that cannot be read (a broken site file)
// gives 0, no known limit, for every site: every other reason still holds.
run::MaxJobsOf catalogue_max_jobs();

// The GPUs each site without a scheduler hands to tasks (site::local_node), -1 for the
// rest, for the `gpus` waiting reason. Same fallback as catalogue_max_jobs().
run::GpusOf catalogue_gpus();

// -p key=value, typed after the parameter's default (integer, number, boolean, string;
// JSON for lists and objects). Throws InputError for an unknown parameter or a bad value.
void apply_param(dag::Dag& dag, const std::string& kv);

// Applies `params` and validates; with `sites`, also checks sites, and with `services`
// that every task on a batch site yields a job script (Services::check_job_script).
// Throws InputError listing every problem.
void prepare_dag(dag::Dag& dag, const std::vector<std::string>& params,
                 const site::SiteCatalog* sites, const Services* services = nullptr);
// Loads `file`, then prepare_dag().
dag::Dag load_validated(const std::string& file, const std::vector<std::string>& params,
                        const site::SiteCatalog* sites, const Services* services = nullptr);

// "DAG-20261125T101500-3f9a": the DAG name, the UTC time and a random suffix.
std::string new_run_id(const std::string& dag);
// "DAG-scheduled-20270327T010000Z": one per interval (its start), so the store's key on
// run ids refuses a second run of the same scheduled interval.
std::string scheduled_run_id(const std::string& dag, schedule::Instant interval_start);
// "DAG-backfill-20270327T010000Z-3f9a": an interval may be backfilled more than once.
std::string backfill_run_id(const std::string& dag, schedule::Instant interval_start);

// A new run of `dag`, not yet stored: its YAML and hash, params, run dir under `home`, the
// current directory as the tasks' working directory. Dates are left empty.
state::RunRecord new_run_record(const dag::Dag& dag, const std::string& run_id,
                                const std::filesystem::path& home, int parallelism);

// The DAG's timetable, or nullopt if it has no schedule. Throws InputError at the lines of
// `schedule` / `timezone` (validation reports these first).
std::optional<schedule::Timetable> timetable_of(const dag::Dag& dag);

// A run of interval `iv`: logical date = start.
void set_interval(state::RunRecord& run, const schedule::DataInterval& iv);
// A manual run started at `now` (Airflow's rule for manual runs): logical date = `now`;
// the data interval is the last complete one of the schedule before `now`, or [now, now]
// for a DAG without a schedule.
void set_manual_dates(state::RunRecord& run, const dag::Dag& dag, schedule::Instant now);

// How many runs of `dag` a live engine is executing (what max_active_runs limits). A run
// whose engine is gone (killed with -9) does not count: on this host its pid tells,
// for another host a heartbeat older than a minute.
int count_executing_runs(state::Store& store, const std::string& dag);
bool is_executing(const state::RunRecord& run);

}  // namespace flow::runtime
