// Migrations from real databases: tests/fixtures/db/schema-N.db were written by the Store of
// the flow version that had schema N (tests/fixtures/db/make-fixtures.sh), with the rows of
// fixture_rows.hpp. Each test opens a copy with today's Store, which migrates it, and checks
// that every row came through with its values and the newer tables and columns have their
// defaults; then that the newer features work on it.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "engine/core/error.hpp"
#include "engine/state/migrations.hpp"
#include "engine/state/store.hpp"
#include "tests/support/temp_dir.hpp"

#define FLOW_FIXTURE_HAS_ARTIFACTS
#define FLOW_FIXTURE_HAS_SCHEDULES
#define FLOW_FIXTURE_HAS_DELIVERIES
#include "tests/fixtures/db/fixture_rows.hpp"

using namespace flow::state;
namespace fixture = flow::fixture;

namespace {

std::filesystem::path fixture_copy(const flow::test::TempDir& dir, int version) {
  const auto name = "schema-" + std::to_string(version) + ".db";
  const auto to = dir / name;
  std::filesystem::copy_file(std::filesystem::path(FLOW_TEST_FIXTURES) / "db" / name, to);
  return to;
}

// The first column of the first row of `sql`, read without migrating the file ("" if none).
std::string sqlite_text(const std::filesystem::path& db, const char* sql) {
  sqlite3* c = nullptr;
  std::string out;
  if (sqlite3_open_v2(db.c_str(), &c, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(c, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      if (const unsigned char* t = sqlite3_column_text(st, 0))
        out = reinterpret_cast<const char*>(t);
    sqlite3_finalize(st);
  }
  sqlite3_close_v2(c);
  return out;
}

// The version a file has, read without migrating it.
int user_version(const std::filesystem::path& db) {
  const std::string v = sqlite_text(db, "PRAGMA user_version");
  return v.empty() ? -1 : std::stoi(v);
}

void expect_same(const RunRecord& want, const RunRecord& got) {
  SCOPED_TRACE("run " + want.id);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.dag, want.dag);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.dag_file, want.dag_file);
  EXPECT_EQ(got.dag_yaml, want.dag_yaml);
  EXPECT_EQ(got.dag_hash, want.dag_hash);
  EXPECT_EQ(got.params, want.params);
  EXPECT_EQ(got.run_dir, want.run_dir);
  EXPECT_EQ(got.workdir, want.workdir);
  EXPECT_EQ(got.logical_date, want.logical_date);
  EXPECT_EQ(got.data_interval_start, want.data_interval_start);
  EXPECT_EQ(got.data_interval_end, want.data_interval_end);
  EXPECT_EQ(got.created, want.created);
  EXPECT_EQ(got.started, want.started);
  EXPECT_EQ(got.ended, want.ended);
  EXPECT_EQ(got.parallelism, want.parallelism);
  EXPECT_EQ(got.owner_pid, want.owner_pid);
  EXPECT_EQ(got.owner_start, want.owner_start);
  EXPECT_EQ(got.owner_host, want.owner_host);
  EXPECT_EQ(got.heartbeat, want.heartbeat);
  EXPECT_EQ(got.cancel_requested, want.cancel_requested);
  EXPECT_EQ(got.owner_token, "") << "migration 4's default";
}

void expect_same(const InstanceRecord& want, const InstanceRecord& got) {
  SCOPED_TRACE("instance " + want.run_id + " " + want.id);
  EXPECT_EQ(got.run_id, want.run_id);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.task_id, want.task_id);
  EXPECT_EQ(got.parent, want.parent);
  EXPECT_EQ(got.map_index, want.map_index);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.try_number, want.try_number);
  EXPECT_EQ(got.failures, want.failures);
  EXPECT_EQ(got.site, want.site);
  EXPECT_EQ(got.pid, want.pid);
  EXPECT_EQ(got.pid_start, want.pid_start);
  EXPECT_EQ(got.job_id, want.job_id);
  EXPECT_EQ(got.job_name, want.job_name);
  EXPECT_EQ(got.started, want.started);
  EXPECT_EQ(got.ended, want.ended);
  EXPECT_EQ(got.next_try_at, want.next_try_at);
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.signal, want.signal);
  EXPECT_EQ(got.native_state, want.native_state);
  EXPECT_EQ(got.message, want.message);
  EXPECT_EQ(got.outputs, want.outputs);
  EXPECT_EQ(got.attrs, want.attrs);
}

