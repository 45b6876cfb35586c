#pragma once
// Owns the terminal while the TUI runs. The constructor switches it to curses mode (the
// alternate screen, no echo, keys one at a time, no cursor); the destructor gives it back
// exactly as it was. So that the terminal is never left corrupted:
// - SIGINT, SIGTERM and SIGHUP only set a flag (interrupted()); the App's loop sees it
//   within one key timeout and returns, and the destructor restores the terminal;
// - on a crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) the handler restores the
//   terminal first, then lets the signal take its course (the previous handler, e.g. the
//   sanitizers' report, still runs);
// - an exception unwinds through the destructor.
// Only one Terminal may exist at a time.

#include <chrono>
#include <memory>
#include <optional>

#include "ui-tui/canvas.hpp"
#include "ui-tui/keys.hpp"

namespace flow::tui {

class Terminal {
 public:
  // EnvironmentError when the terminal cannot be used (unknown TERM, not a terminal).
  Terminal();
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  Canvas& canvas();
  // Clears the next frame; draw on canvas(), then show() puts it on the screen, changing
  // only the cells that differ from what is there.
  void begin_frame();
  void show();
  // The next show() repaints every cell (Ctrl-L, after something else wrote to the tty).
  void repaint();

  // Waits up to `timeout` for a key; nullopt when none came (or a signal arrived).
  std::optional<Key> read_key(std::chrono::milliseconds timeout);

  // The signal (SIGINT, SIGTERM, SIGHUP) that asked the TUI to stop; 0 if none.
  static int interrupted();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flow::tui
