#include "engine/run/waiting.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace flow::run {

namespace {

using state::InstanceRecord;
using state::TaskState;

std::string seconds_text(EpochMs ms) {
  const auto s = (ms + 999) / 1000;
  return s < 120 ? std::to_string(s) + " s" : std::to_string((s + 59) / 60) + " min";
}

}  // namespace

WaitingRules::WaitingRules(const state::RunRecord& run, const dag::Dag& dag, MaxJobsOf max_jobs,
                           EpochMs now, GpusOf gpus)
    : run_(run), dag_(dag), max_jobs_(std::move(max_jobs)), now_(now), gpus_(std::move(gpus)) {
  by_id_.reserve(dag.tasks.size());
  for (const auto& t : dag.tasks)
    by_id_.emplace(t.id, &t);
}

const dag::Task* WaitingRules::find_task(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

int WaitingRules::cores_of(const dag::Task* t) const {
  const int c = t && t->resources.declared ? t->resources.cpus : 1;
  return run_.parallelism > 0 ? std::min(c, run_.parallelism) : c;
}

void WaitingRules::count(const std::string& task_id, TaskState s, int64_t n) {
  auto& p = of_task_[task_id];
  p.total += n;
  if (state::is_terminal(s)) {
    p.done += n;
  } else if (!p.open) {
    p.open = s;
  }
}

void WaitingRules::hold(const InstanceRecord& i) {
  const dag::Task* t = find_task(i.task_id);
  // The own instance of a foreach or hpo task runs nothing: its children do.
  const bool fans_out = t && i.parent.empty() && (t->foreach || t->hpo);
  if (!state::is_in_flight(i.state) || fans_out) return;
  ++in_flight_;
  ++in_flight_on_site_[i.site];
  cores_held_ += cores_of(t);
  if (t && t->resources.declared) gpus_held_[i.site] += t->resources.gpus;
  if (!i.parent.empty()) ++trials_in_flight_[i.task_id];
}

std::optional<Waiting> WaitingRules::of(const InstanceRecord& i) const {
  if (i.state == TaskState::kPending) {
    std::string why =
        i.message.empty() ? "" : " (" + i.message.substr(0, i.message.find('\n')) + ")";
    return Waiting{"queue", "in the batch queue of " + i.site +
                                (i.job_id.empty() ? "" : " as job " + i.job_id) + why};
  }
  if (i.state != TaskState::kQueued && i.state != TaskState::kUpForRetry) return std::nullopt;
  if (run_.state != state::RunState::kRunning) {
    return Waiting{"not_executing", "the run is " + std::string(state::to_string(run_.state)) +
                                        ": nothing executes it (flow resume " + run_.id + ")"};
  }
  if (i.state == TaskState::kUpForRetry && i.next_try_at > now_) {
    return Waiting{"retry_delay", "retry " + std::to_string(i.try_number + 1) + " at " +
                                      iso_utc(i.next_try_at) + " (in " +
                                      seconds_text(i.next_try_at - now_) + ")"};
  }
  const dag::Task* task = find_task(i.task_id);
  // Upstream tasks: a task's instances wait for every instance of each upstream task.
  if (task && i.parent.empty()) {
    for (const auto& up : task->after) {
      auto p = of_task_.find(up);
      if (p != of_task_.end() && p->second.total > 0 && p->second.done == p->second.total) continue;
      std::string detail = "not started";
      if (p != of_task_.end() && p->second.total > 1) {
        detail = std::to_string(p->second.done) + " of " + std::to_string(p->second.total) +
                 " instances done";
      } else if (p != of_task_.end() && p->second.open) {
        detail = std::string(state::to_string(*p->second.open));
      }
      return Waiting{"upstream", "upstream " + up + " not done (" + detail + ")"};
    }
  }
  if (task && task->hpo && !i.parent.empty()) {
    auto t = trials_in_flight_.find(i.task_id);
    if (t != trials_in_flight_.end() && t->second >= std::max(task->hpo->parallel, 1)) {
      return Waiting{"sweep", "the sweep " + i.task_id + " runs its parallel: " +
                                  std::to_string(task->hpo->parallel) + " trials"};
    }
  }
  const int need = cores_of(task);
  if (run_.parallelism > 0 && cores_held_ + need > run_.parallelism) {
    std::string text = "-j " + std::to_string(run_.parallelism) + ": " +
                       std::to_string(in_flight_) + " tasks in flight";
    if (cores_held_ != in_flight_) text += " holding " + std::to_string(cores_held_) + " cores";
    if (need > 1) text += "; this one needs " + std::to_string(need);
    return Waiting{"parallelism", text};
  }
  const std::string site = task ? dag_.site_of(*task) : i.site;
  auto held_on = [](const std::unordered_map<std::string, int>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? 0 : it->second;
  };
  if (task && task->resources.declared && task->resources.gpus > 0 && gpus_) {
    const int have = gpus_(site);
    const int held = held_on(gpus_held_, site);
    if (have >= 0 && held + task->resources.gpus > have) {
      return Waiting{"gpus", "site " + site + " has " + std::to_string(have) +
                                 (have == 1 ? " GPU, " : " GPUs, ") +
                                 (held >= have ? "all" : std::to_string(held)) +
                                 " held by tasks in flight; this one needs " +
                                 std::to_string(task->resources.gpus)};
    }
  }
  if (const int cap = max_jobs_ ? max_jobs_(site) : 0;
      cap > 0 && held_on(in_flight_on_site_, site) >= cap) {
    return Waiting{"max_jobs",
                   "site " + site + " has its max_jobs (" + std::to_string(cap) + ") in flight"};
  }
  return Waiting{"ready", "ready: starts at the engine's next step"};
}

std::map<std::string, Waiting> waiting_reasons(const state::RunRecord& run, const dag::Dag& dag,
                                               const std::vector<InstanceRecord>& instances,
                                               const MaxJobsOf& max_jobs, EpochMs now,
                                               const GpusOf& gpus) {
  WaitingRules rules(run, dag, max_jobs, now, gpus);
  for (const auto& i : instances) {
    rules.count(i.task_id, i.state);
    rules.hold(i);
  }
  std::map<std::string, Waiting> out;
  for (const auto& i : instances) {
    if (auto w = rules.of(i)) out.emplace(i.id, std::move(*w));
  }
  return out;
}

}  // namespace flow::run
