#include "ui-tui/log_tail.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

using flow::tui::LogTail;

namespace {
void append(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::app | std::ios::binary) << text;
}
std::vector<std::string> lines(const LogTail& t) {
  return {t.lines().begin(), t.lines().end()};
}
}  // namespace

TEST(TuiLogTail, FollowsAFileAsItGrowsIncludingAnUnfinishedLastLine) {
  flow::test::TempDir dir;
  auto p = dir / "1.log";
  LogTail tail;
  tail.open(p);
  EXPECT_FALSE(tail.poll());  // not there yet
  EXPECT_FALSE(tail.exists());
  append(p, "one\ntw");
  EXPECT_TRUE(tail.poll());
  EXPECT_TRUE(tail.exists());
  EXPECT_EQ(lines(tail), (std::vector<std::string>{"one", "tw"}));
  EXPECT_FALSE(tail.poll());  // nothing new
  append(p, "o\nthree\n");
  EXPECT_TRUE(tail.poll());
  EXPECT_EQ(lines(tail), (std::vector<std::string>{"one", "two", "three"}));
}

TEST(TuiLogTail, CarriageReturnsKeepTheLastVersionOfALine) {
  flow::test::TempDir dir;
  auto p = dir / "1.log";
  append(p, "10%\r50%\r100%\nwindows\r\n");
  LogTail tail;
  tail.open(p);
  tail.poll();
  EXPECT_EQ(lines(tail), (std::vector<std::string>{"100%", "windows"}));
}

TEST(TuiLogTail, StartsOverWhenTheFileIsTruncatedOrReplaced) {
  flow::test::TempDir dir;
  auto p = dir / "1.log";
  append(p, "a\nb\nc\n");
  LogTail tail;
  tail.open(p);
  tail.poll();
  std::ofstream(p, std::ios::trunc) << "x\n";
  EXPECT_TRUE(tail.poll());
  EXPECT_EQ(lines(tail), (std::vector<std::string>{"x"}));
  auto q = dir / "new.log";
  append(q, "fresh file\n");
  std::filesystem::rename(q, p);
  EXPECT_TRUE(tail.poll());
  EXPECT_EQ(lines(tail), (std::vector<std::string>{"fresh file"}));
  std::filesystem::remove(p);
  EXPECT_TRUE(tail.poll());
  EXPECT_FALSE(tail.exists());
  EXPECT_TRUE(tail.lines().empty());
}

namespace {
std::string numbered(int from, int to) {
  std::string text;
  for (int i = from; i < to; ++i)
    text += "line " + std::to_string(i) + "\n";
  return text;
}
}  // namespace

TEST(TuiLogTail, AHugeLogIsReadFromItsEndAndKeepsTheLastLines) {
  flow::test::TempDir dir;
  auto p = dir / "1.log";
  append(p, numbered(0, 1000));  // ~8.9 kB
  LogTail tail(/*max_lines=*/100, /*first_read=*/4000);
  tail.open(p);
  tail.poll();
  EXPECT_TRUE(tail.truncated());
  ASSERT_EQ(tail.lines().size(), 100u);
  EXPECT_EQ(tail.lines().front(), "line 900");
  EXPECT_EQ(tail.lines().back(), "line 999");
  append(p, numbered(1000, 1300));  // ~3 kB: read whole, the oldest lines give way
  tail.poll();
  EXPECT_EQ(tail.lines().size(), 100u);
  EXPECT_EQ(tail.lines().front(), "line 1200");
  EXPECT_EQ(tail.lines().back(), "line 1299");
}

TEST(TuiLogTail, MoreThanAFirstReadAppendedAtOnceJumpsToTheEnd) {
  flow::test::TempDir dir;
  auto p = dir / "1.log";
  append(p, "start\nunfinished");
  LogTail tail(/*max_lines=*/1000, /*first_read=*/2000);
  tail.open(p);
  tail.poll();
  append(p, numbered(0, 1000));  // ~8.9 kB at once
  tail.poll();
  EXPECT_TRUE(tail.truncated());
  EXPECT_EQ(tail.lines().back(), "line 999");
  // Lines before the gap are gone; the first line after it is whole.
  EXPECT_NE(tail.lines().front(), "start");
  EXPECT_EQ(tail.lines().front().rfind("line ", 0), 0u);
  EXPECT_LT(tail.lines().size(), 250u);
}

TEST(TuiLogTail, OpeningAnotherFileDropsTheOldLines) {
  flow::test::TempDir dir;
  append(dir / "1.log", "first try\n");
  append(dir / "2.log", "second try\n");
  LogTail tail;
  tail.open(dir / "1.log");
  tail.poll();
  tail.open(dir / "1.log");  // the same file: kept
  EXPECT_EQ(lines(tail), (std::vector<std::string>{"first try"}));
  tail.open(dir / "2.log");
  tail.poll();
  EXPECT_EQ(lines(tail), (std::vector<std::string>{"second try"}));
}
