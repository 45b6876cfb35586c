#include "engine/artifact/jsonld.hpp"

#include <gtest/gtest.h>

using flow::artifact::artifact_iri;
using flow::artifact::artifact_jsonld;
using flow::artifact::file_url;
using nlohmann::json;

namespace {

flow::state::ArtifactRecord sample() {
  flow::state::ArtifactRecord a;
  a.id = "a-3f2c9d0e1b7a-5e1f0c2d9a8b";
  a.run_id = "ards-20260101T000000-beef";
  a.instance_id = "tiles[3]";
  a.task_id = "tiles";
  a.try_number = 2;
  a.dag = "ards";
  a.dag_hash = std::string(64, 'd');
  a.params = {{"epochs", 30}, {"data", "data/ards"}, {"layers", {64, 32}}};
  a.site = "local";
  a.host = "node1";
  a.name = "ards-mlp";
  a.description = "ARDS regression model";
  a.format = "onnx";
  a.encoding_format = "application/onnx";
  a.path = "/work/runs/r 1/model.onnx";
  a.sha256 = std::string(64, 'f');
  a.size = 1356;
  a.started = 1767225600000;  // 2026-01-01T00:00:00Z
  a.created = 1767225660000;
  a.derived_from = {"a-000000000000-111111111111"};
  a.metadata = {{"license", "https://spdx.org/licenses/MIT"}, {"keywords", {"ards"}}};
  return a;
}

bool has(const json& list, const json& value) {
  for (const auto& v : list) {
    if (v == value) return true;
  }
  return false;
}

}  // namespace

TEST(JsonLd, ContextNamesSchemaOrgTermsAndLeavesTheRestToFlowsVocabulary) {
  auto j = artifact_jsonld(sample());
  const json& c = j["@context"];
  EXPECT_EQ(c["@vocab"], "urn:flow:vocab:");
  EXPECT_EQ(c["schema"], "http://schema.org/");
  EXPECT_EQ(c["prov"], "http://www.w3.org/ns/prov#");
  EXPECT_EQ(c["File"], "http://schema.org/MediaObject");
  for (const char* term :
       {"name", "sha256", "contentSize", "license", "keywords", "PropertyValue", "CreateAction"})
    EXPECT_EQ(c[term], std::string("schema:") + term) << term;
  // What schema.org does not define is not made a schema.org term.
  for (const char* own : {"epochs", "features", "hyperparameters", "flow-run"})
    EXPECT_FALSE(c.contains(own)) << own;
  EXPECT_EQ(j["@id"], "urn:flow:artifact:a-3f2c9d0e1b7a-5e1f0c2d9a8b");
  EXPECT_EQ(j["@type"], json({"File", "prov:Entity"}));
}

TEST(JsonLd, DescribesTheFile) {
  auto j = artifact_jsonld(sample());
  EXPECT_EQ(j["name"], "ards-mlp");
  EXPECT_EQ(j["description"], "ARDS regression model");
  EXPECT_EQ(j["encodingFormat"], "application/onnx");
  EXPECT_EQ(j["contentSize"], "1356");
  EXPECT_EQ(j["sha256"], std::string(64, 'f'));
  EXPECT_EQ(j["contentUrl"], "file:///work/runs/r%201/model.onnx");
  EXPECT_EQ(j["dateCreated"], "2026-01-01T00:01:00.000Z");
  EXPECT_EQ(j["prov:generatedAtTime"]["@value"], "2026-01-01T00:01:00.000Z");
  EXPECT_EQ(j["prov:generatedAtTime"]["@type"], "xsd:dateTime");
  EXPECT_TRUE(
      has(j["identifier"],
          {{"@type", "PropertyValue"}, {"propertyID", "sha256"}, {"value", std::string(64, 'f')}}));
  EXPECT_TRUE(has(j["identifier"], {{"@type", "PropertyValue"},
                                    {"propertyID", "flow-artifact-id"},
                                    {"value", "a-3f2c9d0e1b7a-5e1f0c2d9a8b"}}));
}

