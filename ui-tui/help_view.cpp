#include "ui-tui/help_view.hpp"

#include <algorithm>

#include "ui-tui/cells.hpp"

namespace flow::tui {

const std::vector<std::pair<std::string, std::string>>& key_help() {
  static const std::vector<std::pair<std::string, std::string>> help = {
      {"", "Move"},
      {"Up Down j k", "previous / next row (log: scroll)"},
      {"PgUp PgDn", "a page up / down"},
      {"Home End g G", "first / last row (log: top / end, G follows)"},
      {"Enter", "open: run -> tasks -> log; toggles a task's group"},
      {"Esc Backspace h", "back (Esc clears a filter first)"},
      {"Space + - Right Left", "expand / collapse foreach items and trials"},
      {"", "Views"},
      {"l", "log of the selected instance, followed as it grows"},
      {"H", "leaderboard of the selected hpo task"},
      {"p", "leaderboard: plot the selected trial's curve"},
      {"[ ]", "log: older / newer try"},
      {"w", "log: wrap long lines or cut them"},
      {"/", "filter the list (Enter keeps it, Esc clears it)"},
      {"Ctrl-L", "read the database again and repaint"},
      {"", "Actions (asked first; answer y)"},
      {"r", "retry the selected task (flow retry RUN TASK)"},
      {"R", "retry it and everything downstream (--downstream)"},
      {"c", "cancel the run (flow cancel RUN)"},
      {"? q", "this help (any key closes it) / quit"},
  };
  return help;
}

void draw_help(Canvas& canvas) {
  const auto& help = key_help();
  const bool utf8 = canvas.utf8();
  int key_w = 0, text_w = 0;
  for (const auto& [k, t] : help) {
    key_w = std::max(key_w, cell_width(k, utf8));
    text_w = std::max(text_w, cell_width(t, utf8));
  }
  const int width = std::min(canvas.cols(), key_w + text_w + 6);
  const int height = std::min(canvas.rows(), static_cast<int>(help.size()) + 4);
  const int left = std::max((canvas.cols() - width) / 2, 0);
  const int top = std::max((canvas.rows() - height) / 2, 0);
  const Style frame{Tone::kAccent, true, true};
  const std::string blank(static_cast<size_t>(width), ' ');
  for (int y = 0; y < height; ++y)
    canvas.put(top + y, left, blank);
  canvas.put(top, left, fit(" flow tui keys", width, utf8, true), frame);
  canvas.put(top + height - 1, left, fit(" any key closes this", width, utf8, true), frame);
  int y = top + 2;
  for (const auto& [k, t] : help) {
    if (y >= top + height - 1) break;
    if (k.empty()) {
      canvas.put(y++, left + 2, fit(t, width - 4, utf8), Style{Tone::kAccent, true});
      continue;
    }
    canvas.put(y, left + 2, fit(k, key_w, utf8), Style{Tone::kNormal, true});
    canvas.put(y++, left + 4 + key_w, fit(t, width - key_w - 6, utf8));
  }
}

}  // namespace flow::tui
