#include "ui-tui/sparkline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace flow::tui {

namespace {

const std::vector<std::string> kBlocks = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
const std::vector<std::string> kAscii = {"_", ".", "-", "^"};

std::string glyph(double value, const CurveScale& scale, bool utf8) {
  if (std::isnan(value)) return utf8 ? "×" : "x";
  const auto& g = curve_glyphs(utf8);
  const int top = static_cast<int>(g.size()) - 1;
  if (!(scale.hi > scale.lo)) return g[static_cast<size_t>((top + 1) / 2)];
  const double at = (value - scale.lo) / (scale.hi - scale.lo) * top;
  return g[static_cast<size_t>(std::clamp(static_cast<int>(std::lround(at)), 0, top))];
}

bool is_rung(const std::vector<int>& rungs, int epoch) {
  return std::find(rungs.begin(), rungs.end(), epoch) != rungs.end();
}

}  // namespace

const std::vector<std::string>& curve_glyphs(bool utf8) {
  return utf8 ? kBlocks : kAscii;
}

CurveScale curve_scale(const std::vector<const std::vector<run::CurvePoint>*>& curves,
                       int max_epochs) {
  CurveScale s;
  s.last_epoch = std::max(max_epochs, 1);
  for (const auto* curve : curves) {
    for (const auto& p : *curve) {
      s.first_epoch = std::min(s.first_epoch, p.epoch);
      s.last_epoch = std::max(s.last_epoch, p.epoch);
      if (!std::isfinite(p.value)) continue;
      s.lo = s.has_values ? std::min(s.lo, p.value) : p.value;
      s.hi = s.has_values ? std::max(s.hi, p.value) : p.value;
      s.has_values = true;
    }
  }
  return s;
}

int sparkline_width(const CurveScale& scale, const std::vector<int>& rungs) {
  int width = scale.last_epoch - scale.first_epoch + 1;
  for (int r : rungs)
    width += r >= scale.first_epoch && r < scale.last_epoch;
  return width;
}

std::string sparkline(const std::vector<run::CurvePoint>& curve, const CurveScale& scale,
                      const std::vector<int>& rungs, int width, bool utf8) {
  if (width <= 0) return "";
  const int epochs = scale.last_epoch - scale.first_epoch + 1;
  const bool with_rungs = width >= sparkline_width(scale, rungs);
  const int cells = std::min(width, epochs);
  // cell -> the latest point of its epochs (points are in epoch order)
  std::vector<const run::CurvePoint*> shown(static_cast<size_t>(cells), nullptr);
  for (const auto& p : curve) {
    if (p.epoch < scale.first_epoch || p.epoch > scale.last_epoch) continue;
    const auto cell =
        static_cast<size_t>(static_cast<long long>(p.epoch - scale.first_epoch) * cells / epochs);
    // A NaN does not hide a value the cell already has.
    if (!shown[cell] || !std::isnan(p.value) || std::isnan(shown[cell]->value)) shown[cell] = &p;
  }
  std::string out;
  int used = 0;
  for (int c = 0; c < cells; ++c) {
    const auto* p = shown[static_cast<size_t>(c)];
    out += p ? glyph(p->value, scale, utf8) : " ";
    ++used;
    // One cell per epoch when cells == epochs: cell c is epoch first + c.
    if (with_rungs && cells == epochs && c + 1 < cells && is_rung(rungs, scale.first_epoch + c)) {
      out += utf8 ? "┆" : "|";
      ++used;
    }
  }
  out.append(static_cast<size_t>(std::max(width - used, 0)), ' ');
  return out;
}

std::string curve_legend(const CurveScale& scale, const std::string& metric,
                         const std::string& mode, bool rungs, bool utf8) {
  const auto& g = curve_glyphs(utf8);
  auto num = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return std::string(buf);
  };
  std::string s = "curve: " + metric + " by epoch " + std::to_string(scale.first_epoch) + "-" +
                  std::to_string(scale.last_epoch);
  if (scale.has_values) {
    s += ", " + g.front() + " " + num(scale.lo) + " to " + g.back() + " " + num(scale.hi) +
         " in all rows";
  } else {
    s += ", no value yet";
  }
  s += ", " + mode + " is best";
  if (rungs) s += std::string("; ") + (utf8 ? "┆" : "|") + " rung";
  return s;
}

}  // namespace flow::tui