TEST(JsonLd, GeneratedByTheTryWithTheDagAndParams) {
  auto act = artifact_jsonld(sample())["prov:wasGeneratedBy"];
  EXPECT_EQ(act["@id"], "urn:flow:run:ards-20260101T000000-beef:task:tiles%5B3%5D:try:2");
  EXPECT_EQ(act["@type"], json({"CreateAction", "prov:Activity"}));
  EXPECT_EQ(act["prov:startedAtTime"]["@value"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(act["prov:endedAtTime"]["@value"], "2026-01-01T00:01:00.000Z");
  EXPECT_EQ(act["startTime"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(act["instrument"]["name"], "ards");
  EXPECT_EQ(act["instrument"]["@type"], json({"SoftwareSourceCode", "prov:Plan"}));
  EXPECT_EQ(act["instrument"]["identifier"]["propertyID"], "sha256");
  EXPECT_EQ(act["instrument"]["identifier"]["value"], std::string(64, 'd'));
  EXPECT_TRUE(has(act["identifier"], {{"@type", "PropertyValue"},
                                      {"propertyID", "flow-run"},
                                      {"value", "ards-20260101T000000-beef"}}));
  EXPECT_TRUE(has(act["identifier"],
                  {{"@type", "PropertyValue"}, {"propertyID", "flow-try"}, {"value", 2}}));
  EXPECT_TRUE(has(act["object"], {{"@type", "PropertyValue"}, {"name", "epochs"}, {"value", 30}}));
  // Lists and objects are given as their JSON text.
  EXPECT_TRUE(
      has(act["object"], {{"@type", "PropertyValue"}, {"name", "layers"}, {"value", "[64,32]"}}));
  EXPECT_EQ(act["result"]["@id"], "urn:flow:artifact:a-3f2c9d0e1b7a-5e1f0c2d9a8b");
  EXPECT_EQ(act["prov:wasAssociatedWith"]["@id"], act["agent"]["@id"]);
  EXPECT_EQ(act["agent"]["name"], "flow");
  EXPECT_EQ(act["location"]["name"], "local");
}

TEST(JsonLd, DerivedFromTheUpstreamArtifacts) {
  auto j = artifact_jsonld(sample());
  json up = {{"@id", "urn:flow:artifact:a-000000000000-111111111111"}};
  EXPECT_EQ(j["prov:wasDerivedFrom"], json::array({up}));
  EXPECT_EQ(j["prov:wasGeneratedBy"]["prov:used"], json::array({up}));
  EXPECT_TRUE(has(j["prov:wasGeneratedBy"]["object"], up));
  auto none = sample();
  none.derived_from.clear();
  EXPECT_EQ(artifact_jsonld(none)["prov:wasDerivedFrom"], json::array());
}

TEST(JsonLd, TheTasksMetadataIsMergedIn) {
  auto j = artifact_jsonld(sample());
  EXPECT_EQ(j["license"], "https://spdx.org/licenses/MIT");
  EXPECT_EQ(j["keywords"], json({"ards"}));
}

TEST(JsonLd, MetadataNeverReplacesWhatFlowRecorded) {
  auto a = sample();
  a.metadata = {{"sha256", "forged"}};  // registration refuses this; rows from elsewhere too
  EXPECT_EQ(artifact_jsonld(a)["sha256"], std::string(64, 'f'));
}

TEST(JsonLd, IrisAreEscaped) {
  EXPECT_EQ(artifact_iri("a-1"), "urn:flow:artifact:a-1");
  EXPECT_EQ(file_url("/a b/ü#?.onnx"), "file:///a%20b/%C3%BC%23%3F.onnx");
}

TEST(JsonLd, ADatasetIsAlsoASchemaOrgDatasetAndAModelKeepsItsTypes) {
  auto data = sample();
  data.kind = "dataset";
  const auto j = artifact_jsonld(data);
  EXPECT_EQ(j["@type"], json({"File", "Dataset", "prov:Entity"}));
  EXPECT_EQ(j["@context"]["Dataset"], "schema:Dataset");
  auto model = sample();
  model.kind = "model";
  EXPECT_EQ(artifact_jsonld(model)["@type"], json({"File", "prov:Entity"}));
  auto other = sample();
  other.kind = "other";
  EXPECT_EQ(artifact_jsonld(other)["@type"], json({"File", "prov:Entity"}));
}
