#include "ui-tui/log_view.hpp"

#include <algorithm>

#include "engine/core/error.hpp"
#include "ui-tui/cells.hpp"

namespace flow::tui {

LogView::LogView(std::string run_id, std::string instance_id, int try_number)
    : run_id_(std::move(run_id)), instance_id_(std::move(instance_id)), wanted_try_(try_number) {}

std::string LogView::title() const {
  return "log " + instance_id_ +
         (source_.try_number ? " try " + std::to_string(source_.try_number) : "");
}

std::string LogView::hints() const {
  return "[ ] try  G end/follow  g top  w wrap  / filter  Esc back  ? help";
}

void LogView::reload(StoreReader& store) {
  try {
    source_ = store.read([&](state::Store& s) {
      auto run = s.get_run_without_dag(run_id_);
      if (!run) throw Error(ErrorKind::kInvalidInput, "run " + run_id_ + " is not in the database");
      return find_log(s, *run, instance_id_, wanted_try_);
    });
    error_.clear();
  } catch (const std::exception& e) {
    error_ = e.what();
    source_ = LogSource{};
  }
  tail_.open(source_.unavailable.empty() ? source_.path : std::filesystem::path());
  tail_.poll();
  refilter();
}

void LogView::tick() {
  if (tail_.poll()) refilter();
}

void LogView::set_filter(std::string filter) {
  View::set_filter(std::move(filter));
  refilter();
}

void LogView::refilter() {
  shown_.clear();
  const auto& lines = tail_.lines();
  for (size_t i = 0; i < lines.size(); ++i)
    if (matches(filter_, {lines[i]})) shown_.push_back(i);
  if (top_ >= shown_.size()) top_ = shown_.empty() ? 0 : shown_.size() - 1;
}

void LogView::draw(Canvas& canvas, EpochMs /*now*/) {
  const bool utf8 = canvas.utf8();
  RowWriter head(canvas, 0);
  head.add(instance_id_, Style{Tone::kNormal, true});
  if (source_.try_number) {
    // An HPO trial's try also says which segment it ran and which try of that segment.
    head.add("  try " + std::to_string(source_.try_number) + "/" + std::to_string(source_.tries) +
             (source_.segment.is_trial()
                  ? " (" + state::attempt_label(source_.try_number, source_.segment) + ")"
                  : "") +
             "  ")
        .add(state::to_string(source_.state), Style{tone_of(source_.state), true})
        .add("  " + source_.site + (source_.job_id.empty() ? "" : " job " + source_.job_id));
  }
  if (source_.unavailable.empty() && !error_.size()) {
    head.add(follow_ ? "  following" : "  scrolled", Style{Tone::kDim});
    if (!filter_.empty()) head.add("  filter: " + filter_, Style{Tone::kAccent});
    head.add("  " + source_.path.string(), Style{Tone::kDim});
  }
  const int body = canvas.rows() - 1;
  page_ = std::max(body, 1);
  const int width = canvas.cols();
  auto say = [&](const std::string& text, Tone tone) {
    int y = 1;
    for (auto& piece : wrap(text, std::max(width - 2, 10), utf8))
      canvas.put(y++, 1, piece, Style{tone});
  };
  if (!error_.empty()) return say(error_, Tone::kBad);
  if (!source_.unavailable.empty()) return say(source_.unavailable, Tone::kWaiting);
  if (!tail_.exists()) return say("the log " + source_.path.string() + " is gone", Tone::kWaiting);
  if (shown_.empty()) {
    return say(tail_.lines().empty() ? "(the log is empty so far)"
                                     : "no line matches the filter '" + filter_ + "'",
               Tone::kDim);
  }
  auto pieces = [&](size_t shown_index) {
    const std::string& line = tail_.lines()[shown_[shown_index]];
    return wrap_ ? wrap(line, width, utf8) : std::vector<std::string>{fit(line, width, utf8)};
  };
  std::vector<std::string> rows;
  if (!follow_) {
    size_t i = top_;
    for (; i < shown_.size() && static_cast<int>(rows.size()) <= body; ++i) {
      for (auto& p : pieces(i))
        rows.push_back(std::move(p));
    }
    // Scrolled down to the end: follow from here on.
    if (i == shown_.size() && static_cast<int>(rows.size()) <= body) follow_ = true;
  }
  if (follow_) {
    rows.clear();
    size_t i = shown_.size();
    std::vector<std::vector<std::string>> back;
    int height = 0;
    while (i > 0 && height < body) {
      back.push_back(pieces(--i));
      height += static_cast<int>(back.back().size());
    }
    top_ = i;
    for (auto it = back.rbegin(); it != back.rend(); ++it)
      for (auto& p : *it)
        rows.push_back(std::move(p));
    if (static_cast<int>(rows.size()) > body)
      rows.erase(rows.begin(), rows.end() - body);  // a line taller than the screen: its end
  }
  for (int y = 0; y < body && y < static_cast<int>(rows.size()); ++y)
    canvas.put(1 + y, 0, rows[static_cast<size_t>(y)]);
}

bool LogView::on_key(const Key& key, Session& session) {
  auto up = [&](size_t n) {
    follow_ = false;
    top_ = n > top_ ? 0 : top_ - n;
  };
  auto down = [&](size_t n) {
    if (follow_) return;
    top_ = std::min(top_ + n, shown_.empty() ? size_t{0} : shown_.size() - 1);
  };
  const auto page = static_cast<size_t>(std::max(page_ - 1, 1));
  switch (key.code) {
    case Key::kUp:
      up(1);
      return true;
    case Key::kDown:
      down(1);
      return true;
    case Key::kPageUp:
      up(page);
      return true;
    case Key::kPageDown:
      down(page);
      return true;
    case Key::kHome:
      follow_ = false;
      top_ = 0;
      return true;
    case Key::kEnd:
      follow_ = true;
      return true;
    default:
      break;
  }
  if (key.is('k')) {
    up(1);
  } else if (key.is('j')) {
    down(1);
  } else if (key.is('g')) {
    follow_ = false;
    top_ = 0;
  } else if (key.is('G') || key.is('f')) {
    follow_ = true;
  } else if (key.is('w')) {
    wrap_ = !wrap_;
  } else if (key.is('[')) {
    if (source_.try_number > 1) {
      wanted_try_ = source_.try_number - 1;
      follow_ = true;
      request_reload();
    } else {
      session.notify("this is the first try");
    }
  } else if (key.is(']')) {
    if (source_.try_number && source_.try_number < source_.tries) {
      wanted_try_ = source_.try_number + 1 == source_.tries ? 0 : source_.try_number + 1;
      follow_ = true;
      request_reload();
    } else {
      session.notify("this is the latest try");
    }
  } else if (key.is('l')) {
    // already the log
  } else {
    return false;
  }
  return true;
}

}  // namespace flow::tui
