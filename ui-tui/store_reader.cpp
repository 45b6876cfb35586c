#include "ui-tui/store_reader.hpp"

#include <sqlite3.h>

#include "engine/core/error.hpp"

namespace flow::tui {

StoreReader::StoreReader(const std::filesystem::path& db)
    : store_(state::Store::open_existing(db)) {
  exec("PRAGMA query_only=1");
}

void StoreReader::exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(store_->handle(), sql, nullptr, nullptr, &err);
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  if (rc != SQLITE_OK) {
    throw EnvironmentError("cannot read " + store_->path().string() + " (" + sql + "): " + msg);
  }
}

bool StoreReader::changed() {
  sqlite3_stmt* st = nullptr;
  long long v = data_version_;
  if (sqlite3_prepare_v2(store_->handle(), "PRAGMA data_version", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  const bool changed = v != data_version_ || data_version_ < 0;
  data_version_ = v;
  return changed;
}

StoreReader::Snapshot::Snapshot(StoreReader& r) : reader_(r) {
  if (reader_.depth_ == 0) reader_.exec("BEGIN");
  ++reader_.depth_;
}

StoreReader::Snapshot::~Snapshot() {
  if (--reader_.depth_ == 0) {
    // A read transaction: COMMIT only ends it. It cannot fail for lack of a lock.
    sqlite3_exec(reader_.store_->handle(), "COMMIT", nullptr, nullptr, nullptr);
  }
}

}  // namespace flow::tui
