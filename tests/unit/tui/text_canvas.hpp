#pragma once
// A Canvas that draws into lines of text, so a view's output can be checked without a
// terminal: text() is what a screen of rows x cols would show (styles are recorded per
// cell as the tone of the last put()).

#include <string>
#include <vector>

#include "ui-tui/canvas.hpp"
#include "ui-tui/cells.hpp"

namespace flow::test {

class TextCanvas : public tui::Canvas {
 public:
  TextCanvas(int rows, int cols)
      : rows_(rows),
        cols_(cols),
        lines_(static_cast<size_t>(rows), std::string(static_cast<size_t>(cols), ' ')),
        tones_(static_cast<size_t>(rows), std::vector<tui::Tone>(static_cast<size_t>(cols))) {}
  int rows() const override { return rows_; }
  int cols() const override { return cols_; }
  bool utf8() const override { return false; }  // ASCII: one byte per cell
  void put(int row, int col, std::string_view text, tui::Style style = {}) override {
    if (row < 0 || row >= rows_ || col < 0 || col >= cols_) return;
    const std::string cut = tui::fit(text, cols_ - col, false);
    for (size_t i = 0; i < cut.size(); ++i) {
      lines_[static_cast<size_t>(row)][static_cast<size_t>(col) + i] = cut[i];
      tones_[static_cast<size_t>(row)][static_cast<size_t>(col) + i] = style.tone;
    }
  }
  void fill(int row, tui::Style style) override {
    if (row < 0 || row >= rows_) return;
    lines_[static_cast<size_t>(row)].assign(static_cast<size_t>(cols_), ' ');
    tones_[static_cast<size_t>(row)].assign(static_cast<size_t>(cols_), style.tone);
  }
  const std::string& line(int row) const { return lines_.at(static_cast<size_t>(row)); }
  std::string text() const {
    std::string s;
    for (const auto& l : lines_)
      s += l.substr(0, l.find_last_not_of(' ') + 1) + "\n";
    return s;
  }
  // The tone at the first cell of `needle` in `row`.
  tui::Tone tone_of(int row, const std::string& needle) const {
    auto at = lines_.at(static_cast<size_t>(row)).find(needle);
    return at == std::string::npos ? tui::Tone::kNormal : tones_[static_cast<size_t>(row)][at];
  }

 private:
  int rows_, cols_;
  std::vector<std::string> lines_;
  std::vector<std::vector<tui::Tone>> tones_;
};

}  // namespace flow::test
