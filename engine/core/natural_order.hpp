#pragma once
// Ordering names the way people count: runs of digits compare as numbers, so tiles[2] comes
// before tiles[10] and trial-9 before trial-10.

#include <string_view>

namespace flow {

// A strict weak order. Leading zeros do not change a number's value: "a007" and "a7" rank
// the same.
bool natural_less(std::string_view a, std::string_view b);

}  // namespace flow
