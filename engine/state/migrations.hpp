#pragma once
// The schema of the state database, as the list of migrations that build it. Migration i
// (1-based) takes a database of schema version i-1 to version i; `PRAGMA user_version`
// holds the version a database has. Store::open applies the missing ones in one write
// transaction and refuses a database newer than latest_schema_version().
//
// Invariant: a released migration is never edited, only appended to, so a database made by
// any earlier flow reaches the same schema as a new one. tests/fixtures/db/schema-N.db are
// real databases of each earlier version; tests/unit/engine/migration_test.cpp migrates
// each and checks every row survives.

#include <span>

namespace flow::state {

struct Migration {
  int version;        // the schema version it produces
  const char* about;  // one line: what it adds
  const char* sql;    // one or more statements
};

// In order: migrations()[i].version == i + 1.
std::span<const Migration> migrations();

// The version this flow creates and migrates to: migrations().size().
int latest_schema_version();

}  // namespace flow::state
