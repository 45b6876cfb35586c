#include "ui-tui/table_layout.hpp"

#include <algorithm>
#include <numeric>

namespace flow::tui {

namespace {

// The layout with the columns in `kept` only (the others get 0).
std::vector<int> layout_kept(const std::vector<ColumnSpec>& columns, int width,
                             std::vector<bool> kept) {
  const size_t n = columns.size();
  auto need = [&] {
    int sum = 0, count = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!kept[i]) continue;
      sum += std::min(columns[i].min, std::max(columns[i].want, 1));
      ++count;
    }
    return sum + std::max(count - 1, 0);
  };
  // Drop the least important columns (the last one listed among equals) until the
  // minimums fit; the most important column is always kept, cut to the width.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (columns[a].priority != columns[b].priority)
      return columns[a].priority > columns[b].priority;
    return a > b;
  });
  for (size_t k = 0; k + 1 < n && need() > width; ++k)
    kept[order[k]] = false;

  std::vector<int> w(n, 0);
  int left = width;
  int count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!kept[i]) continue;
    w[i] = std::min(columns[i].min, std::max(columns[i].want, 1));
    left -= w[i];
    ++count;
  }
  left -= std::max(count - 1, 0);
  if (left < 0) {
    // Only the most important column is left and even its minimum is too wide.
    for (size_t i = 0; i < n; ++i)
      if (kept[i]) w[i] = std::max(width, 0);
    return w;
  }
  // Grow towards the wanted widths, most important first; the flex column last.
  std::vector<size_t> grow(n);
  std::iota(grow.begin(), grow.end(), size_t{0});
  std::stable_sort(grow.begin(), grow.end(),
                   [&](size_t a, size_t b) { return columns[a].priority < columns[b].priority; });
  size_t flex = n;
  for (size_t i : grow) {
    if (!kept[i]) continue;
    if (columns[i].flex) {
      flex = i;
      continue;
    }
    const int add = std::min(left, std::max(columns[i].want - w[i], 0));
    w[i] += add;
    left -= add;
  }
  if (flex < n) w[flex] += left;
  return w;
}

}  // namespace

std::vector<int> layout_columns(const std::vector<ColumnSpec>& columns, int width) {
  const size_t n = columns.size();
  std::vector<bool> kept(n, true);
  auto w = layout_kept(columns, width, kept);
  // An optional column stays only if every more important column got its wanted width;
  // the least important optional one is given up first.
  std::vector<size_t> optional;
  for (size_t i = 0; i < n; ++i)
    if (columns[i].optional) optional.push_back(i);
  std::stable_sort(optional.begin(), optional.end(),
                   [&](size_t a, size_t b) { return columns[a].priority > columns[b].priority; });
  for (size_t i : optional) {
    if (w[i] == 0) continue;
    bool squeezed = false;
    for (size_t j = 0; j < n; ++j) {
      if (w[j] > 0 && columns[j].priority < columns[i].priority && w[j] < columns[j].want)
        squeezed = true;
    }
    if (!squeezed) continue;
    kept[i] = false;
    w = layout_kept(columns, width, kept);
  }
  return w;
}

}  // namespace flow::tui
