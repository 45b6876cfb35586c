#include "ui-tui/runs_view.hpp"

#include <algorithm>

#include "ui-tui/cells.hpp"
#include "ui-tui/task_view.hpp"

namespace flow::tui {

RunsView::RunsView(std::string dag, int limit) : dag_(std::move(dag)), limit_(limit) {}

std::string RunsView::title() const {
  return dag_.empty() ? "runs" : "runs of " + dag_;
}

std::string RunsView::hints() const {
  return "Enter tasks  c cancel  / filter  ? help  q quit";
}

void RunsView::reload(StoreReader& store) {
  runs_ = store.read([&](state::Store& s) { return load_runs(s, dag_, limit_, &ended_); });
  loaded_ = true;
  apply_filter();
}

void RunsView::set_filter(std::string filter) {
  View::set_filter(std::move(filter));
  apply_filter();
}

void RunsView::apply_filter() {
  visible_.clear();
  for (size_t i = 0; i < runs_.size(); ++i)
    if (run_matches(runs_[i], filter_)) visible_.push_back(i);
  cursor_.set_count(visible_.size());
  for (size_t i = 0; i < visible_.size(); ++i) {
    if (runs_[visible_[i]].id == selected_id_) cursor_.select(i);
  }
  if (const RunRow* r = selected()) selected_id_ = r->id;
}

const RunRow* RunsView::selected() const {
  if (cursor_.empty()) return nullptr;
  return &runs_[visible_[cursor_.selected()]];
}

void RunsView::draw(Canvas& canvas, EpochMs now) {
  if (runs_.empty() || visible_.empty()) {
    canvas.put(1, 1,
               !loaded_        ? "reading..."
               : runs_.empty() ? "No runs yet. Start one with: flow run FILE.yaml"
                               : "No run matches the filter '" + filter_ + "' (Esc clears it)",
               Style{Tone::kDim});
    return;
  }
  auto counts_of = [](const RunRow& r) {
    std::string counts;
    for (const auto& [st, n] : ordered_counts(r.counts))
      counts += (counts.empty() ? "" : " ") + std::to_string(n) + " " + std::string(short_name(st));
    return counts.empty() ? std::string("-") : counts;
  };
  int id_w = 3, dag_w = 3, counts_w = 5;
  for (size_t i : visible_) {
    id_w = std::max(id_w, static_cast<int>(runs_[i].id.size()));
    dag_w = std::max(dag_w, static_cast<int>(runs_[i].dag.size()));
    counts_w = std::max(counts_w, static_cast<int>(counts_of(runs_[i]).size()));
  }
  // On a narrow terminal the DAG column goes first: default run ids start with it.
  ColumnSpec dag{"DAG", dag_w, 8, 5};
  dag.optional = true;
  const std::vector<ColumnSpec> columns = {
      {"RUN", id_w, 12, 0},        dag,
      {"STATE", 11, 11, 1},        {"STARTED", 11, 8, 3},
      {"DURATION", 8, 8, 2, true}, {"TASKS", counts_w, 10, 4, false, true},
  };
  draw_table(canvas, 0, canvas.rows(), columns, cursor_, [&](size_t index) {
    const RunRow& r = runs_[visible_[index]];
    std::string state(state::to_string(r.state));
    if (r.cancel_requested && r.state == state::RunState::kRunning) state = "cancelling";
    return TableRow{{r.id},
                    {r.dag},
                    {state, tone_of(r.state)},
                    {short_time(r.started, now)},
                    {span(r.started, r.ended, now)},
                    {counts_of(r)}};
  });
}

bool RunsView::on_key(const Key& key, Session& session) {
  if (move_in_list(cursor_, key)) {
    if (const RunRow* r = selected()) selected_id_ = r->id;
    return true;
  }
  const RunRow* r = selected();
  if (key.code == Key::kEnter || key.code == Key::kRight) {
    if (r) session.open(std::make_unique<TaskView>(r->id));
    return true;
  }
  if (key.is('c')) {
    if (!r) return true;
    if (r->state == state::RunState::kSucceeded || r->state == state::RunState::kCancelled) {
      session.notify("run " + r->id + " is already " + std::string(state::to_string(r->state)) +
                     "; nothing to cancel");
    } else {
      confirm_cancel(session, r->id);
    }
    return true;
  }
  if (key.is('r') || key.is('R') || key.is('H') || key.is('l')) {
    session.notify("open the run (Enter) and select a task first");
    return true;
  }
  return false;
}

}  // namespace flow::tui
