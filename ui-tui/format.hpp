#pragma once
// How the TUI writes values: states with their colour (as a Tone, so this needs no
// terminal), times, durations, counts per state, HPO parameters, and the filter match.
// Shared by every view so a state looks the same everywhere.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/core/natural_order.hpp"
#include "engine/state/task_state.hpp"

namespace flow::tui {

// The colour of a value, independent of how a terminal shows it.
enum class Tone {
  kNormal,
  kGood,       // succeeded, completed
  kBad,        // failed, timed out, upstream failed
  kBusy,       // running, starting, submitting
  kWaiting,    // queued, pending in Slurm, up for retry
  kCancelled,  // cancelled, interrupted
  kDim,        // skipped, stopped, absent values
  kAccent,     // titles, keys in help
};

Tone tone_of(state::TaskState s);
Tone tone_of(state::RunState s);
// An HPO trial status ("running", "paused", "completed", "stopped", "failed").
Tone tone_of_trial(std::string_view status);

// States in the order a reader scans them: done, busy, waiting, bad, other.
const std::vector<state::TaskState>& display_order();
// Short name of a state for count summaries: "ok", "run", "failed", "queued", ...
std::string_view short_name(state::TaskState s);
// Counts keyed by state name (as Store::state_counts returns them), in display order;
// states with no instances are left out, unknown names are ignored.
std::vector<std::pair<state::TaskState, int>> ordered_counts(
    const std::map<std::string, int>& counts);

// Local time of `t` (0 = "-"): "14:03:07" when it is on the same day as `now`, else
// "03-28 14:03".
std::string short_time(EpochMs t, EpochMs now);
// How long from `start` to `end` (or to `now` while `end` is 0): "3.2s", "12m04s",
// "2h03m"; "-" when it never started.
std::string span(EpochMs start, EpochMs end, EpochMs now);

// "lr=0.001 batch_size=32 loss=mae": numbers with 4 significant digits, strings bare.
std::string params_text(const nlohmann::json& params);
// A metric with 6 significant digits, "-" when absent.
std::string metric_text(std::optional<double> metric);
// Up to the first newline.
std::string_view first_line(std::string_view text);

// Case-insensitive substring match of `filter` in any of `fields`; an empty filter
// matches everything.
bool matches(std::string_view filter, std::initializer_list<std::string_view> fields);

// "tiles[2]" < "tiles[10]", "trial-9" < "trial-10" (engine/core/natural_order.hpp).
using flow::natural_less;

}  // namespace flow::tui
