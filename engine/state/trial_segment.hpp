#pragma once
// Segments and tries of an HPO trial, told apart. A trial instance ("tune[trial-3]") runs
// as a chain of segments: each trains from the previous checkpoint up to a target epoch,
// and a promotion (ASHA, Hyperband) or an exploit (PBT) starts the next one. Each segment
// is run by one or more tries: a retry after a failure, a continuation after a time limit.
// The instance's try_number counts every attempt across segments (the logs are
// logs/RUN/INSTANCE/TRY.log); these say which segment an attempt ran and which try of that
// segment it was, as progress lines, `flow status`, the TUI and the report show them
// ("segment 2", "segment 2, try 3"; docs/REFERENCE.md).
//
// Where it is kept: the trial's attrs["trial"] has "segment" (the segment begun last, 1 for
// the first) and "segment_tries_before" (the instance's try_number when it began); the
// sweep writes them (set_segment) as it begins a segment. Each try row has its own copy
// (TryRecord::segment, segment_try).

#include <string>

#include "engine/state/records.hpp"

namespace flow::state {

struct SegmentTry {
  int segment = 0;         // 1, 2, ...; 0: not an HPO trial (or recorded before segments were)
  int try_in_segment = 0;  // 1, 2, ...; 0: the segment has not been tried yet
  bool is_trial() const { return segment > 0; }
  bool operator==(const SegmentTry&) const = default;
};

// The segment of `inst`'s current try (its try_number): {0, 0} for an instance that is
// not an HPO trial.
SegmentTry segment_try_of(const InstanceRecord& inst);
// The same of a try row.
SegmentTry segment_try_of(const TryRecord& t);

// Records that `inst`, at try `try_number`, is at `s`: the sweep begins segment k with
// ({k, 0}, inst.try_number), so its tries from try_number + 1 on belong to it; the
// controller shows an instance as it was at an earlier change. Nothing for a non-trial `s`.
void set_segment_try(InstanceRecord& inst, SegmentTry s, int try_number);

// What follows a state to say which attempt it was about, in every output:
//   a trial:   "segment 2" (no try of it yet, or its first), "segment 2, try 3"
//   otherwise: "try 3"
std::string attempt_label(int try_number, SegmentTry s);

}  // namespace flow::state
