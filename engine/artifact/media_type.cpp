#include "engine/artifact/media_type.hpp"

#include <array>
#include <utility>

#include "engine/core/ascii.hpp"

namespace flow::artifact {

namespace {

// Format name -> media type. "application/onnx" is not IANA-registered, but it is what
// ONNX tooling and model hubs use.
constexpr std::array<std::pair<std::string_view, std::string_view>, 16> kTypes{{
    {"onnx", "application/onnx"},
    {"pt", "application/x-pytorch"},
    {"pth", "application/x-pytorch"},
    {"safetensors", "application/x-safetensors"},
    {"h5", "application/x-hdf5"},
    {"hdf5", "application/x-hdf5"},
    {"npz", "application/x-npz"},
    {"npy", "application/x-npy"},
    {"parquet", "application/vnd.apache.parquet"},
    {"json", "application/json"},
    {"jsonl", "application/jsonl"},
    {"csv", "text/csv"},
    {"txt", "text/plain"},
    {"yaml", "application/yaml"},
    {"zip", "application/zip"},
    {"tar", "application/x-tar"},
}};

}  // namespace

std::string format_from_extension(std::string_view path) {
  auto slash = path.find_last_of('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = base.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  std::string ext = ascii_lower(base.substr(dot + 1));
  if (ext == "yml") ext = "yaml";
  for (const auto& [format, _] : kTypes) {
    if (format == ext) return ext;
  }
  return "";
}

std::string media_type_of(std::string_view format) {
  if (format.find('/') != std::string_view::npos) return std::string(format);
  std::string f = ascii_lower(format);
  for (const auto& [name, type] : kTypes) {
    if (name == f) return std::string(type);
  }
  return "application/octet-stream";
}

std::vector<std::string> format_names(std::string_view format) {
  const std::string f = ascii_lower(format);
  std::vector<std::string> out = {f};
  for (const auto& [name, type] : kTypes) {
    if (f == name) out.emplace_back(type);
    if (f == type) out.emplace_back(name);
  }
  return out;
}

bool is_onnx(std::string_view format) {
  std::string f = ascii_lower(format);
  return f == "onnx" || f == "application/onnx";
}

}  // namespace flow::artifact
