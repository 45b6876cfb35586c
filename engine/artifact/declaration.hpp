#pragma once
// What a task declares about the files it wants registered: the "artifacts" key of the JSON
// object it writes to $FLOW_OUTPUTS_FILE (docs/REFERENCE.md §4.7). Either a path or an object:
//
//   {"artifacts": ["report.csv",
//                  {"path": "model.onnx", "name": "ards-mlp", "description": "...",
//                   "format": "onnx", "kind": "model", "metadata": {"license": "MIT"}}]}
//
// Only the shape is checked here; the files themselves are looked at by registration.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace flow::artifact {

struct Declaration {
  size_t index = 0;  // position in the list, for messages ("artifacts[1]")
  std::string path;  // as the task wrote it
  std::string name;  // "" = the file name
  std::string description;
  std::string format;  // "" = from the extension
  std::string kind;    // "model", "dataset", "other" (kind.hpp); "" = from the format
  nlohmann::json metadata = nlohmann::json::object();  // merged into the JSON-LD
};

// The keys of an artifact's JSON-LD that flow writes itself; a task's `metadata` may not
// set them (nor any other key starting with '@').
const std::vector<std::string>& reserved_metadata_keys();

// The declarations in a task's outputs (none when there is no "artifacts" key). Throws
// RegistrationError naming the entry ("artifacts[1]") and what is wrong with it.
std::vector<Declaration> parse_declarations(const nlohmann::json& outputs);

}  // namespace flow::artifact
