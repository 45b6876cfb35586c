#include "engine/artifact/declaration.hpp"

#include <gtest/gtest.h>

#include "engine/artifact/registration_error.hpp"

using flow::artifact::parse_declarations;
using flow::artifact::RegistrationError;
using nlohmann::json;

namespace {
std::string declaration_error(const json& outputs) {
  try {
    parse_declarations(outputs);
  } catch (const RegistrationError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Declaration, NoArtifactsKeyDeclaresNothing) {
  EXPECT_TRUE(parse_declarations(json{{"model", "m.onnx"}}).empty());
  EXPECT_TRUE(parse_declarations(json()).empty());
  EXPECT_TRUE(parse_declarations(json{{"artifacts", json::array()}}).empty());
}

TEST(Declaration, PathsAndObjectsMix) {
  auto d = parse_declarations(json::parse(R"({"artifacts": [
      "report.csv",
      {"path": "model.onnx", "name": "ards-mlp", "description": "an MLP", "format": "onnx",
       "metadata": {"license": "MIT", "keywords": ["ards"]}}]})"));
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].index, 0u);
  EXPECT_EQ(d[0].path, "report.csv");
  EXPECT_EQ(d[0].name, "");
  EXPECT_TRUE(d[0].metadata.empty());
  EXPECT_EQ(d[1].index, 1u);
  EXPECT_EQ(d[1].path, "model.onnx");
  EXPECT_EQ(d[1].name, "ards-mlp");
  EXPECT_EQ(d[1].description, "an MLP");
  EXPECT_EQ(d[1].format, "onnx");
  EXPECT_EQ(d[1].metadata["license"], "MIT");
}

TEST(Declaration, ShapeErrorsNameTheEntry) {
  EXPECT_EQ(declaration_error({{"artifacts", "model.onnx"}}),
            "\"artifacts\" must be a list of paths or objects, not \"model.onnx\"");
  EXPECT_EQ(declaration_error({{"artifacts", {42}}}),
            "artifacts[0] must be a path or an object with \"path\", not 42");
  EXPECT_EQ(declaration_error({{"artifacts", {"a", {{"name", "x"}}}}}),
            "artifacts[1] has no \"path\"");
  EXPECT_EQ(declaration_error({{"artifacts", {{{"path", 3}}}}}),
            "artifacts[0]: \"path\" must be a string, not 3");
  EXPECT_EQ(declaration_error({{"artifacts", {{{"path", "m"}, {"metadata", {1, 2}}}}}}),
            "artifacts[0]: \"metadata\" must be a JSON object, not [1,2]");
}

TEST(Declaration, UnknownKeysGetADidYouMean) {
  auto e = declaration_error({{"artifacts", {{{"path", "m"}, {"nmae", "x"}}}}});
  EXPECT_NE(e.find("artifacts[0]: unknown key \"nmae\" (did you mean 'name'?)"), std::string::npos)
      << e;
}

TEST(Declaration, MetadataCannotOverrideWhatFlowRecords) {
  auto with = [](const char* key) {
    return json{{"artifacts", {{{"path", "m"}, {"metadata", {{key, "x"}}}}}}};
  };
  EXPECT_NE(declaration_error(with("sha256")).find("\"sha256\", which flow records itself"),
            std::string::npos);
  EXPECT_NE(declaration_error(with("prov:wasDerivedFrom")).find("flow records itself"),
            std::string::npos);
  EXPECT_NE(declaration_error(with("@id")).find("JSON-LD keyword \"@id\""), std::string::npos);
  EXPECT_NE(declaration_error(with("name")).find("give \"name\" next to \"path\""),
            std::string::npos);
  EXPECT_EQ(declaration_error(with("license")), "");
}

TEST(Declaration, AKindIsModelDatasetOrOther) {
  auto d = parse_declarations(json::parse(R"({"artifacts": [
      "a.npz", {"path": "data.npz", "kind": "dataset"}, {"path": "m.onnx", "kind": "model"}]})"));
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].kind, "") << "none given: registration decides from the format";
  EXPECT_EQ(d[1].kind, "dataset");
  EXPECT_EQ(d[2].kind, "model");
  EXPECT_EQ(declaration_error({{"artifacts", {{{"path", "m"}, {"kind", "Dataset"}}}}}),
            "artifacts[0]: unknown \"kind\" \"Dataset\" (did you mean 'dataset'?); known kinds: "
            "model, dataset, other");
  EXPECT_EQ(declaration_error({{"artifacts", {{{"path", "m"}, {"kind", "weights"}}}}}),
            "artifacts[0]: unknown \"kind\" \"weights\"; known kinds: model, dataset, other");
  EXPECT_EQ(declaration_error({{"artifacts", {{{"path", "m"}, {"kind", 1}}}}}),
            "artifacts[0]: \"kind\" must be a string, not 1");
}
