#pragma once
// Canvas on the ncurses standard screen. Tones become colour pairs when the terminal has
// colours (green good, red bad, yellow busy, cyan waiting, magenta cancelled) and plain
// attributes when it has none (bold for bad, dim for dim), so states stay distinguishable
// on a monochrome terminal too.

#include "ui-tui/canvas.hpp"

namespace flow::tui {

class CursesCanvas : public Canvas {
 public:
  // Call after curses is initialised; sets up the colour pairs.
  explicit CursesCanvas(bool utf8);
  int rows() const override;
  int cols() const override;
  bool utf8() const override { return utf8_; }
  void put(int row, int col, std::string_view text, Style style = {}) override;
  void fill(int row, Style style) override;

 private:
  int attributes(Style style) const;

  bool utf8_;
  bool colour_ = false;
};

}  // namespace flow::tui