void expect_same(const TryRecord& want, const TryRecord& got) {
  SCOPED_TRACE("try " + want.instance_id + " " + std::to_string(want.try_number));
  EXPECT_EQ(got.run_id, want.run_id);
  EXPECT_EQ(got.instance_id, want.instance_id);
  EXPECT_EQ(got.try_number, want.try_number);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.site, want.site);
  EXPECT_EQ(got.pid, want.pid);
  EXPECT_EQ(got.job_id, want.job_id);
  EXPECT_EQ(got.job_name, want.job_name);
  EXPECT_EQ(got.script, want.script);
  EXPECT_EQ(got.log_path, want.log_path);
  EXPECT_EQ(got.started, want.started);
  EXPECT_EQ(got.ended, want.ended);
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.signal, want.signal);
  EXPECT_EQ(got.native_state, want.native_state);
  EXPECT_EQ(got.message, want.message);
  // Migration 7's defaults: nothing was measured.
  EXPECT_EQ(got.usage.cpu_ms, -1);
  EXPECT_EQ(got.usage.max_rss_bytes, -1);
  EXPECT_EQ(got.usage.wall_ms, -1);
  EXPECT_EQ(got.usage.cpus, 0);
  EXPECT_EQ(got.segment, 0) << "migration 8's default: not an HPO trial's try";
  EXPECT_EQ(got.segment_try, 0) << "migration 8's default";
}

void expect_same(const ArtifactRecord& want, const ArtifactRecord& got) {
  SCOPED_TRACE("artifact " + want.id);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.run_id, want.run_id);
  EXPECT_EQ(got.instance_id, want.instance_id);
  EXPECT_EQ(got.task_id, want.task_id);
  EXPECT_EQ(got.try_number, want.try_number);
  EXPECT_EQ(got.dag, want.dag);
  EXPECT_EQ(got.dag_hash, want.dag_hash);
  EXPECT_EQ(got.params, want.params);
  EXPECT_EQ(got.site, want.site);
  EXPECT_EQ(got.host, want.host);
  EXPECT_EQ(got.name, want.name);
  EXPECT_EQ(got.description, want.description);
  EXPECT_EQ(got.format, want.format);
  EXPECT_EQ(got.encoding_format, want.encoding_format);
  EXPECT_EQ(got.path, want.path);
  EXPECT_EQ(got.sha256, want.sha256);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.started, want.started);
  EXPECT_EQ(got.created, want.created);
  EXPECT_EQ(got.derived_from, want.derived_from);
  EXPECT_EQ(got.metadata, want.metadata);
  // Migration 9: a row written before it is a model if its format is one, else other.
  EXPECT_EQ(got.kind, want.format == "onnx" ? "model" : "other");
}

// The rows every fixture has (schema 1's tables).
void expect_schema_1_rows(Store& store) {
  const auto runs = fixture::runs();
  ASSERT_EQ(store.list_runs("", 0).size(), runs.size());
  for (const auto& want : runs) {
    auto got = store.get_run(want.id);
    ASSERT_TRUE(got) << want.id;
    expect_same(want, *got);
  }
  const auto instances = fixture::instances();
  size_t seen = 0;
  for (const auto& want : instances) {
    auto got = store.get_instance(want.run_id, want.id);
    ASSERT_TRUE(got) << want.run_id << " " << want.id;
    expect_same(want, *got);
  }
  for (const auto& run : runs)
    seen += store.instances(run.id).size();
  EXPECT_EQ(seen, instances.size());
  // Instances keep their creation order (rowid), which the engine relies on.
  auto order = store.instances(fixture::kRun);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0].id, "prep");
  EXPECT_EQ(order[2].id, "tiles[2]");

  const auto tries = fixture::tries();
  auto prep = store.tries(fixture::kRun, "prep");
  auto tile = store.tries(fixture::kRun, "tiles[2]");
  ASSERT_EQ(prep.size(), 2u);
  ASSERT_EQ(tile.size(), 1u);
  expect_same(tries[0], prep[0]);
  expect_same(tries[1], prep[1]);
  expect_same(tries[2], tile[0]);

  const auto events = fixture::events();
  auto got_events = store.events(fixture::kRun);
  ASSERT_EQ(got_events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(got_events[i].seq, events[i].seq);
    EXPECT_EQ(got_events[i].run_id, events[i].run_id);
    EXPECT_EQ(got_events[i].instance_id, events[i].instance_id);
    EXPECT_EQ(got_events[i].try_number, events[i].try_number);
    EXPECT_EQ(got_events[i].ts, events[i].ts);
    EXPECT_EQ(got_events[i].state, events[i].state);
    EXPECT_EQ(got_events[i].message, events[i].message);
  }
  EXPECT_EQ(store.events(fixture::kRun, 2).size(), 1u);

  const auto metrics = fixture::metrics();
  auto got_metrics = store.metrics(fixture::kRun, "prep");
  ASSERT_EQ(got_metrics.size(), metrics.size());
  for (size_t i = 0; i < metrics.size(); ++i) {
    EXPECT_EQ(got_metrics[i].instance_id, metrics[i].instance_id);
    EXPECT_EQ(got_metrics[i].try_number, metrics[i].try_number);
    EXPECT_EQ(got_metrics[i].seq, metrics[i].seq);
    EXPECT_EQ(got_metrics[i].ts, metrics[i].ts);
    EXPECT_EQ(got_metrics[i].values, metrics[i].values);
  }
  EXPECT_EQ(store.state_counts(fixture::kRun).at("succeeded"), 2);
}

