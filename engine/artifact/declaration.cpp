#include "engine/artifact/declaration.hpp"

#include <algorithm>

#include "engine/artifact/kind.hpp"
#include "engine/artifact/registration_error.hpp"
#include "engine/core/suggest.hpp"

namespace flow::artifact {

namespace {

const std::vector<std::string> kKeys = {"path",   "name", "description",
                                        "format", "kind", "metadata"};

std::string where(size_t i) {
  return "artifacts[" + std::to_string(i) + "]";
}

std::string string_field(const nlohmann::json& entry, const char* key, size_t i) {
  if (!entry.contains(key)) return "";
  const auto& v = entry.at(key);
  if (!v.is_string()) {
    throw RegistrationError(where(i) + ": \"" + key + "\" must be a string, not " + v.dump());
  }
  return v.get<std::string>();
}

void check_metadata(const nlohmann::json& metadata, size_t i) {
  if (!metadata.is_object()) {
    throw RegistrationError(where(i) + ": \"metadata\" must be a JSON object, not " +
                            metadata.dump());
  }
  const auto& reserved = reserved_metadata_keys();
  for (const auto& [key, _] : metadata.items()) {
    if (key == "name" || key == "description") {
      throw RegistrationError(where(i) + ": \"metadata\" sets \"" + key + "\"; give \"" + key +
                              "\" next to \"path\" instead");
    }
    if (!key.empty() && key[0] == '@') {
      throw RegistrationError(where(i) + ": \"metadata\" may not set the JSON-LD keyword \"" + key +
                              "\" (flow writes @context, @id and @type)");
    }
    if (std::find(reserved.begin(), reserved.end(), key) != reserved.end()) {
      throw RegistrationError(where(i) + ": \"metadata\" sets \"" + key +
                              "\", which flow records itself from the file and the run");
    }
  }
}

Declaration parse_entry(const nlohmann::json& entry, size_t i) {
  Declaration d;
  d.index = i;
  if (entry.is_string()) {
    d.path = entry.get<std::string>();
    return d;
  }
  if (!entry.is_object()) {
    throw RegistrationError(where(i) + " must be a path or an object with \"path\", not " +
                            entry.dump());
  }
  for (const auto& [key, _] : entry.items()) {
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw RegistrationError(where(i) + ": unknown key \"" + key + "\"" +
                              did_you_mean(key, kKeys) + "; known keys: " + join(kKeys));
    }
  }
  if (!entry.contains("path")) throw RegistrationError(where(i) + " has no \"path\"");
  d.path = string_field(entry, "path", i);
  d.name = string_field(entry, "name", i);
  d.description = string_field(entry, "description", i);
  d.format = string_field(entry, "format", i);
  d.kind = string_field(entry, "kind", i);
  if (entry.contains("kind") && !is_artifact_kind(d.kind)) {
    throw RegistrationError(where(i) + ": unknown \"kind\" \"" + d.kind + "\"" +
                            did_you_mean(d.kind, artifact_kinds()) +
                            "; known kinds: " + join(artifact_kinds()));
  }
  if (entry.contains("metadata")) {
    check_metadata(entry.at("metadata"), i);
    d.metadata = entry.at("metadata");
  }
  return d;
}

}  // namespace

const std::vector<std::string>& reserved_metadata_keys() {
  static const std::vector<std::string> keys = {
      "identifier",          "encodingFormat",       "contentSize",          "sha256",
      "contentUrl",          "dateCreated",          "prov:generatedAtTime", "prov:wasGeneratedBy",
      "prov:wasDerivedFrom", "prov:wasAttributedTo", "prov:hadPrimarySource"};
  return keys;
}

std::vector<Declaration> parse_declarations(const nlohmann::json& outputs) {
  std::vector<Declaration> out;
  if (!outputs.is_object() || !outputs.contains("artifacts")) return out;
  const auto& list = outputs.at("artifacts");
  if (!list.is_array()) {
    throw RegistrationError("\"artifacts\" must be a list of paths or objects, not " + list.dump());
  }
  for (size_t i = 0; i < list.size(); ++i)
    out.push_back(parse_entry(list[i], i));
  return out;
}

}  // namespace flow::artifact
