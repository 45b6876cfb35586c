#pragma once
// Artifact ids: "a-" + the first 12 hex digits of the file's sha256 + "-" + the first 12
// hex digits of the sha256 of where it was registered (run, task instance, try, path), e.g.
// "a-3f2c9d0e1b7a-5e1f0c2d9a8b".
//
// Stable: the same registration always yields the same id, so re-applying a finished try
// cannot create a second row. The content half lets a reader see at a glance that two
// artifacts hold the same bytes; the registration half keeps the same file registered by
// two runs (or two tries) apart. Ids are safe in paths, URNs and shell words.

#include <string>
#include <string_view>

namespace flow::artifact {

std::string make_artifact_id(std::string_view content_sha256, std::string_view run_id,
                             std::string_view instance_id, int try_number, std::string_view path);

// True for strings of the shape above (any hex digits).
bool looks_like_artifact_id(std::string_view s);

}  // namespace flow::artifact
