#pragma once
// The JSON shapes of docs/REFERENCE.md §7.2 and their table forms, shared by `flow status`,
// `flow runs` and `flow run --json`.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/run/waiting.hpp"
#include "engine/state/store.hpp"

namespace flow::cli {

// {"id","dag","state","started","ended", ...}
nlohmann::json run_json(const state::RunRecord& run);
// The run's instances in reading order (state::in_reading_order) by the DAG text the run
// recorded: upstream tasks first, ties in file order, foreach items and trials under their
// task in index order. Store order when that text cannot be read.
std::vector<state::InstanceRecord> in_dag_order(const state::RunRecord& run,
                                                std::vector<state::InstanceRecord> instances);
// Why each waiting instance waits (engine/run/waiting.hpp), with the run's DAG text and the
// site catalogue's max_jobs; {} if the DAG text cannot be read.
std::map<std::string, run::Waiting> waiting_of(const state::RunRecord& run,
                                               const std::vector<state::InstanceRecord>& instances);
// {"run": {...}, "tasks": [...]}, tasks in_dag_order; a waiting instance has "waiting":
// {"reason", "text"} when `waiting` is given.
nlohmann::json status_json(const state::RunRecord& run,
                           const std::vector<state::InstanceRecord>& instances,
                           const std::map<std::string, run::Waiting>* waiting = nullptr);
// Human table of `flow status`, tasks in_dag_order; a waiting instance without a message
// shows why it waits.
std::string status_table(const state::RunRecord& run,
                         const std::vector<state::InstanceRecord>& instances,
                         const std::map<std::string, run::Waiting>* waiting = nullptr);
// What a try used (state::ResourceUse) as JSON: {"cpu_s", "max_rss_bytes", "wall_s", "cpus",
// "cpu_efficiency"}; an unknown value is null. docs/REFERENCE.md §7.2.
nlohmann::json usage_json(const state::ResourceUse& u);
// Gives each task of a status_json document whose latest try's usage is known a "usage".
void add_usage(nlohmann::json& status, const std::vector<state::TryRecord>& tries);
// `flow status --json`'s "deliveries": [{"id", "event", "task", "try", "kind", "target",
// "state", "attempts", "error", "created", "updated"}] (docs/REFERENCE.md §7.2).
nlohmann::json deliveries_json(const std::vector<state::DeliveryRecord>& deliveries);
// `flow status`'s lines under the table: one per notification not delivered, and a count
// of those that were. "" when the run made none.
std::string deliveries_text(const std::vector<state::DeliveryRecord>& deliveries);
// Loads a run or throws InputError("no run 'x'") with a hint.
state::RunRecord require_run(state::Store& store, const std::string& run_id);

}  // namespace flow::cli
