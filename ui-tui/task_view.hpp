#pragma once
// A run's task grid: a header with the run's state and a progress summary, then every
// task instance with state, try, site, Slurm job id, duration and message. Foreach
// instances and HPO trials sit under their task, which shows how many there are; a group
// with up to 12 children starts expanded, a bigger one collapsed.
//
// Keys: Enter toggles a group or opens the log of an instance; Space/Right/Left (also +/-)
// expand and collapse; l opens the log; H the leaderboard of an hpo task; r / R retry the
// selected task / and its downstream; c cancels the run.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ui-tui/task_grid.hpp"
#include "ui-tui/view.hpp"

namespace flow::tui {

class TaskView : public View {
 public:
  explicit TaskView(std::string run_id);

  std::string title() const override;
  std::string hints() const override;
  void reload(StoreReader& store) override;
  void draw(Canvas& canvas, EpochMs now) override;
  bool on_key(const Key& key, Session& session) override;
  void set_filter(std::string filter) override;

  // The instance under the cursor; null when there is none.
  const TaskRow* selected() const;
  // Groups with more children than this start collapsed.
  static constexpr size_t kExpandedUpTo = 12;

 private:
  void rebuild();
  const TaskGroup* selected_group() const;
  void toggle(bool open);

  std::string run_id_;
  std::optional<TaskGrid> grid_;
  bool dag_read_ = false;
  GridShape shape_;
  std::set<std::string> expanded_;  // task ids of open groups
  std::set<std::string> seen_;      // groups whose default expansion was decided
  std::vector<GridLine> lines_;
  ListCursor cursor_;
  std::string selected_id_;
};

}  // namespace flow::tui
