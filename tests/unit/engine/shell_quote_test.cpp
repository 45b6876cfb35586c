#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <memory>

#include "engine/core/shell.hpp"

namespace {
// What /bin/sh makes of `printf '%s\n' <word>`: proves the quoting yields one literal word.
std::string through_shell(const std::string& value) {
  std::string cmd = "printf '[%s]' " + flow::shell_quote(value);
  std::unique_ptr<FILE, decltype(&pclose)> p(popen(cmd.c_str(), "r"), &pclose);
  std::string out;
  std::array<char, 256> buf{};
  while (size_t n = fread(buf.data(), 1, buf.size(), p.get()))
    out.append(buf.data(), n);
  return out;
}
}  // namespace

TEST(ShellQuote, LeavesSafeWordsAlone) {
  EXPECT_EQ(flow::shell_quote("data/ards.npz"), "data/ards.npz");
  EXPECT_EQ(flow::shell_quote("30"), "30");
}

TEST(ShellQuote, EmptyBecomesEmptyQuotes) {
  EXPECT_EQ(flow::shell_quote(""), "''");
}

TEST(ShellQuote, InjectionAttemptStaysOneLiteralArgument) {
  const std::string evil = "'; touch /tmp/x; '";
  EXPECT_EQ(through_shell(evil), "[" + evil + "]");
  for (const std::string v : {"$(id)", "`id`", "a b", "x\ny", "\"q\"", "$HOME", "a;b|c&d", "*"}) {
    EXPECT_EQ(through_shell(v), "[" + v + "]") << v;
  }
}
