#pragma once
// The first screen: every run, newest first, with its DAG, state (coloured), start,
// duration and instance counts per state. Enter opens a run's task grid; c cancels the
// selected run (after a confirmation).

#include <string>
#include <vector>

#include "ui-tui/runs_model.hpp"
#include "ui-tui/view.hpp"

namespace flow::tui {

class RunsView : public View {
 public:
  // Only runs of `dag` unless empty; at most `limit` (0 = all).
  RunsView(std::string dag, int limit);

  std::string title() const override;
  std::string hints() const override;
  void reload(StoreReader& store) override;
  void draw(Canvas& canvas, EpochMs now) override;
  bool on_key(const Key& key, Session& session) override;
  void set_filter(std::string filter) override;

  // The run under the cursor; null when the list is empty.
  const RunRow* selected() const;

 private:
  void apply_filter();

  std::string dag_;
  int limit_;
  std::vector<RunRow> runs_;
  EndedRunCounts ended_;         // counted once, not at every refresh
  std::vector<size_t> visible_;  // indices into runs_ that pass the filter
  ListCursor cursor_;
  std::string selected_id_;  // kept selected across reloads
  bool loaded_ = false;
};

}  // namespace flow::tui
