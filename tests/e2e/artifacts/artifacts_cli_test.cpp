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
  // The card derives from the model (its nearest upstream's file) and from the training
  // data, a dataset, which every artifact downstream of it derives from.
  EXPECT_EQ(card["metadata"]["prov:wasDerivedFrom"],
            json::array({{{"@id", iri(data)}}, {{"@id", iri(model)}}}));
  EXPECT_EQ(model["metadata"]["prov:wasDerivedFrom"], json::array({{{"@id", iri(data)}}}));
  EXPECT_EQ(data["metadata"]["prov:wasDerivedFrom"], json::array());
  EXPECT_EQ(card["derived_from"], json::array({data["id"], model["id"]}));
  EXPECT_EQ(data["kind"], "dataset");
  EXPECT_EQ(model["kind"], "model");
  EXPECT_EQ(card["kind"], "other");
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

namespace {

// A pipeline of shell tasks (no PyTorch): prep registers a cohort (a dataset) and a report,
// fit a model, card a card; DAG `reg`, run g1. And a second DAG, `other`, run o1.
void registry_project(const Project& p) {
  p.write("reg.yaml", R"yaml(dag: reg
tasks:
  - id: prep
    run: |
      printf 'a,b\n1,2\n3,4\n' > cohort.csv
      echo fine > report.txt
      cat > "$FLOW_OUTPUTS_FILE" <<'JSON'
      {"artifacts": [
        {"path": "cohort.csv", "name": "ards-cohort", "kind": "dataset",
         "metadata": {"source": "synthetic (seed 7)", "rows": 2, "split": {"train": 1, "test": 1},
                      "keywords": ["ards", "icu"]}},
        {"path": "report.txt", "name": "prep-report"}]}
      JSON
  - id: fit
    after: [prep]
    run: |
      echo weights > model.onnx
      echo '{"artifacts": [{"path": "model.onnx", "name": "ards-model", "metadata": {"epochs": 3}}]}' > $FLOW_OUTPUTS_FILE
  - id: card
    after: [fit]
    run: |
      echo '{}' > card.json
      echo '{"artifacts": ["card.json"]}' > $FLOW_OUTPUTS_FILE
)yaml");
  p.write("other.yaml", R"yaml(dag: other
tasks:
  - id: prep
    run: |
      echo x > cohort.npz
      echo '{"artifacts": [{"path": "cohort.npz", "name": "other-cohort", "kind": "dataset", "metadata": {"rows": 9}}]}' > $FLOW_OUTPUTS_FILE
)yaml");
  auto r = p.flow("run reg.yaml --run-id g1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  r = p.flow("run other.yaml --run-id o1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
}

// The names of a search's --json result, in order.
std::vector<std::string> search(const Project& p, const std::string& args) {
  auto r = p.flow("artifacts search --json " + args);
  EXPECT_EQ(r.code, 0) << args << "\n" << r.out << r.err;
  std::vector<std::string> names;
  if (r.code != 0) return names;
  for (const auto& a : json::parse(r.out))
    names.push_back(a["name"]);
  return names;
}

using Names = std::vector<std::string>;

}  // namespace

TEST(ArtifactsCli, AKindIsDeclaredOrFollowsTheFormatAndIsShown) {
  Project p;
  registry_project(p);
  auto list = artifacts_of(p, "--run g1");
  EXPECT_EQ(by_name(list, "ards-cohort")["kind"], "dataset");
  EXPECT_EQ(by_name(list, "ards-model")["kind"], "model") << "an ONNX file, no kind given";
  EXPECT_EQ(by_name(list, "prep-report")["kind"], "other");
  EXPECT_EQ(by_name(list, "card.json")["kind"], "other");
  const std::string cohort = by_name(list, "ards-cohort")["id"];
  EXPECT_EQ(by_name(list, "ards-cohort")["metadata"]["@type"],
            json({"File", "Dataset", "prov:Entity"}));
  EXPECT_EQ(by_name(list, "ards-model")["metadata"]["@type"], json({"File", "prov:Entity"}));

  auto table = p.flow("artifacts list --run g1");
  EXPECT_NE(table.out.find("KIND"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("ards-cohort  dataset"), std::string::npos) << table.out;
  auto show = p.flow("artifacts show " + cohort);
  EXPECT_NE(show.out.find("  kind          dataset\n"), std::string::npos) << show.out;
  EXPECT_EQ(json::parse(p.flow("artifacts show " + cohort + " --json").out)["kind"], "dataset");
}

TEST(ArtifactsCli, EveryArtifactDownstreamOfADatasetDerivesFromIt) {
  Project p;
  registry_project(p);
  auto list = artifacts_of(p, "--run g1");
  const std::string cohort = by_name(list, "ards-cohort")["id"],
                    report = by_name(list, "prep-report")["id"],
                    model = by_name(list, "ards-model")["id"];
  // fit's model: everything prep registered (its nearest upstream).
  EXPECT_EQ(by_name(list, "ards-model")["derived_from"], json({cohort, report}));
  // card: fit's model, and the cohort two steps up, but not prep's report.
  const json& card = by_name(list, "card.json");
  EXPECT_EQ(card["derived_from"], json({cohort, model}));
  EXPECT_EQ(card["metadata"]["prov:wasDerivedFrom"],
            json::array({{{"@id", "urn:flow:artifact:" + cohort}},
                         {{"@id", "urn:flow:artifact:" + model}}}));
  auto show = p.flow("artifacts show " + card["id"].get<std::string>());
  EXPECT_NE(show.out.find("derived from  " + cohort + ", " + model), std::string::npos) << show.out;
}

TEST(ArtifactsCli, SearchFiltersByEachFieldAndTheyAndTogether) {
  Project p;
  registry_project(p);
  // Newest first, like list.
  EXPECT_EQ(search(p, ""),
            (Names{"other-cohort", "card.json", "ards-model", "prep-report", "ards-cohort"}));
  EXPECT_EQ(search(p, "--name cohort"), (Names{"other-cohort", "ards-cohort"}));
  EXPECT_EQ(search(p, "--name 'ards-*'"), (Names{"ards-model", "ards-cohort"}));
  EXPECT_EQ(search(p, "--name 'a*t'"), Names{"ards-cohort"}) << "a glob is the whole name";
  EXPECT_EQ(search(p, "--format onnx"), Names{"ards-model"});
  EXPECT_EQ(search(p, "--format application/onnx"), Names{"ards-model"});
  EXPECT_EQ(search(p, "--format CSV"), Names{"ards-cohort"});
  EXPECT_EQ(search(p, "--kind dataset"), (Names{"other-cohort", "ards-cohort"}));
  EXPECT_EQ(search(p, "--kind model"), Names{"ards-model"});
  EXPECT_EQ(search(p, "--dag reg --kind dataset"), Names{"ards-cohort"});
  EXPECT_EQ(search(p, "--task prep"), (Names{"other-cohort", "prep-report", "ards-cohort"}));
  EXPECT_EQ(search(p, "--task prep --run g1"), (Names{"prep-report", "ards-cohort"}));
  EXPECT_EQ(search(p, "--run o1"), Names{"other-cohort"});
  EXPECT_EQ(search(p, "--meta 'source=synthetic (seed 7)'"), Names{"ards-cohort"});
  EXPECT_EQ(search(p, "--meta split.train=1 --meta keywords=icu"), Names{"ards-cohort"});
  EXPECT_EQ(search(p, "--meta rows=9"), Names{"other-cohort"});
  EXPECT_EQ(search(p, "--meta epochs=3 --kind dataset"), Names{});
  EXPECT_EQ(search(p, "--kind dataset --limit 1"), Names{"other-cohort"});

  // --json is list's shape; without it, list's table.
  auto j = json::parse(p.flow("artifacts search --json --kind model").out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0], artifacts_of(p, "--run g1")[1]) << "the same object as list --json";
  auto table = p.flow("artifacts search --kind dataset --dag other");
  EXPECT_EQ(table.code, 0);
  EXPECT_EQ(table.out.find("ID"), 0u) << table.out;
  EXPECT_NE(table.out.find("other-cohort"), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("ards-cohort"), std::string::npos) << table.out;
  EXPECT_EQ(p.flow("artifacts search --name nothing-like-this").out, "no artifacts\n");
}

TEST(ArtifactsCli, SearchRefusesMalformedFiltersWithExitTwo) {
  Project p;
  registry_project(p);
  auto meta = p.flow("artifacts search --meta rows");
  EXPECT_EQ(meta.code, 2) << meta.out << meta.err;
  EXPECT_NE(meta.err.find("--meta 'rows': no '='; expected KEY=VALUE"), std::string::npos)
      << meta.err;
  auto dots = p.flow("artifacts search --meta split..train=1");
  EXPECT_EQ(dots.code, 2);
  EXPECT_NE(dots.err.find("has an empty part"), std::string::npos) << dots.err;
  auto kind = p.flow("artifacts search --kind datset");
  EXPECT_EQ(kind.code, 2);
  EXPECT_NE(kind.err.find("--kind 'datset': not a kind of artifact (did you mean 'dataset'?); "
                          "kinds: model, dataset, other"),
            std::string::npos)
      << kind.err;
  auto run = p.flow("artifacts search --run nope");
  EXPECT_EQ(run.code, 2);
  EXPECT_NE(run.err.find("no run 'nope'"), std::string::npos) << run.err;
  EXPECT_EQ(p.flow("artifacts search --limit -1").code, 2);
}

TEST(ArtifactsCli, AnUnknownKindFailsTheTaskNamingTheKinds) {
  Project p;
  p.write("bad.yaml", R"yaml(dag: bad
tasks:
  - id: prep
    run: |
      echo x > d.csv
      echo '{"artifacts": [{"path": "d.csv", "kind": "data-set"}]}' > $FLOW_OUTPUTS_FILE
)yaml");
  auto r = p.flow("run bad.yaml --run-id k1");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("artifacts[0]: unknown \"kind\" \"data-set\" (did you mean 'dataset'?); "
                       "known kinds: model, dataset, other"),
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
  p.write("ld.yaml", R"yaml(dag: ld
params:
  lr: 0.01
tasks:
  - id: data
    run: |
      echo rows > cohort.csv
      cat > "$FLOW_OUTPUTS_FILE" <<'JSON'
      {"artifacts": [{"path": "cohort.csv", "name": "cohort", "kind": "dataset",
        "metadata": {"source": "synthetic (seed 7)", "rows": 2,
                     "license": "https://spdx.org/licenses/CC0-1.0"}}]}
      JSON
  - id: fit
    after: [data]
    run: |
      echo weights > model.bin
      cat > "$FLOW_OUTPUTS_FILE" <<'JSON'
      {"artifacts": [{"path": "model.bin", "name": "m", "description": "a model", "kind": "model",
        "metadata": {"epochs": 3, "features": ["age", "peep"],
                     "hyperparameters": {"lr": 0.01, "hidden": 16},
                     "test_mae_mmHg": 4.2,
                     "license": "https://spdx.org/licenses/MIT", "keywords": ["ards"]}}]}
      JSON
)yaml");
  auto r = p.flow("run ld.yaml --run-id l1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const json list = artifacts_of(p);
  const json model = by_name(list, "m"), data = by_name(list, "cohort");
  ASSERT_TRUE(model.is_object());
  ASSERT_TRUE(data.is_object());
  auto read = [&](const json& record) {
    p.write("record.jsonld", record["metadata"].dump());
    auto out = shell(p, "/usr/bin/python3 '" FLOW_SOURCE_DIR
                        "/tests/e2e/artifacts/jsonld_terms.py' record.jsonld");
    EXPECT_EQ(out.code, 0) << "python3-pyld and python3-rdflib are test dependencies "
                              "(scripts/install-deps.sh):\n"
                           << out.err;
    return out.code == 0 ? json::parse(out.out) : json::object();
  };

  const std::string s = "http://schema.org/", prov = "http://www.w3.org/ns/prov#",
                    f = "urn:flow:vocab:";
  // What every record of a local try has (`description` at least for the site's Place).
  std::set<std::string> common;
  for (const char* t :
       {"identifier", "propertyID", "value", "name", "encodingFormat", "contentSize", "sha256",
        "contentUrl", "dateCreated", "instrument", "object", "result", "agent", "softwareVersion",
        "location", "startTime", "endTime", "license", "description"})
    common.insert(s + t);
  for (const char* t :
       {"generatedAtTime", "wasGeneratedBy", "startedAtTime", "endedAtTime", "wasAssociatedWith"})
    common.insert(prov + t);
  common.insert("http://www.w3.org/1999/02/22-rdf-syntax-ns#type");
  const std::set<std::string> common_types = {
      s + "MediaObject",         s + "CreateAction",  s + "SoftwareSourceCode",
      s + "SoftwareApplication", s + "PropertyValue", s + "Place",
      prov + "Entity",           prov + "Activity",   prov + "Plan",
      prov + "SoftwareAgent"};

  // The model: its own keys in flow's namespace; derived from the dataset (PROV-O), which
  // the try used.
  const json seen = read(model);
  std::set<std::string> meant = common;
  meant.insert({s + "keywords", prov + "wasDerivedFrom", prov + "used"});
  for (const char* t : {"epochs", "features", "hyperparameters", "lr", "hidden", "test_mae_mmHg"})
    meant.insert(f + t);
  EXPECT_EQ(seen["predicates"].get<std::set<std::string>>(), meant) << seen.dump();
  EXPECT_EQ(seen["rdflib_predicates"].get<std::set<std::string>>(), meant) << seen.dump();
  EXPECT_EQ(seen["rdflib_triples"], seen["pyld_triples"]) << seen.dump();
  EXPECT_EQ(seen["types"].get<std::set<std::string>>(), common_types) << seen.dump();
  EXPECT_EQ(seen["derived_from"], json({"urn:flow:artifact:" + data["id"].get<std::string>()}))
      << seen.dump();

  // The dataset: also a schema:Dataset; source and rows are flow's own terms.
  const json seen_data = read(data);
  std::set<std::string> meant_data = common;
  meant_data.insert({f + "source", f + "rows"});
  EXPECT_EQ(seen_data["predicates"].get<std::set<std::string>>(), meant_data) << seen_data.dump();
  EXPECT_EQ(seen_data["rdflib_predicates"].get<std::set<std::string>>(), meant_data)
      << seen_data.dump();
  EXPECT_EQ(seen_data["rdflib_triples"], seen_data["pyld_triples"]) << seen_data.dump();
  std::set<std::string> data_types = common_types;
  data_types.insert(s + "Dataset");
  EXPECT_EQ(seen_data["types"].get<std::set<std::string>>(), data_types) << seen_data.dump();
  EXPECT_EQ(seen_data["derived_from"], json::array()) << seen_data.dump();
}
