#include "engine/artifact/artifact_id.hpp"

#include <gtest/gtest.h>

#include "engine/core/sha256.hpp"

using flow::artifact::looks_like_artifact_id;
using flow::artifact::make_artifact_id;

namespace {
const std::string kContent = flow::sha256_hex("model bytes");
}

TEST(ArtifactId, IsContentPrefixPlusRegistrationHash) {
  auto id = make_artifact_id(kContent, "run1", "train", 1, "/w/model.onnx");
  ASSERT_EQ(id.size(), 27u) << id;
  EXPECT_EQ(id.substr(0, 2), "a-");
  EXPECT_EQ(id.substr(2, 12), kContent.substr(0, 12));
  EXPECT_EQ(id[14], '-');
  EXPECT_TRUE(looks_like_artifact_id(id));
}

TEST(ArtifactId, IsStableForTheSameRegistration) {
  EXPECT_EQ(make_artifact_id(kContent, "run1", "train", 1, "/w/model.onnx"),
            make_artifact_id(kContent, "run1", "train", 1, "/w/model.onnx"));
}

TEST(ArtifactId, SameBytesElsewhereGetAnotherIdWithTheSameContentHalf) {
  auto base = make_artifact_id(kContent, "run1", "train", 1, "/w/model.onnx");
  for (const auto& other : {make_artifact_id(kContent, "run2", "train", 1, "/w/model.onnx"),
                            make_artifact_id(kContent, "run1", "tune", 1, "/w/model.onnx"),
                            make_artifact_id(kContent, "run1", "train", 2, "/w/model.onnx"),
                            make_artifact_id(kContent, "run1", "train", 1, "/w/copy.onnx")}) {
    EXPECT_NE(other, base);
    EXPECT_EQ(other.substr(0, 15), base.substr(0, 15));
  }
}

TEST(ArtifactId, FieldsCannotRunIntoEachOther) {
  // "ab" + "c" and "a" + "bc" must not hash alike.
  EXPECT_NE(make_artifact_id(kContent, "ab", "c", 1, "/p"),
            make_artifact_id(kContent, "a", "bc", 1, "/p"));
}

TEST(ArtifactId, RecognisesTheShapeOnly) {
  EXPECT_TRUE(looks_like_artifact_id("a-0123456789ab-cdef01234567"));
  EXPECT_FALSE(looks_like_artifact_id("a-0123456789ab"));
  EXPECT_FALSE(looks_like_artifact_id("b-0123456789ab-cdef01234567"));
  EXPECT_FALSE(looks_like_artifact_id("a-0123456789AB-cdef01234567"));
  EXPECT_FALSE(looks_like_artifact_id("a-0123456789ab_cdef01234567"));
  EXPECT_FALSE(looks_like_artifact_id("model.onnx"));
}
