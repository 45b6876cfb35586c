#pragma once
// A run's task instances as the task grid shows them (the data of `flow status`): one
// group per task of the DAG, in the DAG's topological order (upstream tasks first, ties in
// file order), headed by the task's own instance, with its foreach instances (`tiles[3]`)
// or HPO trials (`tune[trial-7]`) as children in index order; a progress summary over
// every instance. Plain values, read from the Store in one go.
//
// A run of any size: the progress and each group's counts come from one count per task
// and state (Store::task_state_counts), and a group holds at most kChildrenRead children
// (the first by index, plus those in flight), so the grid of a foreach of a million items
// holds a few thousand rows. `child_total` says how many the group has; the others are a
// page of `flow status RUN --task T` away.
//
// Which rows are visible is decided here too (lines()), so the expand/collapse and filter
// behaviour is testable without a terminal: a collapsed group shows only its head; a
// filter shows the rows that match it plus the heads of groups with a matching child.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/dag/dag.hpp"
#include "engine/run/waiting.hpp"
#include "engine/state/store.hpp"
#include "engine/state/trial_segment.hpp"

namespace flow::tui {

// What a task's children are.
enum class GroupKind { kPlain, kForeach, kHpo };

// What the grid takes from the run's DAG: which tasks have children (hpo and foreach
// ones) and the order the groups are listed in. Empty when the DAG cannot be read: groups
// are then recognised by their children and listed in the store's order.
struct GridShape {
  std::map<std::string, GroupKind> kinds;
  std::map<std::string, size_t> order;  // task id -> position in topological order
  std::optional<dag::Dag> dag;          // for the waiting reasons (engine/run/waiting.hpp)
  run::MaxJobsOf max_jobs;              // the sites' max_jobs, if known
  run::GpusOf gpus;                     // the GPUs of sites without a scheduler, if known
};
GridShape grid_shape(const dag::Dag& dag, run::MaxJobsOf max_jobs = {}, run::GpusOf gpus = {});

struct TaskRow {
  std::string id;       // instance id: "train", "tiles[3]", "tune[trial-7]"
  std::string task_id;  // "tiles"
  state::TaskState state = state::TaskState::kQueued;
  int try_number = 0;
  state::SegmentTry segment;  // HPO trials: the segment and its try (trial_segment.hpp)
  std::string site;
  std::string job_id;
  EpochMs started = 0;
  EpochMs ended = 0;
  std::string message;
  std::string trial_status;  // HPO trials: running | paused | completed | stopped | failed
  std::string waiting;       // why it waits, if it does ("upstream train not done (running)")
};

struct TaskGroup {
  GroupKind kind = GroupKind::kPlain;
  TaskRow head;                             // the task's own instance
  std::vector<TaskRow> children;            // those read (all, up to TaskGrid::kChildrenRead)
  size_t child_total = 0;                   // all of them
  std::map<std::string, int> child_counts;  // state name -> children (all of them)
};

struct Progress {
  int total = 0;
  int done = 0;                       // in a terminal state
  std::map<std::string, int> counts;  // state name -> instances
};

// One visible row: group index, and child index or -1 for the group's head.
struct GridLine {
  size_t group = 0;
  int child = -1;
};

class TaskGrid {
 public:
  // The children a group reads: the first this many by index, and those in flight.
  static constexpr int64_t kChildrenRead = 2000;

  // Reads run `run_id`; nullopt if there is no such run. `shape.kinds` names groups that
  // have no children yet; otherwise a group is hpo when its children are trials and
  // foreach when they are not. Tasks missing from `shape.order` come last, in store order.
  static std::optional<TaskGrid> load(state::Store& store, const std::string& run_id,
                                      const GridShape& shape);

  const state::RunRecord& run() const { return run_; }
  const std::vector<TaskGroup>& groups() const { return groups_; }
  const Progress& progress() const { return progress_; }

  const TaskRow& row(const GridLine& line) const;
  // Visible rows: every group's head, the children of groups in `expanded`, and with a
  // non-empty `filter` only rows matching it (id, task, state, site, job, message), each
  // matching child shown with its group's head even when the group is collapsed.
  std::vector<GridLine> lines(const std::set<std::string>& expanded, std::string_view filter) const;

 private:
  state::RunRecord run_;
  std::vector<TaskGroup> groups_;
  Progress progress_;
};

}  // namespace flow::tui
