// The artifact registry through the real `flow` binary: the example DAG
// dags/examples/mlp_onnx.yaml trains an MLP with Debian's PyTorch, exports it to ONNX and
// registers data, model and model card; then list / show / verify, corruption, invalid
// models, provenance and the error paths.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "../engine/cli.hpp"
#include "engine/core/sha256.hpp"

using flow::test::Project;
using nlohmann::json;

namespace {

// A project whose dags/ is the repository's, so the example DAG runs as shipped.
std::unique_ptr<Project> example_project() {
  auto p = std::make_unique<Project>();
  std::filesystem::create_directory_symlink(FLOW_SOURCE_DIR "/dags", p->dir() / "dags");
  return p;
}

// torch is a declared dependency (scripts/install-deps.sh): its absence fails, loudly.
void require_torch() {
  int rc = std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1");
  ASSERT_EQ(rc, 0) << "Debian's PyTorch is not importable: /usr/bin/python3 -c 'import torch' "
                      "failed. Install python3-torch (scripts/install-deps.sh).";
}

json artifacts_of(const Project& p, const std::string& args = "") {
  auto r = p.flow("artifacts list --json " + args);
  EXPECT_EQ(r.code, 0) << r.err;
  return json::parse(r.out);
}

const json& by_name(const json& list, const std::string& name) {
  for (const auto& a : list) {
    if (a["name"] == name) return a;
  }
  static const json none;
  ADD_FAILURE() << "no artifact named " << name << " in " << list.dump(2);
  return none;
}

// Runs `command` with sh in the project's directory.
flow::test::CmdResult shell(const Project& p, const std::string& command) {
  const auto out = p.dir() / ".sh.out", err = p.dir() / ".sh.err";
  const std::string cmd = "cd '" + p.dir().string() + "' && " + command + " >'" + out.string() +
                          "' 2>'" + err.string() + "' </dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, flow::test::slurp(out),
          flow::test::slurp(err)};
}

// Runs the example pipeline as run `m1`; returns the model's list entry.
json train(const Project& p) {
  auto r = p.flow("run dags/examples/mlp_onnx.yaml --run-id m1 -p rows=256");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  return by_name(artifacts_of(p), "mlp-regressor");
}

}  // namespace

