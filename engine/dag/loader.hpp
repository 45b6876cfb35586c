#pragma once
// YAML → Dag. Checks the shape of the file (known keys, types, value ranges) and records
// where every field came from; cross-task checks (references, cycles, templates, sites)
// are engine/dag/validate.hpp. Errors: InputError with one Diagnostic per problem, each
// "file:line:col: message", unknown keys with a "did you mean" hint.

#include <filesystem>
#include <string>

#include "engine/dag/dag.hpp"

namespace flow::dag {

// Reads and parses a DAG file. Throws InputError (exit 2) on any problem, or
// EnvironmentError if the file cannot be read.
Dag load_dag_file(const std::filesystem::path& path);

// Parses YAML text; `file` names it in messages.
Dag load_dag_text(const std::string& text, const std::string& file);

// Is `id` a valid task or DAG id ([A-Za-z0-9_.-]+, not "." or "..")?
bool is_valid_id(std::string_view id);

}  // namespace flow::dag
