// `flow schema dag|site` read by a JSON Schema validator that is not flow's: Debian's
// python3-jsonschema (with python3-yaml reading the files as YAML 1.2, as flow does;
// tests/e2e/tooling/schema_check.py). The schema must accept every DAG and site file the
// loader accepts, and reject the broken fixtures of tests/fixtures/schema/, each of which
// the loader rejects (checked here too, with the message its first line names).
//
// What the schema does not express, because JSON Schema cannot see it (these stay the
// loader's and validator's alone, engine/dag/validate.cpp):
//   - references between tasks: `after:` naming an unknown task, cycles, a task id listed
//     twice in the DAG, templates naming unknown tasks, params or secrets, `{{ secrets.X }}`
//     outside `env:`, `{{ item }}` in `foreach`;
//   - the site catalogue: a `site:` no site file defines, software a site's system lacks,
//     a Slurm site without workdir; the cron text of `schedule:` and the IANA `timezone:`;
//   - comparisons of two values: hpo grace_epochs <= max_epochs, lo < hi of a distribution,
//     hpo.best naming one of the objectives, the size of a grid, duplicate staged paths
//     after normalisation (a//b = a/b);
//   - site files: what `${VAR}` expands to (a value holding `${` is only checked to be
//     text), ~/.ssh/config entries named by ssh_config, a poll_interval of 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/e2e/engine/cli.hpp"

namespace {

namespace fs = std::filesystem;
using flow::test::CmdResult;
using flow::test::Project;
using flow::test::slurp;
using json = nlohmann::json;

const fs::path kSource = FLOW_SOURCE_DIR;

CmdResult schema_shell(const Project& p, const std::string& cmd) {
  return p.sh(cmd);
}

// `flow schema KIND` written to a file of the project; its path.
fs::path schema_file(const Project& p, const std::string& kind) {
  auto r = p.flow("schema " + kind);
  EXPECT_EQ(r.code, 0) << r.err;
  p.write(kind + ".schema.json", r.out);
  return p.dir() / (kind + ".schema.json");
}

// FILE -> the validator's problems with it ([] = valid).
json check(const Project& p, const fs::path& schema, const std::vector<fs::path>& files) {
  std::string cmd = "/usr/bin/python3 '" +
                    (kSource / "tests/e2e/tooling/schema_check.py").string() + "' '" +
                    schema.string() + "'";
  for (const auto& f : files)
    cmd += " '" + f.string() + "'";
  auto r = schema_shell(p, cmd);
  EXPECT_EQ(r.code, 0) << "python3-jsonschema and python3-yaml are test dependencies "
                          "(scripts/install-deps.sh):\n"
                       << r.err;
  if (r.code != 0) return json::object();
  return json::parse(r.out);
}

std::vector<fs::path> yaml_files(const fs::path& dir, bool recursive) {
  std::vector<fs::path> out;
  auto add = [&](const fs::directory_entry& e) {
    const auto ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".yaml" || ext == ".yml")) out.push_back(e.path());
  };
  if (recursive) {
    for (const auto& e : fs::recursive_directory_iterator(dir))
      add(e);
  } else {
    for (const auto& e : fs::directory_iterator(dir))
      add(e);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The loader's message a broken fixture names on its first line, "# loader: MESSAGE".
std::string loader_message(const fs::path& fixture) {
  const std::string text = slurp(fixture);
  const std::string tag = "# loader: ";
  EXPECT_EQ(text.rfind(tag, 0), 0u) << fixture << " must start with '" << tag << "'";
  return text.substr(tag.size(), text.find('\n') - tag.size());
}

}  // namespace

TEST(Schema, AcceptsEveryDagAndSiteFileOfTheRepository) {
  Project p;
  auto dags = yaml_files(kSource / "dags", true);
  auto sites = yaml_files(kSource / "sites", false);  // sites/modules/ holds LAMEC modules
  ASSERT_GE(dags.size(), 4u);
  ASSERT_GE(sites.size(), 5u);
  // The fuzz corpus holds the DAGs of many tests; those `flow validate` accepts are valid.
  size_t accepted = 0;
  for (const auto& f : yaml_files(kSource / "tests/fuzz/corpus/dag", false)) {
    if (p.flow("validate '" + f.string() + "'").code == 0) {
      dags.push_back(f);
      ++accepted;
    }
  }
  EXPECT_GE(accepted, 20u);
  for (const auto& [kind, files] : {std::pair{"dag", dags}, std::pair{"site", sites}}) {
    const json problems = check(p, schema_file(p, kind), files);
    ASSERT_EQ(problems.size(), files.size()) << problems.dump(1);
    for (const auto& [file, list] : problems.items())
      EXPECT_TRUE(list.empty()) << file << " is valid for flow, not for the schema:\n"
                                << list.dump(1);
  }
}

