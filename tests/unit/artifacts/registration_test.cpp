#include "engine/artifact/registration.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "engine/artifact/artifact_id.hpp"
#include "engine/artifact/registration_error.hpp"
#include "engine/core/sha256.hpp"
#include "tests/support/temp_dir.hpp"

using flow::artifact::register_artifacts;
using flow::artifact::RegistrationError;
using flow::artifact::TryContext;
using nlohmann::json;

namespace {

class Registration : public ::testing::Test {
 protected:
  void SetUp() override {
    run_.id = "run1";
    run_.dag = "ards";
    run_.dag_hash = std::string(64, 'd');
    run_.params = {{"epochs", 3}};
    ctx_.run = &run_;
    ctx_.instance_id = "train";
    ctx_.task_id = "train";
    ctx_.try_number = 2;
    ctx_.site = "local";
    ctx_.host = "node1";
    ctx_.workdir = dir_.path();
    ctx_.started = 1000;
    ctx_.now = 5000;
    ctx_.derived_from = {"a-000000000000-111111111111"};
    std::ofstream(dir_ / "model.onnx") << "onnx bytes";
    std::ofstream(dir_ / "report.CSV") << "a,b\n";
  }
  std::string error_of(const json& outputs) {
    try {
      register_artifacts(outputs, ctx_);
    } catch (const RegistrationError& e) {
      return e.what();
    }
    return "";
  }
  flow::test::TempDir dir_;
  flow::state::RunRecord run_;
  TryContext ctx_;
};

}  // namespace

TEST_F(Registration, RecordsTheFileTheTryAndTheRun) {
  auto rows =
      register_artifacts(json::parse(R"({"artifacts": [{"path": "model.onnx", "name": "ards-mlp",
                       "description": "d", "metadata": {"license": "MIT"}}]})"),
                         ctx_);
  ASSERT_EQ(rows.size(), 1u);
  const auto& a = rows[0];
  EXPECT_EQ(a.path, (dir_ / "model.onnx").string());
  EXPECT_EQ(a.sha256, flow::sha256_hex("onnx bytes"));
  EXPECT_EQ(a.size, 10);
  EXPECT_EQ(a.name, "ards-mlp");
  EXPECT_EQ(a.description, "d");
  EXPECT_EQ(a.format, "onnx");
  EXPECT_EQ(a.encoding_format, "application/onnx");
  EXPECT_EQ(a.run_id, "run1");
  EXPECT_EQ(a.instance_id, "train");
  EXPECT_EQ(a.try_number, 2);
  EXPECT_EQ(a.dag, "ards");
  EXPECT_EQ(a.dag_hash, run_.dag_hash);
  EXPECT_EQ(a.params["epochs"], 3);
  EXPECT_EQ(a.site, "local");
  EXPECT_EQ(a.host, "node1");
  EXPECT_EQ(a.started, 1000);
  EXPECT_EQ(a.created, 5000);
  EXPECT_EQ(a.derived_from, ctx_.derived_from);
  EXPECT_EQ(a.metadata["license"], "MIT");
  EXPECT_EQ(a.id, flow::artifact::make_artifact_id(a.sha256, "run1", "train", 2, a.path));
}

TEST_F(Registration, DefaultsComeFromTheFile) {
  auto rows = register_artifacts(json{{"artifacts", {"report.CSV"}}}, ctx_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].name, "report.CSV");
  EXPECT_EQ(rows[0].format, "csv");
  EXPECT_EQ(rows[0].encoding_format, "text/csv");
}

TEST_F(Registration, AMediaTypeMayBeGivenAsTheFormat) {
  auto rows = register_artifacts(
      json{{"artifacts", {{{"path", "model.onnx"}, {"format", "application/x-custom"}}}}}, ctx_);
  EXPECT_EQ(rows[0].format, "application/x-custom");
  EXPECT_EQ(rows[0].encoding_format, "application/x-custom");
}

TEST_F(Registration, NothingDeclaredRegistersNothing) {
  EXPECT_TRUE(register_artifacts(json{{"k", 1}}, ctx_).empty());
}

TEST_F(Registration, ErrorsNameTheTaskTheEntryAndTheProblem) {
  EXPECT_EQ(error_of(json{{"artifacts", {"model.onnx", "missing.onnx"}}}),
            "task 'train': cannot register artifacts[1] (\"missing.onnx\"): no such file " +
                (dir_ / "missing.onnx").string() + " (from \"missing.onnx\")");
  EXPECT_EQ(error_of(json{{"artifacts", {{{"pth", "x"}}}}}).substr(0, 70),
            "task 'train': cannot register its artifacts: artifacts[0]: unknown key");
}

TEST_F(Registration, TheSameFileTwiceIsAnError) {
  auto e = error_of(json{{"artifacts", {"model.onnx", (dir_ / "model.onnx").string()}}});
  EXPECT_NE(e.find("artifacts[1]"), std::string::npos) << e;
  EXPECT_NE(e.find("names the same file as artifacts[0]"), std::string::npos) << e;
}

TEST_F(Registration, AMissingFileOfARemoteTaskSaysWhereFlowLooked) {
  ctx_.site = "jureca";
  auto e = error_of(json{{"artifacts", {"missing.onnx"}}});
  EXPECT_NE(e.find("the task ran on site 'jureca' (docs/ARTIFACTS.md, artifacts from other sites)"),
            std::string::npos)
      << e;
}

TEST_F(Registration, TheKindIsTheTasksOrFollowsTheFormat) {
  auto by_format = register_artifacts(json{{"artifacts", {"model.onnx", "report.CSV"}}}, ctx_);
  ASSERT_EQ(by_format.size(), 2u);
  EXPECT_EQ(by_format[0].kind, "model") << "an ONNX file is a model unless the task says so";
  EXPECT_EQ(by_format[1].kind, "other") << "a CSV may be data or a report: only the task knows";
  auto given = register_artifacts(json::parse(R"({"artifacts": [
      {"path": "model.onnx", "kind": "other"}, {"path": "report.CSV", "kind": "dataset"}]})"),
                                  ctx_);
  ASSERT_EQ(given.size(), 2u);
  EXPECT_EQ(given[0].kind, "other");
  EXPECT_EQ(given[1].kind, "dataset");
}

TEST_F(Registration, AnUnknownKindFailsNamingTheEntryAndTheKinds) {
  const auto e =
      error_of(json::parse(R"({"artifacts": [{"path": "report.CSV", "kind": "data"}]})"));
  EXPECT_NE(e.find("task 'train': cannot register its artifacts: artifacts[0]: unknown \"kind\" "
                   "\"data\""),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("known kinds: model, dataset, other"), std::string::npos) << e;
}
