#pragma once
// `flow artifacts verify ID`: the registry row against the file as it is now. Two checks:
//  - content (engine/artifact/content_check.hpp): the file is there and has the registered
//    size and sha256;
//  - for ONNX models, the model itself (operators/onnx/model_check.hpp): it parses as an
//    onnx.ModelProto and onnx::checker::check_model accepts it; opset and graph
//    inputs/outputs with shapes are reported.
// The model is checked whenever the file can be read, even if its hash changed, so one
// verify says everything that is wrong.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/artifact/content_check.hpp"
#include "engine/state/records.hpp"
#include "operators/onnx/model_check.hpp"

namespace flow::cli {

struct VerifyReport {
  state::ArtifactRecord artifact;
  artifact::ContentCheck content;
  std::optional<onnx_check::ModelReport> model;  // ONNX artifacts whose file could be read
  std::vector<std::string> problems;             // one sentence each; empty = verified
  bool ok() const { return problems.empty(); }
};

VerifyReport verify_artifact(const state::ArtifactRecord& a, const std::string& this_host);

// {"id", "path", "ok", "content": {...}, "onnx": {...} | null, "problems": [...]}
nlohmann::json verify_json(const VerifyReport& r);

// The human report (stdout of `flow artifacts verify`).
std::string verify_text(const VerifyReport& r);

}  // namespace flow::cli
