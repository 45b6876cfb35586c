#include "ui-tui/runs_model.hpp"

#include "ui-tui/format.hpp"

namespace flow::tui {

std::vector<RunRow> load_runs(state::Store& store, const std::string& dag, int limit) {
  std::vector<RunRow> rows;
  for (auto& r : store.list_runs(dag, limit)) {
    RunRow row;
    row.id = std::move(r.id);
    row.dag = std::move(r.dag);
    row.state = r.state;
    row.started = r.started ? r.started : r.created;
    row.ended = r.ended;
    row.cancel_requested = r.cancel_requested;
    row.owner_pid = r.owner_pid;
    row.owner_host = std::move(r.owner_host);
    row.counts = store.state_counts(row.id);
    rows.push_back(std::move(row));
  }
  return rows;
}

bool run_matches(const RunRow& run, std::string_view filter) {
  return matches(filter, {run.id, run.dag, state::to_string(run.state)});
}

}  // namespace flow::tui
