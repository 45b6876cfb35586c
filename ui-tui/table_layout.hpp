#pragma once
// Column widths for a table that must fit the terminal. Each column says how wide its
// content wants to be, how narrow it may get, and how much it matters; the layout gives
// every kept column at least its minimum, drops the least important columns when even the
// minimums do not fit, then grows columns towards their wanted width in order of
// importance. The one `flex` column (a message, the parameters) takes what is left. An
// `optional` column gives its place up to more important columns that are cut.
//
// Example: on an 80-column terminal the task grid keeps TASK, STATE, TRY, DURATION and a
// short MESSAGE and drops SITE and JOB before squeezing the message below 12 cells.

#include <string>
#include <vector>

namespace flow::tui {

struct ColumnSpec {
  std::string title;
  int want = 0;        // widest content (the title counts too)
  int min = 1;         // never narrower than this while kept
  int priority = 0;    // lower = more important; the highest is dropped first
  bool right = false;  // right-aligned (numbers, durations)
  bool flex = false;   // takes the remaining width (at most one column)
  // Shown only when every more important column gets its wanted width (e.g. the runs
  // list's DAG, which a default run id repeats anyway).
  bool optional = false;
};

// Width of each column in a table `width` cells wide, with one space between kept
// columns; 0 means the column is dropped.
std::vector<int> layout_columns(const std::vector<ColumnSpec>& columns, int width);

}  // namespace flow::tui
