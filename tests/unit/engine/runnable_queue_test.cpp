// The runnable queue: the order instances became ready, across sites, and a tick that
// costs what it launches rather than what waits behind a full site.
#include "engine/run/runnable_queue.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using namespace flow;
using run::RunnableQueue;
using Taken = RunnableQueue::Taken;

namespace {

// Takes what its sites have room for; records what it was offered.
struct Slots {
  explicit Slots(std::map<std::string, int> slots) : free(std::move(slots)) {}
  std::map<std::string, int> free;  // by the site prefix of an id ("a:1" is on site a)
  std::vector<std::string> offered, taken;
  Taken operator()(const std::string& id) {
    offered.push_back(id);
    int& n = free[id.substr(0, id.find(':'))];
    if (n == 0) return Taken::kSiteFull;
    --n;
    taken.push_back(id);
    return Taken::kYes;
  }
};

void push(RunnableQueue& q, const std::string& id) {
  q.push(id.substr(0, id.find(':')), id);
}

}  // namespace

TEST(RunnableQueue, OffersEntriesInTheOrderTheyWerePushedAcrossSites) {
  RunnableQueue q;
  for (const char* id : {"b:1", "a:1", "c:1", "a:2", "b:2"})
    push(q, id);
  Slots s({{"a", 9}, {"b", 9}, {"c", 9}});
  q.drain(std::ref(s));
  EXPECT_EQ(s.taken, (std::vector<std::string>{"b:1", "a:1", "c:1", "a:2", "b:2"}));
  EXPECT_TRUE(q.empty());
}

TEST(RunnableQueue, AFullSiteKeepsItsEntriesInOrderAndOthersStillLaunch) {
  RunnableQueue q;
  for (const char* id : {"a:1", "a:2", "b:1", "a:3", "b:2"})
    push(q, id);
  Slots s({{"a", 1}, {"b", 9}});
  q.drain(std::ref(s));
  EXPECT_EQ(s.taken, (std::vector<std::string>{"a:1", "b:1", "b:2"}));
  EXPECT_EQ(q.size(), 2u);
  Slots next({{"a", 9}});
  q.drain(std::ref(next));
  EXPECT_EQ(next.taken, (std::vector<std::string>{"a:2", "a:3"}));
  EXPECT_TRUE(q.empty());
}

// The foreach of the issue: 20,000 ready instances, two slots. Each tick used to walk all
// that waited (quadratic in the list); now it is offered what it launches plus one entry
// per site it finds full.
TEST(RunnableQueue, ATickIsOfferedWhatItLaunchesNotWhatWaits) {
  RunnableQueue q;
  for (int i = 0; i < 20000; ++i)
    push(q, "a:" + std::to_string(i));
  push(q, "b:0");
  size_t offered = 0;
  for (int tick = 0; tick < 100; ++tick) {
    Slots s({{"a", 2}, {"b", 0}});
    q.drain(std::ref(s));
    ASSERT_EQ(s.taken.size(), 2u);
    EXPECT_EQ(s.taken[0], "a:" + std::to_string(2 * tick));
    offered += s.offered.size();
  }
  EXPECT_EQ(offered, 100u * (2 + 2));  // two launched, then a and b each found full once
  EXPECT_EQ(q.size(), 20001u - 200u);
}

TEST(RunnableQueue, EntriesPushedWhileDrainingAreOfferedInTheSameDrain) {
  RunnableQueue q;
  push(q, "a:1");
  std::vector<std::string> offered;
  q.drain([&](const std::string& id) {
    offered.push_back(id);
    if (id == "a:1") {
      push(q, "b:1");  // a site that was empty
      push(q, "a:2");  // the site being drained
    }
    return Taken::kYes;
  });
  EXPECT_EQ(offered, (std::vector<std::string>{"a:1", "b:1", "a:2"}));
  EXPECT_TRUE(q.empty());
}

TEST(RunnableQueue, ClearEmptiesEverySite) {
  RunnableQueue q;
  push(q, "a:1");
  push(q, "b:1");
  q.clear();
  EXPECT_TRUE(q.empty());
  bool offered = false;
  q.drain([&](const std::string&) {
    offered = true;
    return Taken::kYes;
  });
  EXPECT_FALSE(offered);
}