void expect_fixture_artifacts(Store& store) {
  const auto want = fixture::artifacts();
  auto got = store.list_artifacts();  // newest first
  ASSERT_EQ(got.size(), want.size());
  expect_same(want[1], got[0]);
  expect_same(want[0], got[1]);
  EXPECT_EQ(store.artifact_ids(), (std::vector<std::string>{want[1].id, want[0].id}));
  for (const auto& a : got)  // made where they were registered: no origin
    EXPECT_EQ(a.origin, nlohmann::json::object()) << a.id;
  // Searchable by the kind migration 9 gave them, and by a metadata field.
  ArtifactQuery model_kind;
  model_kind.kind = "model";
  auto models = store.search_artifacts(model_kind);
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0].id, want[1].id);
  ArtifactQuery licensed;
  licensed.metadata.push_back(parse_metadata_match("license=https://spdx.org/licenses/MIT"));
  auto mit = store.search_artifacts(licensed);
  ASSERT_EQ(mit.size(), 1u);
  EXPECT_EQ(mit[0].id, want[0].id);
}

void expect_fixture_schedules(Store& store) {
  for (const auto& want : fixture::schedules()) {
    auto got = store.get_schedule(want.dag);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->schedule, want.schedule);
    EXPECT_EQ(got->timezone, want.timezone);
    EXPECT_EQ(got->dag_file, want.dag_file);
    EXPECT_EQ(got->first_seen, want.first_seen);
    EXPECT_EQ(got->last_fire, want.last_fire);
    EXPECT_EQ(got->updated, want.updated);
  }
}

void expect_fixture_deliveries(Store& store) {
  const auto want = fixture::deliveries();
  auto got = store.deliveries(fixture::kRun);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("delivery " + std::to_string(i + 1));
    EXPECT_EQ(got[i].id, static_cast<int64_t>(i + 1));
    EXPECT_EQ(got[i].run_id, want[i].run_id);
    EXPECT_EQ(got[i].instance_id, want[i].instance_id);
    EXPECT_EQ(got[i].event, want[i].event);
    EXPECT_EQ(got[i].try_number, want[i].try_number);
    EXPECT_EQ(got[i].kind, want[i].kind);
    EXPECT_EQ(got[i].target, want[i].target);
    EXPECT_EQ(got[i].state, want[i].state);
    EXPECT_EQ(got[i].attempts, want[i].attempts);
    EXPECT_EQ(got[i].error, want[i].error);
    EXPECT_EQ(got[i].created, want[i].created);
    EXPECT_EQ(got[i].updated, want[i].updated);
  }
}