TEST(Schema, RejectsEveryBrokenDagFixtureTheLoaderRejects) {
  Project p;
  const auto fixtures = yaml_files(kSource / "tests/fixtures/schema/dag", false);
  ASSERT_GE(fixtures.size(), 20u);
  for (const auto& f : fixtures) {
    auto r = p.flow("validate '" + f.string() + "'");
    EXPECT_EQ(r.code, 2) << f;
    EXPECT_NE(r.err.find(loader_message(f)), std::string::npos)
        << f << ": the loader rejects it for another reason:\n"
        << r.err;
  }
  const json problems = check(p, schema_file(p, "dag"), fixtures);
  ASSERT_EQ(problems.size(), fixtures.size()) << problems.dump(1);
  for (const auto& [file, list] : problems.items())
    EXPECT_FALSE(list.empty()) << file << " is refused by flow, accepted by the schema";
}

TEST(Schema, RejectsEveryBrokenSiteFixtureTheLoaderRejects) {
  Project p;
  const auto fixtures = yaml_files(kSource / "tests/fixtures/schema/site", false);
  ASSERT_GE(fixtures.size(), 8u);
  for (const auto& f : fixtures) {
    // The catalogue with this one file added to the built-in sites.
    const std::string dir = "sites-" + f.stem().string();
    p.write(dir + "/" + f.filename().string(), slurp(f));
    auto r = p.flow("sites list", "FLOW_SITES_PATH='" + (p.dir() / dir).string() + "'");
    EXPECT_EQ(r.code, 2) << f << "\n" << r.out;
    EXPECT_NE(r.err.find(loader_message(f)), std::string::npos)
        << f << ": the loader rejects it for another reason:\n"
        << r.err;
  }
  const json problems = check(p, schema_file(p, "site"), fixtures);
  ASSERT_EQ(problems.size(), fixtures.size()) << problems.dump(1);
  for (const auto& [file, list] : problems.items())
    EXPECT_FALSE(list.empty()) << file << " is refused by flow, accepted by the schema";
}

// docs/schema/*.schema.json are what editors read offline (the `# yaml-language-server:
// $schema=` line of the repository's DAG and site files): copies of `flow schema`.
TEST(Schema, CheckedInCopiesAreWhatFlowSchemaPrints) {
  Project p;
  for (const char* kind : {"dag", "site"}) {
    auto r = p.flow(std::string("schema ") + kind);
    ASSERT_EQ(r.code, 0) << r.err;
    const fs::path copy = kSource / "docs/schema" / (std::string(kind) + ".schema.json");
    EXPECT_EQ(slurp(copy), r.out) << copy << " differs from `flow schema " << kind
                                  << "`; refresh it: flow schema " << kind << " > " << copy;
  }
  EXPECT_EQ(p.flow("schema").out, p.flow("schema dag").out) << "dag is the default";
  EXPECT_EQ(p.flow("schema dag --json").out, p.flow("schema dag").out);
  EXPECT_EQ(p.flow("schema cron").code, 2);
}

TEST(Schema, EveryDagAndSiteFileOfTheRepositoryNamesItsSchemaForEditors) {
  auto files = yaml_files(kSource / "dags", true);
  for (const auto& f : yaml_files(kSource / "sites", false))
    files.push_back(f);
  for (const auto& f : files) {
    const std::string text = slurp(f);
    const std::string tag = "# yaml-language-server: $schema=";
    const auto at = text.find(tag);
    ASSERT_NE(at, std::string::npos) << f;
    const auto start = at + tag.size();
    const fs::path target = f.parent_path() / text.substr(start, text.find('\n', start) - start);
    const bool is_site = f.parent_path().filename() == "sites";
    EXPECT_EQ(fs::weakly_canonical(target),
              kSource / "docs/schema" / (is_site ? "site.schema.json" : "dag.schema.json"))
        << f;
  }
}
