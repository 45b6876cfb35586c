#pragma once
// A screen of the TUI (runs list, task grid, leaderboard, log) and what it may ask of the
// application. The App keeps a stack of views: Enter opens one on top, Esc/Backspace/h
// goes back. Only the top view is read and drawn.
//
// A view owns its view-model: reload() reads the store into it (the App calls it when the
// view opens, when the database changed, at most once a second, and on Ctrl-L); tick()
// is for cheap polling between reloads (the log view follows its file); draw() only draws
// the model; on_key() handles the view's own keys and leaves global ones (q, ?, /, Esc,
// Backspace, h) to the App by returning false.

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/core/clock.hpp"
#include "ui-tui/action_runner.hpp"
#include "ui-tui/canvas.hpp"
#include "ui-tui/keys.hpp"
#include "ui-tui/list_cursor.hpp"
#include "ui-tui/store_reader.hpp"
#include "ui-tui/table_layout.hpp"

namespace flow::tui {

class View;

// What views may ask of the App.
class Session {
 public:
  virtual ~Session() = default;
  // Opens `view` on top of the current one (and reads the store for it).
  virtual void open(std::unique_ptr<View> view) = 0;
  // Shows `question` with "[y/N]" in the status line; `on_yes` runs if the user presses y.
  virtual void ask(std::string question, std::function<void(Session&)> on_yes) = 0;
  // A message for the status line (stays until the next key press).
  virtual void notify(std::string message, Tone tone = Tone::kNormal) = 0;
  // Starts an action as a child process; its outcome appears in the status line.
  virtual void act(const ActionRequest& request) = 0;
};

class View {
 public:
  virtual ~View() = default;

  // Where the user is, for the title bar: "runs", "run X", "hpo tune", "log tune try 2".
  virtual std::string title() const = 0;
  // The key hints shown in the status line when there is no message.
  virtual std::string hints() const = 0;

  virtual void reload(StoreReader& store) = 0;
  virtual void tick() {}
  // Draws the whole canvas; `now` for durations of what is still running.
  virtual void draw(Canvas& canvas, EpochMs now) = 0;
  virtual bool on_key(const Key& key, Session& session) = 0;

  // The `/` filter; a view that has no list ignores it.
  virtual bool filterable() const { return true; }
  const std::string& filter() const { return filter_; }
  virtual void set_filter(std::string filter) { filter_ = std::move(filter); }

  // True once after the view asked to be read again (e.g. it switched to another try).
  bool take_reload_request() { return std::exchange(reload_requested_, false); }

 protected:
  void request_reload() { reload_requested_ = true; }

  std::string filter_;

 private:
  bool reload_requested_ = false;
};

// Up/down/j/k, PgUp/PgDn, Home/End/g/G on a list; true when the key was one of them.
bool move_in_list(ListCursor& cursor, const Key& key);

// Asks to retry task `task` of run `run` (with `downstream`: and every task below it) and
// does it when confirmed.
void confirm_retry(Session& session, const std::string& run, const std::string& task,
                   bool downstream);
// Asks to cancel run `run` and does it when confirmed.
void confirm_cancel(Session& session, const std::string& run);

// Writes styled pieces one after another along a row (a title line, a summary).
class RowWriter {
 public:
  RowWriter(Canvas& canvas, int row, int col = 0) : canvas_(canvas), row_(row), col_(col) {}
  RowWriter& add(std::string_view text, Style style = {});
  int col() const { return col_; }

 private:
  Canvas& canvas_;
  int row_;
  int col_;
};

// One cell of a table row, and a row.
struct TableCell {
  std::string text;
  Tone tone = Tone::kNormal;
  bool plain = false;  // not reversed on the selected row (a plot, whose glyphs would invert)
};
using TableRow = std::vector<TableCell>;

// Draws a table in rows [top, top+height) of `canvas`: a header with the columns' titles,
// then rows scrolled so that the cursor's selection is visible (shown as a bar). Only the
// rows on screen are built, by `row_at(index)`; columns are laid out by layout_columns()
// from the views' `want` widths, so they do not jump while scrolling.
void draw_table(Canvas& canvas, int top, int height, const std::vector<ColumnSpec>& columns,
                ListCursor& cursor, const std::function<TableRow(size_t)>& row_at);

}  // namespace flow::tui