TEST(ArtifactsCli, TrainedModelIsListedWithItsHashAndVerifies) {
  require_torch();
  auto p = example_project();
  json model = train(*p);
  ASSERT_TRUE(model.is_object());

  // docs/REFERENCE.md §7.2 shape, newest first: card, model, data.
  auto list = artifacts_of(*p);
  ASSERT_EQ(list.size(), 3u) << list.dump(2);
  for (const auto& a : list) {
    for (const char* k : {"id", "path", "sha256", "created", "run_id", "metadata"})
      EXPECT_TRUE(a.contains(k)) << k;
  }
  EXPECT_EQ(list[0]["name"], "mlp-model-card");
  EXPECT_EQ(list[2]["name"], "mlp-training-data");

  const std::string path = model["path"];
  EXPECT_EQ(path, (p->home() / "runs" / "m1" / "model.onnx").string());
  EXPECT_EQ(model["sha256"], flow::sha256_file(path));
  EXPECT_EQ(model["run_id"], "m1");
  EXPECT_EQ(model["task"], "train");
  EXPECT_EQ(model["format"], "onnx");
  EXPECT_EQ(model["size"], std::filesystem::file_size(path));
  const json& ld = model["metadata"];
  EXPECT_EQ(ld["@id"], "urn:flow:artifact:" + model["id"].get<std::string>());
  EXPECT_EQ(ld["encodingFormat"], "application/onnx");
  EXPECT_EQ(ld["sha256"], model["sha256"]);
  EXPECT_EQ(ld["contentSize"], std::to_string(std::filesystem::file_size(path)));
  EXPECT_EQ(ld["keywords"], json({"mlp", "regression", "onnx"}));
  EXPECT_EQ(ld["prov:wasGeneratedBy"]["instrument"]["name"], "mlp_onnx");

  // Verify: the hash matches and the ONNX checker accepts the exported model.
  const std::string id = model["id"];
  auto v = p->flow("artifacts verify " + id);
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("sha256   ok"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("onnx     valid"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("opset 13 (ai.onnx)"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("input   features  tensor(FLOAT)  [batch, 12]"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("output  prediction  tensor(FLOAT)  [batch, 1]"), std::string::npos)
      << v.out;
  auto vj = json::parse(p->flow("artifacts verify " + id + " --json").out);
  EXPECT_EQ(vj["ok"], true);
  EXPECT_EQ(vj["onnx"]["valid"], true);
  EXPECT_EQ(vj["onnx"]["inputs"][0]["shape"], json({"batch", 12}));

  // A unique prefix is enough; show prints the same object as list.
  auto show = p->flow("artifacts show " + id.substr(0, 10) + " --json");
  EXPECT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(json::parse(show.out)["id"], id);
  auto human = p->flow("artifacts show " + id);
  EXPECT_NE(human.out.find("derived from  " +
                           by_name(list, "mlp-training-data")["id"].get<std::string>()),
            std::string::npos)
      << human.out;

  // Non-ONNX artifacts are content-checked only.
  auto card = p->flow("artifacts verify " + list[0]["id"].get<std::string>() + " --json");
  EXPECT_EQ(card.code, 0) << card.out;
  EXPECT_TRUE(json::parse(card.out)["onnx"].is_null());
}

TEST(ArtifactsCli, ProvenanceLinksCardToModelToData) {
  require_torch();
  auto p = example_project();
  train(*p);
  auto list = artifacts_of(*p, "--run m1");
  const json& data = by_name(list, "mlp-training-data");
  const json& model = by_name(list, "mlp-regressor");
  const json& card = by_name(list, "mlp-model-card");
  auto iri = [](const json& a) { return "urn:flow:artifact:" + a["id"].get<std::string>(); };
  EXPECT_EQ(card["metadata"]["prov:wasDerivedFrom"], json::array({{{"@id", iri(model)}}}));
  EXPECT_EQ(model["metadata"]["prov:wasDerivedFrom"], json::array({{{"@id", iri(data)}}}));
  EXPECT_EQ(data["metadata"]["prov:wasDerivedFrom"], json::array());
  EXPECT_EQ(card["derived_from"], json::array({model["id"]}));
  // The activity names the run, the task, the try and the run's params.
  const json& act = card["metadata"]["prov:wasGeneratedBy"];
  EXPECT_EQ(act["@id"], "urn:flow:run:m1:task:model_card:try:1");
  bool rows = false;
  for (const auto& o : act["object"])
    rows = rows || (o.value("name", "") == "rows" && o["value"] == 256);
  EXPECT_TRUE(rows) << act.dump(2);
}

TEST(ArtifactsCli, ACorruptedModelFailsVerifyNamingBothHashes) {
  require_torch();
  auto p = example_project();
  json model = train(*p);
  const std::string path = model["path"], id = model["id"], expected = model["sha256"];
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    f.put('\x7f');
  }
  const std::string actual = flow::sha256_file(path);
  ASSERT_NE(actual, expected);
  auto v = p->flow("artifacts verify " + id);
  EXPECT_EQ(v.code, 1) << v.out << v.err;
  EXPECT_NE(v.err.find("sha256 differs: expected " + expected + ", actual " + actual),
            std::string::npos)
      << v.err;
  EXPECT_NE(v.out.find("sha256   DIFFERS"), std::string::npos) << v.out;
  auto vj = json::parse(p->flow("artifacts verify " + id + " --json").out);
  EXPECT_EQ(vj["ok"], false);
  EXPECT_EQ(vj["content"]["status"], "changed");
  EXPECT_EQ(vj["content"]["expected"]["sha256"], expected);
  EXPECT_EQ(vj["content"]["actual"]["sha256"], actual);

  std::filesystem::remove(path);
  v = p->flow("artifacts verify " + id);
  EXPECT_EQ(v.code, 1);
  EXPECT_NE(v.err.find("the file is missing: no such file " + path), std::string::npos) << v.err;
}

TEST(ArtifactsCli, TruncatedAndGarbageModelsAreInvalidEvenWithMatchingHashes) {
  require_torch();
  auto p = example_project();
  p->write("broken.yaml", R"(dag: broken
tasks:
  - id: train
    run: python3 dags/examples/mlp_onnx/make_data.py --rows 64 --out data.npz && python3 dags/examples/mlp_onnx/train.py --data data.npz --epochs 1 --out model.onnx
  - id: damage
    after: [train]
    run: |
      head -c 300 {{ tasks.train.outputs.model }} > truncated.onnx
      head -c 4096 /dev/urandom > garbage.onnx
      echo '{"artifacts": ["truncated.onnx", "garbage.onnx"]}' > $FLOW_OUTPUTS_FILE
)");
  auto r = p->flow("run broken.yaml --run-id b1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto list = artifacts_of(*p, "--run b1");
  for (const char* name : {"truncated.onnx", "garbage.onnx"}) {
    const json& a = by_name(list, name);
    auto v = p->flow("artifacts verify " + a["id"].get<std::string>());
    EXPECT_EQ(v.code, 1) << name << "\n" << v.out << v.err;
    EXPECT_NE(v.out.find("sha256   ok"), std::string::npos) << v.out;  // registered as is
    EXPECT_NE(v.err.find("the model is invalid: "), std::string::npos) << v.err;
    auto vj =
        json::parse(p->flow("artifacts verify " + a["id"].get<std::string>() + " --json").out);
    EXPECT_EQ(vj["content"]["status"], "matches");
    EXPECT_EQ(vj["onnx"]["valid"], false);
    EXPECT_EQ(vj["ok"], false);
  }
}

TEST(ArtifactsCli, UnknownIdsExitTwoWithAHint) {
  Project p;
  p.write("one.yaml", R"(dag: one
tasks:
  - id: make
    run: |
      echo x > x.txt
      echo '{"artifacts": [{"path": "x.txt", "name": "xfile"}]}' > $FLOW_OUTPUTS_FILE
)");
  ASSERT_EQ(p.flow("run one.yaml --run-id o1").code, 0);
  const std::string id = artifacts_of(p)[0]["id"];
  std::string typo = id;
  typo[5] = typo[5] == '0' ? '1' : '0';
  for (const char* cmd : {"show", "verify"}) {
    auto r = p.flow(std::string("artifacts ") + cmd + " " + typo);
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("no artifact '" + typo + "'"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(did you mean '" + id + "'?)"), std::string::npos) << r.err;
  }
  auto by_name = p.flow("artifacts show xfile");
  EXPECT_EQ(by_name.code, 2);
  EXPECT_NE(by_name.err.find("the newest artifact named 'xfile'"), std::string::npos)
      << by_name.err;
  auto prefix = p.flow("artifacts show a-");
  EXPECT_EQ(prefix.code, 0) << "one artifact: 'a-' is a unique prefix";
  auto unknown_run = p.flow("artifacts list --run nope");
  EXPECT_EQ(unknown_run.code, 2);
  EXPECT_NE(unknown_run.err.find("no run 'nope'"), std::string::npos) << unknown_run.err;
  EXPECT_EQ(p.flow("artifacts list").out.find("ID"), 0u);
}

TEST(ArtifactsCli, ARegistrationErrorFailsTheRunAndSaysWhy) {
  Project p;
  p.write("bad.yaml", R"(dag: bad
tasks:
  - id: export
    run: |
      echo '{"artifacts": [{"path": "../outside.onnx"}]}' > $FLOW_OUTPUTS_FILE
)");
  auto r = p.flow("run bad.yaml --run-id x1");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("task 'export': cannot register artifacts[0] (\"../outside.onnx\"): the "
                       "relative path ../outside.onnx climbs out of the task's working directory"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(artifacts_of(p).size(), 0u);
}

// The JSON-LD record read by two JSON-LD processors (PyLD and rdflib, Debian's
// python3-pyld/python3-rdflib): each key means exactly the term flow meant. schema.org and
// PROV-O for what they define; the task's own metadata keys (epochs, features,
// hyperparameters, a metric) in flow's namespace, never as schema.org terms that do not
// exist; schema.org properties a task means as such (license, keywords) stay schema.org.
TEST(ArtifactsJsonLd, AJsonLdProcessorReadsEveryKeyAsTheTermItMeans) {
  Project p;
  p.write("ld.yaml", R"(dag: ld
params:
  lr: 0.01
tasks:
  - id: fit
    run: |
      echo weights > model.bin
      cat > "$FLOW_OUTPUTS_FILE" <<'JSON'
      {"artifacts": [{"path": "model.bin", "name": "m", "description": "a model",
        "metadata": {"epochs": 3, "features": ["age", "peep"],
                     "hyperparameters": {"lr": 0.01, "hidden": 16},
                     "test_mae_mmHg": 4.2,
                     "license": "https://spdx.org/licenses/MIT", "keywords": ["ards"]}}]}
      JSON
)");
  auto r = p.flow("run ld.yaml --run-id l1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const json model = by_name(artifacts_of(p), "m");
  ASSERT_TRUE(model.is_object());
  p.write("record.jsonld", model["metadata"].dump());
  auto read = shell(p, "/usr/bin/python3 '" FLOW_SOURCE_DIR
                       "/tests/e2e/artifacts/jsonld_terms.py' record.jsonld");
  ASSERT_EQ(read.code, 0) << "python3-pyld and python3-rdflib are test dependencies "
                             "(scripts/install-deps.sh):\n"
                          << read.err;
  const json seen = json::parse(read.out);

  const std::string s = "http://schema.org/", prov = "http://www.w3.org/ns/prov#",
                    f = "urn:flow:vocab:";
  std::set<std::string> meant;
  for (const char* t : {"identifier",     "propertyID",  "value",   "name",       "description",
                        "encodingFormat", "contentSize", "sha256",  "contentUrl", "dateCreated",
                        "instrument",     "object",      "result",  "agent",      "softwareVersion",
                        "location",       "startTime",   "endTime", "license",    "keywords"})
    meant.insert(s + t);
  for (const char* t :
       {"generatedAtTime", "wasGeneratedBy", "startedAtTime", "endedAtTime", "wasAssociatedWith"})
    meant.insert(prov + t);
  for (const char* t : {"epochs", "features", "hyperparameters", "lr", "hidden", "test_mae_mmHg"})
    meant.insert(f + t);
  meant.insert("http://www.w3.org/1999/02/22-rdf-syntax-ns#type");
  const auto got = seen["predicates"].get<std::set<std::string>>();
  EXPECT_EQ(got, meant) << read.out;
  EXPECT_EQ(seen["rdflib_predicates"].get<std::set<std::string>>(), meant) << read.out;
  EXPECT_EQ(seen["rdflib_triples"], seen["pyld_triples"]) << read.out;

  const std::set<std::string> types = {
      s + "MediaObject",         s + "CreateAction",  s + "SoftwareSourceCode",
      s + "SoftwareApplication", s + "PropertyValue", s + "Place",
      prov + "Entity",           prov + "Activity",   prov + "Plan",
      prov + "SoftwareAgent"};
  EXPECT_EQ(seen["types"].get<std::set<std::string>>(), types) << read.out;
}
