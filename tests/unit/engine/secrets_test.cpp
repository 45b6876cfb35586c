// `secrets:` (docs/REFERENCE.md §3.11): how they are declared, where they may be used, and
// how the engine reads their values (engine/run/secrets.hpp).
#include "engine/run/secrets.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <set>

#include "engine/core/error.hpp"
#include "engine/dag/loader.hpp"
#include "engine/dag/template.hpp"
#include "engine/dag/validate.hpp"
#include "tests/support/temp_dir.hpp"

using flow::dag::load_dag_text;

namespace {

std::string secret_problems(const std::string& yaml) {
  std::string out;
  try {
    auto dag = load_dag_text(yaml, "s.yaml");
    for (const auto& d : flow::dag::validate(dag))
      out += d.str() + "\n";
  } catch (const flow::InputError& e) {
    out = e.what();
  }
  return out;
}

std::string with_task(const std::string& secrets, const std::string& task) {
  return "dag: s\nsecrets: " + secrets + "\ntasks:\n  - id: t\n" + task;
}

}  // namespace

TEST(SecretsDecl, EnvAndFileSourcesAreRead) {
  auto dag =
      load_dag_text(with_task("{hf: {env: HF_TOKEN}, wandb: {file: ~/.wandb}}",
                              "    env: {TOKEN: '{{ secrets.hf }}', KEY: 'k={{ secrets.wandb }}'}\n"
                              "    run: train --token-from-env\n"),
                    "s.yaml");
  ASSERT_EQ(dag.secrets.size(), 2u);
  EXPECT_EQ(dag.secrets.at("hf").from, flow::dag::SecretSource::From::kEnv);
  EXPECT_EQ(dag.secrets.at("hf").ref, "HF_TOKEN");
  EXPECT_EQ(dag.secrets.at("wandb").from, flow::dag::SecretSource::From::kFile);
  EXPECT_EQ(dag.secrets.at("wandb").ref, "~/.wandb");
  EXPECT_TRUE(flow::dag::validate(dag).empty());
  std::set<std::string> secret_env;  // what an attempt masks (attempt_spec.cpp)
  for (const auto& [k, v] : dag.tasks[0].extras->env)
    if (flow::run::uses_secret(flow::dag::Template::parse(v))) secret_env.insert(k);
  EXPECT_EQ(secret_env, (std::set<std::string>{"KEY", "TOKEN"}));
}

TEST(SecretsDecl, ASecretInTheCommandIsRefusedWithTheWayToPassIt) {
  auto e = secret_problems(
      with_task("{hf: {env: HF_TOKEN}}", "    run: train --token {{ secrets.hf }}\n"));
  EXPECT_NE(e.find("s.yaml:5:10"), std::string::npos) << e;
  EXPECT_NE(e.find("a secret may only be used in an env: value"), std::string::npos) << e;
  EXPECT_NE(e.find("env: {VAR: '{{ secrets.hf }}'}"), std::string::npos) << e;
}

TEST(SecretsDecl, ASecretInForeachIsRefused) {
  auto e = secret_problems(
      with_task("{hf: {env: HF_TOKEN}}", "    foreach: '{{ secrets.hf }}'\n    run: echo\n"));
  EXPECT_NE(e.find("a secret may only be used in an env: value"), std::string::npos) << e;
}

TEST(SecretsDecl, AnUndeclaredSecretIsRefusedWithAHint) {
  auto e = secret_problems(with_task("{hf_token: {env: HF_TOKEN}}",
                                     "    env: {T: '{{ secrets.hf_tokn }}'}\n    run: echo\n"));
  EXPECT_NE(e.find("unknown secret 'hf_tokn'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'hf_token'"), std::string::npos) << e;
}

TEST(SecretsDecl, MalformedDeclarationsAreLocatedErrors) {
  EXPECT_NE(secret_problems(with_task("{hf: HF_TOKEN}", "    run: x\n"))
                .find("{env: VARIABLE} or {file: PATH}"),
            std::string::npos);
  EXPECT_NE(secret_problems(with_task("{hf: {env: A, file: b}}", "    run: x\n"))
                .find("{env: VARIABLE} or {file: PATH}"),
            std::string::npos);
  EXPECT_NE(secret_problems(with_task("{hf: {env: 'A B'}}", "    run: x\n"))
                .find("'A B' is not an environment variable name"),
            std::string::npos);
  EXPECT_NE(secret_problems(with_task("{hf: {envv: A}}", "    run: x\n")).find("envv"),
            std::string::npos);
  EXPECT_NE(secret_problems(with_task("{'a.b': {env: A}}", "    run: x\n")).find("secret 'a.b'"),
            std::string::npos);
}

TEST(ReadSecrets, FromTheEnvironment) {
  ::setenv("FLOW_TEST_SECRET_A", "v@lue with 'quotes'", 1);
  auto dag = load_dag_text(with_task("{a: {env: FLOW_TEST_SECRET_A}}", "    run: x\n"), "s.yaml");
  EXPECT_EQ(flow::run::read_secrets(dag).at("a"), "v@lue with 'quotes'");
  ::unsetenv("FLOW_TEST_SECRET_A");
  try {
    flow::run::read_secrets(dag);
    FAIL() << "an unset variable was read";
  } catch (const flow::EnvironmentError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("secret 'a' (s.yaml:2:11)"), std::string::npos) << m;
    EXPECT_NE(m.find("FLOW_TEST_SECRET_A is not set"), std::string::npos) << m;
  }
}

TEST(ReadSecrets, FromAPrivateFileWithoutItsTrailingNewline) {
  flow::test::TempDir t;
  const auto file = t.write("token", "abc123\n");
  ::chmod(file.c_str(), 0600);
  auto dag =
      load_dag_text(with_task("{a: {file: '" + file.string() + "'}}", "    run: x\n"), "s.yaml");
  EXPECT_EQ(flow::run::read_secrets(dag).at("a"), "abc123");
}

TEST(ReadSecrets, AFileOthersMayReadIsRefused) {
  flow::test::TempDir t;
  const auto file = t.write("token", "abc123\n");
  ::chmod(file.c_str(), 0644);
  auto dag =
      load_dag_text(with_task("{a: {file: '" + file.string() + "'}}", "    run: x\n"), "s.yaml");
  try {
    flow::run::read_secrets(dag);
    FAIL() << "a group/world-readable secret file was accepted";
  } catch (const flow::EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("has mode 0644"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("chmod 600"), std::string::npos) << e.what();
  }
}

TEST(ReadSecrets, AMissingFileIsAnEnvironmentError) {
  auto dag =
      load_dag_text(with_task("{a: {file: /nonexistent/flow-token}}", "    run: x\n"), "s.yaml");
  EXPECT_THROW(flow::run::read_secrets(dag), flow::EnvironmentError);
}