// What the newer schema adds works on the migrated file: a schedule, runs by data interval,
// an artifact with its origin, an owner token, an HPO trial's try with its segment.
void expect_newer_features_work(Store& store) {
  store.put_schedule({"new-dag", "@daily", "UTC", "", 1, 0, 1});
  EXPECT_TRUE(store.get_schedule("new-dag"));
  auto by_interval = store.runs_for_interval("fixture", "2026-01-15T00:00:00Z");
  ASSERT_EQ(by_interval.size(), 1u);
  EXPECT_EQ(by_interval[0].id, fixture::kRun);

  ArtifactRecord a;
  a.id = "a-new";
  a.run_id = fixture::kRun;
  a.instance_id = a.task_id = "prep";
  a.dag = "fixture";
  a.name = "new";
  a.path = "/x";
  a.sha256 = "00";
  a.created = 1;
  a.origin = {{"site", "jureca"}, {"host", "jureca.fz-juelich.de:22"}, {"job_id", "4242"}};
  a.kind = "dataset";
  store.put_artifact(a);
  ASSERT_TRUE(store.get_artifact("a-new"));
  EXPECT_EQ(store.get_artifact("a-new")->origin, a.origin);
  EXPECT_EQ(store.get_artifact("a-new")->kind, "dataset");
  ArtifactQuery dataset_kind;
  dataset_kind.kind = "dataset";
  dataset_kind.dag = "fixture";
  auto datasets = store.search_artifacts(dataset_kind);
  ASSERT_EQ(datasets.size(), 1u);
  EXPECT_EQ(datasets[0].id, "a-new");

  DeliveryRecord d;
  d.run_id = fixture::kFailedRun;
  d.event = "failure";
  d.kind = "webhook";
  d.target = "https://hooks.example.org";
  d.created = 1;
  d.id = store.add_delivery(d);
  d.state = "failed";
  d.attempts = 3;
  d.error = "HTTP 500";
  store.update_delivery(d);
  auto deliveries = store.deliveries(fixture::kFailedRun);
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].state, "failed");
  EXPECT_EQ(deliveries[0].attempts, 3);

  auto tries = store.tries(fixture::kRun, "prep");
  ASSERT_FALSE(tries.empty());
  TryRecord t = tries.back();
  EXPECT_EQ(t.usage.gpus, 0);  // tries written before 10 had no GPUs recorded
  t.usage = {.cpu_ms = 1212, .max_rss_bytes = 96744 * 1024, .wall_ms = 1000, .cpus = 2, .gpus = 1};
  store.put_try(t);
  auto used = store.tries(fixture::kRun, "prep").back().usage;
  EXPECT_EQ(used.cpu_ms, 1212);
  EXPECT_EQ(used.max_rss_bytes, 96744 * 1024);
  EXPECT_EQ(used.wall_ms, 1000);
  EXPECT_EQ(used.cpus, 2);
  EXPECT_EQ(used.gpus, 1);

  TryRecord segment;
  segment.run_id = fixture::kRun;
  segment.instance_id = "tune[trial-3]";
  segment.try_number = 4;
  segment.state = TaskState::kSucceeded;
  segment.segment = 2;
  segment.segment_try = 3;
  store.put_try(segment);
  segment.state = TaskState::kFailed;  // the upsert keeps them too
  store.put_try(segment);
  auto trial = store.tries(fixture::kRun, "tune[trial-3]");
  ASSERT_EQ(trial.size(), 1u);
  EXPECT_EQ(trial[0].state, TaskState::kFailed);
  EXPECT_EQ(trial[0].segment, 2);
  EXPECT_EQ(trial[0].segment_try, 3);

  auto run = *store.get_run(fixture::kFailedRun);
  run.owner_token = "token-after-migration";
  store.update_run(run);
  EXPECT_EQ(store.owner_token(fixture::kFailedRun), "token-after-migration");
  EXPECT_EQ(store.integrity_check(), "ok");
}

}  // namespace

TEST(Migration, TheFixturesHaveTheVersionsTheyAreNamedFor) {
  flow::test::TempDir dir;
  for (int v = 1; v < latest_schema_version(); ++v)
    EXPECT_EQ(user_version(fixture_copy(dir, v)), v);
  EXPECT_EQ(static_cast<int>(migrations().size()), latest_schema_version());
  for (size_t i = 0; i < migrations().size(); ++i)
    EXPECT_EQ(migrations()[i].version, static_cast<int>(i) + 1);
}

