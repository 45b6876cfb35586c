#include "engine/state/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include "engine/core/error.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow::state;

namespace {
RunRecord sample_run(const std::string& id) {
  RunRecord r;
  r.id = id;
  r.dag = "demo";
  r.dag_yaml = "dag: demo";
  r.dag_hash = "abc";
  r.run_dir = "/tmp/x";
  r.created = flow::now_ms();
  return r;
}
}  // namespace

TEST(Store, CreatesSchemaAndRoundTripsRecords) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "sub" / "flow.db");
  EXPECT_EQ(store->schema_version(), Store::latest_schema_version());
  store->insert_run(sample_run("r1"));
  InstanceRecord i;
  i.run_id = "r1";
  i.id = "tiles[3]";
  i.task_id = "tiles";
  i.parent = "tiles";
  i.map_index = 3;
  i.state = TaskState::kRunning;
  i.outputs = {{"k", 1}};
  store->put_instance(i);
  i.state = TaskState::kSucceeded;
  store->put_instance(i);  // upsert
  auto got = store->get_instance("r1", "tiles[3]");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, TaskState::kSucceeded);
  EXPECT_EQ(got->outputs["k"], 1);
  EXPECT_EQ(store->instances("r1").size(), 1u);
  EXPECT_EQ(store->state_counts("r1")["succeeded"], 1);
}

TEST(Store, DuplicateRunIdIsAClearError) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  store->insert_run(sample_run("r1"));
  try {
    store->insert_run(sample_run("r1"));
    FAIL();
  } catch (const flow::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos);
  }
}

TEST(Store, PutTryUpdatesTheTryInPlace) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  store->insert_run(sample_run("r1"));
  TryRecord t;
  t.run_id = "r1";
  t.instance_id = "a";
  t.try_number = 1;
  t.state = TaskState::kStarting;
  t.log_path = "/logs/r1/a/1.log";
  store->put_try(t);
  t.state = TaskState::kFailed;
  t.exit_code = 3;
  t.message = "exit code 3";
  store->put_try(t);
  t.try_number = 2;
  t.state = TaskState::kSucceeded;
  t.exit_code = 0;
  t.message.clear();
  store->put_try(t);
  auto tries = store->tries("r1", "a");
  ASSERT_EQ(tries.size(), 2u);
  EXPECT_EQ(tries[0].state, TaskState::kFailed);
  EXPECT_EQ(tries[0].exit_code, 3);
  EXPECT_EQ(tries[0].message, "exit code 3");
  EXPECT_EQ(tries[0].log_path, "/logs/r1/a/1.log");
  EXPECT_EQ(tries[1].state, TaskState::kSucceeded);
}

TEST(Store, ManualCheckpointsHappenOnlyWhenAsked) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  store->insert_run(sample_run("r1"));
  store->checkpoint();
  const auto db_size = [&] { return std::filesystem::file_size(dir / "flow.db"); };
  const auto before = db_size();
  store->set_manual_checkpoints(true);
  InstanceRecord i;
  i.run_id = "r1";
  i.task_id = "t";
  i.message = std::string(2000, 'x');
  for (int n = 0; n < 3000; ++n) {  // ~3000 WAL pages: SQLite alone would checkpoint
    i.id = "t" + std::to_string(n);
    store->put_instance(i);
  }
  EXPECT_EQ(db_size(), before) << "nothing may reach the database file before checkpoint()";
  EXPECT_GE(store->wal_pages(), 3000);
  store->checkpoint();
  EXPECT_EQ(store->wal_pages(), 0);
  EXPECT_GT(db_size(), before + 3000u * 2000u);
  i.id = "one-more";
  store->put_instance(i);  // the WAL starts over after a complete checkpoint
  EXPECT_GT(store->wal_pages(), 0);
  EXPECT_LT(store->wal_pages(), 10);
  store->set_manual_checkpoints(false);
  EXPECT_EQ(store->instances("r1").size(), 3001u);
}

