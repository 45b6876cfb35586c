#include "engine/artifact/fetched.hpp"

#include <fstream>

#include "engine/core/private_files.hpp"
#include "engine/core/text_file.hpp"

namespace flow::artifact {

std::filesystem::path fetched_file_of(const std::filesystem::path& outputs_file) {
  auto p = outputs_file;
  p += ".fetched.json";
  return p;
}

void write_fetched(const std::filesystem::path& outputs_file, const FetchedFiles& files) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [declared, f] : files)
    j[declared] = {{"local", f.local.string()}, {"origin", f.origin}};
  write_file_atomic(fetched_file_of(outputs_file), j.dump(2) + "\n", kPrivateFileMode);
}

FetchedFiles read_fetched(const std::filesystem::path& outputs_file) {
  FetchedFiles out;
  std::ifstream in(fetched_file_of(outputs_file));
  if (!in) return out;
  const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;
  for (const auto& [declared, v] : j.items()) {
    if (!v.is_object() || !v.contains("local") || !v["local"].is_string()) continue;
    out[declared] = {v["local"].get<std::string>(), v.value("origin", nlohmann::json::object())};
  }
  return out;
}

}  // namespace flow::artifact