TEST(Migration, ASchema1DatabaseKeepsEveryRowAndGainsArtifactsSchedulesAndOwnerTokens) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 1));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);
  EXPECT_TRUE(store->list_artifacts().empty());
  EXPECT_FALSE(store->get_schedule("fixture"));
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema2DatabaseKeepsEveryRowAndArtifactAndGainsSchedulesAndOwnerTokens) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 2));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);
  expect_fixture_artifacts(*store);
  EXPECT_FALSE(store->get_schedule("fixture"));
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema3DatabaseKeepsEveryRowArtifactAndScheduleAndGainsOwnerTokens) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 3));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);
  expect_fixture_artifacts(*store);
  expect_fixture_schedules(*store);
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema4DatabaseKeepsEveryRowAndGainsArtifactOrigins) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 4));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);
  expect_fixture_artifacts(*store);
  expect_fixture_schedules(*store);
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema5DatabaseKeepsEveryRowAndGainsDeliveries) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 5));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);
  expect_fixture_artifacts(*store);
  expect_fixture_schedules(*store);
  EXPECT_TRUE(store->deliveries(fixture::kRun).empty());
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema6DatabaseKeepsEveryRowAndDeliveryAndGainsTryUsageAndSegments) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 6));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);  // its tries: nothing measured, segment 0
  expect_fixture_artifacts(*store);
  expect_fixture_schedules(*store);
  expect_fixture_deliveries(*store);
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema7DatabaseKeepsEveryRowAndDeliveryAndGainsTrySegments) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 7));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);  // its tries have segment 0: not a trial's
  expect_fixture_artifacts(*store);
  expect_fixture_schedules(*store);
  expect_fixture_deliveries(*store);
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema8DatabaseKeepsEveryRowAndGainsArtifactKinds) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 8));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);
  expect_fixture_artifacts(*store);  // the ONNX model a model, the CSV other
  expect_fixture_schedules(*store);
  expect_fixture_deliveries(*store);
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema9DatabaseKeepsEveryRowAndGainsTheTriesGpus) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 9));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);
  expect_fixture_artifacts(*store);
  expect_fixture_schedules(*store);
  expect_fixture_deliveries(*store);
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema10DatabaseKeepsEveryRowAndGainsTheIndexByTask) {
  flow::test::TempDir dir;
  auto store = Store::open(fixture_copy(dir, 10));
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);
  expect_fixture_artifacts(*store);
  expect_fixture_schedules(*store);
  expect_fixture_deliveries(*store);
  expect_newer_features_work(*store);
}

TEST(Migration, ASchema11DatabaseKeepsEveryRowAndMovesTheDagTextsToRunDags) {
  flow::test::TempDir dir;
  const auto db = fixture_copy(dir, 11);
  auto store = Store::open(db);
  EXPECT_EQ(store->schema_version(), latest_schema_version());
  expect_schema_1_rows(*store);  // each run's dag_yaml among them
  expect_fixture_artifacts(*store);
  expect_fixture_schedules(*store);
  expect_fixture_deliveries(*store);
  expect_newer_features_work(*store);
  store.reset();
  EXPECT_EQ(sqlite_text(db, "SELECT count(*) FROM pragma_table_info('runs') WHERE name='dag_yaml'"),
            "0");
  EXPECT_EQ(sqlite_text(db, "SELECT count(*) FROM run_dags"),
            std::to_string(fixture::runs().size()));
}

TEST(Migration, AMigratedDatabaseOpensAgainUnchanged) {
  flow::test::TempDir dir;
  const auto db = fixture_copy(dir, 1);
  Store::open(db);
  EXPECT_EQ(user_version(db), latest_schema_version());
  auto again = Store::open(db);
  EXPECT_EQ(again->schema_version(), latest_schema_version());
  expect_schema_1_rows(*again);
}

TEST(Migration, ADatabaseOfANewerFlowIsRefusedNamingTheFileAndBothVersions) {
  flow::test::TempDir dir;
  const auto db = dir / "newer.db";
  Store::open(db)->insert_run(fixture::runs()[0]);
  const int newer = latest_schema_version() + 1;
  {
    sqlite3* c = nullptr;
    ASSERT_EQ(sqlite3_open(db.c_str(), &c), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(c, ("PRAGMA user_version=" + std::to_string(newer)).c_str(), nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(c);
  }
  for (bool existing : {false, true}) {
    try {
      if (existing)
        Store::open_existing(db);
      else
        Store::open(db);
      FAIL() << "opened a database of schema " << newer;
    } catch (const flow::EnvironmentError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(e.exit_code(), 3);
      EXPECT_NE(msg.find(db.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find("schema version " + std::to_string(newer)), std::string::npos) << msg;
      EXPECT_NE(msg.find("(" + std::to_string(latest_schema_version())), std::string::npos) << msg;
      EXPECT_NE(msg.find("Upgrade flow"), std::string::npos) << msg;
    }
  }
  EXPECT_EQ(user_version(db), newer) << "the refused file is left as it was";
}
