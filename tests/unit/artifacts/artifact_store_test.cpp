// The artifacts table: schema migration, round trip, order, run filter.
#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/state/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow::state;

namespace {

RunRecord run(const std::string& id) {
  RunRecord r;
  r.id = id;
  r.dag = "demo";
  r.dag_yaml = "dag: demo";
  r.dag_hash = "h";
  r.run_dir = "/tmp/x";
  return r;
}

ArtifactRecord artifact(const std::string& id, const std::string& run_id, flow::EpochMs created) {
  ArtifactRecord a;
  a.id = id;
  a.run_id = run_id;
  a.instance_id = "tiles[1]";
  a.task_id = "tiles";
  a.try_number = 3;
  a.dag = "demo";
  a.dag_hash = "h";
  a.params = {{"n", 2}};
  a.site = "local";
  a.host = "node1";
  a.name = "model";
  a.description = "d";
  a.format = "onnx";
  a.encoding_format = "application/onnx";
  a.path = "/w/model.onnx";
  a.sha256 = std::string(64, 'a');
  a.size = 1LL << 40;  // sizes beyond 32 bits survive
  a.started = created - 10;
  a.created = created;
  a.derived_from = {"a-1", "a-2"};
  a.metadata = {{"license", "MIT"}};
  a.kind = "model";
  return a;
}

}  // namespace

TEST(ArtifactStore, SchemaIsAtTheLatestVersion) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  EXPECT_EQ(store->schema_version(), Store::latest_schema_version());
  EXPECT_GE(Store::latest_schema_version(), 2);
}

TEST(ArtifactStore, RoundTripsEveryField) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  store->insert_run(run("r1"));
  auto a = artifact("a-x", "r1", 100);
  store->put_artifact(a);
  auto got = store->get_artifact("a-x");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->run_id, "r1");
  EXPECT_EQ(got->instance_id, "tiles[1]");
  EXPECT_EQ(got->task_id, "tiles");
  EXPECT_EQ(got->try_number, 3);
  EXPECT_EQ(got->params, a.params);
  EXPECT_EQ(got->site, "local");
  EXPECT_EQ(got->host, "node1");
  EXPECT_EQ(got->name, "model");
  EXPECT_EQ(got->description, "d");
  EXPECT_EQ(got->format, "onnx");
  EXPECT_EQ(got->encoding_format, "application/onnx");
  EXPECT_EQ(got->path, "/w/model.onnx");
  EXPECT_EQ(got->sha256, a.sha256);
  EXPECT_EQ(got->size, 1LL << 40);
  EXPECT_EQ(got->started, 90);
  EXPECT_EQ(got->created, 100);
  EXPECT_EQ(got->derived_from, a.derived_from);
  EXPECT_EQ(got->metadata, a.metadata);
  EXPECT_EQ(got->kind, "model");
  EXPECT_FALSE(store->get_artifact("a-y"));
}

TEST(ArtifactStore, ListsNewestFirstAndByRun) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  store->insert_run(run("r1"));
  store->insert_run(run("r2"));
  store->put_artifact(artifact("a-old", "r1", 100));
  store->put_artifact(artifact("a-new", "r2", 300));
  store->put_artifact(artifact("a-mid", "r1", 200));
  auto all = store->list_artifacts();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, "a-new");
  EXPECT_EQ(all[1].id, "a-mid");
  EXPECT_EQ(all[2].id, "a-old");
  auto r1 = store->list_artifacts("r1");
  ASSERT_EQ(r1.size(), 2u);
  EXPECT_EQ(r1[0].id, "a-mid");
  EXPECT_EQ(store->artifact_ids(), (std::vector<std::string>{"a-new", "a-mid", "a-old"}));
}

TEST(ArtifactStore, ArtifactsBelongToAKnownRun) {
  flow::test::TempDir dir;
  auto store = Store::open(dir / "flow.db");
  EXPECT_THROW(store->put_artifact(artifact("a-x", "nope", 1)), flow::Error);
}
