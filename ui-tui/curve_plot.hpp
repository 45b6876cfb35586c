#pragma once
// One trial's learning curve drawn large, for the leaderboard's plot pane (`p`): the same
// curve and scale as its CURVE cell (sparkline.hpp), over several rows so that small steps
// show. A value is a mark in the row of its height, the glyph giving its place within the
// row (▁..█, or _.-^ without UTF-8); NaN is × (x) on the bottom row; an epoch not trained is
// blank. The y axis on the left is labelled with the scale's top and bottom values; below
// the plot, the x axis marks the ASHA/Hyperband rungs with ┴ (+) and is labelled with the
// first epoch, the rungs and the last epoch, where they fit. Each epoch takes the same
// number of cells (at most 8); with fewer cells than epochs, neighbouring epochs share one.
//
// For example (loss 9 falling to 1 over 9 epochs, rungs 1 3 9, 11 x 5 cells):
//   9┤█▅▂
//    │   ▇▅▂
//   1┤      ▇▄▁
//    └┴─┴──────
//     1 3     9

#include <string>
#include <vector>

#include "engine/run/learning_curve.hpp"
#include "ui-tui/sparkline.hpp"

namespace flow::tui {

// `height` lines of at most `width` cells; empty when that is too small for a plot (fewer
// than 4 rows or no cell for the curve).
std::vector<std::string> plot_curve(const std::vector<run::CurvePoint>& curve,
                                    const CurveScale& scale, const std::vector<int>& rungs,
                                    int width, int height, bool utf8);

}  // namespace flow::tui
