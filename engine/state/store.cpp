#include "engine/state/store.hpp"

#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "engine/core/error.hpp"
#include "engine/core/private_files.hpp"
#include "engine/state/migrations.hpp"
#include "engine/state/store_impl.hpp"

namespace flow::state {

namespace {

// Why flow cannot write the database at `db` (its directory or the file is read-only), or
// "" when nothing says so. SQLite's write-ahead log needs both even to read.
std::string read_only_reason(const std::filesystem::path& db) {
  const std::filesystem::path dir = db.has_parent_path() ? db.parent_path() : ".";
  struct ::statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
    return dir.string() + " is on a read-only file system";
  if (::access(dir.c_str(), W_OK) != 0 && errno != ENOENT)
    return dir.string() + " is read-only for this user (" + std::strerror(errno) + ")";
  if (::access(db.c_str(), W_OK) != 0 && errno != ENOENT)
    return db.string() + " is read-only for this user (" + std::strerror(errno) + ")";
  return "";
}

[[noreturn]] void throw_read_only(const std::filesystem::path& db, const std::string& reason,
                                  const std::string& detail) {
  throw EnvironmentError("database " + db.string() + ": cannot write it: " + reason +
                         "; flow writes its database (and SQLite's write-ahead log beside it) "
                         "even to read it: make it writable, or point FLOW_HOME or --db at a "
                         "writable place (" +
                         detail + ")");
}

}  // namespace

void Store::Impl::fail(int rc, const std::string& what) const {
  int base = rc & 0xff;
  std::string detail = sqlite3_errmsg(db);
  std::string file = path.string();
  if (base == SQLITE_IOERR && sqlite3_system_errno(db) == ENOSPC) base = SQLITE_FULL;
  if (base == SQLITE_BUSY || base == SQLITE_LOCKED) {
    throw EnvironmentError("database " + file +
                           " is locked by another flow process past the "
                           "busy timeout; try again, or check for a hung process (" +
                           detail + ")");
  }
  if (base == SQLITE_FULL) {
    throw EnvironmentError("database " + file +
                           ": disk full while writing; nothing was lost — "
                           "free some space and run the command again (flow resume RUN_ID "
                           "continues a run)");
  }
  if (base == SQLITE_READONLY || base == SQLITE_CANTOPEN || base == SQLITE_IOERR ||
      base == SQLITE_PERM) {
    if (auto reason = read_only_reason(path); !reason.empty())
      throw_read_only(path, reason, detail);
    throw EnvironmentError("database " + file + ": " + detail + " (" + what + ")");
  }
  if (base == SQLITE_CORRUPT || base == SQLITE_NOTADB) {
    throw EnvironmentError("database " + file + " is not a flow database or is damaged (" + detail +
                           "); restore it from a backup, or move it aside and flow starts a "
                           "new one (its runs are then gone)");
  }
  throw Error(ErrorKind::kFailure, "database " + file + ": " + what + " failed: " + detail);
}

void Store::Impl::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) fail(rc, "statement");
}

sqlite3_stmt* Store::Impl::prepare(std::string_view sql) {
  int rc = SQLITE_OK;
  sqlite3_stmt* st = statements.get(sql, rc);
  if (!st) fail(rc, "prepare");
  return st;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() = default;

const std::filesystem::path& Store::path() const {
  return impl_->path;
}

namespace {
sqlite3* open_db(const std::filesystem::path& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    if (auto reason = read_only_reason(path); !reason.empty()) throw_read_only(path, reason, msg);
    throw EnvironmentError("cannot open database " + path.string() + ": " + msg);
  }
  return db;
}
}  // namespace

std::unique_ptr<Store> Store::open(const std::filesystem::path& path,
                                   std::chrono::milliseconds busy_timeout) {
  // $FLOW_HOME and the database are private to the user (engine/core/private_files.hpp);
  // SQLite creates the -wal and -shm files with the database's mode.
  std::error_code ec;
  if (path.has_parent_path()) create_private_directories(path.parent_path(), ec);
  if (ec) {
    throw EnvironmentError("cannot create " + path.parent_path().string() + ": " + ec.message());
  }
  if (!create_private_file(path, ec)) {
    if (auto reason = read_only_reason(path); !reason.empty())
      throw_read_only(path, reason, ec.message());
    throw EnvironmentError("cannot create database " + path.string() + ": " + ec.message());
  }
  sqlite3* db = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  std::unique_ptr<Store> s(new Store(std::make_unique<Impl>(db, path)));
  sqlite3_busy_timeout(db, static_cast<int>(busy_timeout.count()));
  // Switching a new file to WAL and creating the schema can race with another process
  // doing the same; SQLite reports that as BUSY without calling the busy handler, so
  // retry here until the busy timeout.
  auto deadline = std::chrono::steady_clock::now() + busy_timeout;
  for (int attempt = 0;; ++attempt) {
    try {
      s->impl_->exec("PRAGMA journal_mode=WAL");
      s->impl_->exec("PRAGMA synchronous=NORMAL");
      s->impl_->exec("PRAGMA foreign_keys=ON");
      s->migrate();
      return s;
    } catch (const EnvironmentError&) {
      int code = sqlite3_errcode(db) & 0xff;
      bool busy = code == SQLITE_BUSY || code == SQLITE_LOCKED;
      if (!busy || std::chrono::steady_clock::now() > deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(10 + 10 * std::min(attempt, 10)));
    }
  }
}

