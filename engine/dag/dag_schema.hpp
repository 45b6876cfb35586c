#pragma once
// The JSON Schema (Draft-07) of DAG files, for editors (the YAML language server) and
// other tools: `flow schema dag` prints it, docs/schema/dag.schema.json is a copy of it.
// It follows the loader (engine/dag/loader.cpp, hpo_reader.cpp): every file the loader
// reads is valid, and it rejects what a schema can tell (unknown keys, types, ranges, enum
// values, required keys). Cross-task rules (references, cycles, templates, sites) are
// engine/dag/validate.hpp's alone. Descriptions are docs/REFERENCE.md §3's wording.

#include <nlohmann/json.hpp>

namespace flow::dag {

nlohmann::json dag_schema();

}  // namespace flow::dag
