#pragma once
// Durations as users write them: "500ms", "10s", "2m", "1h30m", "1d"; a bare number is
// seconds. Used by DAG files (retry_delay, timeout) and site files (poll_interval).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace flow {

using Millis = std::chrono::milliseconds;

// nullopt if `text` is not a duration.
std::optional<Millis> parse_duration(std::string_view text);

// "1h2m3s", "450ms", "0s": the shortest exact form.
std::string format_duration(Millis d);

// "3.2s", "12m04s", "2h03m": for humans, rounded.
std::string human_duration(Millis d);

}  // namespace flow
