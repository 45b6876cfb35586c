#pragma once
// Internal to engine/state (store.cpp, store_rows.cpp): what a Store is made of, and the
// statement wrapper both files use. Includes <sqlite3.h>; store.hpp does not.

#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/state/statement_cache.hpp"
#include "engine/state/store.hpp"

namespace flow::state {

namespace detail {
// Owns the connection; closed after everything declared after it in Store::Impl.
struct Connection {
  sqlite3* db;
  explicit Connection(sqlite3* d) : db(d) {}
  ~Connection() { sqlite3_close_v2(db); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
};
}  // namespace detail

struct Store::Impl {
  Impl(sqlite3* d, std::filesystem::path p)
      : connection(d), db(d), path(std::move(p)), statements(d) {}

  [[noreturn]] void fail(int rc, const std::string& what) const;
  void exec(const std::string& sql);
  sqlite3_stmt* prepare(std::string_view sql);

  detail::Connection connection;
  sqlite3* db;
  std::filesystem::path path;
  StatementCache statements;   // finalized before the connection closes
  int wal_pages = 0;           // WAL size after the last commit (manual checkpoints)
  int checkpointed_pages = 0;  // ... of which the last checkpoint() covered
  int tx_depth = 0;            // open Transactions (nested ones are savepoints)
  int read_depth = 0;          // open ReadSnapshots outside any Transaction
};

// A cached prepared statement in use: binds by position, resets when done.
class Stmt {
 public:
  Stmt(Store::Impl& db, std::string_view sql) : db_(db), st_(db.prepare(sql)) {}
  Stmt(Store::Impl& db, const std::string& sql) : Stmt(db, std::string_view(sql)) {}
  Stmt(Store::Impl& db, const char* sql) : Stmt(db, std::string_view(sql)) {}
  ~Stmt() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(const std::string& v) {
    check(sqlite3_bind_text(st_, ++n_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(const char* v) { return bind(std::string(v)); }
  Stmt& bind(int64_t v) {
    check(sqlite3_bind_int64(st_, ++n_, v));
    return *this;
  }
  Stmt& bind(int v) { return bind(static_cast<int64_t>(v)); }
  Stmt& bind(uint64_t v) { return bind(static_cast<int64_t>(v)); }
  Stmt& bind(double v) {
    check(sqlite3_bind_double(st_, ++n_, v));
    return *this;
  }
  Stmt& bind_null() {
    check(sqlite3_bind_null(st_, ++n_));
    return *this;
  }
  Stmt& bind_json_or_null(const nlohmann::json& j) {
    if (j.is_null()) {
      check(sqlite3_bind_null(st_, ++n_));
      return *this;
    }
    return bind(j.dump());
  }
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    db_.fail(rc, "query");
  }
  void run() {
    while (step()) {
    }
  }
  std::string text(int col) const {
    auto p = sqlite3_column_text(st_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(st_, col)) : "";
  }
  int64_t i64(int col) const { return sqlite3_column_int64(st_, col); }
  int i32(int col) const { return sqlite3_column_int(st_, col); }
  bool is_null(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }
  nlohmann::json json(int col, nlohmann::json fallback) const {
    if (is_null(col)) return fallback;
    auto j = nlohmann::json::parse(text(col), nullptr, false);
    return j.is_discarded() ? fallback : j;
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) db_.fail(rc, "bind");
  }
  Store::Impl& db_;
  sqlite3_stmt* st_;
  int n_ = 0;
};

}  // namespace flow::state
