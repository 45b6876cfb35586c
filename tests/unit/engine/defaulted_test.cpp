// flow::Defaulted: a value that reads as T{} until it is edited, in one pointer's room.
#include "engine/core/defaulted.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/dag/dag.hpp"

using flow::Defaulted;

TEST(Defaulted, ReadsAsTheDefaultValueUntilEdited) {
  Defaulted<std::vector<int>> d;
  EXPECT_FALSE(d.held());
  EXPECT_TRUE(d->empty());
  EXPECT_EQ(*d, std::vector<int>{});
  d.edit().push_back(4);
  EXPECT_TRUE(d.held());
  EXPECT_EQ(*d, std::vector<int>{4});
}

TEST(Defaulted, EditingOneNeverChangesWhatAnotherUnsetOneReads) {
  Defaulted<std::string> a;
  Defaulted<std::string> b;
  a.edit() = "changed";
  EXPECT_EQ(*a, "changed");
  EXPECT_EQ(*b, "") << "unset values share one default, which must stay T{}";
  EXPECT_NE(&*a, &*b);
}

TEST(Defaulted, ACopyHasItsOwnValue) {
  Defaulted<std::vector<int>> a;
  a.edit() = {1, 2};
  Defaulted<std::vector<int>> b = a;
  b.edit().push_back(3);
  EXPECT_EQ(a->size(), 2u) << "a copy must not share the value";
  EXPECT_EQ(b->size(), 3u);
  b = Defaulted<std::vector<int>>();
  EXPECT_FALSE(b.held());
  EXPECT_TRUE(b->empty());
}

// What it is for: a task without `slurm:` holds a pointer, not a 160-byte block, and a
// task copied from `defaults:` gets its own block.
TEST(Defaulted, KeepsATasksSlurmBlockOutOfTheTaskUntilOneIsGiven) {
  EXPECT_EQ(sizeof(Defaulted<flow::dag::SlurmSpec>), sizeof(void*));
  flow::dag::Task proto;
  EXPECT_TRUE(proto.slurm->empty());
  proto.slurm.edit().partition = "gpus";
  flow::dag::Task t = proto;
  t.slurm.edit().nodes = 2;
  EXPECT_EQ(t.slurm->partition, "gpus");
  EXPECT_EQ(proto.slurm->nodes, 0);
}
