#include "engine/run/staging.hpp"

#include <sys/stat.h>

#include "engine/core/suggest.hpp"

namespace flow::run {

namespace {

StagedFile resolve(const dag::StagedPath& p, const StagePlan& plan) {
  StagedFile f;
  f.base = p.base;
  f.path = p.path;
  if (p.base == dag::PathBase::kRun) f.local = plan.local_run_dir / p.path;
  if (p.base == dag::PathBase::kWorkdir) f.local = plan.local_workdir / p.path;
  return f;
}

std::string missing(const std::vector<StagedFile>& files, bool want_regular) {
  std::vector<std::string> gone;
  for (const auto& f : files) {
    if (f.local.empty()) continue;
    struct stat st {};
    if (::stat(f.local.c_str(), &st) != 0) {
      gone.push_back("'" + f.label() + "' (no " + f.local.string() + ")");
    } else if (want_regular && !S_ISREG(st.st_mode)) {
      gone.push_back("'" + f.label() + "' (" + f.local.string() + " is not a regular file)");
    }
  }
  return join(gone);
}

}  // namespace

std::string StagedFile::label() const {
  return base == dag::PathBase::kRun ? path : std::string(dag::to_string(base)) + ":" + path;
}

StagePlan stage_plan(const dag::Dag& dag, const dag::Task& task,
                     const std::filesystem::path& local_run_dir, const std::string& workdir) {
  StagePlan plan;
  // The run's directories even when nothing is declared: artifacts a remote task registers
  // are fetched into local_run_dir (operators/slurm/job_staging.hpp).
  plan.local_run_dir = local_run_dir;
  plan.local_workdir =
      workdir.empty() ? std::filesystem::current_path() : std::filesystem::path(workdir);
  if (dag.code.empty() && task.extras->inputs.empty() && task.extras->outputs.empty()) return plan;
  plan.code = dag.code;
  for (const auto& p : task.extras->inputs)
    plan.inputs.push_back(resolve(p, plan));
  for (const auto& p : task.extras->outputs)
    plan.outputs.push_back(resolve(p, plan));
  return plan;
}

std::string missing_inputs(const StagePlan& plan) {
  auto gone = missing(plan.inputs, false);
  return gone.empty() ? "" : "declared input missing: " + gone;
}

std::string missing_outputs(const StagePlan& plan) {
  auto gone = missing(plan.outputs, true);
  return gone.empty() ? "" : "the task succeeded but did not write its declared output " + gone;
}

}  // namespace flow::run
