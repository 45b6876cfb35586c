#include "engine/run/waiting.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace flow::run {

namespace {

using state::InstanceRecord;
using state::TaskState;

// How many instances of a task there are and how many of them are done.
struct Progress {
  int total = 0, done = 0;
  const InstanceRecord* open = nullptr;  // one that is not done, to name its state
};

std::string seconds_text(EpochMs ms) {
  const auto s = (ms + 999) / 1000;
  return s < 120 ? std::to_string(s) + " s" : std::to_string((s + 59) / 60) + " min";
}

}  // namespace

std::map<std::string, Waiting> waiting_reasons(const state::RunRecord& run, const dag::Dag& dag,
                                               const std::vector<InstanceRecord>& instances,
                                               const MaxJobsOf& max_jobs, EpochMs now,
                                               const GpusOf& gpus) {
  std::unordered_map<std::string_view, const dag::Task*> by_id;  // Dag::find is a scan
  by_id.reserve(dag.tasks.size());
  for (const auto& t : dag.tasks)
    by_id.emplace(t.id, &t);
  auto find_task = [&](const std::string& id) -> const dag::Task* {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : it->second;
  };
  std::map<std::string, Progress> of_task;
  std::map<std::string, int> in_flight_on_site, trials_in_flight, gpus_held;
  int in_flight = 0;
  int cores_held = 0;  // one per try, or its task's resources.cpus (at most -j)
  auto cores_of = [&](const dag::Task* t) {
    const int c = t && t->resources.declared ? t->resources.cpus : 1;
    return run.parallelism > 0 ? std::min(c, run.parallelism) : c;
  };
  for (const auto& i : instances) {
    auto& p = of_task[i.task_id];
    ++p.total;
    if (state::is_terminal(i.state)) {
      ++p.done;
    } else if (!p.open || i.parent.empty()) {
      p.open = &i;
    }
    const dag::Task* t = find_task(i.task_id);
    // The own instance of a foreach or hpo task runs nothing: its children do.
    const bool fans_out = t && i.parent.empty() && (t->foreach || t->hpo);
    if (state::is_in_flight(i.state) && !fans_out) {
      ++in_flight;
      ++in_flight_on_site[i.site];
      cores_held += cores_of(t);
      if (t && t->resources.declared) gpus_held[i.site] += t->resources.gpus;
      if (!i.parent.empty()) ++trials_in_flight[i.task_id];
    }
  }

  std::map<std::string, Waiting> out;
  for (const auto& i : instances) {
    if (i.state == TaskState::kPending) {
      std::string why =
          i.message.empty() ? "" : " (" + i.message.substr(0, i.message.find('\n')) + ")";
      out[i.id] = {"queue", "in the batch queue of " + i.site +
                                (i.job_id.empty() ? "" : " as job " + i.job_id) + why};
      continue;
    }
    if (i.state != TaskState::kQueued && i.state != TaskState::kUpForRetry) continue;
    if (run.state != state::RunState::kRunning) {
      out[i.id] = {"not_executing", "the run is " + std::string(state::to_string(run.state)) +
                                        ": nothing executes it (flow resume " + run.id + ")"};
      continue;
    }
    if (i.state == TaskState::kUpForRetry) {
      if (i.next_try_at > now) {
        out[i.id] = {"retry_delay", "retry " + std::to_string(i.try_number + 1) + " at " +
                                        iso_utc(i.next_try_at) + " (in " +
                                        seconds_text(i.next_try_at - now) + ")"};
        continue;
      }
    }
    const dag::Task* task = find_task(i.task_id);
    // Upstream tasks: a task's instances wait for every instance of each upstream task.
    if (task && i.parent.empty()) {
      bool blocked = false;
      for (const auto& up : task->after) {
        auto p = of_task.find(up);
        if (p != of_task.end() && p->second.total > 0 && p->second.done == p->second.total)
          continue;
        std::string detail = "not started";
        if (p != of_task.end() && p->second.total > 1) {
          detail = std::to_string(p->second.done) + " of " + std::to_string(p->second.total) +
                   " instances done";
        } else if (p != of_task.end() && p->second.open) {
          detail = std::string(state::to_string(p->second.open->state));
        }
        out[i.id] = {"upstream", "upstream " + up + " not done (" + detail + ")"};
        blocked = true;
        break;
      }
      if (blocked) continue;
    }
    if (task && task->hpo && !i.parent.empty() &&
        trials_in_flight[i.task_id] >= std::max(task->hpo->parallel, 1)) {
      out[i.id] = {"sweep", "the sweep " + i.task_id + " runs its parallel: " +
                                std::to_string(task->hpo->parallel) + " trials"};
      continue;
    }
    const int need = cores_of(task);
    if (run.parallelism > 0 && cores_held + need > run.parallelism) {
      std::string text = "-j " + std::to_string(run.parallelism) + ": " +
                         std::to_string(in_flight) + " tasks in flight";
      if (cores_held != in_flight) text += " holding " + std::to_string(cores_held) + " cores";
      if (need > 1) text += "; this one needs " + std::to_string(need);
      out[i.id] = {"parallelism", text};
      continue;
    }
    const std::string site = task ? dag.site_of(*task) : i.site;
    if (task && task->resources.declared && task->resources.gpus > 0 && gpus) {
      const int have = gpus(site);
      if (have >= 0 && gpus_held[site] + task->resources.gpus > have) {
        const int held = gpus_held[site];
        out[i.id] = {"gpus", "site " + site + " has " + std::to_string(have) +
                                 (have == 1 ? " GPU, " : " GPUs, ") +
                                 (held >= have ? "all" : std::to_string(held)) +
                                 " held by tasks in flight; this one needs " +
                                 std::to_string(task->resources.gpus)};
        continue;
      }
    }
    if (const int cap = max_jobs ? max_jobs(site) : 0; cap > 0 && in_flight_on_site[site] >= cap) {
      out[i.id] = {"max_jobs",
                   "site " + site + " has its max_jobs (" + std::to_string(cap) + ") in flight"};
      continue;
    }
    out[i.id] = {"ready", "ready: starts at the engine's next step"};
  }
  return out;
}

}  // namespace flow::run
