#pragma once
// The help overlay (`?`): every key of the TUI in one box over the current view. Any key
// closes it. docs/TUI.md lists the same keys.

#include <string>
#include <utility>
#include <vector>

#include "ui-tui/canvas.hpp"

namespace flow::tui {

// {keys, what they do}, in the order shown; an entry with empty keys is a section title.
const std::vector<std::pair<std::string, std::string>>& key_help();

// Draws the help box centred on `canvas` (cut to fit a small terminal).
void draw_help(Canvas& canvas);

}  // namespace flow::tui
