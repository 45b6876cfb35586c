#include "ui-tui/terminal.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <iterator>

#include "engine/core/error.hpp"
#include "ui-tui/cells.hpp"
#include "ui-tui/curses.hpp"
#include "ui-tui/curses_canvas.hpp"

namespace flow::tui {

namespace {

volatile sig_atomic_t g_stop_signal = 0;
std::atomic<bool> g_curses_active{false};

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction g_old_stop[std::size(kStopSignals)];
struct sigaction g_old_crash[std::size(kCrashSignals)];

void on_stop_signal(int sig) {
  g_stop_signal = sig;
}

// Gives the terminal back, then lets the crash proceed: with the previous disposition
// restored, a fault re-executes and reaches it; a signal sent by kill() is raised again.
void on_crash_signal(int sig, siginfo_t* info, void*) {
  if (g_curses_active.exchange(false)) endwin();  // not async-signal-safe; we are dying
  for (size_t i = 0; i < std::size(kCrashSignals); ++i) {
    if (kCrashSignals[i] == sig) sigaction(sig, &g_old_crash[i], nullptr);
  }
  if (info == nullptr || info->si_code <= 0 || sig == SIGABRT) raise(sig);
}

void install_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: the key wait returns at once
  for (size_t i = 0; i < std::size(kStopSignals); ++i)
    sigaction(kStopSignals[i], &sa, &g_old_stop[i]);
  struct sigaction crash {};
  crash.sa_sigaction = on_crash_signal;
  sigemptyset(&crash.sa_mask);
  crash.sa_flags = SA_SIGINFO;
  for (size_t i = 0; i < std::size(kCrashSignals); ++i)
    sigaction(kCrashSignals[i], &crash, &g_old_crash[i]);
}

void restore_handlers() {
  for (size_t i = 0; i < std::size(kStopSignals); ++i)
    sigaction(kStopSignals[i], &g_old_stop[i], nullptr);
  for (size_t i = 0; i < std::size(kCrashSignals); ++i)
    sigaction(kCrashSignals[i], &g_old_crash[i], nullptr);
}

Key translate(int ch) {
  switch (ch) {
    case KEY_UP:
      return Key::of(Key::kUp);
    case KEY_DOWN:
      return Key::of(Key::kDown);
    case KEY_LEFT:
      return Key::of(Key::kLeft);
    case KEY_RIGHT:
      return Key::of(Key::kRight);
    case KEY_PPAGE:
      return Key::of(Key::kPageUp);
    case KEY_NPAGE:
      return Key::of(Key::kPageDown);
    case KEY_HOME:
      return Key::of(Key::kHome);
    case KEY_END:
      return Key::of(Key::kEnd);
    case KEY_ENTER:
    case '\n':
    case '\r':
      return Key::of(Key::kEnter);
    case 27:
      return Key::of(Key::kEscape);
    case KEY_BACKSPACE:
    case 127:
    case 8:
      return Key::of(Key::kBackspace);
    case 12:  // Ctrl-L
      return Key::of(Key::kRedraw);
    case KEY_RESIZE:
      return Key::of(Key::kResize);
    default:
      break;
  }
  if (ch >= 0x20 && ch < 0x7F) return Key{Key::kChar, static_cast<char32_t>(ch)};
  return Key::of(Key::kOther);
}

}  // namespace

struct Terminal::Impl {
  SCREEN* screen = nullptr;
  std::unique_ptr<CursesCanvas> canvas;
};

Terminal::Terminal() : impl_(std::make_unique<Impl>()) {
  if (g_curses_active) throw std::logic_error("flow::tui::Terminal: only one at a time");
  std::setlocale(LC_CTYPE, "");  // multibyte output when the terminal is UTF-8
  g_stop_signal = 0;
  // Before newterm(): ncurses installs its own SIGINT/SIGTERM handlers only where the
  // disposition is still the default, and ours must win.
  install_handlers();
  impl_->screen = newterm(nullptr, stdout, stdin);
  if (!impl_->screen) {
    restore_handlers();
    const char* term = std::getenv("TERM");
    throw EnvironmentError(std::string("cannot use the terminal (TERM=") + (term ? term : "") +
                           "): set TERM to a type this machine knows, e.g. xterm-256color");
  }
  g_curses_active = true;
  set_escdelay(25);  // Esc is a key of its own here, not a prefix to wait for
  cbreak();
  noecho();
  nonl();
  intrflush(stdscr, FALSE);
  keypad(stdscr, TRUE);
  curs_set(0);
  impl_->canvas = std::make_unique<CursesCanvas>(locale_is_utf8());
}

Terminal::~Terminal() {
  if (g_curses_active.exchange(false)) {
    curs_set(1);
    endwin();
  }
  if (impl_->screen) delscreen(impl_->screen);
  restore_handlers();
  std::fflush(stdout);
}

Canvas& Terminal::canvas() {
  return *impl_->canvas;
}

void Terminal::begin_frame() {
  werase(stdscr);
}

void Terminal::show() {
  wnoutrefresh(stdscr);
  doupdate();
}

void Terminal::repaint() {
  clearok(curscr, TRUE);
}

std::optional<Key> Terminal::read_key(std::chrono::milliseconds timeout) {
  wtimeout(stdscr, static_cast<int>(timeout.count()));
  const int ch = wgetch(stdscr);
  if (ch == ERR) return std::nullopt;
  return translate(ch);
}

int Terminal::interrupted() {
  return g_stop_signal;
}

}  // namespace flow::tui
