#pragma once
// What an attempt is told: its rendered command, its environment and its files (a
// LaunchSpec for the executor). The task's `run` and `env` templates are parsed once per
// run; rendering is per attempt, just before launch, from what the run knows then
// (template_resolver.hpp). docs/ENGINE.md "What a task sees".

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/dag/template.hpp"
#include "engine/run/executor.hpp"
#include "engine/run/template_resolver.hpp"

namespace flow::run {

class AttemptSpecs {
 public:
  // `home`: $FLOW_HOME (attempt files under logs/). The DAG must outlive this.
  AttemptSpecs(const dag::Dag& dag, std::filesystem::path home);

  // The spec of `inst`'s current try on executor `ex`. With `render` false (re-attaching
  // an attempt that already runs) the command and env templates are not rendered. Throws
  // std::runtime_error when a reference cannot be filled.
  LaunchSpec make(const state::InstanceRecord& inst, const dag::Task& task, const RunView& view,
                  Executor& ex, bool render) const;

  AttemptFiles files(const std::string& run_id, const std::string& instance_id,
                     int try_number) const;

 private:
  // One task's parsed templates. Vectors, not maps: a DAG of 1,000,000 tasks holds one of
  // these per task for the whole run, and most have no env at all.
  struct Templates {
    std::optional<dag::Template> run;
    std::vector<std::pair<std::string, dag::Template>> env;  // in the env's (sorted) order
    std::vector<std::string> secret_env;  // env names whose value uses a secret, sorted
    const dag::Template* env_of(const std::string& name) const;
  };
  const Templates& templates_of(const dag::Task& task) const;
  const dag::Dag& dag_;
  std::filesystem::path home_;
  std::vector<Templates> templates_;  // by task index in dag_.tasks
};

}  // namespace flow::run
