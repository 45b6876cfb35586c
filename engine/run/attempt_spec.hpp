#pragma once
// What an attempt is told: its rendered command, its environment and its files (a
// LaunchSpec for the executor). The task's `run` and `env` templates are parsed and
// rendered per attempt, just before launch, from what the run knows then
// (template_resolver.hpp); validation parsed them before the run started. Nothing is kept
// per task: a DAG of 1,000,000 tasks would hold its parsed commands for the whole run,
// while parsing one costs microseconds beside the process it starts. docs/ENGINE.md "What a
// task sees".

#include <filesystem>
#include <string>

#include "engine/dag/dag.hpp"
#include "engine/run/executor.hpp"
#include "engine/run/template_resolver.hpp"

namespace flow::run {

class AttemptSpecs {
 public:
  // `home`: $FLOW_HOME (attempt files under logs/). The DAG must outlive this.
  AttemptSpecs(const dag::Dag& dag, std::filesystem::path home);

  // The spec of `inst`'s current try on executor `ex`. With `render` false (re-attaching
  // an attempt that already runs) the command and env templates are not rendered, except
  // the env values that use a secret (the executor masks those in what the try printed).
  // Throws std::runtime_error when a reference cannot be filled or a template does not
  // parse (validation rules that out before a run starts).
  LaunchSpec make(const state::InstanceRecord& inst, const dag::Task& task, const RunView& view,
                  Executor& ex, bool render) const;

  AttemptFiles files(const std::string& run_id, const std::string& instance_id,
                     int try_number) const;

 private:
  const dag::Dag& dag_;
  std::filesystem::path home_;
};

}  // namespace flow::run
