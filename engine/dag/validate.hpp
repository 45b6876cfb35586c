#pragma once
// Whole-DAG checks after loading: `after` targets exist, no cycles (reported with their
// path), every template parses and names something that will exist when the task runs,
// sites exist, Slurm settings only on Slurm sites, `schedule` is a cron expression and
// `timezone` a known zone (engine/schedule), staged `inputs:` come from upstream `outputs:`
// (docs/STAGING.md). Every problem is a located Diagnostic.

#include <filesystem>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/dag/dag.hpp"

namespace flow::site {
class SiteCatalog;
}

namespace flow::dag {

struct ValidateOptions {
  const site::SiteCatalog* sites = nullptr;  // null: site names are not checked
  // The directory a new run will start in: when set, every `code:` path and every input
  // with `base: workdir` must exist there now (`flow run`, `flow validate` with sites).
  const std::filesystem::path* workdir = nullptr;
};

std::vector<Diagnostic> validate(const Dag& dag, const ValidateOptions& options = {});

// validate() and throw InputError if anything is wrong.
void validate_or_throw(const Dag& dag, const ValidateOptions& options = {});

}  // namespace flow::dag
