// `cmake --install` into a temporary prefix, with the build tree left where it is: the
// installed flow finds its site catalogue and module stacks under <prefix>/share/flow (not
// in the source tree), and runs a DAG from an unrelated directory. A copy of the binary
// outside any prefix or build tree finds no built-in data at all: no source-tree path is
// compiled in.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "install_util.hpp"

namespace fs = std::filesystem;
using flow::test::in_clean_env;
using flow::test::quoted;
using flow::test::sh;
using flow::test::TempDir;
using nlohmann::json;

namespace {

// One install per test binary run: every test here reads the same prefix.
class Install : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    prefix_ = new TempDir("flow-install-prefix");
    auto r =
        sh("cmake --install " + quoted(FLOW_BUILD_DIR) + " --prefix " + quoted(prefix_->path()));
    install_ok_ = r.code == 0;
    install_log_ = r.out + r.err;
  }
  static void TearDownTestSuite() {
    delete prefix_;
    prefix_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(install_ok_) << install_log_; }

  static fs::path prefix() { return prefix_->path(); }
  static fs::path flow() { return prefix() / "bin" / "flow"; }

  static TempDir* prefix_;
  static bool install_ok_;
  static std::string install_log_;
  TempDir work_{"flow-install-work"};  // an unrelated directory to run from
};
TempDir* Install::prefix_ = nullptr;
bool Install::install_ok_ = false;
std::string Install::install_log_;

}  // namespace

TEST_F(Install, PutsTheBinarySitesModulesAndDocsUnderThePrefixAndNoBuildTreeMarker) {
  for (const char* f :
       {"bin/flow", "share/flow/sites/jureca-dc-gpu.yaml", "share/flow/sites/juwels-booster.yaml",
        "share/flow/sites/local.yaml", "share/flow/sites/modules/jureca.yaml",
        "share/flow/sites/modules/local.yaml", "share/doc/flow/README.md",
        "share/doc/flow/INSTALL.md"})
    EXPECT_TRUE(fs::is_regular_file(prefix() / f)) << f;
  EXPECT_EQ(fs::status(flow()).permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  for (const auto& e : fs::recursive_directory_iterator(prefix()))
    EXPECT_NE(e.path().filename(), "flow-build-tree") << e.path();
}

TEST_F(Install, SitesListReadsTheInstalledCatalogue) {
  auto r = sh(in_clean_env(work_.path(), quoted(flow()) + " sites list --json"));
  ASSERT_EQ(r.code, 0) << r.err;
  auto sites = json::parse(r.out);
  std::set<std::string> names;
  for (const auto& s : sites) {
    names.insert(s["name"].get<std::string>());
    const std::string file = s["file"];
    if (file.empty()) continue;  // the embedded `local` when no file defines it
    EXPECT_EQ(file.rfind((prefix() / "share/flow/sites").string(), 0), 0u)
        << s["name"] << " read from " << file;
  }
  for (const char* n : {"jureca-dc-gpu", "juwels-booster", "deep-esb", "local"})
    EXPECT_TRUE(names.count(n)) << n << " in " << r.out;
  auto table = sh(in_clean_env(work_.path(), quoted(flow()) + " sites list"));
  EXPECT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("jureca-dc-gpu"), std::string::npos) << table.out;
}

TEST_F(Install, LamecGenUsesTheInstalledModuleStacks) {
  auto r = sh(in_clean_env(work_.path(), quoted(flow()) + " lamec gen jureca pytorch-ddp"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("#SBATCH --partition=dc-gpu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("module load PyTorch/"), std::string::npos) << r.out;

  // Proof that the installed file is the one read: change it, and the script changes. (It
  // is this test's private copy; the source tree is not touched.)
  const fs::path stack = prefix() / "share/flow/sites/modules/jureca.yaml";
  std::stringstream text;
  text << std::ifstream(stack).rdbuf();
  std::string changed = text.str();
  const std::string from = "module load Python/3.11.3";
  const auto at = changed.find(from);
  ASSERT_NE(at, std::string::npos);
  changed.replace(at, from.size(), "module load Python/3.11.3-from-the-installed-copy");
  std::ofstream(stack) << changed;
  auto again = sh(in_clean_env(work_.path(), quoted(flow()) + " lamec gen jureca pytorch-ddp"));
  std::ofstream(stack) << text.str();
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("Python/3.11.3-from-the-installed-copy"), std::string::npos)
      << again.out;
}

TEST_F(Install, RunsADagFromAnUnrelatedDirectory) {
  work_.write("pipe.yaml", R"(dag: installed
tasks:
  - id: hello
    run: |
      echo '{"items": [0, 1, 2]}' > $FLOW_OUTPUTS_FILE
  - id: items
    after: [hello]
    foreach: "{{ tasks.hello.outputs.items }}"
    run: echo item {{ item }}
  - id: done
    after: [items]
    run: echo done
)");
  auto r = sh(in_clean_env(work_.path(), quoted(flow()) + " run pipe.yaml --run-id i1"));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(work_ / ".flow/flow.db"));
  auto st = sh(in_clean_env(work_.path(), quoted(flow()) + " status i1 --json"));
  ASSERT_EQ(st.code, 0) << st.err;
  auto j = json::parse(st.out);
  EXPECT_EQ(j["run"]["state"], "succeeded");
  EXPECT_EQ(j["tasks"].size(), 6u);
  auto log = sh(in_clean_env(work_.path(), quoted(flow()) + " logs i1 'items[2]'"));
  EXPECT_EQ(log.out, "item 2\n");
}

TEST_F(Install, ACopyOutsideAnyPrefixOrBuildTreeHasNoBuiltInSites) {
  fs::copy_file(flow(), work_ / "flow");
  auto r = sh(in_clean_env(work_.path(), quoted(work_ / "flow") + " sites list --json"));
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> names;
  for (const auto& s : json::parse(r.out))
    names.push_back(s["name"]);
  EXPECT_EQ(names, std::vector<std::string>{"local"}) << "no source-tree path is compiled in";
  EXPECT_EQ(sh(in_clean_env(work_.path(), quoted(work_ / "flow") + " --version")).code, 0);
}
