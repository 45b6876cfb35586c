// `code:`, `inputs:` and `outputs:` in DAG files (docs/STAGING.md): what the loader reads, the
// path rules it enforces at file:line:col, and the checks across tasks.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/dag/loader.hpp"
#include "engine/dag/validate.hpp"
#include "engine/run/staging.hpp"
#include "tests/support/temp_dir.hpp"

using flow::InputError;
using flow::dag::load_dag_text;
using flow::dag::PathBase;

namespace {

std::string staging_load_errors(const std::string& yaml) {
  try {
    load_dag_text(yaml, "s.yaml");
  } catch (const InputError& e) {
    std::string out;
    for (const auto& d : e.diagnostics())
      out += d.str() + "\n";
    return out;
  }
  return "";
}

std::string staging_problems(const std::string& yaml, const flow::dag::ValidateOptions& o = {}) {
  auto dag = load_dag_text(yaml, "s.yaml");
  std::string out;
  for (const auto& d : flow::dag::validate(dag, o))
    out += d.str() + "\n";
  return out;
}

}  // namespace

TEST(StagingDecl, ReadsCodeInputsAndOutputsWithTheirBases) {
  auto dag = load_dag_text(R"(dag: s
code: [dags/x, lib/util.py]
tasks:
  - id: a
    run: make
    outputs: [data.npz, out//sub/./m.pt]
  - id: b
    after: [a]
    run: use
    inputs:
      - data.npz
      - {path: raw/cohort.csv, base: workdir}
      - {path: shared/big.h5, base: site}
      - out/sub/m.pt
)",
                           "s.yaml");
  EXPECT_EQ(dag.code, (std::vector<std::string>{"dags/x", "lib/util.py"}));
  const auto& a = dag.tasks[0];
  ASSERT_EQ(a.extras->outputs.size(), 2u);
  EXPECT_EQ(a.extras->outputs[1].path, "out/sub/m.pt") << "stored lexically normal";
  const auto& in = dag.tasks[1].extras->inputs;
  ASSERT_EQ(in.size(), 4u);
  EXPECT_EQ(in[0].base, PathBase::kRun);
  EXPECT_EQ(in[1].base, PathBase::kWorkdir);
  EXPECT_EQ(in[1].label(), "workdir:raw/cohort.csv");
  EXPECT_EQ(in[2].base, PathBase::kSite);
  EXPECT_EQ(in[3].where.line, 14);
  EXPECT_EQ(in[3].where.col, 9);
  EXPECT_EQ(staging_problems(R"(dag: s
tasks:
  - id: a
    run: make
    outputs: [out/sub/m.pt]
  - id: b
    after: [a]
    run: use
    inputs: [out/sub/m.pt, out]
)"),
            "")
      << "an input may be a file or a directory an upstream output lies in";
}

