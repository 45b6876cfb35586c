// The .deb CPack makes from this build: its control data (name, version, dependencies from
// the libraries flow links), its files (binary, site catalogue, module stacks under /usr),
// and that it works once unpacked.
//
// The package is unpacked with `dpkg -x` into a temporary root rather than installed with
// `dpkg -i`: dpkg -x lays down exactly the files dpkg -i would (the package has no
// maintainer scripts), without touching the machine's package database or /usr, so the
// test is safe on a shared machine and repeatable. That dpkg -i would accept it is checked
// separately: every dependency in its Depends field is installed here.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "install_util.hpp"

namespace fs = std::filesystem;
using flow::test::in_clean_env;
using flow::test::quoted;
using flow::test::sh;
using flow::test::TempDir;

namespace {

std::string field(const std::string& control, const std::string& name) {
  std::istringstream in(control);
  for (std::string line; std::getline(in, line);) {
    auto start = line.find_first_not_of(' ');
    if (start != std::string::npos && line.compare(start, name.size() + 1, name + ":") == 0)
      return line.substr(line.find(':') + 2);
  }
  return "";
}

// "a (>= 1), b | c" -> {{"a"}, {"b", "c"}}
std::vector<std::vector<std::string>> dependency_groups(const std::string& depends) {
  std::vector<std::vector<std::string>> out;
  std::istringstream groups(depends);
  for (std::string group; std::getline(groups, group, ',');) {
    std::vector<std::string> alternatives;
    std::istringstream alts(group);
    for (std::string alt; std::getline(alts, alt, '|');) {
      std::istringstream words(alt);
      std::string name;
      words >> name;
      if (!name.empty()) alternatives.push_back(name.substr(0, name.find(':')));
    }
    if (!alternatives.empty()) out.push_back(alternatives);
  }
  return out;
}

// Installed under its own name, or provided by an installed package: dpkg-shlibdeps takes
// names from the library's symbols file, and Debian renames runtime packages on ABI
// transitions (libspdlog1.10 provides libspdlog1.10-fmt9 on an up-to-date bookworm), so
// the Depends field may name a virtual package that only an installed one provides.
bool installed(const std::string& package) {
  if (sh("dpkg-query -W -f='${Status}' " + package + " | grep -q 'install ok installed'").code == 0)
    return true;
  auto provides = sh("dpkg-query -W -f='${Status}\\t${Provides}\\n'");
  std::istringstream lines(provides.out);
  for (std::string line; std::getline(lines, line);) {
    auto tab = line.find('\t');
    if (tab == std::string::npos || line.compare(0, tab, "install ok installed") != 0) continue;
    for (const auto& group : dependency_groups(line.substr(tab + 1)))
      for (const auto& name : group)
        if (name == package) return true;
  }
  return false;
}

}  // namespace

TEST(Package, CpackMakesADebOfFlowItsSitesAndModulesThatWorksUnpacked) {
  TempDir out("flow-package");
  auto made = sh("cpack --config " + quoted(fs::path(FLOW_BUILD_DIR) / "CPackConfig.cmake") +
                 " -G DEB -B " + quoted(out.path()));
  ASSERT_EQ(made.code, 0) << made.out << made.err;
  fs::path deb;
  for (const auto& e : fs::directory_iterator(out.path()))
    if (e.path().extension() == ".deb") deb = e.path();
  ASSERT_FALSE(deb.empty()) << made.out;
  EXPECT_EQ(deb.filename().string().rfind("flow_" FLOW_VERSION "_", 0), 0u) << deb;

  auto info = sh("dpkg-deb -I " + quoted(deb));
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_EQ(field(info.out, "Package"), "flow") << info.out;
  EXPECT_EQ(field(info.out, "Version"), FLOW_VERSION) << info.out;
  const std::string depends = field(info.out, "Depends");
  for (const char* lib : {"libsqlite3-0", "libssh-4", "libyaml-cpp", "libncursesw6", "libcurl4",
                          "libarchive13", "tzdata"})
    EXPECT_NE(depends.find(lib), std::string::npos) << lib << " in Depends: " << depends;
  for (const auto& group : dependency_groups(depends)) {
    bool any = false;
    for (const auto& alt : group)
      any = any || installed(alt);
    EXPECT_TRUE(any) << "dpkg -i would refuse: none of " << group.front() << "... is installed";
  }

  auto files = sh("dpkg-deb -c " + quoted(deb));
  ASSERT_EQ(files.code, 0) << files.err;
  for (const char* f :
       {"./usr/bin/flow", "./usr/share/flow/sites/jureca-dc-gpu.yaml",
        "./usr/share/flow/sites/modules/jureca.yaml", "./usr/share/doc/flow/README.md"})
    EXPECT_NE(files.out.find(std::string(f) + "\n"), std::string::npos) << f << "\n" << files.out;
  EXPECT_EQ(files.out.find("flow-build-tree"), std::string::npos);

  TempDir root("flow-package-root");
  ASSERT_EQ(sh("dpkg -x " + quoted(deb) + " " + quoted(root.path())).code, 0);
  const fs::path flow = root / "usr/bin/flow";
  auto version = sh(in_clean_env(root.path(), quoted(flow) + " --version"));
  EXPECT_EQ(version.code, 0) << version.err;
  EXPECT_NE(version.out.find("flow " FLOW_VERSION), std::string::npos) << version.out;
  auto sites = sh(in_clean_env(root.path(), quoted(flow) + " sites list --json"));
  ASSERT_EQ(sites.code, 0) << sites.err;
  bool jureca = false;
  for (const auto& s : nlohmann::json::parse(sites.out)) {
    if (s["name"] != "jureca-dc-gpu") continue;
    jureca = true;
    EXPECT_EQ(s["file"], (root / "usr/share/flow/sites/jureca-dc-gpu.yaml").string());
  }
  EXPECT_TRUE(jureca) << sites.out;
  auto gen = sh(in_clean_env(root.path(), quoted(flow) + " lamec gen jureca pytorch-ddp"));
  EXPECT_EQ(gen.code, 0) << gen.err;
  EXPECT_NE(gen.out.find("module load PyTorch/"), std::string::npos) << gen.out;
}

// Regression: CI's up-to-date bookworm named libspdlog1.10-fmt9 in Depends, a name only
// Provides of the installed libspdlog1.10 carries, and the check above called it missing.
// g++ (which builds this test) provides the virtual c++-compiler in the same way.
TEST(Package, AVirtualPackageProvidedByAnInstalledOneSatisfiesADependency) {
  EXPECT_TRUE(installed("c++-compiler"));
  EXPECT_FALSE(installed("flow-no-such-package-or-provide"));
}
