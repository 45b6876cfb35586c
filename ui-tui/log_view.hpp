#pragma once
// The log of one try of a task instance, followed while it grows (like `tail -f`): when
// the view is scrolled to the end it stays there as lines arrive. By default it shows the
// latest try and moves on to a new try when the task is retried; [ and ] pick an older or
// newer try, which then stays put. Lines are wrapped (w toggles cutting them instead); /
// shows only lines containing a text.
//
// For a Slurm job whose local copy does not exist the view says where the log is and how
// to read it (`flow logs`), instead of connecting to the site.

#include <string>
#include <vector>

#include "ui-tui/log_tail.hpp"
#include "ui-tui/view.hpp"

namespace flow::tui {

class LogView : public View {
 public:
  // Try `try_number` of `instance_id`; 0 follows the latest try.
  LogView(std::string run_id, std::string instance_id, int try_number = 0);

  std::string title() const override;
  std::string hints() const override;
  void reload(StoreReader& store) override;
  void tick() override;
  void draw(Canvas& canvas, EpochMs now) override;
  bool on_key(const Key& key, Session& session) override;
  void set_filter(std::string filter) override;

  const LogSource& source() const { return source_; }
  const LogTail& tail() const { return tail_; }
  bool following() const { return follow_; }

 private:
  // Indices of the lines that pass the filter.
  void refilter();

  std::string run_id_;
  std::string instance_id_;
  int wanted_try_;  // 0 = latest
  LogSource source_;
  std::string error_;
  LogTail tail_;
  std::vector<size_t> shown_;  // indices into tail_.lines()
  size_t top_ = 0;             // first shown line on screen (when not following)
  bool follow_ = true;         // stick to the end
  bool wrap_ = true;
  int page_ = 10;  // body height at the last draw, for PgUp/PgDn
};

}  // namespace flow::tui
