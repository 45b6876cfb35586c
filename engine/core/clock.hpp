#pragma once
// Wall-clock time as flow stores it: milliseconds since the Unix epoch, printed as
// ISO 8601 UTC ("2026-11-25T04:50:01.123Z"). A Clock seam lets tests fake time.

#include <cstdint>
#include <string>

namespace flow {

using EpochMs = int64_t;

EpochMs now_ms();

// "" for 0 (unset), else ISO 8601 UTC with milliseconds.
std::string iso_utc(EpochMs t);

}  // namespace flow
