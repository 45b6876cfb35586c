#pragma once
// A key press as the views see it, independent of ncurses' key codes (terminal.cpp
// translates them), so views' key handling can be driven from tests.

namespace flow::tui {

struct Key {
  enum Code {
    kChar,  // a printable character: `ch`
    kUp,
    kDown,
    kLeft,
    kRight,
    kPageUp,
    kPageDown,
    kHome,
    kEnd,
    kEnter,
    kEscape,
    kBackspace,
    kRedraw,  // Ctrl-L: read the store again and repaint the screen
    kResize,  // the terminal changed size
    kOther,   // anything else (function keys, other control characters)
  };
  Code code = kOther;
  char32_t ch = 0;

  static Key of(Code c) { return Key{c, 0}; }
  static Key of(char c) { return Key{kChar, static_cast<char32_t>(static_cast<unsigned char>(c))}; }
  bool is(char c) const {
    return code == kChar && ch == static_cast<char32_t>(static_cast<unsigned char>(c));
  }
};

}  // namespace flow::tui
