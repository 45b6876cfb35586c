#include "ui-tui/curve_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "ui-tui/cells.hpp"

namespace flow::tui {

namespace {

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

// A row of cells, each holding one glyph (any number of bytes).
using Row = std::vector<std::string>;

std::string join(const Row& row) {
  std::string s;
  for (const auto& c : row)
    s += c;
  return s;
}

}  // namespace

std::vector<std::string> plot_curve(const std::vector<run::CurvePoint>& curve,
                                    const CurveScale& scale, const std::vector<int>& rungs,
                                    int width, int height, bool utf8) {
  const int plot_rows = height - 2;
  const std::string top = scale.has_values ? number(scale.hi) : "";
  const std::string bottom = scale.has_values ? number(scale.lo) : "";
  const int label_w = std::max(cell_width(top, utf8), cell_width(bottom, utf8));
  const int cells = width - label_w - 1;
  const int epochs = scale.last_epoch - scale.first_epoch + 1;
  if (plot_rows < 2 || cells < 1 || epochs < 1) return {};

  // Slots: one per epoch of `per` cells each, or (narrow) one per cell for several epochs.
  const bool per_epoch = cells >= epochs;
  const int per = per_epoch ? std::min(cells / epochs, 8) : 1;
  const int slots = per_epoch ? epochs : cells;
  auto slot_of = [&](int epoch) {
    return per_epoch ? epoch - scale.first_epoch
                     : static_cast<int>(static_cast<long long>(epoch - scale.first_epoch) * cells /
                                        epochs);
  };
  std::vector<const run::CurvePoint*> shown(static_cast<size_t>(slots), nullptr);
  for (const auto& p : curve) {
    if (p.epoch < scale.first_epoch || p.epoch > scale.last_epoch) continue;
    auto& s = shown[static_cast<size_t>(slot_of(p.epoch))];
    if (!s || !std::isnan(p.value) || std::isnan(s->value)) s = &p;
  }

  const auto& glyphs = curve_glyphs(utf8);
  const int levels = static_cast<int>(glyphs.size());
  const int used = slots * per;
  std::vector<Row> grid(static_cast<size_t>(plot_rows), Row(static_cast<size_t>(used), " "));
  for (int s = 0; s < slots; ++s) {
    const auto* p = shown[static_cast<size_t>(s)];
    if (!p) continue;
    int row = plot_rows - 1;
    std::string mark = utf8 ? "×" : "x";
    if (!std::isnan(p->value)) {
      // Height in glyph steps: plot_rows rows of `levels` steps each.
      const int steps = plot_rows * levels - 1;
      const double frac = scale.hi > scale.lo ? (p->value - scale.lo) / (scale.hi - scale.lo) : 0.5;
      const int at = std::clamp(static_cast<int>(std::lround(frac * steps)), 0, steps);
      row = plot_rows - 1 - at / levels;
      mark = glyphs[static_cast<size_t>(at % levels)];
    }
    for (int c = s * per; c < (s + 1) * per; ++c)
      grid[static_cast<size_t>(row)][static_cast<size_t>(c)] = mark;
  }

  std::vector<std::string> out;
  for (int r = 0; r < plot_rows; ++r) {
    const bool labelled = r == 0 || r == plot_rows - 1;
    std::string label = r == 0 ? top : r == plot_rows - 1 ? bottom : "";
    label = std::string(static_cast<size_t>(label_w - cell_width(label, utf8)), ' ') + label;
    const char* axis = utf8 ? (labelled ? "┤" : "│") : "|";
    out.push_back(label + axis + join(grid[static_cast<size_t>(r)]));
  }

  // The x axis: a rung mark under the last cell of each rung's epoch (when each epoch has
  // its cells), then the epoch labels under their cells where they fit: the last epoch's
  // ending at the last cell, the first's and the rungs' starting at theirs.
  Row axis(static_cast<size_t>(used), utf8 ? "─" : "-");
  std::vector<std::pair<int, int>> labels = {{0, scale.first_epoch}};  // cell, epoch
  for (int r : rungs) {
    if (!per_epoch || r < scale.first_epoch || r >= scale.last_epoch) continue;
    const int cell = (r - scale.first_epoch + 1) * per - 1;
    axis[static_cast<size_t>(cell)] = utf8 ? "┴" : "+";
    if (r > scale.first_epoch) labels.push_back({cell, r});
  }
  out.push_back(std::string(static_cast<size_t>(label_w), ' ') + (utf8 ? "└" : "+") + join(axis));
  std::string under(static_cast<size_t>(label_w + 1 + used), ' ');
  const std::string last = std::to_string(scale.last_epoch);
  int limit = static_cast<int>(under.size());  // labels end before this column
  if (scale.last_epoch > scale.first_epoch && static_cast<int>(last.size()) <= used) {
    limit -= static_cast<int>(last.size());
    under.replace(static_cast<size_t>(limit), last.size(), last);
    --limit;  // a blank between labels
  }
  int free_from = 0;
  for (const auto& [cell, epoch] : labels) {
    const std::string text = std::to_string(epoch);
    const int at = label_w + 1 + cell;
    if (at < free_from || at + static_cast<int>(text.size()) > limit) continue;
    under.replace(static_cast<size_t>(at), text.size(), text);
    free_from = at + static_cast<int>(text.size()) + 1;
  }
  out.push_back(under);
  return out;
}

}  // namespace flow::tui
