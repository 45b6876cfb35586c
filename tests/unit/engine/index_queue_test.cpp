// flow::run::IndexQueue: the run controller's nodes waiting to be decided.
#include "engine/run/index_queue.hpp"

#include <gtest/gtest.h>

#include <vector>

using flow::run::IndexQueue;

namespace {
std::vector<size_t> drain(IndexQueue& q) {
  std::vector<size_t> out;
  while (!q.empty())
    out.push_back(q.pop());
  return out;
}
}  // namespace

TEST(IndexQueue, GivesTheLowestWaitingIndexFirst) {
  IndexQueue q;
  q.reserve(10);
  for (size_t i : {7, 2, 9, 0, 5})
    q.push(i);
  EXPECT_EQ(q.size(), 5u);
  EXPECT_EQ(drain(q), (std::vector<size_t>{0, 2, 5, 7, 9}));
}

TEST(IndexQueue, HoldsAnIndexOnceUntilItIsTaken) {
  IndexQueue q;
  EXPECT_TRUE(q.push(3));
  EXPECT_FALSE(q.push(3)) << "a waiting index is not added twice";
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.pop(), 3u);
  EXPECT_TRUE(q.push(3)) << "once taken, it may wait again";
  EXPECT_EQ(drain(q), std::vector<size_t>{3});
}

// The controller pushes a node's downstream while it drains: a lower index pushed then is
// the next one out, as it was from the std::set of nodes this replaced.
TEST(IndexQueue, AnIndexPushedWhileDrainingTakesItsPlaceInTheOrder) {
  IndexQueue q;
  q.push(4);
  q.push(8);
  EXPECT_EQ(q.pop(), 4u);
  q.push(6);
  q.push(100000);  // beyond what was reserved: the marks grow
  EXPECT_EQ(drain(q), (std::vector<size_t>{6, 8, 100000}));
}
