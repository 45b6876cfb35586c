#pragma once
// What an artifact is to the FAIR registry: a trained `model`, a `dataset` (the data a model
// was trained or evaluated on: the ARDS cohort file), or `other` (reports, cards, logs).
// A task says so with "kind" in its artifact entry (declaration.hpp); without it the format
// decides: model formats (ONNX, PyTorch, safetensors) are models, everything else `other`
// (a .csv or .npz may be a dataset or a report, so only the task can say). Datasets are
// schema:Dataset in the JSON-LD (jsonld.hpp), and every artifact derives from the datasets
// its task's ancestors registered (provenance.hpp).

#include <string>
#include <string_view>
#include <vector>

namespace flow::artifact {

inline constexpr const char* kModel = "model";
inline constexpr const char* kDataset = "dataset";
inline constexpr const char* kOther = "other";

// "model", "dataset", "other": the values a declaration, the store and `--kind` accept.
const std::vector<std::string>& artifact_kinds();

bool is_artifact_kind(std::string_view kind);

// The kind of an artifact whose task named none: "model" for a model format ("onnx", "pt",
// "pth", "safetensors" or their media types), "other" for anything else.
std::string default_kind(std::string_view format);

}  // namespace flow::artifact
