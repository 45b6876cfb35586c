#include "engine/artifact/content_check.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

using flow::artifact::check_content;
using flow::artifact::ContentCheck;

namespace {

class ContentCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_ / "model.onnx") << "original";
    a_.path = (dir_ / "model.onnx").string();
    a_.sha256 = flow::sha256_file(a_.path);
    a_.size = 8;
    a_.host = "node1";
  }
  flow::test::TempDir dir_;
  flow::state::ArtifactRecord a_;
};

}  // namespace

TEST_F(ContentCheckTest, AnUnchangedFileMatches) {
  auto c = check_content(a_, "node1");
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.problem, "");
  ASSERT_TRUE(c.actual);
  EXPECT_EQ(c.actual->sha256, a_.sha256);
}

TEST_F(ContentCheckTest, AChangedFileSaysExpectedAndActualHashes) {
  std::ofstream(dir_ / "model.onnx") << "0riginal";
  auto c = check_content(a_, "node1");
  EXPECT_EQ(c.status, ContentCheck::Status::kChanged);
  EXPECT_EQ(c.problem, "the file changed since it was registered: sha256 differs: expected " +
                           a_.sha256 + ", actual " + flow::sha256_hex("0riginal"));
}

TEST_F(ContentCheckTest, AGrownFileSaysBothHashAndSize) {
  std::ofstream(dir_ / "model.onnx", std::ios::app) << "+";
  auto c = check_content(a_, "node1");
  EXPECT_EQ(c.status, ContentCheck::Status::kChanged);
  EXPECT_NE(c.problem.find("sha256 differs"), std::string::npos);
  EXPECT_NE(c.problem.find("size differs: expected 8 bytes, actual 9 bytes"), std::string::npos);
}

TEST_F(ContentCheckTest, AMissingFileSaysWhereItWasRegistered) {
  std::filesystem::remove(dir_ / "model.onnx");
  auto c = check_content(a_, "node1");
  EXPECT_EQ(c.status, ContentCheck::Status::kMissing);
  EXPECT_EQ(c.problem, "the file is missing: no such file " + a_.path);
  EXPECT_EQ(check_content(a_, "laptop").problem,
            "the file is missing: no such file " + a_.path +
                " (it was registered on host node1; this is laptop)");
}

TEST_F(ContentCheckTest, ADirectoryInItsPlaceIsNotAFile) {
  std::filesystem::remove(dir_ / "model.onnx");
  std::filesystem::create_directory(dir_ / "model.onnx");
  EXPECT_EQ(check_content(a_, "node1").status, ContentCheck::Status::kNotAFile);
}