// Regression: the DAG text was a column of the runs row, which the engine reads at every
// commit (the owner check) and updates at each heartbeat. SQLite writes a row whole, so each
// update of a run of a large DAG (a 1,000,000-item foreach written out is 7 MB) copied all
// of it into the WAL, and each owner check read it back: 4 ms per item at 1,000,000 items.
TEST(Store, UpdatingARunOfALargeDagWritesOnlyItsSmallRow) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  RunRecord r = sample_run("r1");
  r.dag_yaml = "dag: big\n# " + std::string(4 << 20, 'x') + "\n";  // 4 MiB: 1,024+ pages
  store->insert_run(r);
  store->checkpoint();
  store->set_manual_checkpoints(true);
  InstanceRecord i;
  i.run_id = "r1";
  i.id = i.task_id = "t";
  store->put_instance(i);  // a first commit, so the WAL starts over after the checkpoint
  const int base = store->wal_pages();
  for (int n = 0; n < 10; ++n) {
    r.heartbeat = flow::now_ms() + n;
    Store::Transaction tx(*store);
    EXPECT_EQ(store->owner_token("r1"), r.owner_token);
    store->update_run(r);
    tx.commit();
  }
  EXPECT_LT(store->wal_pages() - base, 50) << "each update copied the DAG text";
  store->set_manual_checkpoints(false);
  EXPECT_EQ(store->get_run("r1")->dag_yaml, r.dag_yaml);
  EXPECT_EQ(store->list_runs("", 0).at(0).dag_yaml, "") << "a list reads no DAG text";
  EXPECT_EQ(store->list_runs("", 0).at(0).id, "r1");
}

// Regression: the engine's once-a-second control poll (is a cancel requested?) and the TUI's
// task grid, log and leaderboard refreshes read the run with get_run, and so its whole DAG
// text each time: 32 MB a second for a DAG of 1,000,000 tasks.
TEST(Store, ARunReadWithoutItsDagHasEveryOtherColumn) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  RunRecord r = sample_run("r1");
  r.dag_yaml = "dag: big\n# " + std::string(1 << 20, 'x') + "\n";
  r.dag_file = "dags/big.yaml";
  r.workdir = "/tmp/w";
  r.params = {{"lr", 0.1}};
  r.owner_token = "tok";
  r.heartbeat = 42;
  r.parallelism = 3;
  r.cancel_requested = true;
  store->insert_run(r);
  store->update_run(r);
  auto full = store->get_run("r1");
  auto light = store->get_run_without_dag("r1");
  ASSERT_TRUE(full && light);
  EXPECT_EQ(full->dag_yaml, r.dag_yaml);
  EXPECT_EQ(light->dag_yaml, "");
  for (const RunRecord* x : {&*full, &*light}) {
    EXPECT_EQ(x->id, "r1");
    EXPECT_EQ(x->dag, "demo");
    EXPECT_EQ(x->dag_file, "dags/big.yaml");
    EXPECT_EQ(x->dag_hash, "abc");
    EXPECT_EQ(x->params, r.params);
    EXPECT_EQ(x->run_dir, "/tmp/x");
    EXPECT_EQ(x->workdir, "/tmp/w");
    EXPECT_EQ(x->created, r.created);
    EXPECT_EQ(x->parallelism, 3);
    EXPECT_EQ(x->heartbeat, 42);
    EXPECT_EQ(x->owner_token, "tok");
    EXPECT_TRUE(x->cancel_requested);
  }
  EXPECT_FALSE(store->get_run_without_dag("nope"));
}

TEST(Store, RolledBackTransactionLeavesNothing) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  {
    Store::Transaction tx(*store);
    store->insert_run(sample_run("r1"));
  }
  EXPECT_FALSE(store->get_run("r1"));
}

TEST(Store, ListsRunsNewestFirst) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  auto a = sample_run("a");
  a.created = 1000;
  auto b = sample_run("b");
  b.created = 2000;
  store->insert_run(a);
  store->insert_run(b);
  auto runs = store->list_runs("", 10);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, "b");
  EXPECT_EQ(store->list_runs("other", 10).size(), 0u);
}

