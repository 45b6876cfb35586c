#include "engine/core/natural_order.hpp"

namespace flow {

bool natural_less(std::string_view a, std::string_view b) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t i2 = i, j2 = j;
      while (i2 < a.size() && a[i2] == '0')
        ++i2;
      while (j2 < b.size() && b[j2] == '0')
        ++j2;
      size_t ie = i2, je = j2;
      while (ie < a.size() && digit(a[ie]))
        ++ie;
      while (je < b.size() && digit(b[je]))
        ++je;
      if (ie - i2 != je - j2) return ie - i2 < je - j2;
      const auto na = a.substr(i2, ie - i2), nb = b.substr(j2, je - j2);
      if (na != nb) return na < nb;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

}  // namespace flow
