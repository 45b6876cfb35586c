#pragma once
// The leaderboard of an hpo task: the sweep's algorithm, metric and best trial on top,
// then every trial best first with state, metric, its learning curve (sparkline.hpp: all
// trials on one scale, ASHA/Hyperband rungs marked), epochs trained, rung (ASHA/Hyperband),
// generation and parent (PBT) and parameters, the same order and values as `flow hpo RUN
// TASK`; a line under the table says how to read the curves. p shows or hides a pane with
// the selected trial's curve drawn large (curve_plot.hpp). Enter or l opens the selected
// trial's log; r / R retry the task; c cancels the run.

#include <optional>
#include <string>
#include <vector>

#include "engine/dag/dag.hpp"
#include "ui-tui/leaderboard.hpp"
#include "ui-tui/view.hpp"

namespace flow::tui {

class LeaderboardView : public View {
 public:
  LeaderboardView(std::string run_id, std::string task);

  std::string title() const override;
  std::string hints() const override;
  void reload(StoreReader& store) override;
  void draw(Canvas& canvas, EpochMs now) override;
  bool on_key(const Key& key, Session& session) override;
  void set_filter(std::string filter) override;

  const TrialRow* selected() const;
  bool plot_shown() const { return plot_; }

 private:
  void apply_filter();

  std::string run_id_;
  std::string task_;
  std::optional<dag::Dag> dag_;
  std::optional<Leaderboard> board_;
  std::string error_;  // why there is no leaderboard
  std::vector<size_t> visible_;
  ListCursor cursor_;
  std::string selected_id_;
  bool plot_ = false;  // the plot pane (p)
};

}  // namespace flow::tui
