// Bad input gets exit code 2, a located message, and leaves the database untouched.
#include <gtest/gtest.h>

#include "cli.hpp"
#include "engine/core/shell.hpp"
#include "engine/state/store.hpp"

using flow::test::Project;

namespace {
// Validation happens before anything is recorded: no run appears in the database.
void expect_no_runs(const Project& p) {
  auto runs = p.flow("runs --json");
  if (runs.code == 0) {
    EXPECT_EQ(runs.out, "[]\n");
  }
}
}  // namespace

TEST(CliErrors, CycleIsExit2WithPathAndLocation) {
  Project p;
  p.write("c.yaml",
          "dag: c\ntasks:\n  - id: a\n    after: [b]\n    run: 'true'\n  - id: b\n    after: [a]\n "
          "   run: 'true'\n");
  auto r = p.flow("run c.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("c.yaml:4:12: dependency cycle: a -> b -> a"), std::string::npos) << r.err;
  expect_no_runs(p);
}

TEST(CliErrors, MissingDependencyIsExit2) {
  Project p;
  p.write("m.yaml", "dag: m\ntasks:\n  - id: a\n    after: [nothere]\n    run: 'true'\n");
  auto r = p.flow("validate m.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("m.yaml:4:12: task 'a' depends on unknown task 'nothere'"),
            std::string::npos)
      << r.err;
}

TEST(CliErrors, UnknownTemplateIsExit2) {
  Project p;
  p.write("t.yaml",
          "dag: t\nparams: {epochs: 3}\ntasks:\n  - id: a\n    run: train {{ params.epoch }}\n");
  auto r = p.flow("run t.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("t.yaml:5:10: task 'a' run: {{ params.epoch }}: unknown parameter 'epoch' "
                       "(did you mean 'epochs'?)"),
            std::string::npos)
      << r.err;
  expect_no_runs(p);
}

TEST(CliErrors, BadYamlIsExit2WithLineAndColumn) {
  Project p;
  p.write("y.yaml", "dag: y\ntasks:\n  - id: a\n    run: [unclosed\n");
  auto r = p.flow("run y.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("y.yaml:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("invalid YAML"), std::string::npos) << r.err;
}

TEST(CliErrors, ValidateJsonListsErrors) {
  Project p;
  p.write("ok.yaml", "dag: ok\ntasks:\n  - id: a\n    run: 'true'\n");
  p.write("bad.yaml", "dag: bad\ntasks:\n  - id: a\n    run: 'true'\n    afterr: [x]\n");
  auto r = p.flow("validate ok.yaml bad.yaml --json");
  EXPECT_EQ(r.code, 2);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j[0]["ok"]);
  EXPECT_FALSE(j[1]["ok"]);
  EXPECT_EQ(j[1]["errors"][0]["line"], 5);
  EXPECT_EQ(j[1]["errors"][0]["col"], 5);
}

TEST(CliErrors, UnknownParamOverrideIsExit2) {
  Project p;
  p.write("p.yaml",
          "dag: p\nparams: {epochs: 3}\ntasks:\n  - id: a\n    run: echo {{ params.epochs }}\n");
  auto r = p.flow("run p.yaml -p epoch=5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no parameter 'epoch' (did you mean 'epochs'?)"), std::string::npos)
      << r.err;
  r = p.flow("run p.yaml -p epochs=many");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("parameter 'epochs' is an integer"), std::string::npos) << r.err;
}

TEST(CliErrors, ParameterInjectionStaysOneLiteralArgument) {
  Project p;
  auto marker = p.dir() / "pwned";
  p.write("i.yaml",
          "dag: i\nparams: {name: x}\ntasks:\n  - id: a\n    run: printf '[%s]' {{ params.name }} "
          "> arg.txt\n");
  auto r = p.flow("run i.yaml -p \"name='; touch " + marker.string() + "; '\"");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_EQ(flow::test::slurp(p.dir() / "arg.txt"), "['; touch " + marker.string() + "; ']");
}

