#pragma once
// The one include of <curses.h>. NCURSES_NOMACROS keeps ncurses' function-like macros
// (erase(), clear(), move(), refresh(), timeout()...) from rewriting C++ code such as
// std::map::erase; the real functions of the same names remain. Only terminal.cpp and
// curses_canvas.cpp include this.

#ifndef NCURSES_NOMACROS
#define NCURSES_NOMACROS
#endif
#include <curses.h>