TEST(Store, TwoConnectionsWriteConcurrently) {
  flow::test::TempDir dir;
  auto path = dir / "flow.db";
  Store::open(path);
  auto writer = [&](const std::string& prefix) {
    auto s = Store::open(path);
    for (int i = 0; i < 200; ++i) {
      Store::Transaction tx(*s);
      s->insert_run(sample_run(prefix + std::to_string(i)));
      tx.commit();
    }
  };
  std::thread t1(writer, "x"), t2(writer, "y");
  t1.join();
  t2.join();
  EXPECT_EQ(Store::open(path)->list_runs("", 0).size(), 400u);
}

TEST(Store, NotADatabaseIsAnEnvironmentError) {
  flow::test::TempDir dir;
  { std::ofstream(dir / "junk.db") << "this is not sqlite, definitely not, no header here at all"; }
  EXPECT_THROW(Store::open(dir / "junk.db"), flow::EnvironmentError);
}

TEST(Store, KeepsSchedulerStateAndFindsRunsByInterval) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  EXPECT_FALSE(store->get_schedule("nightly"));
  ScheduleRecord s{"nightly", "0 2 * * *", "Europe/Berlin", "dags/n.yaml", 1000, 0, 1000};
  store->put_schedule(s);
  s.last_fire = 5000;
  store->put_schedule(s);  // upsert
  auto got = store->get_schedule("nightly");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->timezone, "Europe/Berlin");
  EXPECT_EQ(got->first_seen, 1000);
  EXPECT_EQ(got->last_fire, 5000);

  auto a = sample_run("a"), b = sample_run("b"), c = sample_run("c");
  a.data_interval_start = b.data_interval_start = "2027-03-27T01:00:00Z";
  c.data_interval_start = "2027-03-28T01:00:00Z";
  b.state = RunState::kSucceeded;
  for (const auto& r : {a, b, c})
    store->insert_run(r);
  auto runs = store->runs_for_interval("demo", "2027-03-27T01:00:00Z");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, "a");
  EXPECT_EQ(runs[1].id, "b");
  EXPECT_EQ(store->runs_in_state("demo", RunState::kRunning).size(), 2u);
  EXPECT_EQ(store->runs_in_state("demo", RunState::kSucceeded).size(), 1u);
  EXPECT_TRUE(store->runs_in_state("other", RunState::kRunning).empty());
}

TEST(Store, ANestedTransactionIsPartOfTheOuterOne) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  {
    Store::Transaction outer(*store);
    store->insert_run(sample_run("kept"));
    {
      Store::Transaction inner(*store);
      store->insert_run(sample_run("undone"));
    }  // rolled back alone
    {
      Store::Transaction inner(*store);
      store->insert_run(sample_run("inner"));
      inner.commit();
    }
    outer.commit();
  }
  EXPECT_TRUE(store->get_run("kept"));
  EXPECT_TRUE(store->get_run("inner"));
  EXPECT_FALSE(store->get_run("undone"));
  {
    Store::Transaction outer(*store);
    {
      Store::Transaction inner(*store);
      store->insert_run(sample_run("gone"));
      inner.commit();
    }
  }  // the outer one rolls back, and the inner one's commit with it
  EXPECT_FALSE(store->get_run("gone"));
}

TEST(Store, DataVersionChangesOnlyWhenAnotherConnectionCommits) {
  flow::test::TempDir dir;
  auto reader = Store::open(dir / "flow.db");
  auto writer = Store::open(dir / "flow.db");
  const auto v0 = reader->data_version();
  EXPECT_EQ(reader->data_version(), v0) << "reading changes nothing";
  reader->insert_run(sample_run("own"));
  EXPECT_EQ(reader->data_version(), v0) << "a connection's own commits do not count";
  {
    Store::Transaction tx(*writer);
    writer->insert_run(sample_run("other"));
    EXPECT_EQ(reader->data_version(), v0) << "nothing committed yet";
    tx.commit();
  }
  const auto v1 = reader->data_version();
  EXPECT_NE(v1, v0);
  EXPECT_EQ(reader->data_version(), v1);
}

