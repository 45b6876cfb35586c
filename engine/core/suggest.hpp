#pragma once
// "did you mean" hints: the closest candidate within a small edit distance.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flow {

size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` if it is close enough to be a likely typo.
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

// "a, b, c" for messages.
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

}  // namespace flow
