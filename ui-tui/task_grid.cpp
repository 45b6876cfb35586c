#include "ui-tui/task_grid.hpp"

#include <algorithm>
#include <unordered_map>

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
  auto run = store.get_run_without_dag(run_id);
  if (!run) return std::nullopt;
  TaskGrid grid;
  grid.run_ = std::move(*run);
  std::optional<run::WaitingRules> rules;
  if (shape.dag) rules.emplace(grid.run_, *shape.dag, shape.max_jobs, now_ms(), shape.gpus);

  // Counts first: the progress, each group's size, and what the waiting rules need.
  const auto counts = store.task_state_counts(run_id);
  struct TaskCounts {
    int64_t total = 0;
    std::vector<std::pair<state::TaskState, int64_t>> by_state;
  };
  std::unordered_map<std::string, TaskCounts> per_task;
  std::vector<std::string> task_order;  // as the store created them
  for (const auto& c : counts) {
    auto [it, added] = per_task.try_emplace(c.task_id);
    if (added) task_order.push_back(c.task_id);
    it->second.total += c.count;
    it->second.by_state.emplace_back(c.state, c.count);
    grid.progress_.total += static_cast<int>(c.count);
    grid.progress_.counts[std::string(state::to_string(c.state))] += static_cast<int>(c.count);
    if (state::is_terminal(c.state)) grid.progress_.done += static_cast<int>(c.count);
    if (rules) rules->count(c.task_id, c.state, c.count);
  }
  std::map<std::string, std::vector<state::InstanceRecord>> flying;  // task -> in flight
  for (auto& i : store.in_flight_instances(run_id)) {
    if (rules) rules->hold(i);
    if (!i.parent.empty()) flying[i.task_id].push_back(std::move(i));
  }
  auto row_of = [&](state::InstanceRecord&& i) {
    std::string why;
    if (rules) {
      if (auto w = rules->of(i)) why = std::move(w->text);
    }
    TaskRow r = to_row(std::move(i));
    r.waiting = std::move(why);
    return r;
  };

  for (const auto& task : task_order) {
    const TaskCounts& of_task = per_task.at(task);
    const int64_t total = of_task.total;
    std::vector<state::InstanceRecord> read;
    if (total == 1) {  // a task without children (every task of a static DAG): by its id
      if (auto i = store.get_instance(run_id, task)) read.push_back(std::move(*i));
    } else {
      // Its own instance first, then its children by index: at most kChildrenRead of
      // them, and those in flight.
      read = store.task_instances(run_id, task, {}, {}, 0, kChildrenRead + 1);
      std::set<std::string> have;
      for (const auto& i : read)
        have.insert(i.id);
      for (auto& i : flying[task]) {
        if (!have.count(i.id)) read.push_back(std::move(i));
      }
    }
    if (read.empty()) continue;  // ended between the counts and this read
    TaskGroup g;
    bool own = read.front().parent.empty();
    if (own) {
      auto k = shape.kinds.find(task);
      g.kind = k == shape.kinds.end() ? GroupKind::kPlain : k->second;
      g.head = row_of(std::move(read.front()));
    } else {
      // Children whose task instance is missing (not written by this engine version):
      // shown under a placeholder head rather than lost.
      g.head.id = g.head.task_id = read.front().parent;
      g.head.message = "(no instance of the task itself)";
    }
    for (size_t k = own ? 1 : 0; k < read.size(); ++k) {
      if (g.kind == GroupKind::kPlain) g.kind = GroupKind::kForeach;
      TaskRow row = row_of(std::move(read[k]));
      if (!row.trial_status.empty()) g.kind = GroupKind::kHpo;
      g.children.push_back(std::move(row));
    }
    std::stable_sort(g.children.begin(), g.children.end(),
                     [](const TaskRow& a, const TaskRow& b) { return natural_less(a.id, b.id); });
    g.child_total = static_cast<size_t>(total - (own ? 1 : 0));
    // Its children per state: the task's counts less its own instance.
    for (const auto& [st, count] : of_task.by_state) {
      const int64_t n = count - (own && st == g.head.state ? 1 : 0);
      if (n > 0) g.child_counts[std::string(state::to_string(st))] += static_cast<int>(n);
    }
    grid.groups_.push_back(std::move(g));
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
