#pragma once
// Which registered artifacts a task's own artifacts derive from (PROV `wasDerivedFrom`).
//
// flow cannot see which files a task opened, so it goes by the DAG: an artifact derives
// from the artifacts its task's upstream tasks registered in the same run — for each
// upstream task, those of its succeeded instances in their current try (all instances of a
// `foreach` task). An upstream task that registered none is looked through to its own
// upstreams, so preprocess -> tune -> train links train's model to preprocess's data even
// though `tune` registered nothing. Datasets (kind.hpp) reach further: an artifact also
// derives from every dataset any ancestor task registered (through succeeded tasks), so in
// preprocess -> train -> export the ONNX model links to preprocess's dataset even when
// train registered a checkpoint of its own.

#include <string>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/state/store.hpp"

namespace flow::artifact {

// Artifact ids, oldest registration first, without duplicates. Reads committed rows only:
// upstream instances are committed `succeeded` before a downstream task can start.
std::vector<std::string> upstream_artifacts(state::Store& store, const dag::Dag& dag,
                                            const std::string& run_id, const std::string& task_id);

}  // namespace flow::artifact
