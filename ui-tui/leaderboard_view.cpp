#include "ui-tui/leaderboard_view.hpp"

#include <algorithm>

#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/dag/loader.hpp"
#include "ui-tui/cells.hpp"
#include "ui-tui/curve_plot.hpp"
#include "ui-tui/log_view.hpp"
#include "ui-tui/sparkline.hpp"

namespace flow::tui {

LeaderboardView::LeaderboardView(std::string run_id, std::string task)
    : run_id_(std::move(run_id)), task_(std::move(task)) {}

std::string LeaderboardView::title() const {
  return "hpo " + task_;
}

std::string LeaderboardView::hints() const {
  return "Enter/l trial log  p plot  r retry  c cancel  / filter  Esc back  ? help";
}

void LeaderboardView::reload(StoreReader& store) {
  try {
    board_ = store.read([&](state::Store& s) -> std::optional<Leaderboard> {
      // The DAG text is read once, with the first load.
      auto run = dag_ ? s.get_run_without_dag(run_id_) : s.get_run(run_id_);
      if (!run) throw Error(ErrorKind::kInvalidInput, "run " + run_id_ + " is not in the database");
      if (!dag_) dag_ = dag::load_dag_text(run->dag_yaml, run->dag_file);
      return Leaderboard::load(s, *run, *dag_, task_);
    });
    error_.clear();
  } catch (const std::exception& e) {
    board_.reset();
    error_ = e.what();
  }
  apply_filter();
}

void LeaderboardView::set_filter(std::string filter) {
  View::set_filter(std::move(filter));
  apply_filter();
}

void LeaderboardView::apply_filter() {
  visible_.clear();
  if (board_) {
    for (size_t i = 0; i < board_->trials.size(); ++i)
      if (trial_matches(board_->trials[i], filter_)) visible_.push_back(i);
  }
  cursor_.set_count(visible_.size());
  for (size_t i = 0; i < visible_.size(); ++i) {
    if (board_->trials[visible_[i]].trial == selected_id_) cursor_.select(i);
  }
  if (const TrialRow* t = selected()) selected_id_ = t->trial;
}

const TrialRow* LeaderboardView::selected() const {
  if (!board_ || cursor_.empty()) return nullptr;
  return &board_->trials[visible_[cursor_.selected()]];
}

void LeaderboardView::draw(Canvas& canvas, EpochMs /*now*/) {
  if (!board_) {
    canvas.put(1, 1, error_.empty() ? "reading..." : error_, Style{Tone::kBad});
    return;
  }
  const Leaderboard& b = *board_;
  int with_metric = 0;
  for (const auto& t : b.trials)
    with_metric += t.metric.has_value();
  state::TaskState st = state::task_state_from(b.state).value_or(state::TaskState::kQueued);
  RowWriter(canvas, 0)
      .add(b.task, Style{Tone::kNormal, true})
      .add(": " + b.algorithm + " on " + b.metric + " (" + b.mode + "), " +
           std::to_string(b.trials.size()) + " trials, " + std::to_string(with_metric) +
           " with a metric, ")
      .add(b.state, Style{tone_of(st), true});
  RowWriter best(canvas, 1);
  if (!b.best_trial.empty()) {
    best.add("best: ", Style{Tone::kAccent, true})
        .add(b.best_trial + " " + b.metric + "=" + metric_text(b.best_metric) + "  " +
             params_text(b.best_params));
  } else if (!b.trials.empty() && b.trials.front().metric) {
    const TrialRow& t = b.trials.front();
    best.add("best so far: ", Style{Tone::kAccent, true})
        .add(t.trial + " " + b.metric + "=" + metric_text(t.metric) + "  " + params_text(t.params));
  } else {
    best.add("no trial has reported " + b.metric + " yet", Style{Tone::kDim});
  }
  if (!b.pareto.empty()) best.add("   pareto front: " + join(b.pareto, " "), Style{Tone::kAccent});
  if (!filter_.empty()) best.add("   filter: " + filter_, Style{Tone::kAccent});

  if (visible_.empty()) {
    canvas.put(3, 1,
               b.trials.empty() ? "no trials yet"
                                : "no trial matches the filter '" + filter_ + "' (Esc clears it)",
               Style{Tone::kDim});
    return;
  }
  int id_w = 5;
  for (const auto& t : b.trials)
    id_w = std::max(id_w, static_cast<int>(t.trial.size()));
  std::vector<const std::vector<run::CurvePoint>*> curves;
  for (const auto& t : b.trials)
    curves.push_back(&t.curve);
  const CurveScale scale = curve_scale(curves, b.max_epochs);
  const int curve_w = sparkline_width(scale, b.rungs);
  // Rungs matter to ASHA/Hyperband only, generations and parents to PBT only.
  const bool rungs = b.algorithm == "asha" || b.algorithm == "hyperband";
  const bool pbt = b.algorithm == "pbt";
  std::vector<ColumnSpec> columns = {
      {"#", 3, 3, 2, true},
      {"TRIAL", id_w, 8, 0},
      {"STATE", 9, 9, 1},
      {b.metric.empty() ? "METRIC" : b.metric, std::max(10, static_cast<int>(b.metric.size())), 8,
       0, true},
      {"CURVE", std::max(5, curve_w), std::min(std::max(5, curve_w), 8), 2},
      {"EPOCHS", 6, 6, 1, true},
      {"RUNG", rungs ? 4 : 0, 4, 4, true},
      {"GEN", pbt ? 3 : 0, 3, 5, true},
      {"PARENT", pbt ? id_w : 0, 6, 6},
      {"PARAMS", 40, 10, 3, false, true},
  };
  constexpr size_t kCurve = 4;  // in `columns`
  std::vector<size_t> keep;     // the columns this algorithm has
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i].want > 0) keep.push_back(i);
  std::vector<ColumnSpec> shown;
  for (size_t i : keep)
    shown.push_back(columns[i]);
  const auto widths = layout_columns(shown, canvas.cols());
  int curve_cells = 0;
  for (size_t k = 0; k < keep.size(); ++k)
    if (keep[k] == kCurve) curve_cells = widths[k];
  const bool utf8 = canvas.utf8();
  // The plot pane takes the rows the table does not need (the best trial, the header, the
  // trials and the legend line), from half the screen (at most 11 rows) up to 20.
  int below = canvas.rows();  // the first row below the table and its legend line
  const TrialRow* chosen = selected();
  if (plot_ && chosen && canvas.rows() >= 14) {
    const int spare = canvas.rows() - 4 - static_cast<int>(visible_.size());
    const int pane = std::clamp(spare, std::min(11, canvas.rows() / 2), 20);
    below -= pane;
    const std::string how = chosen->metric ? metric_text(chosen->metric) + " after " +
                                                 std::to_string(chosen->epochs) + " epochs"
                                           : "no value yet";
    RowWriter(canvas, below)
        .add(chosen->trial, Style{Tone::kNormal, true})
        .add(" " + chosen->status, Style{tone_of_trial(chosen->status)})
        .add(": " + b.metric + " " + how + ", " + b.mode + " is best  (p hides)",
             Style{Tone::kDim});
    const auto lines = plot_curve(chosen->curve, scale, b.rungs, canvas.cols() - 1, pane - 1, utf8);
    for (size_t i = 0; i < lines.size(); ++i)
      canvas.put(below + 1 + static_cast<int>(i), 1, lines[i], Style{Tone::kAccent});
  }
  int table_rows = below - 2;
  if (curve_cells > 0 && table_rows > 3) {
    --table_rows;
    canvas.put(
        below - 1, 0,
        curve_legend(scale, b.metric, b.mode, curve_cells >= curve_w && !b.rungs.empty(), utf8),
        Style{Tone::kDim});
  }
  draw_table(canvas, 2, table_rows, shown, cursor_, [&](size_t index) {
    const TrialRow& t = b.trials[visible_[index]];
    TableRow all = {
        {std::to_string(visible_[index] + 1)},
        {t.trial},
        {t.status, tone_of_trial(t.status)},
        {metric_text(t.metric)},
        {sparkline(t.curve, scale, b.rungs, std::max(curve_cells, 1), utf8), Tone::kAccent, true},
        {std::to_string(t.epochs)},
        {std::to_string(t.rung)},
        {std::to_string(t.generation)},
        {t.parent.empty() ? "-" : t.parent},
        {(t.objectives.is_object() ? (t.pareto ? "* " : "  ") + params_text(t.objectives) + " | "
                                   : std::string()) +
         params_text(t.params)}};
    TableRow row;
    for (size_t i : keep)
      row.push_back(std::move(all[i]));
    return row;
  });
}

bool LeaderboardView::on_key(const Key& key, Session& session) {
  if (move_in_list(cursor_, key)) {
    if (const TrialRow* t = selected()) selected_id_ = t->trial;
    return true;
  }
  if (key.code == Key::kEnter || key.is('l')) {
    if (const TrialRow* t = selected())
      session.open(std::make_unique<LogView>(run_id_, t->instance));
    return true;
  }
  if (key.is('r') || key.is('R')) {
    confirm_retry(session, run_id_, task_, key.is('R'));
    return true;
  }
  if (key.is('c')) {
    confirm_cancel(session, run_id_);
    return true;
  }
  if (key.is('p')) {
    plot_ = !plot_;
    return true;
  }
  if (key.is('H')) return true;  // already here
  return false;
}

}  // namespace flow::tui
