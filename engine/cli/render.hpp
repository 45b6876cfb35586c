#pragma once
// The JSON shapes of docs/REFERENCE.md §7.2 and their table forms, shared by `flow status`,
// `flow runs` and `flow run --json`.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/state/store.hpp"

namespace flow::cli {

// {"id","dag","state","started","ended", ...}
nlohmann::json run_json(const state::RunRecord& run);
// {"run": {...}, "tasks": [...]}
nlohmann::json status_json(const state::RunRecord& run,
                           const std::vector<state::InstanceRecord>& instances);
// Human table of `flow status`.
std::string status_table(const state::RunRecord& run,
                         const std::vector<state::InstanceRecord>& instances);
// Loads a run or throws InputError("no run 'x'") with a hint.
state::RunRecord require_run(state::Store& store, const std::string& run_id);

}  // namespace flow::cli
