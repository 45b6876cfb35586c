#pragma once
// How `flow artifacts list|show` print registry rows: the JSON shape of docs/REFERENCE.md §7.2
// ({"id", "path", "sha256", "created", "run_id", "metadata": {JSON-LD}} plus name, kind,
// size, format, task, try, dag, provenance), a table, and the detail view of `show`.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/state/records.hpp"

namespace flow::cli {

nlohmann::json artifact_json(const state::ArtifactRecord& a);

// One line per artifact under a header; "no artifacts" when there are none.
std::string artifact_table(const std::vector<state::ArtifactRecord>& artifacts);

// `flow artifacts show ID`: every field, one per line.
std::string artifact_details(const state::ArtifactRecord& a);

}  // namespace flow::cli
