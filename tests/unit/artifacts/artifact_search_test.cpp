// `flow artifacts search` in the store: each filter alone, filters together, metadata
// fields (nested, lists, numbers, booleans), the limit, and malformed --meta arguments.
#include <gtest/gtest.h>

#include "engine/core/error.hpp"
#include "engine/state/artifact_query.hpp"
#include "engine/state/store.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow::state;
using nlohmann::json;

namespace {

class ArtifactSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = Store::open(dir_ / "flow.db");
    for (const auto& [id, dag] : {std::pair{"r1", "ards"}, {"r2", "ards"}, {"r3", "mlp"}}) {
      RunRecord r;
      r.id = id;
      r.dag = dag;
      r.dag_yaml = "dag: x";
      r.dag_hash = "h";
      r.run_dir = "/tmp/x";
      store_->insert_run(r);
    }
    // Oldest first.
    add("a-cohort1", "r1", "preprocess", "preprocess", "ards-cohort", "npz", "application/x-npz",
        "dataset",
        {{"source", "synthetic (seed 7)"},
         {"rows", 2048},
         {"split", {{"train", 1640}, {"test", 204}}},
         {"keywords", {"ards", "icu"}}});
    add("a-model1", "r1", "export_onnx", "export_onnx", "ards-pf-ratio-mlp", "onnx",
        "application/onnx", "model", {{"test_mae_mmHg", 21.5}, {"quantized", false}});
    add("a-cohort2", "r2", "preprocess", "preprocess", "ards-cohort", "npz", "application/x-npz",
        "dataset", {{"source", "data/ards/ards.csv"}, {"rows", 512}, {"note", nullptr}});
    add("a-tile0", "r3", "tiles[0]", "tiles", "tile-0.csv", "csv", "text/csv", "other",
        {{"rows", "2048"}});
    add("a-tile1", "r3", "tiles[1]", "tiles", "tile-1.csv", "text/csv", "text/csv", "other", {});
    add("a-model3", "r3", "train", "train", "mlp", "application/onnx", "application/onnx", "model",
        {{"keywords", "mlp"}});
  }
  void add(const std::string& id, const std::string& run, const std::string& instance,
           const std::string& task, const std::string& name, const std::string& format,
           const std::string& media_type, const std::string& kind, const json& metadata) {
    ArtifactRecord a;
    a.id = id;
    a.run_id = run;
    a.instance_id = instance;
    a.task_id = task;
    a.try_number = 1;
    a.dag = store_->get_run(run)->dag;
    a.dag_hash = "h";
    a.name = name;
    a.format = format;
    a.encoding_format = media_type;
    a.kind = kind;
    a.path = "/w/" + id;
    a.sha256 = "s";
    a.created = ++clock_;
    a.metadata = metadata;
    store_->put_artifact(a);
  }
  std::vector<std::string> ids(const ArtifactQuery& q) {
    std::vector<std::string> out;
    for (const auto& a : store_->search_artifacts(q))
      out.push_back(a.id);
    return out;
  }
  static ArtifactQuery meta(std::initializer_list<const char*> args) {
    ArtifactQuery q;
    for (const char* a : args)
      q.metadata.push_back(parse_metadata_match(a));
    return q;
  }
  flow::test::TempDir dir_;
  std::unique_ptr<Store> store_;
  flow::EpochMs clock_ = 0;
};

using Ids = std::vector<std::string>;

// A query with the fields `set` sets.
template <class F>
ArtifactQuery with(F set) {
  ArtifactQuery q;
  set(q);
  return q;
}

}  // namespace

TEST_F(ArtifactSearch, NoFilterFindsEverythingNewestFirst) {
  EXPECT_EQ(ids({}), (Ids{"a-model3", "a-tile1", "a-tile0", "a-cohort2", "a-model1", "a-cohort1"}));
}

TEST_F(ArtifactSearch, ANameIsASubstringUnlessItIsAGlob) {
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.name = "cohort"; })),
            (Ids{"a-cohort2", "a-cohort1"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.name = "Cohort"; })), Ids{}) << "case-sensitive";
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.name = "tile-?.csv"; })),
            (Ids{"a-tile1", "a-tile0"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.name = "*mlp"; })), (Ids{"a-model3", "a-model1"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.name = "ml*"; })), Ids{"a-model3"})
      << "a glob matches the whole name";
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.name = "tile-[1].csv"; })), Ids{"a-tile1"});
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.name = "%"; })), Ids{}) << "no LIKE wildcards";
}

TEST_F(ArtifactSearch, AFormatMatchesTheFormatOrTheMediaTypeIgnoringCase) {
  // As the CLI passes them (media_type.hpp's format_names): "onnx" and its media type.
  EXPECT_EQ(ids(with([](ArtifactQuery& q) {
              q.formats = {"onnx", "application/onnx"};
            })),
            (Ids{"a-model3", "a-model1"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.formats = {"CSV"}; })), (Ids{"a-tile0"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.formats = {"text/csv"}; })),
            (Ids{"a-tile1", "a-tile0"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.formats = {"parquet"}; })), Ids{});
}

