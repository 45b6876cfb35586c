#include "operators/onnx/model_check.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <fstream>
#include <set>

namespace flow::onnx_check {

namespace {

std::string type_text(const ::onnx::TypeProto& t) {
  switch (t.value_case()) {
    case ::onnx::TypeProto::kTensorType:
      return "tensor(" + ::onnx::TensorProto_DataType_Name(t.tensor_type().elem_type()) + ")";
    case ::onnx::TypeProto::kSparseTensorType:
      return "sparse_tensor(" +
             ::onnx::TensorProto_DataType_Name(t.sparse_tensor_type().elem_type()) + ")";
    case ::onnx::TypeProto::kSequenceType:
      return "sequence";
    case ::onnx::TypeProto::kMapType:
      return "map";
    case ::onnx::TypeProto::kOptionalType:
      return "optional";
    case ::onnx::TypeProto::kOpaqueType:
      return "opaque";
    default:
      return "unknown";
  }
}

ValueInfo value_info(const ::onnx::ValueInfoProto& v) {
  ValueInfo out;
  out.name = v.name();
  out.type = type_text(v.type());
  const ::onnx::TensorShapeProto* shape = nullptr;
  if (v.type().has_tensor_type() && v.type().tensor_type().has_shape()) {
    shape = &v.type().tensor_type().shape();
  } else if (v.type().has_sparse_tensor_type() && v.type().sparse_tensor_type().has_shape()) {
    shape = &v.type().sparse_tensor_type().shape();
  }
  if (shape) {
    out.has_shape = true;
    for (const auto& d : shape->dim()) {
      if (d.has_dim_value()) {
        out.shape.push_back(std::to_string(d.dim_value()));
      } else if (d.has_dim_param() && !d.dim_param().empty()) {
        out.shape.push_back(d.dim_param());
      } else {
        out.shape.push_back("?");
      }
    }
  }
  return out;
}

void describe(const ::onnx::ModelProto& m, ModelReport& r) {
  r.ir_version = m.ir_version();
  for (const auto& o : m.opset_import())
    r.opsets.push_back({o.domain().empty() ? "ai.onnx" : o.domain(), o.version()});
  r.producer = m.producer_name();
  if (!m.producer_version().empty()) r.producer += " " + m.producer_version();
  const auto& g = m.graph();
  r.graph_name = g.name();
  r.nodes = static_cast<size_t>(g.node_size());
  std::set<std::string> initializers;
  for (const auto& t : g.initializer())
    initializers.insert(t.name());
  for (const auto& v : g.input()) {
    if (!initializers.count(v.name())) r.inputs.push_back(value_info(v));
  }
  for (const auto& v : g.output())
    r.outputs.push_back(value_info(v));
}

nlohmann::json value_json(const ValueInfo& v) {
  nlohmann::json shape = nullptr;
  if (v.has_shape) {
    shape = nlohmann::json::array();
    for (const auto& d : v.shape) {
      bool number = !d.empty() && d.find_first_not_of("0123456789") == std::string::npos;
      shape.push_back(number ? nlohmann::json(std::stoll(d)) : nlohmann::json(d));
    }
  }
  return {{"name", v.name}, {"type", v.type}, {"shape", shape}};
}

}  // namespace

ModelReport check_model_file(const std::filesystem::path& path) {
  ModelReport r;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    r.problem = "cannot read " + path.string();
    return r;
  }
  ::onnx::ModelProto model;
  if (!model.ParseFromIstream(&in)) {
    r.problem = "not an ONNX model: " + path.string() +
                " does not parse as an onnx.ModelProto (truncated, or another format)";
    return r;
  }
  r.parsed = true;
  describe(model, r);
  try {
    // The path form resolves external tensor data relative to the model's directory.
    ::onnx::checker::check_model(path.string());
    r.valid = true;
  } catch (const std::exception& e) {
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' '))
      what.pop_back();
    r.problem = "the ONNX checker rejected the model: " + what;
  }
  return r;
}

std::string shape_text(const ValueInfo& v) {
  if (!v.has_shape) return "(unknown rank)";
  std::string s = "[";
  for (size_t i = 0; i < v.shape.size(); ++i)
    s += (i ? ", " : "") + v.shape[i];
  return s + "]";
}

nlohmann::json to_json(const ModelReport& r) {
  nlohmann::json j = {{"valid", r.valid}, {"parsed", r.parsed}};
  if (!r.problem.empty()) j["problem"] = r.problem;
  if (!r.parsed) return j;
  auto opsets = nlohmann::json::array();
  for (const auto& o : r.opsets)
    opsets.push_back({{"domain", o.domain}, {"version", o.version}});
  auto inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (const auto& v : r.inputs)
    inputs.push_back(value_json(v));
  for (const auto& v : r.outputs)
    outputs.push_back(value_json(v));
  j["ir_version"] = r.ir_version;
  j["opsets"] = std::move(opsets);
  j["producer"] = r.producer;
  j["graph"] = r.graph_name;
  j["nodes"] = r.nodes;
  j["inputs"] = std::move(inputs);
  j["outputs"] = std::move(outputs);
  return j;
}

}  // namespace flow::onnx_check
