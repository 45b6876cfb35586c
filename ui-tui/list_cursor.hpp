#pragma once
// The selected row of a list and the first row on screen. Every list view has one; it
// keeps the selection inside the list when the list shrinks, and scrolls just enough to
// keep the selection visible (like a pager: no jumps when moving one row).

#include <cstddef>

namespace flow::tui {

class ListCursor {
 public:
  // The list now has `count` rows; the selection and scroll position are clamped.
  void set_count(size_t count);
  size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }

  size_t selected() const { return selected_; }
  void select(size_t index);  // clamped
  void move(long delta);      // up (negative) or down, clamped
  void page(int direction);   // a page (the last height given to scroll()) up or down
  void first() { select(0); }
  void last() { select(count_ == 0 ? 0 : count_ - 1); }

  // First row to show in a window of `height` rows, so that the selection is visible;
  // remembers the height for page().
  size_t scroll(int height);

 private:
  size_t count_ = 0;
  size_t selected_ = 0;
  size_t top_ = 0;
  int height_ = 10;
};

}  // namespace flow::tui
