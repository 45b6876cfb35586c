#include "engine/core/ascii.hpp"

#include <gtest/gtest.h>

TEST(AsciiLower, FoldsAsciiLettersOnlyWhateverTheLocale) {
  EXPECT_EQ(flow::ascii_lower("Application/ONNX"), "application/onnx");
  EXPECT_EQ(flow::ascii_lower("PyTorch-DDP_2.1"), "pytorch-ddp_2.1");
  EXPECT_EQ(flow::ascii_lower("\xC3\x84Z"), "\xC3\x84z") << "UTF-8 bytes are left alone";
  EXPECT_EQ(flow::ascii_lower(""), "");
}
