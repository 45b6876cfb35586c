#include "ui-tui/cells.hpp"

#include <langinfo.h>
#include <wchar.h>

#include <cstring>

namespace flow::tui {

namespace {

// One character as drawn: its bytes (already sanitised) and its width in cells.
struct Glyph {
  std::string_view bytes;
  int width = 0;
};

constexpr std::string_view kQuestion = "?";
constexpr std::string_view kSpaces = "        ";

// Length of the UTF-8 sequence starting at s[i] and its code point; 0 if invalid.
size_t decode_utf8(std::string_view s, size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t len = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid.
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Calls emit(Glyph) for each character of `s`, sanitised; `column` is the cell where the
// text starts (tabs stop at multiples of 8 from there).
template <class Emit>
void for_each_glyph(std::string_view s, bool utf8, Emit&& emit) {
  int column = 0;
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    Glyph g;
    size_t used = 1;
    if (b == '\t') {
      g = {kSpaces.substr(0, static_cast<size_t>(8 - column % 8)), 8 - column % 8};
    } else if (b < 0x20 || b == 0x7F) {
      g = {kQuestion, 1};
    } else if (b < 0x80) {
      g = {s.substr(i, 1), 1};
    } else {
      char32_t cp = 0;
      const size_t len = decode_utf8(s, i, cp);
      if (len == 0) {
        g = {kQuestion, 1};
      } else {
        used = len;
        const int w = utf8 ? ::wcwidth(static_cast<wchar_t>(cp)) : -1;
        if (w < 0) {
          g = {kQuestion, 1};  // C1 control, unassigned, or a non-UTF-8 terminal
        } else {
          g = {s.substr(i, len), w};
        }
      }
    }
    i += used;
    column += g.width;
    if (!emit(g)) return;
  }
}

}  // namespace

bool locale_is_utf8() {
  const char* cs = ::nl_langinfo(CODESET);
  return cs && (std::strcmp(cs, "UTF-8") == 0 || std::strcmp(cs, "utf8") == 0);
}

Cells sanitize(std::string_view text, bool utf8) {
  Cells out;
  out.text.reserve(text.size());
  for_each_glyph(text, utf8, [&](const Glyph& g) {
    out.text.append(g.bytes);
    out.width += g.width;
    return true;
  });
  return out;
}

int cell_width(std::string_view text, bool utf8) {
  int w = 0;
  for_each_glyph(text, utf8, [&](const Glyph& g) {
    w += g.width;
    return true;
  });
  return w;
}

std::string fit(std::string_view text, int width, bool utf8, bool pad, bool right) {
  if (width <= 0) return {};
  Cells all = sanitize(text, utf8);
  std::string out;
  int used = 0;
  if (all.width <= width) {
    out = std::move(all.text);
    used = all.width;
  } else {
    // Keep what fits in width-1 cells, then the '~' marker.
    for_each_glyph(text, utf8, [&](const Glyph& g) {
      if (used + g.width > width - 1) return false;
      out.append(g.bytes);
      used += g.width;
      return true;
    });
    out += '~';
    ++used;
  }
  if (pad && used < width) {
    std::string spaces(static_cast<size_t>(width - used), ' ');
    out = right ? spaces + out : out + spaces;
  }
  return out;
}

std::vector<std::string> wrap(std::string_view text, int width, bool utf8) {
  std::vector<std::string> out(1);
  if (width <= 0) return out;
  int used = 0;
  for_each_glyph(text, utf8, [&](const Glyph& g) {
    if (used + g.width > width && used > 0) {
      out.emplace_back();
      used = 0;
    }
    out.back().append(g.bytes);
    used += g.width;
    return true;
  });
  return out;
}

}  // namespace flow::tui