TEST(Store, AReadSnapshotSeesTheMomentItWasMadeWhileAnotherConnectionCommits) {
  flow::test::TempDir dir;
  auto reader = Store::open(dir / "flow.db");
  auto writer = Store::open(dir / "flow.db");
  writer->insert_run(sample_run("before"));
  {
    Store::ReadSnapshot snapshot(*reader);
    // Committed after the snapshot was made but before its first read: still invisible.
    writer->insert_run(sample_run("during"));
    EXPECT_TRUE(reader->get_run("before"));
    EXPECT_FALSE(reader->get_run("during"));
    {
      Store::ReadSnapshot nested(*reader);  // part of the outer one
      EXPECT_EQ(reader->list_runs("", 0).size(), 1u);
    }
    writer->insert_run(sample_run("later"));  // the writer is never blocked
    EXPECT_EQ(reader->list_runs("", 0).size(), 1u);
  }
  EXPECT_EQ(reader->list_runs("", 0).size(), 3u) << "a new read sees every commit";
}

TEST(Store, AReadSnapshotInsideATransactionSeesItsWrites) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  Store::Transaction tx(*store);
  store->insert_run(sample_run("r1"));
  {
    Store::ReadSnapshot snapshot(*store);
    EXPECT_TRUE(store->get_run("r1"));
  }
  store->insert_run(sample_run("r2"));  // the transaction is still open and writable
  tx.commit();
  EXPECT_EQ(store->list_runs("", 0).size(), 2u);
}

TEST(Store, ATransactionCannotStartInsideAReadSnapshot) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  {
    Store::ReadSnapshot snapshot(*store);
    EXPECT_THROW(Store::Transaction tx(*store), std::logic_error);
  }
  Store::Transaction tx(*store);  // and the snapshot's end left the connection usable
  store->insert_run(sample_run("r1"));
  tx.commit();
  EXPECT_TRUE(store->get_run("r1"));
}

TEST(Store, AQueryOnlyConnectionReadsButRefusesWrites) {
  flow::test::TempDir dir;
  Store::open(dir / "flow.db")->insert_run(sample_run("r1"));
  auto store = Store::open_existing(dir / "flow.db", Store::Access::kQueryOnly);
  EXPECT_TRUE(store->get_run("r1"));
  EXPECT_THROW(store->insert_run(sample_run("r2")), flow::Error);
  EXPECT_EQ(Store::open(dir / "flow.db")->list_runs("", 0).size(), 1u);
}

TEST(Store, OpenExistingRefusesAMissingFileAndCreatesNothing) {
  flow::test::TempDir dir;
  try {
    Store::open_existing(dir / "typo.db");
    FAIL();
  } catch (const flow::EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("no flow database at " + (dir / "typo.db").string()),
              std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "typo.db"));
}

TEST(Store, IntegrityCheckOfASoundDatabaseSaysOk) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  store->insert_run(sample_run("r1"));
  EXPECT_EQ(store->integrity_check(), "ok");
}

// records.hpp: attrs stays null until a key is set (an empty object is an allocation per
// instance), yet the column keeps its "{}", and a row read back without attrs is null again.
TEST(Store, AnInstanceWithoutAttrsIsStoredAsAnEmptyObjectAndReadBackAsNull) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  store->insert_run(sample_run("r1"));
  InstanceRecord plain;
  plain.run_id = "r1";
  plain.id = plain.task_id = "a";
  EXPECT_TRUE(plain.attrs.is_null());
  EXPECT_TRUE(plain.attr("item").is_null());
  store->put_instance(plain);
  InstanceRecord mapped = plain;
  mapped.id = "each[0]";
  mapped.attrs["item"] = "x";
  EXPECT_EQ(mapped.attr("item"), "x");
  store->put_instance(mapped);

  EXPECT_EQ(store->get_instance("r1", "a")->attrs, nullptr);
  EXPECT_EQ(store->get_instance("r1", "each[0]")->attr("item"), "x");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir / "flow.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT attrs_json FROM instances WHERE id = 'a'", -1, &st, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "{}");
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// A run controller's live records leave run_id empty (instance_table.hpp): they are
// written under the run the caller names.
TEST(Store, AnInstanceIsWrittenUnderTheRunTheCallerNames) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  store->insert_run(sample_run("r1"));
  InstanceRecord live;
  live.id = live.task_id = "a";
  store->put_instance("r1", live);
  auto got = store->get_instance("r1", "a");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->run_id, "r1");
}
