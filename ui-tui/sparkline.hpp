#pragma once
// Learning curves drawn in one line of text: the leaderboard's CURVE column. Every trial of
// a sweep is drawn on the same scale (CurveScale), so a glance down the column compares
// them: x is the epoch (from the first epoch to the sweep's max_epochs), y the metric, the
// taller the glyph the higher the value whatever the sweep's mode (a falling loss steps
// down). Glyphs are ▁▂▃▄▅▆▇█ on a UTF-8 terminal and _.-^ otherwise (cells.hpp would turn
// the blocks into '?'); an epoch the trial has not reached is blank, a NaN value is × (x).
//
// With room for one cell per epoch and one per rung boundary (sparkline_width()), each
// epoch has its own cell and ┆ (|) stands after each ASHA/Hyperband rung inside the range,
// so a trial stopped at a rung ends there. Narrower, neighbouring epochs share a cell that
// shows the latest of their values, and the rungs are left out.
//
// Example, loss 1.7 .. 0.2 over 9 epochs with rungs 1 3 9: "█┆▆▅┆▄▃▂▂▁▁", and a trial
// stopped at the first rung: "▇┆  ┆      ".

#include <string>
#include <vector>

#include "engine/run/learning_curve.hpp"

namespace flow::tui {

struct CurveScale {
  int first_epoch = 1;
  int last_epoch = 1;
  double lo = 0, hi = 0;    // the finite values' range
  bool has_values = false;  // some curve has a finite value
};

// The glyphs from the lowest value to the highest: ▁..█, or _.-^ without UTF-8.
const std::vector<std::string>& curve_glyphs(bool utf8);

// The scale of `curves`: epochs from min(1, the earliest) to max(max_epochs, the latest),
// values over every finite point.
CurveScale curve_scale(const std::vector<const std::vector<run::CurvePoint>*>& curves,
                       int max_epochs);

// Cells for one per epoch of `scale` and one per rung boundary inside it.
int sparkline_width(const CurveScale& scale, const std::vector<int>& rungs);

// `curve` drawn on `scale` in exactly `width` cells (padded with blanks).
std::string sparkline(const std::vector<run::CurvePoint>& curve, const CurveScale& scale,
                      const std::vector<int>& rungs, int width, bool utf8);

// What the column shows, in words, for the line under the table (values to 4 digits):
// "curve: loss by epoch 1-9, ▁ 0.2 to █ 1.7 in all rows, min is best; ┆ rung"
std::string curve_legend(const CurveScale& scale, const std::string& metric,
                         const std::string& mode, bool rungs, bool utf8);

}  // namespace flow::tui
