#pragma once
// Text as a terminal shows it. A terminal draws in cells: an ASCII letter takes one, a CJK
// character two, a combining accent none, and a control character would move the cursor
// or change colours. Everything the TUI prints (run ids, task messages, log lines written
// by arbitrary programs) goes through these functions, so no byte from a log can corrupt
// the screen and no line spills past its column.
//
// Sanitising: tabs become spaces up to the next multiple of 8 cells; other control
// characters (C0, DEL, C1) become '?'; invalid UTF-8 bytes become '?'. When the terminal's
// locale is not UTF-8, every non-ASCII character becomes '?' (ncurses would print it as
// an escape like M-C).

#include <string>
#include <string_view>
#include <vector>

namespace flow::tui {

// Whether LC_CTYPE (as set by setlocale) is UTF-8: decides `utf8` for the functions below.
bool locale_is_utf8();

// The sanitised text and its width in cells.
struct Cells {
  std::string text;
  int width = 0;
};

// `text` sanitised, whole.
Cells sanitize(std::string_view text, bool utf8);

// Width of `text` in cells, after sanitising.
int cell_width(std::string_view text, bool utf8);

// At most `width` cells of `text` (sanitised). Text that had to be cut ends in '~' so a
// reader knows there is more. With `pad`, spaces fill it to exactly `width` cells;
// `right` aligns it to the right edge instead (padding on the left).
std::string fit(std::string_view text, int width, bool utf8, bool pad = false, bool right = false);

// `text` (sanitised) cut into pieces of at most `width` cells each, for wrapped lines;
// an empty line yields one empty piece.
std::vector<std::string> wrap(std::string_view text, int width, bool utf8);

}  // namespace flow::tui
