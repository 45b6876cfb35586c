#pragma once
// The JSON shapes of docs/REFERENCE.md §7.2 and their table forms, shared by `flow status`,
// `flow runs` and `flow run --json`.

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/cli/status_pages.hpp"
#include "engine/run/waiting.hpp"
#include "engine/state/store.hpp"

namespace flow::cli {

// {"id","dag","state","started","ended", ...}
nlohmann::json run_json(const state::RunRecord& run);
// {"run": {...}, "tasks": [...]}: the final document of `flow run --json`, tasks in
// reading order as `pages` reads them from the store (upstream tasks first, ties in file
// order, foreach items and trials under their task in index order), written to `out` with
// a newline, as dump(2) would print it but a page at a time, so a run of 1,000,000
// instances never has its whole document, nor its instances, in memory (flow status
// streams the same shape with waiting reasons and usage added).
void print_status_json(std::FILE* out, const state::RunRecord& run, StatusPages& pages);
// `value` as dump(2) prints it `depth` levels deep inside a document: every line after the
// first indented by 2 x depth spaces (for documents streamed a part at a time).
std::string dump_nested(const nlohmann::json& value, int depth);
// One entry of status_json's "tasks"; "waiting" when `waiting` is given.
nlohmann::json instance_json(const state::InstanceRecord& i, const run::Waiting* waiting);
// The table of `flow status`, a line at a time (for runs read a page at a time): the run's
// line and the column titles, then one line per instance (`id_width` and `try_width` as
// wide as the widest id and try cell, status_try_cell, or the lines do not align).
std::string status_heading(const state::RunRecord& run, size_t id_width, size_t try_width);
std::string status_line(const state::InstanceRecord& i, const run::Waiting* waiting,
                        size_t id_width, size_t try_width);
// TRY: the try number; for an HPO trial its segment and try of it ("segment 2, try 3").
std::string status_try_cell(const state::InstanceRecord& i);
// What a try used (state::ResourceUse) as JSON: {"cpu_s", "max_rss_bytes", "wall_s", "cpus",
// "cpu_efficiency"}; an unknown value is null. docs/REFERENCE.md §7.2.
nlohmann::json usage_json(const state::ResourceUse& u);
// `flow status --json`'s "deliveries": [{"id", "event", "task", "try", "kind", "target",
// "state", "attempts", "error", "created", "updated"}] (docs/REFERENCE.md §7.2).
nlohmann::json deliveries_json(const std::vector<state::DeliveryRecord>& deliveries);
// `flow status`'s lines under the table: one per notification not delivered, and a count
// of those that were. "" when the run made none.
std::string deliveries_text(const std::vector<state::DeliveryRecord>& deliveries);
// State counts as one line, "failed=1 succeeded=26", in the map's (alphabetical) order.
template <typename Count>
std::string counts_text(const std::map<std::string, Count>& counts) {
  std::string s;
  for (const auto& [state, n] : counts)
    s += (s.empty() ? "" : " ") + state + "=" + std::to_string(n);
  return s;
}
// Loads a run or throws InputError("no run 'x'") with a hint.
state::RunRecord require_run(state::Store& store, const std::string& run_id);

}  // namespace flow::cli
