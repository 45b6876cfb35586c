#include "ui-tui/task_view.hpp"

#include <algorithm>
#include <optional>

#include "engine/core/suggest.hpp"
#include "engine/dag/loader.hpp"
#include "engine/runtime/new_run.hpp"
#include "ui-tui/cells.hpp"
#include "ui-tui/leaderboard_view.hpp"
#include "ui-tui/log_view.hpp"

namespace flow::tui {

namespace {

std::string children_noun(const TaskGroup& g) {
  const size_t n = g.child_total;
  std::string noun =
      std::to_string(n) +
      (g.kind == GroupKind::kHpo ? (n == 1 ? " trial" : " trials") : (n == 1 ? " item" : " items"));
  // A group too big to read whole (TaskGrid::kChildrenRead): say what the grid lists.
  if (g.children.size() < n) noun += ", " + std::to_string(g.children.size()) + " listed";
  return noun;
}

bool has_children(const TaskGroup& g) {
  return g.child_total > 0 || !g.children.empty();
}

}  // namespace

TaskView::TaskView(std::string run_id) : run_id_(std::move(run_id)) {}

std::string TaskView::title() const {
  return "run " + run_id_;
}

std::string TaskView::hints() const {
  return "Enter open  l log  H hpo  r retry  R +downstream  c cancel  / filter  ? help";
}

void TaskView::reload(StoreReader& store) {
  grid_ = store.read([&](state::Store& s) -> std::optional<TaskGrid> {
    if (!dag_read_) {
      dag_read_ = true;
      if (auto run = s.get_run(run_id_)) {
        try {
          shape_ = grid_shape(dag::load_dag_text(run->dag_yaml, run->dag_file),
                              runtime::catalogue_max_jobs(), runtime::catalogue_gpus());
        } catch (const std::exception&) {
          // A DAG this flow cannot read any more: groups are recognised by their children
          // and listed in the store's order.
        }
      }
    }
    return TaskGrid::load(s, run_id_, shape_);
  });
  if (grid_) {
    for (const auto& g : grid_->groups()) {
      if (!has_children(g) || seen_.count(g.head.task_id)) continue;
      seen_.insert(g.head.task_id);
      if (g.child_total <= kExpandedUpTo) expanded_.insert(g.head.task_id);
    }
  }
  rebuild();
}

void TaskView::set_filter(std::string filter) {
  View::set_filter(std::move(filter));
  rebuild();
}

void TaskView::rebuild() {
  lines_ = grid_ ? grid_->lines(expanded_, filter_) : std::vector<GridLine>{};
  cursor_.set_count(lines_.size());
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (grid_->row(lines_[i]).id == selected_id_) {
      cursor_.select(i);
      break;
    }
  }
  if (const TaskRow* r = selected()) selected_id_ = r->id;
}

const TaskRow* TaskView::selected() const {
  if (!grid_ || cursor_.empty()) return nullptr;
  return &grid_->row(lines_[cursor_.selected()]);
}

const TaskGroup* TaskView::selected_group() const {
  if (!grid_ || cursor_.empty()) return nullptr;
  return &grid_->groups()[lines_[cursor_.selected()].group];
}

void TaskView::toggle(bool open) {
  const TaskGroup* g = selected_group();
  if (!g || !has_children(*g)) return;
  if (open) {
    expanded_.insert(g->head.task_id);
  } else {
    expanded_.erase(g->head.task_id);
    selected_id_ = g->head.id;  // a child that is hidden now: select its head
  }
  rebuild();
}

