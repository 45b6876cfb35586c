#include "engine/artifact/kind.hpp"

#include <algorithm>

#include "engine/core/ascii.hpp"

namespace flow::artifact {

namespace {

// Formats (and the media types media_type.cpp gives them) that hold a trained model.
constexpr std::string_view kModelFormats[] = {"onnx",
                                              "pt",
                                              "pth",
                                              "safetensors",
                                              "application/onnx",
                                              "application/x-pytorch",
                                              "application/x-safetensors"};

}  // namespace

const std::vector<std::string>& artifact_kinds() {
  static const std::vector<std::string> kinds = {kModel, kDataset, kOther};
  return kinds;
}

bool is_artifact_kind(std::string_view kind) {
  const auto& kinds = artifact_kinds();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

std::string default_kind(std::string_view format) {
  const std::string f = ascii_lower(format);
  for (std::string_view m : kModelFormats) {
    if (f == m) return kModel;
  }
  return kOther;
}

}  // namespace flow::artifact
