#include "ui-tui/table_layout.hpp"

#include <gtest/gtest.h>

#include <numeric>

using namespace flow::tui;

namespace {
// The task grid's columns (task_view.cpp), with typical content.
std::vector<ColumnSpec> grid() {
  return {
      {"TASK", 24, 14, 0},
      {"STATE", 15, 9, 1},
      {"TRY", 3, 3, 3, true},
      {"SITE", 14, 5, 5},
      {"JOB", 8, 5, 4},
      {"DURATION", 8, 8, 2, true},
      {"MESSAGE", 40, 8, 6, false, true},
  };
}
int used(const std::vector<int>& w) {
  int sum = 0, n = 0;
  for (int x : w) {
    sum += x;
    n += x > 0;
  }
  return sum + std::max(n - 1, 0);
}
}  // namespace

TEST(TuiTableLayout, EverythingFitsOnAWideTerminal) {
  auto w = layout_columns(grid(), 200);
  EXPECT_EQ(w[0], 24);
  EXPECT_EQ(w[3], 14);
  EXPECT_EQ(w[4], 8);
  EXPECT_EQ(used(w), 200);  // the message takes the rest
}

TEST(TuiTableLayout, At80ColumnsTheImportantColumnsStayWhole) {
  auto w = layout_columns(grid(), 80);
  EXPECT_EQ(w[0], 24);  // TASK
  EXPECT_EQ(w[1], 15);  // STATE
  EXPECT_EQ(w[2], 3);   // TRY
  EXPECT_EQ(w[5], 8);   // DURATION
  EXPECT_GT(w[6], 0);   // some MESSAGE
  EXPECT_LE(used(w), 80);
}

TEST(TuiTableLayout, TheLeastImportantColumnsAreDroppedFirst) {
  auto w = layout_columns(grid(), 50);
  EXPECT_EQ(w[6], 0);  // MESSAGE (priority 6) went first
  EXPECT_GT(w[3], 0);  // SITE still fits
  EXPECT_LE(used(w), 50);
  w = layout_columns(grid(), 44);
  EXPECT_EQ(w[6], 0);
  EXPECT_EQ(w[3], 0);  // then SITE (5)
  EXPECT_GT(w[0], 0);
  EXPECT_GT(w[1], 0);
  EXPECT_LE(used(w), 44);
}

TEST(TuiTableLayout, TheMostImportantColumnIsKeptEvenWhenTooNarrow) {
  auto w = layout_columns(grid(), 6);
  EXPECT_EQ(w[0], 6);
  EXPECT_EQ(used(w), 6);
}

TEST(TuiTableLayout, NarrowContentTakesLessThanTheMinimum) {
  auto w = layout_columns({{"A", 2, 10, 0}, {"B", 3, 3, 1, false, true}}, 40);
  EXPECT_EQ(w[0], 2);
  EXPECT_EQ(w[1], 37);
}

TEST(TuiTableLayout, AnOptionalColumnMakesRoomForMoreImportantOnes) {
  ColumnSpec dag{"DAG", 8, 8, 5};
  dag.optional = true;
  const std::vector<ColumnSpec> runs = {
      {"RUN", 29, 12, 0}, dag, {"STATE", 11, 11, 1}, {"TASKS", 20, 10, 4, false, true}};
  auto narrow = layout_columns(runs, 64);
  // With DAG the counts would get 64 - 29 - 8 - 11 - 3 = 13 of their 20 cells; without
  // it they get the rest of the line.
  EXPECT_EQ(narrow[1], 0);
  EXPECT_EQ(narrow[0], 29);
  EXPECT_EQ(narrow[3], 64 - 29 - 11 - 2);
  auto wide = layout_columns(runs, 100);
  EXPECT_EQ(wide[1], 8);
  EXPECT_EQ(wide[0], 29);
}
