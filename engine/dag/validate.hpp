#pragma once
// Whole-DAG checks after loading: `after` targets exist, no cycles (reported with their
// path), every template parses and names something that will exist when the task runs,
// sites exist, Slurm settings only on Slurm sites, `schedule` is a cron expression and
// `timezone` a known zone (engine/schedule). Every problem is a located Diagnostic.

#include <vector>

#include "engine/core/error.hpp"
#include "engine/dag/dag.hpp"

namespace flow::site {
class SiteCatalog;
}

namespace flow::dag {

struct ValidateOptions {
  const site::SiteCatalog* sites = nullptr;  // null: site names are not checked
};

std::vector<Diagnostic> validate(const Dag& dag, const ValidateOptions& options = {});

// validate() and throw InputError if anything is wrong.
void validate_or_throw(const Dag& dag, const ValidateOptions& options = {});

}  // namespace flow::dag
