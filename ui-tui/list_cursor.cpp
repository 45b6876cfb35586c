#include "ui-tui/list_cursor.hpp"

#include <algorithm>

namespace flow::tui {

void ListCursor::set_count(size_t count) {
  count_ = count;
  select(selected_);
}

void ListCursor::select(size_t index) {
  selected_ = count_ == 0 ? 0 : std::min(index, count_ - 1);
}

void ListCursor::move(long delta) {
  if (delta < 0) {
    const auto up = static_cast<size_t>(-delta);
    select(up > selected_ ? 0 : selected_ - up);
  } else {
    select(selected_ + static_cast<size_t>(delta));
  }
}

void ListCursor::page(int direction) {
  move(static_cast<long>(std::max(height_ - 1, 1)) * direction);
}

size_t ListCursor::scroll(int height) {
  height_ = std::max(height, 1);
  const auto h = static_cast<size_t>(height_);
  if (selected_ < top_) top_ = selected_;
  if (selected_ >= top_ + h) top_ = selected_ + 1 - h;
  // No empty rows below the end while there is something above.
  if (count_ >= h) {
    top_ = std::min(top_, count_ - h);
  } else {
    top_ = 0;
  }
  return top_;
}

}  // namespace flow::tui
