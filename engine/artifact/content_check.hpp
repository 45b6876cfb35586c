#pragma once
// Half of `flow artifacts verify`: are the bytes at a registered path still the bytes that
// were registered? Re-reads the file and compares its size and sha256 with the row. The
// other half, whether an ONNX model is a valid model, lives in operators/onnx (the engine
// core knows nothing of ONNX).

#include <optional>
#include <string>

#include "engine/core/sha256.hpp"
#include "engine/state/records.hpp"

namespace flow::artifact {

struct ContentCheck {
  enum class Status {
    kMatches,     // same size, same sha256
    kChanged,     // readable, but size or sha256 differ
    kMissing,     // nothing at the path
    kNotAFile,    // a directory, FIFO, ... now
    kUnreadable,  // there, but this user cannot read it
  };
  Status status = Status::kMissing;
  std::optional<FileDigest> actual;  // when the file could be read
  // "" when it matches; else one sentence saying which check failed, with expected and
  // actual values ("sha256 differs: expected 3f2c..., actual 9a8b...").
  std::string problem;
  bool ok() const { return status == Status::kMatches; }
};

// `this_host` is the host name of the machine verifying; when the file is missing and it
// is not the host that registered it, the problem says so.
ContentCheck check_content(const state::ArtifactRecord& a, const std::string& this_host);

std::string_view to_string(ContentCheck::Status s);

}  // namespace flow::artifact
