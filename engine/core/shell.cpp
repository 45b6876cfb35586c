#include "engine/core/shell.hpp"

#include <algorithm>

namespace flow {

namespace {
bool is_safe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == '/' || c == ':' || c == '=' || c == '@' || c == '%' ||
         c == '+' || c == ',';
}
}  // namespace

std::string shell_quote(std::string_view value) {
  if (value.empty()) return "''";
  if (std::all_of(value.begin(), value.end(), is_safe)) return std::string(value);
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') {
      out += "'\"'\"'";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

}  // namespace flow
