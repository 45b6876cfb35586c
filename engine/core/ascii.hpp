#pragma once
// Case folding of ASCII letters only, whatever the locale: for names flow compares without
// case (formats, media types, software names, host names).

#include <string>
#include <string_view>

namespace flow {

inline std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace flow