TEST_F(ArtifactSearch, KindDagRunAndTaskMatchExactly) {
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.kind = "dataset"; })),
            (Ids{"a-cohort2", "a-cohort1"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.kind = "other"; })), (Ids{"a-tile1", "a-tile0"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.dag = "mlp"; })),
            (Ids{"a-model3", "a-tile1", "a-tile0"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.dag = "ard"; })), Ids{});
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.run_id = "r2"; })), Ids{"a-cohort2"});
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.task = "tiles"; })), (Ids{"a-tile1", "a-tile0"}))
      << "every instance of a task";
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.task = "tiles[0]"; })), Ids{"a-tile0"})
      << "or one instance";
}

TEST_F(ArtifactSearch, FiltersAndTogether) {
  EXPECT_EQ(ids(with([](ArtifactQuery& q) {
              q.kind = "dataset";
              q.dag = "ards";
              q.run_id = "r1";
            })),
            Ids{"a-cohort1"});
  EXPECT_EQ(ids(with([](ArtifactQuery& q) {
              q.name = "cohort";
              q.kind = "model";
            })),
            Ids{});
  auto q = meta({"rows=2048"});
  q.kind = "dataset";
  EXPECT_EQ(ids(q), Ids{"a-cohort1"});
}

TEST_F(ArtifactSearch, AMetadataFieldMatchesItsTextOrItsNumber) {
  EXPECT_EQ(ids(meta({"source=synthetic (seed 7)"})), Ids{"a-cohort1"});
  EXPECT_EQ(ids(meta({"source=synthetic"})), Ids{}) << "the whole value, not a substring";
  // The number 2048 and the text "2048" both match 2048; 2048.0 is the same number.
  EXPECT_EQ(ids(meta({"rows=2048"})), (Ids{"a-tile0", "a-cohort1"}));
  EXPECT_EQ(ids(meta({"rows=2048.0"})), Ids{"a-cohort1"});
  EXPECT_EQ(ids(meta({"test_mae_mmHg=21.5"})), Ids{"a-model1"});
  EXPECT_EQ(ids(meta({"quantized=false"})), Ids{"a-model1"});
  EXPECT_EQ(ids(meta({"quantized=0"})), Ids{}) << "false is not the number 0";
  EXPECT_EQ(ids(meta({"note=null"})), Ids{"a-cohort2"});
  EXPECT_EQ(ids(meta({"missing=x"})), Ids{});
}

TEST_F(ArtifactSearch, DotsReachIntoObjectsAndAListMatchesAnElement) {
  EXPECT_EQ(ids(meta({"split.train=1640"})), Ids{"a-cohort1"});
  EXPECT_EQ(ids(meta({"split=1640"})), Ids{}) << "an object is not its members";
  EXPECT_EQ(ids(meta({"keywords=icu"})), Ids{"a-cohort1"});
  EXPECT_EQ(ids(meta({"keywords=mlp"})), Ids{"a-model3"}) << "a plain text field too";
  EXPECT_EQ(ids(meta({"keywords=ards", "rows=2048"})), Ids{"a-cohort1"});
  EXPECT_EQ(ids(meta({"keywords=ards", "rows=512"})), Ids{});
}

TEST_F(ArtifactSearch, TheLimitKeepsTheNewest) {
  EXPECT_EQ(ids(with([](ArtifactQuery& q) { q.limit = 2; })), (Ids{"a-model3", "a-tile1"}));
  EXPECT_EQ(ids(with([](ArtifactQuery& q) {
              q.kind = "dataset";
              q.limit = 1;
            })),
            Ids{"a-cohort2"});
}

TEST(MetadataMatch, SplitsAtTheFirstEqualsAndTheKeyAtDots) {
  auto m = parse_metadata_match("hyperparameters.lr=0.01");
  EXPECT_EQ(m.path, (std::vector<std::string>{"hyperparameters", "lr"}));
  EXPECT_EQ(m.value, "0.01");
  m = parse_metadata_match("url=https://x.org/?a=b");
  EXPECT_EQ(m.path, std::vector<std::string>{"url"});
  EXPECT_EQ(m.value, "https://x.org/?a=b");
  EXPECT_EQ(parse_metadata_match("note=").value, "");
}

TEST(MetadataMatch, MalformedArgumentsAreExitTwoErrorsSayingWhatIsWrong) {
  auto error_of = [](const char* arg) -> std::string {
    try {
      parse_metadata_match(arg);
    } catch (const flow::Error& e) {
      EXPECT_EQ(e.exit_code(), 2);
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of("rows").find("--meta 'rows': no '='; expected KEY=VALUE"), std::string::npos)
      << error_of("rows");
  EXPECT_NE(error_of("=3").find("the key is empty"), std::string::npos);
  EXPECT_NE(error_of("a..b=1").find("the key 'a..b' has an empty part"), std::string::npos);
  EXPECT_NE(error_of(".a=1").find("has an empty part"), std::string::npos);
  EXPECT_NE(error_of("a.=1").find("has an empty part"), std::string::npos);
  EXPECT_NE(error_of("a\"b=1").find("cannot hold '\"'"), std::string::npos);
}