TEST(CliErrors, ParameterInsideTheAuthorsQuotesOrAHereDocumentStaysLiteral) {
  // Regression: values used to be single-quoted wherever they were, so inside "..." the
  // quotes were literal and $(...) in the value ran.
  Project p;
  auto marker = p.dir() / "pwned";
  p.write("q.yaml",
          "dag: q\nparams: {v: x}\ntasks:\n"
          "  - id: dq\n    run: printf '[%s]' \"{{ params.v }}\" > dq.txt\n"
          "  - id: sq\n    run: printf '[%s]' 'v={{ params.v }}' > sq.txt\n"
          "  - id: hd\n    run: |\n      cat > hd.txt <<EOF\n      [{{ params.v }}]\n      EOF\n");
  const std::string evil = "$(touch " + marker.string() + ")\"'`touch " + marker.string() + "`";
  auto r = p.flow("run q.yaml -p " + flow::shell_quote("v=" + evil));
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_EQ(flow::test::slurp(p.dir() / "dq.txt"), "[" + evil + "]");
  EXPECT_EQ(flow::test::slurp(p.dir() / "sq.txt"), "[v=" + evil + "]");
  EXPECT_EQ(flow::test::slurp(p.dir() / "hd.txt"), "[" + evil + "]\n");
}

TEST(CliErrors, TemplateInBackticksIsExit2WithLocation) {
  Project p;
  p.write("b.yaml",
          "dag: b\nparams: {v: x}\ntasks:\n  - id: a\n    run: echo `ls {{ params.v }}`\n");
  auto r = p.flow("validate b.yaml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(
      r.err.find("b.yaml:5:10: task 'a' run: cannot quote {{ params.v }}: it is inside `...`"),
      std::string::npos)
      << r.err;
}

TEST(CliErrors, UnknownRunIsAClearError) {
  Project p;
  p.write("ok.yaml", "dag: ok\ntasks:\n  - id: a\n    run: 'true'\n");
  ASSERT_EQ(p.flow("run ok.yaml").code, 0);
  auto r = p.flow("status nope");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no run 'nope'"), std::string::npos) << r.err;
}

TEST(CliErrors, ADatabaseOfANewerFlowIsExit3NamingTheFileBothVersionsAndWhatToDo) {
  Project p;
  flow::state::Store::open(p.db());  // a database of this flow's schema
  const auto db = p.db().string();
  const int latest = flow::state::Store::latest_schema_version();
  ASSERT_EQ(
      std::system(("sqlite3 '" + db + "' 'PRAGMA user_version=" + std::to_string(latest + 1) + "'")
                      .c_str()),
      0);
  for (const char* cmd : {"runs", "status r1", "artifacts list"}) {
    auto r = p.flow(cmd);
    EXPECT_EQ(r.code, 3) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("database " + db + " has schema version " + std::to_string(latest + 1) +
                         ", newer than this flow understands (" + std::to_string(latest)),
              std::string::npos)
        << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("Upgrade flow"), std::string::npos) << r.err;
  }
}

TEST(CliErrors, ADatabaseOfTheFirstSchemaIsMigratedAndItsRunsListed) {
  Project p;
  std::filesystem::copy_file(std::filesystem::path(FLOW_TEST_FIXTURES) / "db" / "schema-1.db",
                             p.db());
  auto r = p.flow("runs --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto runs = nlohmann::json::parse(r.out);
  ASSERT_EQ(runs.size(), 2u) << r.out;
  EXPECT_EQ(runs[0]["id"], "fixture-run-2");  // newest first
  EXPECT_EQ(runs[1]["id"], "fixture-run-1");
  auto st = p.flow("status fixture-run-1 --json");
  ASSERT_EQ(st.code, 0) << st.err;
  EXPECT_EQ(nlohmann::json::parse(st.out)["tasks"].size(), 3u);
}
