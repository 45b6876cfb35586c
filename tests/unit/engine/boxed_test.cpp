// flow::Boxed: std::optional's meaning in one pointer's room.
#include "engine/core/boxed.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using flow::Boxed;

TEST(Boxed, StartsEmptyAndHoldsWhatIsEmplaced) {
  Boxed<std::string> b;
  EXPECT_FALSE(b.has_value());
  EXPECT_FALSE(b);
  b.emplace(3, 'x');
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, "xxx");
  EXPECT_EQ(b->size(), 3u);
  b.reset();
  EXPECT_FALSE(b.has_value());
}

TEST(Boxed, ACopyHasItsOwnValue) {
  Boxed<std::vector<int>> a;
  a.emplace(std::vector<int>{1, 2});
  Boxed<std::vector<int>> b = a;
  b->push_back(3);
  EXPECT_EQ(a->size(), 2u) << "a copy must not share the value";
  EXPECT_EQ(b->size(), 3u);
  Boxed<std::vector<int>> empty;
  b = empty;
  EXPECT_FALSE(b.has_value());
  EXPECT_TRUE(a.has_value());
}

TEST(Boxed, AMoveTakesTheValueWithoutCopyingIt) {
  Boxed<std::vector<int>> a;
  a.emplace(std::vector<int>{7});
  const int* where = a->data();
  Boxed<std::vector<int>> b = std::move(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->data(), where);
}

TEST(Boxed, IsOnePointerWide) {
  struct Big {
    char bytes[344];
  };
  EXPECT_EQ(sizeof(Boxed<Big>), sizeof(void*));
}
