#pragma once
// A DAG's `hpo:` block as the tuners' own configuration (hpo/ knows nothing of DAGs).

#include "engine/dag/dag.hpp"
#include "hpo/tuner.hpp"

namespace flow::dag {

// Every field carried over; a dimension's kind and bounds as the loader validated them.
hpo::Config hpo_config(const HpoSpec& spec);

}  // namespace flow::dag
