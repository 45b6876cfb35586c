#include "ui-tui/curses_canvas.hpp"

#include <string>

#include "ui-tui/cells.hpp"
#include "ui-tui/curses.hpp"

namespace flow::tui {

namespace {
// Colour pair numbers, one per tone that has a colour.
short pair_of(Tone t) {
  switch (t) {
    case Tone::kGood:
      return 1;
    case Tone::kBad:
      return 2;
    case Tone::kBusy:
      return 3;
    case Tone::kWaiting:
      return 4;
    case Tone::kCancelled:
      return 5;
    case Tone::kAccent:
      return 6;
    default:
      return 0;
  }
}
}  // namespace

CursesCanvas::CursesCanvas(bool utf8) : utf8_(utf8) {
  if (has_colors() && start_color() == OK) {
    colour_ = true;
    use_default_colors();  // -1: the terminal's own background, not black
    init_pair(1, COLOR_GREEN, -1);
    init_pair(2, COLOR_RED, -1);
    init_pair(3, COLOR_YELLOW, -1);
    init_pair(4, COLOR_CYAN, -1);
    init_pair(5, COLOR_MAGENTA, -1);
    init_pair(6, COLOR_BLUE, -1);
  }
}

int CursesCanvas::rows() const {
  return getmaxy(stdscr);
}

int CursesCanvas::cols() const {
  return getmaxx(stdscr);
}

int CursesCanvas::attributes(Style style) const {
  int a = A_NORMAL;
  if (style.bold) a |= A_BOLD;
  if (style.reverse) a |= A_REVERSE;
  if (colour_) {
    if (short p = pair_of(style.tone)) a |= static_cast<int>(COLOR_PAIR(p));
    if (style.tone == Tone::kBad) a |= A_BOLD;
    if (style.tone == Tone::kDim) a |= A_DIM;
  } else {
    if (style.tone == Tone::kBad || style.tone == Tone::kAccent) a |= A_BOLD;
    if (style.tone == Tone::kDim || style.tone == Tone::kCancelled) a |= A_DIM;
  }
  return a;
}

void CursesCanvas::put(int row, int col, std::string_view text, Style style) {
  if (row < 0 || row >= rows() || col < 0 || col >= cols()) return;
  const std::string cut = fit(text, cols() - col, utf8_);
  attrset(attributes(style));
  mvaddnstr(row, col, cut.c_str(), static_cast<int>(cut.size()));
  attrset(A_NORMAL);
}

void CursesCanvas::fill(int row, Style style) {
  if (row < 0 || row >= rows()) return;
  attrset(attributes(style));
  mvhline(row, 0, ' ', cols());
  attrset(A_NORMAL);
}

}  // namespace flow::tui
