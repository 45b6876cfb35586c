// flow::data_dir_of: an installed binary finds <prefix>/share/flow, a binary in its build
// tree finds the source tree through the build-tree marker, anything else finds nothing.
#include "engine/core/data_dir.hpp"

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using flow::data_dir_of;

TEST(DataDir, AnInstalledBinaryFindsShareFlowOfItsPrefix) {
  flow::test::TempDir d;
  d.write("usr/bin/flow", "");
  fs::create_directories(d / "usr/share/flow/sites");
  EXPECT_EQ(data_dir_of(d / "usr/bin/flow"), d / "usr/share/flow");
}

TEST(DataDir, ABinaryInItsBuildTreeFindsTheSourceTreeTheMarkerNames) {
  flow::test::TempDir d;
  fs::create_directories(d / "src/sites");
  d.write("src/build/flow-build-tree", (d / "src").string() + "\n");
  d.write("src/build/flow", "");
  EXPECT_EQ(data_dir_of(d / "src/build/flow"), d / "src");
  // Test binaries sit deeper in the build tree.
  EXPECT_EQ(data_dir_of(d / "src/build/tests/unit/sites/site_unit_tests"), d / "src");
}

TEST(DataDir, AnInstalledLayoutWinsOverABuildTreeAroundIt) {
  flow::test::TempDir d;
  fs::create_directories(d / "src/sites");
  d.write("src/build/flow-build-tree", (d / "src").string() + "\n");
  fs::create_directories(d / "src/build/stage/share/flow/sites");  // --prefix build/stage
  EXPECT_EQ(data_dir_of(d / "src/build/stage/bin/flow"), d / "src/build/stage/share/flow");
}

TEST(DataDir, ACopyOutsideBothHasNone) {
  flow::test::TempDir d;
  d.write("bin/flow", "");
  EXPECT_EQ(data_dir_of(d / "bin/flow"), std::nullopt);
  fs::create_directories(d / "share/flow");  // no sites/ in it: not flow's data
  EXPECT_EQ(data_dir_of(d / "bin/flow"), std::nullopt);
}

TEST(DataDir, AMarkerThatNamesNoSourceTreeIsIgnored) {
  flow::test::TempDir d;
  d.write("build/flow-build-tree", (d / "gone").string() + "\n");
  EXPECT_EQ(data_dir_of(d / "build/flow"), std::nullopt);
  d.write("build/flow-build-tree", "relative/path\n");
  EXPECT_EQ(data_dir_of(d / "build/flow"), std::nullopt);
}

TEST(DataDir, ThisTestBinaryIsInTheBuildTreeOfThisSourceTree) {
  auto dir = flow::data_dir();
  ASSERT_TRUE(dir);
  EXPECT_EQ(fs::canonical(*dir), fs::canonical(FLOW_SOURCE_DIR));
}
