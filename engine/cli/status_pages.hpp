#pragma once
// `flow status` of a run of any size (docs/REFERENCE.md §2.5): the run's instances in
// reading order, filtered by task and state and paged, read from the store a page at a
// time, so what the command holds follows the page and not the run (a foreach of a million
// items prints its first screenful after reading that screenful, plus one count per task
// and state). Each row comes with why it waits (run::WaitingRules, fed with the counts and
// the instances in flight) and its latest try's use.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/run/waiting.hpp"
#include "engine/state/store.hpp"

namespace flow::cli {

// What `flow status` shows: every instance by default.
struct StatusFilter {
  std::vector<std::string> tasks;  // task ids (a task's own instance and its items); empty: all
  std::vector<state::TaskState> states;  // empty: any
  int64_t offset = 0;                    // rows skipped, after filtering
  int64_t limit = 0;                     // at most this many rows; 0: no limit
  bool pages() const { return !tasks.empty() || !states.empty() || offset > 0 || limit > 0; }
};

// One task's line of `flow status --summary`.
struct TaskSummary {
  std::string task;
  int64_t instances = 0;
  std::map<std::string, int64_t> counts;  // state -> instances
};

struct StatusRow {
  state::InstanceRecord instance;
  std::optional<run::Waiting> waiting;
  std::optional<state::ResourceUse> usage;  // the latest try's, when it is known
};

class StatusPages {
 public:
  // Reads the run's counts per task and state and what is in flight; the DAG from the text
  // the run recorded (for the reading order and the waiting rules; without them when that
  // text cannot be read by this version: the store's order, no waiting reasons).
  StatusPages(state::Store& store, const state::RunRecord& run, run::MaxJobsOf max_jobs,
              run::GpusOf gpus);
  // The same for a run whose engine has just driven it to its end (`flow run` printing its
  // result), with the tasks' reading order it already knows: the DAG is not read again, and
  // the rows come bare, without waiting reasons or usage.
  StatusPages(state::Store& store, const state::RunRecord& run,
              const std::vector<std::string>& task_order);
  StatusPages(const StatusPages&) = delete;
  StatusPages& operator=(const StatusPages&) = delete;

  // Per task in reading order.
  const std::vector<TaskSummary>& summary() const { return summary_; }
  int64_t total() const { return total_; }
  // How many instances `f` selects before its offset and limit.
  int64_t matching(const StatusFilter& f) const;
  // The task ids of `f` that the run does not have.
  std::vector<std::string> unknown_tasks(const StatusFilter& f) const;

  // Calls `page` with the rows `f` selects, in reading order, at most `page_size` at a time.
  void for_each_page(const StatusFilter& f,
                     const std::function<void(std::vector<StatusRow>&)>& page,
                     int64_t page_size = 1000);

 private:
  // The counts per task and state, then the tasks sorted by `order`.
  void read_counts(const std::vector<std::string>& order);
  int64_t selected_of(const TaskSummary& t, const StatusFilter& f) const;

  state::Store& store_;
  const state::RunRecord& run_;
  dag::Dag dag_;
  std::optional<run::WaitingRules> rules_;
  bool usage_ = true;  // rows come with their latest try's use
  std::vector<TaskSummary> summary_;
  int64_t total_ = 0;
};

}  // namespace flow::cli
