#include "engine/artifact/artifact_id.hpp"

#include <string>

#include "engine/core/sha256.hpp"

namespace flow::artifact {

namespace {
constexpr size_t kHalf = 12;  // hex digits per half: 48 bits each

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}
}  // namespace

std::string make_artifact_id(std::string_view content_sha256, std::string_view run_id,
                             std::string_view instance_id, int try_number, std::string_view path) {
  // NUL separates the parts: none of them can contain one.
  std::string where;
  where.append(run_id).push_back('\0');
  where.append(instance_id).push_back('\0');
  where.append(std::to_string(try_number)).push_back('\0');
  where.append(path);
  return "a-" + std::string(content_sha256.substr(0, kHalf)) + "-" +
         sha256_hex(where).substr(0, kHalf);
}

bool looks_like_artifact_id(std::string_view s) {
  if (s.size() != 2 + kHalf + 1 + kHalf || s.substr(0, 2) != "a-" || s[2 + kHalf] != '-') {
    return false;
  }
  return is_hex(s.substr(2, kHalf)) && is_hex(s.substr(3 + kHalf));
}

}  // namespace flow::artifact
