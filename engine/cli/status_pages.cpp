#include "engine/cli/status_pages.hpp"

#include <algorithm>
#include <unordered_map>

#include "engine/core/clock.hpp"
#include "engine/dag/graph.hpp"
#include "engine/dag/loader.hpp"

namespace flow::cli {

StatusPages::StatusPages(state::Store& store, const state::RunRecord& run, run::MaxJobsOf max_jobs,
                         run::GpusOf gpus)
    : store_(store), run_(run) {
  std::vector<std::string> order;
  bool readable = true;
  try {
    dag_ = dag::load_dag_text(run.dag_yaml, run.dag_file);
    order = dag::reading_order(dag_);
  } catch (const std::exception&) {
    readable = false;  // not readable by this version: the store's order, no reasons
  }
  if (readable) rules_.emplace(run_, dag_, std::move(max_jobs), now_ms(), std::move(gpus));
  read_counts(order);
}

StatusPages::StatusPages(state::Store& store, const state::RunRecord& run,
                         const std::vector<std::string>& task_order)
    : store_(store), run_(run), usage_(false) {
  read_counts(task_order);
}

void StatusPages::read_counts(const std::vector<std::string>& order) {
  // One count per task and state, and what is in flight, at one moment; tasks in the
  // store's order until sorted below.
  state::Store::ReadSnapshot moment(store_);
  std::unordered_map<std::string, size_t> at;
  for (auto& c : store_.task_state_counts(run_.id)) {
    auto [it, added] = at.emplace(c.task_id, summary_.size());
    if (added) summary_.push_back({c.task_id, 0, {}});
    TaskSummary& t = summary_[it->second];
    t.instances += c.count;
    t.counts[std::string(state::to_string(c.state))] += c.count;
    total_ += c.count;
    if (rules_) rules_->count(c.task_id, c.state, c.count);
  }
  if (rules_) {
    for (const auto& i : store_.in_flight_instances(run_.id))
      rules_->hold(i);
  }
  // Reading order; tasks the DAG does not name after those it does, as the store has them.
  std::unordered_map<std::string, size_t> rank;
  for (size_t i = 0; i < order.size(); ++i)
    rank.emplace(order[i], i);
  auto rank_of = [&](const TaskSummary& t) {
    auto it = rank.find(t.task);
    return it == rank.end() ? order.size() : it->second;
  };
  std::stable_sort(
      summary_.begin(), summary_.end(),
      [&](const TaskSummary& a, const TaskSummary& b) { return rank_of(a) < rank_of(b); });
}

int64_t StatusPages::selected_of(const TaskSummary& t, const StatusFilter& f) const {
  if (!f.tasks.empty() && std::find(f.tasks.begin(), f.tasks.end(), t.task) == f.tasks.end())
    return 0;
  if (f.states.empty()) return t.instances;
  int64_t n = 0;
  for (auto s : f.states) {
    auto it = t.counts.find(std::string(state::to_string(s)));
    if (it != t.counts.end()) n += it->second;
  }
  return n;
}

int64_t StatusPages::matching(const StatusFilter& f) const {
  int64_t n = 0;
  for (const auto& t : summary_)
    n += selected_of(t, f);
  return n;
}

std::vector<std::string> StatusPages::unknown_tasks(const StatusFilter& f) const {
  std::vector<std::string> out;
  for (const auto& id : f.tasks) {
    if (std::none_of(summary_.begin(), summary_.end(),
                     [&](const TaskSummary& t) { return t.task == id; }))
      out.push_back(id);
  }
  return out;
}

void StatusPages::for_each_page(const StatusFilter& f,
                                const std::function<void(std::vector<StatusRow>&)>& page,
                                int64_t page_size) {
  int64_t skip = f.offset;
  int64_t left = f.limit > 0 ? f.limit : INT64_MAX;
  std::vector<StatusRow> rows;
  auto flush = [&] {
    if (rows.empty()) return;
    {
      state::Store::ReadSnapshot moment(store_);  // one read transaction for the page's tries
      for (auto& r : rows) {
        if (rules_) r.waiting = rules_->of(r.instance);
        if (!usage_) continue;
        if (auto t = store_.latest_try(run_.id, r.instance.id); t && t->usage.known())
          r.usage = t->usage;
      }
    }
    page(rows);  // printed outside any read transaction: a slow reader blocks no checkpoint
    rows.clear();
  };
  for (const auto& t : summary_) {
    const int64_t here = selected_of(t, f);
    if (here == 0) continue;
    if (skip >= here) {  // the whole task lies before the page
      skip -= here;
      continue;
    }
    const int64_t before = skip;  // rows of this task before the page
    int64_t to_skip = before;     // skipped by the first read
    skip = 0;
    state::Store::InstanceKey after;  // then each read starts after the last row it gave
    int64_t read = 0;
    while (before + read < here && left > 0) {
      std::optional<state::Store::ReadSnapshot> moment(std::in_place, store_);
      const int64_t want =
          std::min({left, page_size - static_cast<int64_t>(rows.size()), here - before - read});
      std::vector<state::InstanceRecord> got;
      if (t.instances == 1) {
        // A task with one instance (every task of a static DAG): its own, by its id.
        if (auto i = store_.get_instance(run_.id, t.task)) got.push_back(std::move(*i));
      } else {
        got = store_.task_instances(run_.id, t.task, f.states, after, to_skip, want);
        to_skip = 0;
      }
      moment.reset();
      if (got.empty()) break;  // the run moved on since the counts were read
      after = {got.back().map_index, got.back().id};
      read += static_cast<int64_t>(got.size());
      left -= static_cast<int64_t>(got.size());
      for (auto& i : got)
        rows.push_back({std::move(i), std::nullopt, std::nullopt});
      if (static_cast<int64_t>(rows.size()) >= page_size) flush();
      if (t.instances == 1) break;
    }
    if (left <= 0) break;
  }
  flush();
}

}  // namespace flow::cli
