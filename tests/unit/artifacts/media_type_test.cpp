#include "engine/artifact/media_type.hpp"

#include <gtest/gtest.h>

using namespace flow::artifact;

TEST(MediaType, FormatComesFromKnownExtensionsOnly) {
  EXPECT_EQ(format_from_extension("/w/model.onnx"), "onnx");
  EXPECT_EQ(format_from_extension("a.b/MODEL.ONNX"), "onnx");
  EXPECT_EQ(format_from_extension("cfg.yml"), "yaml");
  EXPECT_EQ(format_from_extension("weights.pt"), "pt");
  EXPECT_EQ(format_from_extension("data.xyz"), "");
  EXPECT_EQ(format_from_extension("Makefile"), "");
  EXPECT_EQ(format_from_extension(".onnx"), "") << "a dot file has no extension";
  EXPECT_EQ(format_from_extension("dir.onnx/file"), "");
}

TEST(MediaType, FormatsMapToMediaTypes) {
  EXPECT_EQ(media_type_of("onnx"), "application/onnx");
  EXPECT_EQ(media_type_of("ONNX"), "application/onnx");
  EXPECT_EQ(media_type_of("csv"), "text/csv");
  EXPECT_EQ(media_type_of("text/tab-separated-values"), "text/tab-separated-values");
  EXPECT_EQ(media_type_of(""), "application/octet-stream");
  EXPECT_EQ(media_type_of("xyz"), "application/octet-stream");
}

TEST(MediaType, OnnxIsRecognisedByNameOrMediaType) {
  EXPECT_TRUE(is_onnx("onnx"));
  EXPECT_TRUE(is_onnx("application/onnx"));
  EXPECT_TRUE(is_onnx("Application/ONNX"));
  EXPECT_FALSE(is_onnx("pt"));
  EXPECT_FALSE(is_onnx(""));
}

TEST(MediaType, AFormatGoesByItsNameAndItsMediaType) {
  using V = std::vector<std::string>;
  EXPECT_EQ(format_names("onnx"), (V{"onnx", "application/onnx"}));
  EXPECT_EQ(format_names("NPZ"), (V{"npz", "application/x-npz"}));
  EXPECT_EQ(format_names("application/x-pytorch"), (V{"application/x-pytorch", "pt", "pth"}));
  EXPECT_EQ(format_names("weird"), (V{"weird"}));
}
