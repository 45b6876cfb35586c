#pragma once
// Prepared statements of one SQLite connection, prepared once and kept until the cache is
// destroyed (which finalizes them; it must go before the connection closes). Internal to
// engine/state: only store.cpp and its tests include this header (and so <sqlite3.h>).
//
// Keyed by the SQL text, not by where the text lives: two different statements built one
// after another in the same buffer (a temporary std::string's storage, reused) are two
// entries, and one statement spelled in two places is one.

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <unordered_map>

namespace flow::state {

class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  ~StatementCache();
  StatementCache(const StatementCache&) = delete;
  StatementCache& operator=(const StatementCache&) = delete;

  // The cached statement for `sql`, prepared (SQLITE_PREPARE_PERSISTENT) on first use. On a
  // prepare error returns nullptr and sets `rc`; nothing is cached then. The statement is
  // owned by the cache: callers reset it when done, never finalize it.
  sqlite3_stmt* get(std::string_view sql, int& rc);

  size_t size() const { return statements_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> statements_;
};

}  // namespace flow::state
