// The Store's prepared-statement cache is keyed by the SQL text: a statement is found again
// by its text wherever that text lives, and never by the address of a buffer that has since
// held other SQL.
#include "engine/state/statement_cache.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

using flow::state::StatementCache;

namespace {

struct Memory {
  sqlite3* db = nullptr;
  Memory() { sqlite3_open(":memory:", &db); }
  ~Memory() { sqlite3_close_v2(db); }
};

int64_t first_value(sqlite3_stmt* st) {
  EXPECT_EQ(sqlite3_step(st), SQLITE_ROW);
  int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_reset(st);
  return v;
}

}  // namespace

TEST(StatementCache, TwoStatementsBuiltInTheSameBufferAreTwoEntries) {
  Memory m;
  StatementCache cache(m.db);
  int rc = 0;
  // One buffer, reused: what a temporary std::string's storage does. A cache keyed by the
  // pointer would hand back "SELECT 1" for the second text.
  char sql[64];
  std::strcpy(sql, "SELECT 1");
  EXPECT_EQ(first_value(cache.get(sql, rc)), 1);
  std::strcpy(sql, "SELECT 2");
  EXPECT_EQ(first_value(cache.get(sql, rc)), 2);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(StatementCache, OneTextInTwoPlacesIsOneStatement) {
  Memory m;
  StatementCache cache(m.db);
  int rc = 0;
  std::string a = "SELECT 40 + 2", b = a;
  ASSERT_NE(a.data(), b.data());
  sqlite3_stmt* first = cache.get(a, rc);
  EXPECT_EQ(cache.get(b, rc), first);
  EXPECT_EQ(first_value(first), 42);
  EXPECT_EQ(cache.size(), 1u);
}

TEST(StatementCache, APrepareErrorIsReportedAndNotCached) {
  Memory m;
  StatementCache cache(m.db);
  int rc = SQLITE_OK;
  EXPECT_EQ(cache.get("SELEKT 1", rc), nullptr);
  EXPECT_EQ(rc, SQLITE_ERROR);
  EXPECT_EQ(cache.get("   ", rc), nullptr);
  EXPECT_NE(rc, SQLITE_OK);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_NE(cache.get("SELECT 1", rc), nullptr);
  EXPECT_EQ(rc, SQLITE_OK);
}
