#pragma once
// Reads a task's `hpo:` block of a DAG file (docs/REFERENCE.md, the hpo keys) into an
// HpoSpec: algorithm, metric or objectives, budgets, the search space, the sampler. Every
// problem is reported through the Reader at the key's file:line:col; the loader calls it.

#include "engine/core/yaml_reader.hpp"
#include "engine/dag/dag.hpp"

namespace flow::dag {

void read_hpo(yaml::Reader& r, const yaml::Node& n, HpoSpec& h);

}  // namespace flow::dag
