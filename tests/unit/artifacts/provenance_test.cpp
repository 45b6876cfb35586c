#include "engine/artifact/provenance.hpp"

#include <gtest/gtest.h>

#include "engine/dag/loader.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using state::TaskState;

namespace {

// preprocess -> tune -> train -> export, plus tiles (foreach) -> export, and a failed
// branch: broken -> export.
const char* kDag = R"(dag: p
tasks:
  - id: preprocess
    run: x
  - id: tune
    after: [preprocess]
    run: x
  - id: train
    after: [tune]
    run: x
  - id: tiles
    foreach: [1, 2]
    run: x
  - id: other
    run: x
  - id: broken
    after: [other]
    trigger: all_done
    run: x
  - id: export
    after: [train, tiles, broken]
    trigger: all_done
    run: x
)";

class Provenance : public ::testing::Test {
 protected:
  void SetUp() override {
    dag_ = dag::load_dag_text(kDag, "p.yaml");
    store_ = state::Store::open(dir_ / "flow.db");
    state::RunRecord r;
    r.id = "r1";
    r.dag = "p";
    r.dag_yaml = kDag;
    r.dag_hash = "h";
    r.run_dir = "/tmp/r1";
    store_->insert_run(r);
  }
  void instance(const std::string& id, const std::string& task, TaskState s, int try_number) {
    state::InstanceRecord i;
    i.run_id = "r1";
    i.id = id;
    i.task_id = task;
    i.parent = id == task ? "" : task;
    i.state = s;
    i.try_number = try_number;
    store_->put_instance(i);
  }
  void artifact(const std::string& id, const std::string& instance, const std::string& task,
                int try_number, const std::string& kind = "other") {
    state::ArtifactRecord a;
    a.kind = kind;
    a.id = id;
    a.run_id = "r1";
    a.instance_id = instance;
    a.task_id = task;
    a.try_number = try_number;
    a.name = id;
    a.path = "/" + id;
    a.sha256 = "s";
    a.created = ++clock_;
    store_->put_artifact(a);
  }
  std::vector<std::string> of(const std::string& task) {
    return artifact::upstream_artifacts(*store_, dag_, "r1", task);
  }
  test::TempDir dir_;
  dag::Dag dag_;
  std::unique_ptr<state::Store> store_;
  EpochMs clock_ = 0;
};

}  // namespace

TEST_F(Provenance, DirectUpstreamArtifacts) {
  instance("preprocess", "preprocess", TaskState::kSucceeded, 1);
  artifact("a-data", "preprocess", "preprocess", 1);
  EXPECT_EQ(of("tune"), std::vector<std::string>{"a-data"});
  EXPECT_TRUE(of("preprocess").empty());
}

TEST_F(Provenance, UpstreamsWithoutArtifactsAreLookedThrough) {
  instance("preprocess", "preprocess", TaskState::kSucceeded, 1);
  instance("tune", "tune", TaskState::kSucceeded, 1);
  artifact("a-data", "preprocess", "preprocess", 1);
  EXPECT_EQ(of("train"), std::vector<std::string>{"a-data"});
}

TEST_F(Provenance, TheNearestRegisteringUpstreamHidesItsAncestors) {
  instance("preprocess", "preprocess", TaskState::kSucceeded, 1);
  instance("tune", "tune", TaskState::kSucceeded, 1);
  instance("train", "train", TaskState::kSucceeded, 1);
  artifact("a-data", "preprocess", "preprocess", 1);
  artifact("a-model", "train", "train", 1);
  EXPECT_EQ(of("export"), std::vector<std::string>{"a-model"});
}

TEST_F(Provenance, OnlyTheCurrentTryCounts) {
  instance("preprocess", "preprocess", TaskState::kSucceeded, 2);
  artifact("a-try1", "preprocess", "preprocess", 1);
  artifact("a-try2", "preprocess", "preprocess", 2);
  EXPECT_EQ(of("tune"), std::vector<std::string>{"a-try2"});
}

TEST_F(Provenance, MappedInstancesAllCountOldestFirst) {
  instance("tiles", "tiles", TaskState::kSucceeded, 0);
  instance("tiles[0]", "tiles", TaskState::kSucceeded, 1);
  instance("tiles[1]", "tiles", TaskState::kSucceeded, 1);
  artifact("a-t1", "tiles[1]", "tiles", 1);
  artifact("a-t0", "tiles[0]", "tiles", 1);
  EXPECT_EQ(of("export"), (std::vector<std::string>{"a-t1", "a-t0"}));
}

TEST_F(Provenance, FailedUpstreamsHandNothingOn) {
  instance("other", "other", TaskState::kSucceeded, 1);
  instance("broken", "broken", TaskState::kFailed, 1);
  artifact("a-other", "other", "other", 1);
  EXPECT_TRUE(of("export").empty());
}

TEST_F(Provenance, DatasetsOfEveryAncestorAreLinkedThroughRegisteringTasks) {
  // preprocess registers the cohort (a dataset) and a report; train registers its model. The
  // export derives from the model (the nearest) and the cohort, not the report.
  instance("preprocess", "preprocess", TaskState::kSucceeded, 1);
  instance("tune", "tune", TaskState::kSucceeded, 1);
  instance("train", "train", TaskState::kSucceeded, 1);
  artifact("a-data", "preprocess", "preprocess", 1, "dataset");
  artifact("a-report", "preprocess", "preprocess", 1, "other");
  artifact("a-model", "train", "train", 1, "model");
  EXPECT_EQ(of("export"), (std::vector<std::string>{"a-data", "a-model"}));
  EXPECT_EQ(of("train"), (std::vector<std::string>{"a-data", "a-report"}))
      << "through tune, which registered nothing: everything preprocess registered";
}

TEST_F(Provenance, DatasetsOfAFailedBranchOrAnOldTryAreNotLinked) {
  instance("other", "other", TaskState::kSucceeded, 1);
  instance("broken", "broken", TaskState::kFailed, 1);
  instance("preprocess", "preprocess", TaskState::kSucceeded, 2);
  instance("tune", "tune", TaskState::kSucceeded, 1);
  instance("train", "train", TaskState::kSucceeded, 1);
  artifact("a-other-data", "other", "other", 1, "dataset");
  artifact("a-data-try1", "preprocess", "preprocess", 1, "dataset");
  artifact("a-data-try2", "preprocess", "preprocess", 2, "dataset");
  artifact("a-model", "train", "train", 1, "model");
  EXPECT_EQ(of("export"), (std::vector<std::string>{"a-data-try2", "a-model"}));
}
