#include "ui-tui/cells.hpp"

#include <gtest/gtest.h>

#include <clocale>

using namespace flow::tui;

namespace {
// wcwidth() needs a UTF-8 locale; C.UTF-8 is built into glibc.
struct Utf8Locale {
  Utf8Locale() { std::setlocale(LC_CTYPE, "C.UTF-8"); }
  ~Utf8Locale() { std::setlocale(LC_CTYPE, "C"); }
};
}  // namespace

TEST(TuiCells, ControlCharactersNeverReachTheTerminal) {
  // An escape sequence from a log line would change colours or move the cursor.
  EXPECT_EQ(sanitize("red \x1b[31mtext\x07", false).text, "red ?[31mtext?");
  EXPECT_EQ(sanitize("a\rb\x7f", false).text, "a?b?");
  EXPECT_EQ(sanitize("\xc2\x9b"
                     "2J",
                     true)
                .text,
            "?2J");  // C1 CSI, valid UTF-8
}

TEST(TuiCells, TabsExpandToMultiplesOfEight) {
  EXPECT_EQ(sanitize("ab\tc", false).text, "ab      c");
  EXPECT_EQ(cell_width("\t", false), 8);
  EXPECT_EQ(cell_width("1234567\tx", false), 9);
}

TEST(TuiCells, Utf8IsMeasuredInCells) {
  Utf8Locale utf8;
  EXPECT_EQ(cell_width("R\xc2\xb2", true), 2);                 // R²
  EXPECT_EQ(cell_width("\xe6\x97\xa5\xe6\x9c\xac", true), 4);  // 日本: two cells each
  EXPECT_EQ(fit("\xe6\x97\xa5\xe6\x9c\xac", 3, true), "\xe6\x97\xa5~");
  // Invalid UTF-8 (a lone continuation byte, a truncated sequence) becomes '?'.
  EXPECT_EQ(sanitize("a\x80z\xe6\x97", true).text, "a?z??");
}

TEST(TuiCells, NonAsciiIsReplacedOnANonUtf8Terminal) {
  EXPECT_EQ(sanitize("R\xc2\xb2", false).text, "R?");
}

TEST(TuiCells, FitCutsWithAMarkerAndPads) {
  EXPECT_EQ(fit("abcdef", 4, false), "abc~");
  EXPECT_EQ(fit("abc", 4, false), "abc");
  EXPECT_EQ(fit("abc", 5, false, true), "abc  ");
  EXPECT_EQ(fit("abc", 5, false, true, true), "  abc");
  EXPECT_EQ(fit("abc", 0, false), "");
  EXPECT_EQ(fit("abcd", 4, false), "abcd");
}

TEST(TuiCells, WrapCutsIntoPiecesOfTheWidth) {
  EXPECT_EQ(wrap("abcdefg", 3, false), (std::vector<std::string>{"abc", "def", "g"}));
  EXPECT_EQ(wrap("", 3, false), (std::vector<std::string>{""}));
  Utf8Locale utf8;
  // A two-cell character never straddles a line end.
  EXPECT_EQ(wrap("a\xe6\x97\xa5\xe6\x9c\xac", 2, true),
            (std::vector<std::string>{"a", "\xe6\x97\xa5", "\xe6\x9c\xac"}));
}
