#include "engine/cli/artifact_verify.hpp"

#include "engine/artifact/media_type.hpp"
#include "engine/core/suggest.hpp"

namespace flow::cli {

namespace {

bool readable(const artifact::ContentCheck& c) {
  return c.actual.has_value();
}

std::string opsets_text(const onnx_check::ModelReport& m) {
  std::vector<std::string> parts;
  for (const auto& o : m.opsets)
    parts.push_back(std::to_string(o.version) + " (" + o.domain + ")");
  return parts.empty() ? "none" : join(parts);
}

}  // namespace

VerifyReport verify_artifact(const state::ArtifactRecord& a, const std::string& this_host) {
  VerifyReport r;
  r.artifact = a;
  r.content = artifact::check_content(a, this_host);
  if (!r.content.ok()) r.problems.push_back(r.content.problem);
  const bool onnx = artifact::is_onnx(a.format) || artifact::is_onnx(a.encoding_format);
  if (onnx && readable(r.content)) {
    r.model = onnx_check::check_model_file(a.path);
    if (!r.model->valid) r.problems.push_back("the model is invalid: " + r.model->problem);
  }
  return r;
}

nlohmann::json verify_json(const VerifyReport& r) {
  const auto& a = r.artifact;
  nlohmann::json content = {
      {"status", artifact::to_string(r.content.status)},
      {"expected", {{"sha256", a.sha256}, {"size", a.size}}},
      {"actual", r.content.actual ? nlohmann::json{{"sha256", r.content.actual->sha256},
                                                   {"size", r.content.actual->size}}
                                  : nlohmann::json()}};
  if (!r.content.problem.empty()) content["problem"] = r.content.problem;
  return {{"id", a.id},
          {"path", a.path},
          {"format", a.format},
          {"ok", r.ok()},
          {"content", std::move(content)},
          {"onnx", r.model ? onnx_check::to_json(*r.model) : nlohmann::json()},
          {"problems", r.problems}};
}

std::string verify_text(const VerifyReport& r) {
  const auto& a = r.artifact;
  std::string out = "artifact " + a.id + " (" + a.name + "): " + a.path + "\n";
  const auto& c = r.content;
  if (c.ok()) {
    out += "  sha256   ok  " + a.sha256 + "\n";
    out += "  size     ok  " + std::to_string(a.size) + " bytes\n";
  } else if (c.actual) {
    bool same_hash = c.actual->sha256 == a.sha256;
    bool same_size = static_cast<int64_t>(c.actual->size) == a.size;
    out += same_hash ? "  sha256   ok  " + a.sha256 + "\n"
                     : "  sha256   DIFFERS  expected " + a.sha256 + "\n" +
                           "                    actual   " + c.actual->sha256 + "\n";
    out += same_size ? "  size     ok  " + std::to_string(a.size) + " bytes\n"
                     : "  size     DIFFERS  expected " + std::to_string(a.size) +
                           " bytes, actual " + std::to_string(c.actual->size) + " bytes\n";
  } else {
    out += "  file     " + std::string(artifact::to_string(c.status)) + ": " + c.problem + "\n";
  }
  if (r.model) {
    const auto& m = *r.model;
    if (m.parsed) {
      out += std::string("  onnx     ") + (m.valid ? "valid" : "INVALID") + "  ir_version " +
             std::to_string(m.ir_version) + ", opset " + opsets_text(m) + ", " +
             std::to_string(m.nodes) + " nodes" +
             (m.producer.empty() ? "" : ", producer " + m.producer) + "\n";
      for (const auto& v : m.inputs)
        out += "           input   " + v.name + "  " + v.type + "  " + onnx_check::shape_text(v) +
               "\n";
      for (const auto& v : m.outputs)
        out += "           output  " + v.name + "  " + v.type + "  " + onnx_check::shape_text(v) +
               "\n";
    }
    if (!m.valid) out += (m.parsed ? "           " : "  onnx     INVALID  ") + m.problem + "\n";
  } else if (artifact::is_onnx(a.format) || artifact::is_onnx(a.encoding_format)) {
    out += "  onnx     not checked (the file could not be read)\n";
  }
  out += r.ok() ? "verified: the file matches its registration" +
                      std::string(r.model ? " and the model is valid" : "") + "\n"
                : "FAILED: " + join(r.problems, "; ") + "\n";
  return out;
}

}  // namespace flow::cli
