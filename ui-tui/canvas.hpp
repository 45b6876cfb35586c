#pragma once
// Where views draw: rows of cells with a style per piece of text. The terminal's
// implementation is CursesCanvas; tests draw into a plain grid of characters, so a view's
// output can be checked at 80x24 without a terminal. Text is cut at the right edge (see
// cells.hpp); drawing outside the canvas is ignored.

#include <string_view>

#include "ui-tui/format.hpp"

namespace flow::tui {

struct Style {
  Tone tone = Tone::kNormal;
  bool bold = false;
  bool reverse = false;  // selection and title bars
};

class Canvas {
 public:
  virtual ~Canvas() = default;
  virtual int rows() const = 0;
  virtual int cols() const = 0;
  // Whether the terminal shows UTF-8 (cells.hpp).
  virtual bool utf8() const = 0;
  // Draws `text` (sanitised and cut to fit) at `row`, `col`.
  virtual void put(int row, int col, std::string_view text, Style style = {}) = 0;
  // Paints all of `row` with spaces in `style` (a selection or title bar).
  virtual void fill(int row, Style style) = 0;
};

// A rectangle of another canvas: rows [top, top+rows), all of its columns from `left`.
class Region : public Canvas {
 public:
  Region(Canvas& parent, int top, int rows, int left = 0)
      : parent_(parent), top_(top), rows_(rows), left_(left) {}
  int rows() const override { return rows_; }
  int cols() const override { return parent_.cols() - left_; }
  bool utf8() const override { return parent_.utf8(); }
  void put(int row, int col, std::string_view text, Style style = {}) override {
    if (row >= 0 && row < rows_) parent_.put(top_ + row, left_ + col, text, style);
  }
  void fill(int row, Style style) override {
    if (row >= 0 && row < rows_) parent_.fill(top_ + row, style);
  }

 private:
  Canvas& parent_;
  int top_, rows_, left_;
};

}  // namespace flow::tui
