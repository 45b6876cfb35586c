#include "ui-tui/runs_model.hpp"

#include <set>

#include "ui-tui/format.hpp"

namespace flow::tui {

const std::map<std::string, int>* EndedRunCounts::find(const state::RunRecord& run) const {
  auto it = kept_.find(run.id);
  if (it == kept_.end() || it->second.state != run.state || it->second.ended != run.ended)
    return nullptr;
  return &it->second.counts;
}

void EndedRunCounts::keep(const state::RunRecord& run, const std::map<std::string, int>& counts) {
  if (run.state == state::RunState::kRunning || run.ended == 0) {
    kept_.erase(run.id);
    return;
  }
  kept_[run.id] = Kept{run.state, run.ended, counts};
}

void EndedRunCounts::retain(const std::vector<std::string>& ids) {
  const std::set<std::string> listed(ids.begin(), ids.end());
  for (auto it = kept_.begin(); it != kept_.end();)
    it = listed.count(it->first) ? std::next(it) : kept_.erase(it);
}

std::vector<RunRow> load_runs(state::Store& store, const std::string& dag, int limit,
                              EndedRunCounts* ended) {
  std::vector<RunRow> rows;
  std::vector<std::string> ids;
  for (auto& r : store.list_runs(dag, limit)) {
    RunRow row;
    if (const auto* kept = ended ? ended->find(r) : nullptr) {
      row.counts = *kept;
    } else {
      row.counts = store.state_counts(r.id);
      if (ended) ended->keep(r, row.counts);
    }
    ids.push_back(r.id);
    row.id = std::move(r.id);
    row.dag = std::move(r.dag);
    row.state = r.state;
    row.started = r.started ? r.started : r.created;
    row.ended = r.ended;
    row.cancel_requested = r.cancel_requested;
    row.owner_pid = r.owner_pid;
    row.owner_host = std::move(r.owner_host);
    rows.push_back(std::move(row));
  }
  if (ended) ended->retain(ids);
  return rows;
}

bool run_matches(const RunRow& run, std::string_view filter) {
  return matches(filter, {run.id, run.dag, state::to_string(run.state)});
}

}  // namespace flow::tui
