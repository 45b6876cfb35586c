#include "ui-tui/view.hpp"

#include "ui-tui/cells.hpp"
#include "ui-tui/table_layout.hpp"

namespace flow::tui {

bool move_in_list(ListCursor& cursor, const Key& key) {
  switch (key.code) {
    case Key::kUp:
      cursor.move(-1);
      return true;
    case Key::kDown:
      cursor.move(1);
      return true;
    case Key::kPageUp:
      cursor.page(-1);
      return true;
    case Key::kPageDown:
      cursor.page(1);
      return true;
    case Key::kHome:
      cursor.first();
      return true;
    case Key::kEnd:
      cursor.last();
      return true;
    case Key::kChar:
      if (key.is('k')) {
        cursor.move(-1);
      } else if (key.is('j')) {
        cursor.move(1);
      } else if (key.is('g')) {
        cursor.first();
      } else if (key.is('G')) {
        cursor.last();
      } else {
        return false;
      }
      return true;
    default:
      return false;
  }
}

void confirm_retry(Session& session, const std::string& run, const std::string& task,
                   bool downstream) {
  ActionRequest req{
      downstream ? ActionRequest::Kind::kRetryDownstream : ActionRequest::Kind::kRetry, run, task};
  session.ask("Retry task '" + task + "'" + (downstream ? " and everything downstream" : "") +
                  " in run " + run + "?",
              [req](Session& s) { s.act(req); });
}

void confirm_cancel(Session& session, const std::string& run) {
  ActionRequest req{ActionRequest::Kind::kCancel, run, ""};
  session.ask("Cancel run " + run + " (stop its tasks and Slurm jobs)?",
              [req](Session& s) { s.act(req); });
}

RowWriter& RowWriter::add(std::string_view text, Style style) {
  if (col_ < canvas_.cols()) {
    canvas_.put(row_, col_, text, style);
    col_ += cell_width(text, canvas_.utf8());
  }
  return *this;
}

void draw_table(Canvas& canvas, int top, int height, const std::vector<ColumnSpec>& columns,
                ListCursor& cursor, const std::function<TableRow(size_t)>& row_at) {
  if (height <= 0) return;
  const auto widths = layout_columns(columns, canvas.cols());
  std::vector<int> x(widths.size(), -1);
  for (int i = 0, at = 0; i < static_cast<int>(widths.size()); ++i) {
    if (widths[static_cast<size_t>(i)] <= 0) continue;
    x[static_cast<size_t>(i)] = at;
    at += widths[static_cast<size_t>(i)] + 1;
  }
  const bool utf8 = canvas.utf8();
  const Style head{Tone::kAccent, true, false};
  for (size_t i = 0; i < columns.size(); ++i) {
    if (widths[i] > 0)
      canvas.put(top, x[i], fit(columns[i].title, widths[i], utf8, true, columns[i].right), head);
  }
  const int body = height - 1;
  const size_t first = cursor.scroll(body);
  for (int r = 0; r < body && first + static_cast<size_t>(r) < cursor.count(); ++r) {
    const size_t index = first + static_cast<size_t>(r);
    const bool selected = index == cursor.selected();
    const int y = top + 1 + r;
    if (selected) canvas.fill(y, Style{Tone::kNormal, false, true});
    const TableRow row = row_at(index);
    for (size_t i = 0; i < columns.size() && i < row.size(); ++i) {
      if (widths[i] <= 0) continue;
      canvas.put(y, x[i],
                 fit(row[i].text, widths[i], utf8, selected || columns[i].right, columns[i].right),
                 Style{row[i].tone, false, selected && !row[i].plain});
    }
  }
}

}  // namespace flow::tui