std::unique_ptr<Store> Store::open_existing(const std::filesystem::path& path, Access access) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw EnvironmentError("no flow database at " + path.string() +
                           " (run a DAG first, or pass --db PATH / set FLOW_HOME)");
  }
  auto store = open(path);
  if (access == Access::kQueryOnly) store->impl_->exec("PRAGMA query_only=1");
  return store;
}

int Store::latest_schema_version() {
  return state::latest_schema_version();
}

int Store::schema_version() {
  Stmt st(*impl_, "PRAGMA user_version");
  return st.step() ? st.i32(0) : 0;
}

int64_t Store::data_version() {
  Stmt st(*impl_, "PRAGMA data_version");
  return st.step() ? st.i64(0) : 0;
}

std::string Store::integrity_check() {
  Stmt st(*impl_, "PRAGMA integrity_check");
  std::string out;
  while (st.step())
    out += (out.empty() ? "" : "\n") + st.text(0);
  return out;
}

void Store::migrate() {
  const int latest = state::latest_schema_version();
  auto refuse_newer = [&](int v) {
    if (v <= latest) return;
    throw EnvironmentError("database " + impl_->path.string() + " has schema version " +
                           std::to_string(v) + ", newer than this flow understands (" +
                           std::to_string(latest) +
                           ", flow " FLOW_VERSION
                           "): a newer flow wrote it. Upgrade flow to use it, or pass "
                           "--db / set FLOW_HOME to use another database");
  };
  int v = schema_version();
  refuse_newer(v);
  if (v == latest) return;
  Transaction tx(*this);
  // Re-check under the write lock: another process may have migrated meanwhile.
  v = schema_version();
  refuse_newer(v);
  for (const Migration& m : migrations()) {
    if (m.version > v) impl_->exec(m.sql);
  }
  impl_->exec("PRAGMA user_version=" + std::to_string(latest));
  tx.commit();
}

// BEGIN and COMMIT are cached statements too: the engine runs one transaction per tick.
// A transaction opened inside another is a savepoint of it.
Store::Transaction::Transaction(Store& store) : store_(store), nested_(store.impl_->tx_depth > 0) {
  if (store.impl_->read_depth > 0) {
    throw std::logic_error("a Store::Transaction cannot start inside a Store::ReadSnapshot");
  }
  Stmt(*store_.impl_, nested_ ? "SAVEPOINT flow_nested" : "BEGIN IMMEDIATE").run();
  ++store_.impl_->tx_depth;
}

Store::Transaction::~Transaction() {
  if (done_) return;
  --store_.impl_->tx_depth;
  sqlite3_exec(store_.impl_->db,
               nested_ ? "ROLLBACK TO flow_nested; RELEASE flow_nested" : "ROLLBACK", nullptr,
               nullptr, nullptr);
}

void Store::Transaction::commit() {
  Stmt(*store_.impl_, nested_ ? "RELEASE flow_nested" : "COMMIT").run();
  done_ = true;
  --store_.impl_->tx_depth;
}

// BEGIN DEFERRED takes no lock; the first read does. Reading the schema table right away
// pins the snapshot to the moment the ReadSnapshot is made, not to its first query.
Store::ReadSnapshot::ReadSnapshot(Store& store)
    : store_(store), counted_(store.impl_->tx_depth == 0) {
  if (!counted_) return;  // part of the write transaction around it
  Impl& impl = *store_.impl_;
  if (impl.read_depth++ > 0) return;  // part of the snapshot around it
  try {
    Stmt(impl, "BEGIN DEFERRED").run();
    Stmt(impl, "SELECT count(*) FROM sqlite_schema").run();
  } catch (...) {
    --impl.read_depth;
    if (!sqlite3_get_autocommit(impl.db))
      sqlite3_exec(impl.db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

Store::ReadSnapshot::~ReadSnapshot() {
  // Ending a read transaction cannot fail for want of a lock; COMMIT only releases it.
  if (counted_ && --store_.impl_->read_depth == 0)
    sqlite3_exec(store_.impl_->db, "COMMIT", nullptr, nullptr, nullptr);
}

void Store::set_manual_checkpoints(bool on) {
  impl_->wal_pages = impl_->checkpointed_pages = 0;
  if (!on) {
    sqlite3_wal_autocheckpoint(impl_->db, 1000);  // SQLite's default hook and size
    return;
  }
  // A WAL hook replaces SQLite's automatic checkpoint (which is one); this one only counts.
  sqlite3_wal_hook(
      impl_->db,
      [](void* self, sqlite3*, const char*, int pages) {
        static_cast<Impl*>(self)->wal_pages = pages;
        return SQLITE_OK;
      },
      impl_.get());
}

int Store::wal_pages() const {
  return impl_->wal_pages - impl_->checkpointed_pages;
}

void Store::checkpoint() {
  int log = 0, done = 0;
  // Best effort: a busy database (another writer, a long reader) just means later.
  if (sqlite3_wal_checkpoint_v2(impl_->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done) ==
      SQLITE_OK) {
    // All of it copied: the next commit starts the WAL over (its page count restarts).
    impl_->checkpointed_pages = done == log ? 0 : done;
    if (done == log) impl_->wal_pages = 0;
  }
}

}  // namespace flow::state
