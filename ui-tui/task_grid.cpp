#include "ui-tui/task_grid.hpp"

#include <algorithm>

#include "engine/dag/graph.hpp"
#include "ui-tui/format.hpp"

namespace flow::tui {

GridShape grid_shape(const dag::Dag& dag, run::MaxJobsOf max_jobs, run::GpusOf gpus) {
  GridShape shape;
  shape.dag = dag;
  shape.max_jobs = std::move(max_jobs);
  shape.gpus = std::move(gpus);
  for (const auto& t : dag.tasks) {
    if (t.hpo) shape.kinds[t.id] = GroupKind::kHpo;
    if (t.foreach) shape.kinds[t.id] = GroupKind::kForeach;
  }
  size_t position = 0;
  for (const auto& id : dag::reading_order(dag))
    shape.order[id] = position++;
  return shape;
}

namespace {

TaskRow to_row(state::InstanceRecord&& i) {
  TaskRow r;
  r.id = std::move(i.id);
  r.task_id = std::move(i.task_id);
  r.state = i.state;
  r.try_number = i.try_number;
  r.segment = state::segment_try_of(i);
  r.site = std::move(i.site);
  r.job_id = std::move(i.job_id);
  r.started = i.started;
  r.ended = i.ended;
  r.message = std::move(i.message);
  if (i.attrs.is_object() && i.attrs.contains("trial") && i.attrs["trial"].is_object())
    r.trial_status = i.attrs["trial"].value("status", "");
  return r;
}

bool row_matches(const TaskRow& r, std::string_view filter) {
  return matches(filter, {r.id, r.task_id, state::to_string(r.state), r.site, r.job_id,
                          first_line(r.message), r.trial_status, r.waiting});
}

}  // namespace

std::optional<TaskGrid> TaskGrid::load(state::Store& store, const std::string& run_id,
                                       const GridShape& shape) {
  auto run = store.get_run(run_id);
  if (!run) return std::nullopt;
  TaskGrid grid;
  grid.run_ = std::move(*run);
  std::map<std::string, size_t> index;  // task id -> group
  std::vector<std::pair<std::string, TaskRow>> children;
  auto instances = store.instances(run_id);
  std::map<std::string, run::Waiting> waiting;
  if (shape.dag)
    waiting = run::waiting_reasons(grid.run_, *shape.dag, instances, shape.max_jobs, now_ms(),
                                   shape.gpus);
  for (auto& inst : instances) {
    std::string why;
    if (auto w = waiting.find(inst.id); w != waiting.end()) why = w->second.text;
    ++grid.progress_.total;
    ++grid.progress_.counts[std::string(state::to_string(inst.state))];
    if (state::is_terminal(inst.state)) ++grid.progress_.done;
    if (!inst.parent.empty()) {
      std::string parent = inst.parent;
      children.emplace_back(std::move(parent), to_row(std::move(inst)));
      children.back().second.waiting = std::move(why);
      continue;
    }
    TaskGroup g;
    auto k = shape.kinds.find(inst.task_id);
    g.kind = k == shape.kinds.end() ? GroupKind::kPlain : k->second;
    index[inst.task_id] = grid.groups_.size();
    g.head = to_row(std::move(inst));
    g.head.waiting = std::move(why);
    grid.groups_.push_back(std::move(g));
  }
  for (auto& [parent, row] : children) {
    auto it = index.find(parent);
    if (it == index.end()) {
      // A child whose task instance is missing (not written by this engine version):
      // show it under a placeholder head rather than losing it.
      TaskGroup g;
      g.head.id = g.head.task_id = parent;
      g.head.message = "(no instance of the task itself)";
      it = index.emplace(parent, grid.groups_.size()).first;
      grid.groups_.push_back(std::move(g));
    }
    TaskGroup& g = grid.groups_[it->second];
    if (g.kind == GroupKind::kPlain) g.kind = GroupKind::kForeach;
    if (!row.trial_status.empty()) g.kind = GroupKind::kHpo;
    ++g.child_counts[std::string(state::to_string(row.state))];
    g.children.push_back(std::move(row));
  }
  for (auto& g : grid.groups_) {
    std::stable_sort(g.children.begin(), g.children.end(),
                     [](const TaskRow& a, const TaskRow& b) { return natural_less(a.id, b.id); });
  }
  auto rank = [&](const TaskGroup& g) {
    auto it = shape.order.find(g.head.task_id);
    return it == shape.order.end() ? shape.order.size() : it->second;
  };
  std::stable_sort(grid.groups_.begin(), grid.groups_.end(),
                   [&](const TaskGroup& a, const TaskGroup& b) { return rank(a) < rank(b); });
  return grid;
}

const TaskRow& TaskGrid::row(const GridLine& line) const {
  const TaskGroup& g = groups_.at(line.group);
  return line.child < 0 ? g.head : g.children.at(static_cast<size_t>(line.child));
}

std::vector<GridLine> TaskGrid::lines(const std::set<std::string>& expanded,
                                      std::string_view filter) const {
  std::vector<GridLine> out;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const TaskGroup& g = groups_[gi];
    const bool open = expanded.count(g.head.task_id) > 0;
    if (filter.empty()) {
      out.push_back({gi, -1});
      if (open) {
        for (size_t c = 0; c < g.children.size(); ++c)
          out.push_back({gi, static_cast<int>(c)});
      }
      continue;
    }
    bool any = false;
    for (size_t c = 0; c < g.children.size(); ++c) {
      if (!row_matches(g.children[c], filter)) continue;
      if (!any) out.push_back({gi, -1});
      any = true;
      out.push_back({gi, static_cast<int>(c)});
    }
    if (!any && row_matches(g.head, filter)) out.push_back({gi, -1});
  }
  return out;
}

}  // namespace flow::tui