void TaskView::draw(Canvas& canvas, EpochMs now) {
  if (!grid_) {
    canvas.put(1, 1, "run " + run_id_ + " is not in the database (any more)", Style{Tone::kBad});
    return;
  }
  const auto& run = grid_->run();
  RowWriter(canvas, 0)
      .add(run.id, Style{Tone::kNormal, true})
      .add("  ")
      .add(state::to_string(run.state), Style{tone_of(run.state), true})
      .add(run.cancel_requested && run.state == state::RunState::kRunning ? " (cancelling)" : "")
      .add("  dag " + run.dag + "  started " + short_time(run.started, now) + "  " +
           span(run.started, run.ended, now));

  // [#######.......] 12/20 done  10 ok 2 failed 3 run 5 queued
  const Progress& p = grid_->progress();
  RowWriter line(canvas, 1);
  const int bar = std::clamp(canvas.cols() / 5, 5, 30);
  const int filled = p.total ? bar * p.done / p.total : 0;
  line.add("[")
      .add(std::string(static_cast<size_t>(filled), '#'), Style{Tone::kGood})
      .add(std::string(static_cast<size_t>(bar - filled), '.'), Style{Tone::kDim})
      .add("] " + std::to_string(p.done) + "/" + std::to_string(p.total) + " done ");
  for (const auto& [st, n] : ordered_counts(p.counts))
    line.add(" " + std::to_string(n) + " " + std::string(short_name(st)), Style{tone_of(st)});
  if (!filter_.empty()) line.add("   filter: " + filter_, Style{Tone::kAccent});

  if (lines_.empty()) {
    canvas.put(3, 1,
               filter_.empty() ? "no task instances yet"
                               : "no instance matches the filter '" + filter_ + "' (Esc clears it)",
               Style{Tone::kDim});
    return;
  }
  // TRY: the try number; an HPO trial's segment and try of it ("segment 2, try 3").
  auto try_cell = [](const TaskRow& r) {
    if (r.segment.is_trial()) return state::attempt_label(r.try_number, r.segment);
    return r.try_number ? std::to_string(r.try_number) : std::string("-");
  };
  int id_w = 4, site_w = 4, job_w = 3, try_w = 3;
  for (const auto& g : grid_->groups()) {
    id_w = std::max(id_w, static_cast<int>(g.head.id.size() + 2 + (has_children(g) ? 12 : 0)));
    site_w = std::max(site_w, static_cast<int>(g.head.site.size()));
    job_w = std::max(job_w, static_cast<int>(g.head.job_id.size()));
    for (const auto& c : g.children) {
      id_w = std::max(id_w, static_cast<int>(c.id.size() + 4));
      site_w = std::max(site_w, static_cast<int>(c.site.size()));
      job_w = std::max(job_w, static_cast<int>(c.job_id.size()));
      try_w = std::max(try_w, static_cast<int>(try_cell(c).size()));
    }
  }
  const std::vector<ColumnSpec> columns = {
      {"TASK", std::min(id_w, 40), 14, 0},
      {"STATE", 15, 9, 1},
      {"TRY", try_w, 3, 3, true},
      {"SITE", site_w, 5, 5},
      {"JOB", job_w, 5, 4},
      {"DURATION", 8, 8, 2, true},
      {"MESSAGE", 40, 8, 6, false, true},
  };
  draw_table(canvas, 2, canvas.rows() - 2, columns, cursor_, [&](size_t index) {
    const GridLine& l = lines_[index];
    const TaskGroup& g = grid_->groups()[l.group];
    const TaskRow& r = grid_->row(l);
    std::string name;
    std::string message(first_line(r.message));
    if (message.empty() && !r.waiting.empty()) message = "waiting: " + r.waiting;
    if (l.child >= 0) {
      name = "    " + r.id;
      if (message.empty() && !r.trial_status.empty()) message = "trial " + r.trial_status;
    } else if (has_children(g)) {
      const bool open = expanded_.count(g.head.task_id) || !filter_.empty();
      name = std::string(open ? "- " : "+ ") + r.id + " (" + children_noun(g) + ")";
      if (message.empty()) {
        for (const auto& [st, n] : ordered_counts(g.child_counts))
          message +=
              (message.empty() ? "" : " ") + std::to_string(n) + " " + std::string(short_name(st));
      }
    } else {
      name = "  " + r.id;
    }
    return TableRow{{name},
                    {std::string(state::to_string(r.state)), tone_of(r.state)},
                    {try_cell(r)},
                    {r.site.empty() ? "-" : r.site},
                    {r.job_id.empty() ? "-" : r.job_id},
                    {span(r.started, r.ended, now)},
                    {message, Tone::kNormal}};
  });
}

bool TaskView::on_key(const Key& key, Session& session) {
  if (move_in_list(cursor_, key)) {
    if (const TaskRow* r = selected()) selected_id_ = r->id;
    return true;
  }
  const TaskRow* r = selected();
  const TaskGroup* g = selected_group();
  if (!grid_) return false;
  const bool on_head = !cursor_.empty() && lines_[cursor_.selected()].child < 0;
  if (key.code == Key::kEnter) {
    if (!r) return true;
    if (on_head && has_children(*g)) {
      toggle(!expanded_.count(g->head.task_id));
    } else {
      session.open(std::make_unique<LogView>(run_id_, r->id));
    }
    return true;
  }
  if (key.is(' ')) {
    if (g && has_children(*g)) toggle(!expanded_.count(g->head.task_id));
    return true;
  }
  if (key.code == Key::kRight || key.is('+')) {
    toggle(true);
    return true;
  }
  if (key.code == Key::kLeft || key.is('-')) {
    // Collapse when there is something to collapse; otherwise Left means back.
    if (!g || !has_children(*g) || (!expanded_.count(g->head.task_id) && on_head)) {
      return key.is('-');
    }
    toggle(false);
    return true;
  }
  if (key.is('l')) {
    if (!r) return true;
    if (on_head && has_children(*g) && r->try_number == 0) {
      session.notify(r->id + " runs as its " + children_noun(*g) +
                     "; select one of them for its log (Enter expands the group)");
    } else {
      session.open(std::make_unique<LogView>(run_id_, r->id));
    }
    return true;
  }
  if (key.is('H')) {
    if (!g) return true;
    if (g->kind == GroupKind::kHpo) {
      session.open(std::make_unique<LeaderboardView>(run_id_, g->head.task_id));
    } else {
      std::vector<std::string> sweeps;
      for (const auto& x : grid_->groups())
        if (x.kind == GroupKind::kHpo) sweeps.push_back(x.head.task_id);
      session.notify("'" + g->head.task_id + "' is not an hpo task" +
                         (sweeps.empty() ? "; this run has none" : "; hpo tasks: " + join(sweeps)),
                     Tone::kBad);
    }
    return true;
  }
  if (key.is('r') || key.is('R')) {
    if (g) confirm_retry(session, run_id_, g->head.task_id, key.is('R'));
    return true;
  }
  if (key.is('c')) {
    const auto st = grid_->run().state;
    if (st == state::RunState::kSucceeded || st == state::RunState::kCancelled) {
      session.notify("run " + run_id_ + " is already " + std::string(state::to_string(st)) +
                     "; nothing to cancel");
    } else {
      confirm_cancel(session, run_id_);
    }
    return true;
  }
  return false;
}

}  // namespace flow::tui
