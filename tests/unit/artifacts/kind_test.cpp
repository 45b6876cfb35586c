#include "engine/artifact/kind.hpp"

#include <gtest/gtest.h>

using flow::artifact::artifact_kinds;
using flow::artifact::default_kind;
using flow::artifact::is_artifact_kind;

TEST(ArtifactKind, ModelDatasetAndOtherAreTheKinds) {
  EXPECT_EQ(artifact_kinds(), (std::vector<std::string>{"model", "dataset", "other"}));
  for (const char* k : {"model", "dataset", "other"})
    EXPECT_TRUE(is_artifact_kind(k)) << k;
  for (const char* k : {"", "Model", "data", "datasets"})
    EXPECT_FALSE(is_artifact_kind(k)) << k;
}

TEST(ArtifactKind, ModelFormatsAreModelsByDefaultAndTheRestOther) {
  for (const char* f : {"onnx", "ONNX", "pt", "pth", "safetensors", "application/onnx",
                        "application/x-pytorch", "application/x-safetensors"})
    EXPECT_EQ(default_kind(f), "model") << f;
  // Data files may be datasets, checkpoints or reports: only the task can say.
  for (const char* f : {"npz", "csv", "parquet", "json", "", "application/octet-stream"})
    EXPECT_EQ(default_kind(f), "other") << f;
}
