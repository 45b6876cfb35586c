// Golden scripts: one per supported system x software pair of the built-in module files
// (plus a plain script per system), compared byte for byte with tests/fixtures/lamec/.
// FLOW_UPDATE_GOLDENS=1 rewrites the goldens instead of comparing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "lamec_test_util.hpp"

using namespace lamec_test;
namespace lamec = flow::lamec;

namespace {

const fs::path kGoldens = fs::path(FLOW_TEST_FIXTURES) / "lamec";

std::string golden_script(const lamec::ModuleCatalog& modules, const std::string& system,
                          const std::vector<std::string>& software) {
  flow::site::Site site;
  site.name = system;
  site.system = system;
  flow::dag::SlurmSpec spec;
  spec.nodes = 2;
  spec.time = "00:30:00";
  spec.account = "golden";
  spec.software = software;
  auto req = lamec::make_request(site, spec, "python3 train.py --epochs 2", modules);
  req.job_name = "golden-" + system + (software.empty() ? "" : "-" + software.front());
  return lamec::render(req, modules);
}

// name -> software list for every case of the built-in catalogue.
std::vector<std::pair<std::string, std::pair<std::string, std::vector<std::string>>>> cases(
    const lamec::ModuleCatalog& modules) {
  std::vector<std::pair<std::string, std::pair<std::string, std::vector<std::string>>>> out;
  for (const auto& system : modules.names()) {
    out.push_back({system + "-plain", {system, {}}});
    for (const auto& sw : modules.get(system).supported())
      out.push_back({system + "-" + sw, {system, {sw}}});
  }
  return out;
}

}  // namespace

TEST(Golden, EverySupportedSystemSoftwarePairMatchesItsGolden) {
  const bool update = std::getenv("FLOW_UPDATE_GOLDENS") != nullptr;
  auto modules = builtin_modules();
  std::set<std::string> expected_files;
  for (const auto& [name, c] : cases(modules)) {
    std::string script = golden_script(modules, c.first, c.second);
    fs::path golden = kGoldens / (name + ".sh");
    expected_files.insert(golden.filename().string());
    if (update) {
      fs::create_directories(kGoldens);
      std::ofstream(golden, std::ios::binary) << script;
      continue;
    }
    ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; run with FLOW_UPDATE_GOLDENS=1";
    EXPECT_EQ(script, slurp(golden))
        << "generated script differs from " << golden << " (FLOW_UPDATE_GOLDENS=1 regenerates)";
  }
  // No stale goldens for pairs that no longer exist.
  for (const auto& e : fs::directory_iterator(kGoldens)) {
    if (e.path().extension() == ".sh") {
      EXPECT_TRUE(expected_files.count(e.path().filename().string())) << "stale " << e.path();
    }
  }
}

TEST(Golden, CoverTheLamecSupportMatrix) {
  auto modules = builtin_modules();
  using V = std::vector<std::string>;
  EXPECT_EQ(modules.get("juwels").supported(), V({"ddp"}));
  EXPECT_EQ(modules.get("jureca").supported(),
            V({"ddp", "horovod", "heat", "deepspeed", "raytune"}));
  EXPECT_EQ(modules.get("deep").supported(),
            V({"ddp", "horovod", "heat", "deepspeed", "tensorflow"}));
  EXPECT_EQ(modules.get("local").supported(), V({"ddp"}));
  EXPECT_EQ(modules.get("localslurm").supported(), V({"ddp"}));
}

TEST(Golden, EveryGeneratedScriptPassesBashSyntaxCheck) {
  auto modules = builtin_modules();
  for (const auto& [name, c] : cases(modules))
    EXPECT_EQ(bash_syntax_errors(golden_script(modules, c.first, c.second)), "") << name;
  // Combined blocks too.
  EXPECT_EQ(bash_syntax_errors(golden_script(modules, "deep", {"ddp", "heat"})), "");
}
