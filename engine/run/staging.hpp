#pragma once
// What an attempt stages (docs/STAGING.md), as the controller hands it to an executor in
// LaunchSpec::staging: the DAG's `code:` and the task's `inputs:` / `outputs:`, each with
// its path on this (the engine's) side already resolved. The engine itself moves nothing:
// local processes read and write these paths in place, and the local executor only checks
// that inputs exist before a try and outputs after it. The Slurm executor
// (operators/slurm/job_staging.hpp) uploads the code and inputs before a job is submitted
// and brings the outputs back after it succeeded.

#include <filesystem>
#include <string>
#include <vector>

#include "engine/dag/dag.hpp"

namespace flow::run {

// One declared input or output of an attempt.
struct StagedFile {
  dag::PathBase base = dag::PathBase::kRun;
  std::string path;             // relative to its base (normal, no `..`)
  std::filesystem::path local;  // this side: run dir / workdir + path; empty for base site
  std::string label() const;    // "data.npz", "workdir:data/x.csv", "site:..."
};

struct StagePlan {
  std::filesystem::path local_run_dir;  // this side's run directory ($FLOW_HOME/runs/RUN)
  std::filesystem::path local_workdir;  // where `flow run` started
  std::vector<std::string> code;        // relative to local_workdir, files or directories
  std::vector<StagedFile> inputs;
  std::vector<StagedFile> outputs;
  bool empty() const { return code.empty() && inputs.empty() && outputs.empty(); }
};

// The plan of one task in one run: `local_run_dir` and `workdir` are the run's
// ({{ run.dir }} of local tasks, and the directory `flow run` started in).
StagePlan stage_plan(const dag::Dag& dag, const dag::Task& task,
                     const std::filesystem::path& local_run_dir, const std::string& workdir);

// For attempts that run on this side. "" when every input (not on a site) exists, else a
// message naming the missing files.
std::string missing_inputs(const StagePlan& plan);
// "" when every declared output (not on a site) was written as a regular file, else a
// message naming them.
std::string missing_outputs(const StagePlan& plan);

// Executors report a staging failure with one of these as ExecEvent::native_state: neither
// is in any task's retry_on, so such a try is not retried (a missing file stays missing).
inline constexpr const char* kStageInFailed = "STAGE_IN";
inline constexpr const char* kStageOutFailed = "STAGE_OUT";

}  // namespace flow::run
