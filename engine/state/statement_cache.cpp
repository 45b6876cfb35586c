#include "engine/state/statement_cache.hpp"

namespace flow::state {

StatementCache::~StatementCache() {
  for (auto& [_, st] : statements_)
    sqlite3_finalize(st);
}

sqlite3_stmt* StatementCache::get(std::string_view sql, int& rc) {
  rc = SQLITE_OK;
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  sqlite3_stmt* st = nullptr;
  rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                          &st, nullptr);
  if (rc == SQLITE_OK && st == nullptr) rc = SQLITE_MISUSE;  // no statement in the text
  if (rc != SQLITE_OK) {
    sqlite3_finalize(st);
    return nullptr;
  }
  statements_.emplace(std::string(sql), st);
  return st;
}

}  // namespace flow::state
