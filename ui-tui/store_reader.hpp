#pragma once
// The TUI's connection to the state database. It only reads: the connection is query-only
// (Store::Access::kQueryOnly; opening an older database migrates it first, as every flow
// command does), and each refresh reads inside one Store::ReadSnapshot, so a view shows one
// consistent moment of a run (instances and their tries agree) and the engine's writers are
// never blocked (WAL readers do not take the write lock).
//
// changed() is how the TUI avoids re-reading an idle database: Store::data_version()
// changes whenever another connection commits.

#include <cstdint>
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

  // Runs `fn(state::Store&)` inside one read snapshot and returns its result. Nested
  // read() calls share the outer snapshot.
  template <class Fn>
  decltype(auto) read(Fn&& fn) {
    state::Store::ReadSnapshot snapshot(*store_);
    return std::forward<Fn>(fn)(*store_);
  }

 private:
  std::unique_ptr<state::Store> store_;
  int64_t data_version_ = -1;
};

}  // namespace flow::tui
