#pragma once
// Is a file a valid ONNX model, and what does it take and give? Parses the file as an
// onnx.ModelProto (the ONNX protobuf library) and runs onnx::checker::check_model on it,
// which checks the IR version, the opsets, every node against its operator schema and the
// graph's topology (and, for models with external data, that the data files exist next to
// the model). Used by `flow artifacts verify`; this header exposes no ONNX types.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace flow::onnx_check {

// A graph input or output.
struct ValueInfo {
  std::string name;
  std::string type;                // "tensor(float)", "sequence", "map", ...
  std::vector<std::string> shape;  // per dimension: "4", a symbolic name ("batch"), or "?"
  bool has_shape = false;          // false: rank unknown
};

struct Opset {
  std::string domain;  // "ai.onnx" for the default domain
  int64_t version = 0;
};

struct ModelReport {
  bool parsed = false;  // the bytes are a ModelProto
  bool valid = false;   // and the checker accepted it
  // "" when valid; else a sentence saying what is wrong ("not an ONNX model: ...", "the ONNX
  // checker rejected the model: ...").
  std::string problem;
  // Filled in whenever parsed:
  int64_t ir_version = 0;
  std::vector<Opset> opsets;
  std::string producer;  // "pytorch 1.13.1"
  std::string graph_name;
  size_t nodes = 0;
  std::vector<ValueInfo> inputs;  // real inputs: initializers listed as inputs are left out
  std::vector<ValueInfo> outputs;
};

// Never throws for a bad model; an unreadable file is reported in `problem` too.
ModelReport check_model_file(const std::filesystem::path& path);

// "[batch, 12]"-style text of a shape; "(unknown rank)" without one.
std::string shape_text(const ValueInfo& v);

nlohmann::json to_json(const ModelReport& r);

}  // namespace flow::onnx_check
