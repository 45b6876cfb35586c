#pragma once
// The TUI's connection to the state database. It only reads: the connection is switched
// to `PRAGMA query_only` right after opening (opening an older database migrates it, as
// every flow command does), and each refresh reads inside one short read transaction, so
// a view shows one consistent moment of a run (instances and their tries agree) and the
// engine's writers are never blocked (WAL readers do not take the write lock).
//
// changed() is how the TUI avoids re-reading an idle database: SQLite's data_version
// changes whenever another connection commits.

#include <filesystem>
#include <memory>
#include <utility>

#include "engine/state/store.hpp"

namespace flow::tui {

class StoreReader {
 public:
  // Opens an existing database; EnvironmentError (exit 3) when there is none.
  explicit StoreReader(const std::filesystem::path& db);

  const std::filesystem::path& path() const { return store_->path(); }

  // True when another connection committed since the last call (the first call: true).
  bool changed();

  // Runs `fn(state::Store&)` inside one read transaction and returns its result.
  template <class Fn>
  decltype(auto) read(Fn&& fn) {
    Snapshot snapshot(*this);
    return std::forward<Fn>(fn)(*store_);
  }

 private:
  // BEGIN (deferred: becomes a read transaction at the first SELECT) ... COMMIT.
  class Snapshot {
   public:
    explicit Snapshot(StoreReader& r);
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    StoreReader& reader_;
  };

  void exec(const char* sql);

  std::unique_ptr<state::Store> store_;
  long long data_version_ = -1;
  int depth_ = 0;  // nested read() calls share the outer transaction
};

}  // namespace flow::tui
