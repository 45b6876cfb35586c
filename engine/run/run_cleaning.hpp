#pragma once
// `flow clean RUN` on the engine's side: which runs may be cleaned, the HPO checkpoints a
// run left on this machine, and the record that it was cleaned. The files a run left on
// Slurm sites are operators/slurm/site_cleanup.hpp's; engine/cli/clean_cmd.cpp does both.
//
// Only a run that has ended (succeeded, failed, cancelled) is cleaned: every one of its
// sweeps is finished and nothing of it is in flight. A run still `running` or `interrupted`
// may have jobs on a site that work in the directories clean would remove, and is meant to
// be resumed; it is refused until it was resumed to its end or cancelled.
//
// The record: a run-level event (table `events`, instance "") in state "cleaned" per place
// whose files were removed (a site name, or "here" for this machine), its message saying
// what went. A cleaned run cannot be resumed or retried, since its staged files, job
// directories and checkpoints are gone: prepare_resume and prepare_retry
// (engine/run/resume.hpp) throw RunCleaned. Its rows, local logs and artifacts stay.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/state/records.hpp"
#include "engine/state/store.hpp"

namespace flow::run {

// The state of the events that record a clean.
inline constexpr std::string_view kCleanedEvent = "cleaned";
// The place name of this machine in those events and in `flow clean`'s output.
inline constexpr std::string_view kHere = "here";

// Throws InputError (exit 2) unless `run` has ended (succeeded, failed or cancelled). A live
// owner is ownership.hpp's business (RunOwnedElsewhere, exit 3); check it first.
void check_cleanable(const state::RunRecord& run);

// Every site the run's instances and tries name, sorted, without duplicates.
std::vector<std::string> sites_of_run(state::Store& store, const std::string& run_id);

struct LocalFile {
  std::filesystem::path path;
  uint64_t bytes = 0;
};

struct LocalCheckpoints {
  std::vector<LocalFile> remove;                 // checkpoints of the run's sweeps
  std::vector<std::filesystem::path> artifacts;  // named like one but registered: kept
};

// The checkpoints the run's sweeps left in its run directory on this machine: entries
// directly in run.run_dir named as Sweep names them (hpo-TASK-trial-N-eE.ckpt) for a task
// of the run with trials. A file registered as an artifact (by any run) is never removed:
// it is listed in `artifacts` instead. Checkpoints of sweeps on a Slurm site are in the
// site's run directory, which goes as a whole.
LocalCheckpoints local_checkpoints(state::Store& store, const state::RunRecord& run);

// Records that the files of `run_id` at `where` (a site name or kHere) were removed.
void record_cleaned(state::Store& store, const std::string& run_id, const std::string& where,
                    const std::string& what);

// The run's clean records, oldest first (message "WHERE: WHAT").
std::vector<state::EventRecord> cleanings(state::Store& store, const std::string& run_id);

// A cleaned run asked to run again.
class RunCleaned : public InputError {
 public:
  using InputError::InputError;
};

// Throws RunCleaned, saying when and where the run was cleaned, if it was. `action` is what
// was asked: "resumed", "retried".
void refuse_if_cleaned(state::Store& store, const std::string& run_id, const std::string& action);

}  // namespace flow::run
