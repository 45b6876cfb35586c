#include "ui-tui/list_cursor.hpp"

#include <gtest/gtest.h>

using flow::tui::ListCursor;

TEST(TuiListCursor, MovesWithinTheListAndScrollsJustEnough) {
  ListCursor c;
  c.set_count(100);
  EXPECT_EQ(c.scroll(10), 0u);
  c.move(9);
  EXPECT_EQ(c.scroll(10), 0u);  // the 10th row is still on screen
  c.move(1);
  EXPECT_EQ(c.scroll(10), 1u);  // one row further: scrolled by one
  c.move(-1000);
  EXPECT_EQ(c.selected(), 0u);
  c.last();
  EXPECT_EQ(c.selected(), 99u);
  EXPECT_EQ(c.scroll(10), 90u);
  c.page(-1);
  EXPECT_EQ(c.selected(), 90u);
  c.move(1000);
  EXPECT_EQ(c.selected(), 99u);
}

TEST(TuiListCursor, ClampsWhenTheListShrinks) {
  ListCursor c;
  c.set_count(50);
  c.last();
  c.scroll(10);
  c.set_count(5);
  EXPECT_EQ(c.selected(), 4u);
  EXPECT_EQ(c.scroll(10), 0u);  // no empty rows below while something is above
  c.set_count(0);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.selected(), 0u);
  c.move(1);
  EXPECT_EQ(c.selected(), 0u);
}
