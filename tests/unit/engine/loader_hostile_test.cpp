// The DAG loader on hostile input, found by the `dag` fuzz target (docs/FUZZING.md; each
// case has a regression input in tests/fuzz/corpus/dag/regress-*). Every case is an
// InputError at a file:line:col, never a crash, a hang or an "internal error".
#include <gtest/gtest.h>

#include <string>

#include "engine/core/error.hpp"
#include "engine/dag/loader.hpp"

using flow::InputError;
using flow::dag::load_dag_text;

namespace {

// The diagnostics of loading `yaml`, joined; "" if it loads.
std::string hostile_errors(const std::string& yaml) {
  try {
    auto dag = load_dag_text(yaml, "x.yaml");
    (void)dag.params.dump();  // what `flow run` stores; must not throw either
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string dag_with(const std::string& top) {
  return "dag: d\n" + top + "tasks:\n  - id: a\n    run: echo\n";
}

}  // namespace

TEST(LoaderHostile, ValuesThatAreNotUtf8AreRefusedWithTheirLocation) {
  // Found by fuzzing: params went into JSON, whose dump() threw type_error 316 ("internal
  // error" from `flow run`).
  EXPECT_NE(hostile_errors(dag_with("params: {name: \"caf\xe9\"}\n")).find("x.yaml:2:"),
            std::string::npos);
  EXPECT_NE(hostile_errors(dag_with("params: {\"t\x97\x93\": 3}\n")).find("not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(hostile_errors("dag: d\ntasks:\n  - id: a\n    run: echo\n    foreach: [\"\xff\"]\n")
                .find("not valid UTF-8"),
            std::string::npos);
  // Overlong forms, surrogates and truncated sequences are not UTF-8 either.
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80"}) {
    EXPECT_NE(hostile_errors(dag_with(std::string("params: {x: \"") + bad + "\"}\n"))
                  .find("not valid UTF-8"),
              std::string::npos)
        << bad;
  }
  // Real UTF-8 is fine, including 4-byte characters.
  EXPECT_EQ(hostile_errors(dag_with("params: {name: \"café 🚀 größe\"}\n")), "");
}

TEST(LoaderHostile, AnAliasInsideTheNodeItNamesIsAnErrorNotEndlessRecursion) {
  // Found by fuzzing: `&a {x: *a}` made to_json() recurse until the stack overflowed.
  const std::string e = hostile_errors(dag_with("params: &a {x: *a}\n"));
  EXPECT_NE(e.find("x.yaml:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("cannot contain itself"), std::string::npos) << e;
  EXPECT_NE(hostile_errors("dag: d\ntasks: &t\n  - id: a\n    run: echo\n    foreach: *t\n")
                .find("cannot contain itself"),
            std::string::npos);
}

TEST(LoaderHostile, AliasesThatExpandTheFileEnormouslyAreAnError) {
  // Ten aliases of ten aliases of ... ("billion laughs"): 10^9 values from 600 bytes.
  std::string y = "dag: lol\nparams:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  const std::string levels = "abcdefghi";
  for (size_t i = 1; i < levels.size(); ++i) {
    y += std::string("  ") + levels[i] + ": &" + levels[i] + " [";
    for (int k = 0; k < 10; ++k)
      y += std::string(k ? ", " : "") + "*" + levels[i - 1];
    y += "]\n";
  }
  y += "tasks:\n  - id: t\n    run: echo\n";
  const std::string e = hostile_errors(y);
  EXPECT_NE(e.find("aliases (*name) expand this file"), std::string::npos) << e;
  // One big value named many times is caught the same way.
  std::string big = "dag: d\nparams:\n  big: &b \"" + std::string(100000, 'x') + "\"\n  many: [";
  for (int k = 0; k < 2000; ++k)
    big += std::string(k ? ", " : "") + "*b";
  big += "]\ntasks:\n  - id: t\n    run: echo\n";
  EXPECT_NE(hostile_errors(big).find("aliases (*name) expand this file"), std::string::npos);
}

TEST(LoaderHostile, SharingBlocksThroughAliasesStillWorks) {
  std::string y = "dag: d\ndefaults:\n  env: &env {A: \"1\", B: \"2\"}\ntasks:\n";
  for (int i = 0; i < 200; ++i)
    y += "  - id: t" + std::to_string(i) + "\n    run: echo\n    env: *env\n";
  auto dag = load_dag_text(y, "x.yaml");
  ASSERT_EQ(dag.tasks.size(), 200u);
  EXPECT_EQ(dag.tasks[199].extras->env.at("B"), "2");
}

TEST(LoaderHostile, HpoRangesMustBeFiniteAndRandintWhole) {
  auto hpo = [](const std::string& space) {
    return "dag: d\ntasks:\n  - id: a\n    run: echo\n    hpo:\n      metric: loss\n      "
           "space:\n" +
           space;
  };
  EXPECT_NE(
      hostile_errors(hpo("        lr: {uniform: [-.inf, .inf]}\n")).find("needs finite bounds"),
      std::string::npos);
  EXPECT_NE(
      hostile_errors(hpo("        n: {randint: [1, 1e300]}\n")).find("randint needs whole numbers"),
      std::string::npos);
  EXPECT_NE(
      hostile_errors(hpo("        n: {randint: [0.5, 3]}\n")).find("randint needs whole numbers"),
      std::string::npos);
  EXPECT_EQ(hostile_errors(hpo("        n: {randint: [-4, 9007199254740992]}\n")), "");
}

TEST(LoaderHostile, AGridWithTooManyPointsIsAnError) {
  std::string y =
      "dag: d\ntasks:\n  - id: a\n    run: echo\n    hpo:\n      algorithm: grid\n"
      "      metric: loss\n      space:\n";
  for (int i = 0; i < 12; ++i)  // 3^12 = 531441 points
    y += "        p" + std::to_string(i) + ": {uniform: [0, 1]}\n";
  EXPECT_NE(hostile_errors(y).find("more than 100000 points"), std::string::npos)
      << hostile_errors(y);
  std::string ok =
      "dag: d\ntasks:\n  - id: a\n    run: echo\n    hpo:\n      algorithm: grid\n"
      "      metric: loss\n      space:\n        a: {choice: [1, 2]}\n"
      "        b: {randint: [0, 1]}\n        c: {uniform: [0, 1]}\n";
  EXPECT_EQ(hostile_errors(ok), "");
}
