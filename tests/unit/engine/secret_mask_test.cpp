#include "engine/run/secret_mask.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "engine/core/text_file.hpp"
#include "tests/support/temp_dir.hpp"

using flow::run::SecretMask;

TEST(SecretMask, EveryOccurrenceOfEveryValueBecomesStars) {
  SecretMask m({"hunter22", "s3cr3t"});
  EXPECT_EQ(m.apply("pw=hunter22 again hunter22, key s3cr3ts3cr3t"),
            "pw=*** again ***, key ******");
}

TEST(SecretMask, TheLongerOfTwoOverlappingValuesIsMaskedWhole) {
  SecretMask m({"abcd", "abcdefgh"});
  EXPECT_EQ(m.apply("x abcdefgh y abcd"), "x *** y ***");
}

TEST(SecretMask, ValuesTooShortToMeanAnythingAreLeftAlone) {
  SecretMask m({"1", "on", "abc"});
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.apply("on 1 abc"), "on 1 abc");
}

TEST(SecretMask, AMultiLineValueIsMaskedWholeAndLineByLine) {
  SecretMask m({"-----BEGIN KEY-----\r\nAAAABBBB\n-----END KEY-----"});
  EXPECT_EQ(m.apply("-----BEGIN KEY-----\r\nAAAABBBB\n-----END KEY-----"), "***");
  EXPECT_EQ(m.apply("key: AAAABBBB"), "key: ***");
}

TEST(SecretMask, TakesTheSecretNamesOfALaunchEnvironmentOnly) {
  SecretMask m({{"TOKEN", "tok-123456"}, {"USER_NAME", "alice-public"}}, {"TOKEN"});
  EXPECT_EQ(m.apply("tok-123456 alice-public"), "*** alice-public");
}

TEST(SecretMask, RewritesAFileOnlyWhenItHoldsAValueAndKeepsItPrivate) {
  flow::test::TempDir dir;
  const auto clean = dir.path() / "clean.log", leaky = dir.path() / "leaky.log";
  std::ofstream(clean) << "nothing here\n";
  std::ofstream(leaky) << "token tok-123456\n";
  struct stat before {};
  ASSERT_EQ(::stat(clean.c_str(), &before), 0);
  SecretMask m({"tok-123456"});
  EXPECT_TRUE(m.apply_to_file(clean));
  EXPECT_TRUE(m.apply_to_file(leaky));
  struct stat after {};
  ASSERT_EQ(::stat(clean.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino) << "a file without secrets was rewritten";
  EXPECT_EQ(flow::read_file(leaky).value_or(""), "token ***\n");
  ASSERT_EQ(::stat(leaky.c_str(), &after), 0);
  EXPECT_EQ(after.st_mode & 0777, 0600u);
  EXPECT_FALSE(m.apply_to_file(dir.path() / "missing.log"));
}
