#include "engine/run/secret_mask.hpp"

#include <algorithm>

#include "engine/core/private_files.hpp"
#include "engine/core/text_file.hpp"

namespace flow::run {

SecretMask::SecretMask(std::vector<std::string> values) {
  std::vector<std::string> all;
  for (auto& v : values) {
    // Each line of a multi-line value too, without its carriage return.
    size_t start = 0;
    while (start < v.size()) {
      size_t nl = v.find('\n', start);
      std::string line = v.substr(start, nl == std::string::npos ? nl : nl - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() != v.size()) all.push_back(std::move(line));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    all.push_back(std::move(v));
  }
  std::erase_if(all, [](const std::string& v) { return v.size() < kMinMaskedLength; });
  std::sort(all.begin(), all.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
  all.erase(std::unique(all.begin(), all.end()), all.end());
  values_ = std::move(all);
}

SecretMask::SecretMask(const std::map<std::string, std::string>& env,
                       const std::set<std::string>& secret_env)
    : SecretMask([&] {
        std::vector<std::string> values;
        for (const auto& name : secret_env)
          if (auto it = env.find(name); it != env.end()) values.push_back(it->second);
        return values;
      }()) {}

std::string SecretMask::apply(std::string text) const {
  for (const auto& v : values_) {
    size_t pos = 0;
    while ((pos = text.find(v, pos)) != std::string::npos) {
      text.replace(pos, v.size(), kMask);
      pos += kMask.size();
    }
  }
  return text;
}

bool SecretMask::apply_to_file(const std::filesystem::path& file) const {
  if (values_.empty()) return true;
  auto text = read_file(file);
  if (!text) return false;
  std::string masked = apply(*text);
  if (masked == *text) return true;
  try {
    write_file_atomic(file, masked, kPrivateFileMode);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace flow::run