TEST(StagingDecl, PathsThatEscapeOrAreAbsoluteAreErrorsAtTheirPosition) {
  std::string e = staging_load_errors(R"(dag: s
code: [../elsewhere]
tasks:
  - id: a
    run: x
    outputs: [ok.txt, ../up.txt, /etc/passwd, a/../../b, "{{ run.dir }}/x", "."]
    inputs:
      - {path: in.txt, base: home}
      - {paht: typo.txt}
      - [not, a, path]
)");
  EXPECT_NE(e.find("s.yaml:2:7: code '../elsewhere': the path climbs out"), std::string::npos) << e;
  EXPECT_NE(e.find("s.yaml:6:23: outputs[1] '../up.txt': the path climbs out of its base "
                   "directory with '..'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("s.yaml:6:34: outputs[2] '/etc/passwd': the path must be relative"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("outputs[3] 'a/../../b': the path climbs out"), std::string::npos) << e;
  EXPECT_NE(e.find("templates are not expanded in staged paths"), std::string::npos) << e;
  EXPECT_NE(e.find("outputs[5] '.': the path names the base directory itself"), std::string::npos)
      << e;
  EXPECT_NE(e.find("s.yaml:8:30: inputs[0].base 'home' is not known"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'paht' in inputs[1] (did you mean 'path'?)"), std::string::npos)
      << e;
  EXPECT_NE(e.find("inputs[1] needs 'path'"), std::string::npos) << e;
  EXPECT_NE(e.find("inputs[2] must be a path or a mapping"), std::string::npos) << e;
  EXPECT_EQ(e.find("ok.txt"), std::string::npos) << e;
}

TEST(StagingDecl, AnEntryListedTwiceIsAnError) {
  std::string e = staging_load_errors(R"(dag: s
code: [src, ./src]
tasks:
  - id: a
    run: x
    outputs: [b.txt, ./b.txt, {path: b.txt, base: workdir}]
)");
  EXPECT_NE(e.find("code: 'src' is listed twice"), std::string::npos) << e;
  EXPECT_NE(e.find("s.yaml:6:22: outputs: 'b.txt' is listed twice"), std::string::npos) << e;
  EXPECT_EQ(e.find("workdir:b.txt"), std::string::npos)
      << "the same path under another base is another file: " << e;
}

TEST(StagingDecl, ARunDirInputMustComeFromAnUpstreamOutput) {
  std::string e = staging_problems(R"(dag: s
tasks:
  - id: a
    run: x
    outputs: [made.txt]
  - id: b
    run: y
    outputs: [other.txt]
  - id: c
    after: [a]
    run: z
    inputs: [made.txt, other.txt, never.txt, {path: here.csv, base: workdir}]
)");
  EXPECT_EQ(e.find("'made.txt'"), std::string::npos) << e;
  EXPECT_NE(e.find("s.yaml:12:24: task 'c' input 'other.txt' is relative to the run directory, "
                   "which starts empty, and no upstream task lists it in 'outputs'"),
            std::string::npos)
      << "b is not upstream of c: " << e;
  EXPECT_NE(e.find("input 'never.txt'"), std::string::npos) << e;
  EXPECT_EQ(e.find("here.csv"), std::string::npos) << e;
}

TEST(StagingDecl, WorkdirInputsAndCodeMustExistWhenARunStarts) {
  flow::test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "dags/x");
  std::ofstream(dir.path() / "present.csv") << "a\n";
  const std::string yaml = R"(dag: s
code: [dags/x, dags/gone]
tasks:
  - id: a
    run: x
    inputs: [{path: present.csv, base: workdir}, {path: absent.csv, base: workdir}]
)";
  EXPECT_EQ(staging_problems(yaml), "") << "without a directory no files are checked";
  flow::dag::ValidateOptions o;
  o.workdir = &dir.path();
  std::string e = staging_problems(yaml, o);
  EXPECT_NE(e.find("s.yaml:2:7: code 'dags/gone': no such file or directory"), std::string::npos)
      << e;
  EXPECT_NE(e.find("s.yaml:6:57: task 'a' input 'workdir:absent.csv' does not exist"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find("present.csv"), std::string::npos) << e;
  EXPECT_EQ(e.find("dags/x'"), std::string::npos) << e;
}

TEST(StagingDecl, ThePlanResolvesEachBaseOnThisSide) {
  auto dag = load_dag_text(R"(dag: s
code: [src]
tasks:
  - id: a
    run: x
    outputs: [m.pt]
  - id: b
    after: [a]
    run: y
    inputs: [m.pt, {path: raw.csv, base: workdir}, {path: big, base: site}]
  - id: c
    run: z
)",
                           "s.yaml");
  auto plan = flow::run::stage_plan(dag, dag.tasks[1], "/home/me/.flow/runs/r1", "/home/me/p");
  ASSERT_EQ(plan.inputs.size(), 3u);
  EXPECT_EQ(plan.code, std::vector<std::string>{"src"});
  EXPECT_EQ(plan.inputs[0].local, "/home/me/.flow/runs/r1/m.pt");
  EXPECT_EQ(plan.inputs[1].local, "/home/me/p/raw.csv");
  EXPECT_TRUE(plan.inputs[2].local.empty()) << "a site file has no copy here";
  EXPECT_EQ(plan.inputs[2].label(), "site:big");
  EXPECT_NE(flow::run::missing_inputs(plan).find("'m.pt' (no /home/me/.flow/runs/r1/m.pt)"),
            std::string::npos);
  EXPECT_EQ(flow::run::missing_inputs(plan).find("big"), std::string::npos)
      << "a site file is checked on the site, not here";
  EXPECT_FALSE(flow::run::stage_plan(dag, dag.tasks[2], "/r", "/w").empty())
      << "every task of a DAG with code: syncs it";
}
