// `flow completion bash|zsh` in real shells: the script is sourced as the README says
// (`source <(flow completion bash)`), the completion function is called the way bash calls
// it (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT) and COMPREPLY is what a user would be
// offered. Dynamic values come from a real run in the test's own FLOW_HOME.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "tests/e2e/engine/cli.hpp"

namespace {

namespace fs = std::filesystem;
using flow::test::CmdResult;
using flow::test::Project;
using flow::test::slurp;

CmdResult shell(const Project& p, const std::string& cmd) {
  return p.sh("FLOW_HOME='" + p.home().string() + "' " + cmd);
}

// A `flow` on PATH, as users have it: the completion script calls `flow __complete`.
void put_flow_on_path(const Project& p) {
  fs::create_directories(p.dir() / "bin");
  std::error_code ec;
  fs::create_symlink(FLOW_BINARY, p.dir() / "bin/flow", ec);
}

// What bash offers for `line` (the cursor at its end), one entry per candidate.
std::vector<std::string> complete(const Project& p, const std::string& line,
                                  const std::string& env = "") {
  put_flow_on_path(p);
  p.write("complete.bash", R"(
source <(flow completion bash)
[[ $(complete -p flow) == *"-F _flow"* ]] || { echo "flow has no completion" >&2; exit 3; }
COMP_LINE=$1
COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_flow flow "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
)");
  auto r =
      shell(p, env + " PATH='" + (p.dir() / "bin").string() +
                   ":/usr/bin:/bin' /bin/bash --norc --noprofile complete.bash '" + line + "'");
  EXPECT_EQ(r.code, 0) << line << "\n" << r.err;
  std::vector<std::string> out;
  std::istringstream in(r.out);
  for (std::string w; std::getline(in, w);) {
    if (!w.empty()) out.push_back(w);
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string all(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v)
    s += w + " ";
  return s;
}

// A recorded run with a plain task and a foreach task (instances fan[0], fan[1]).
void record_run(const Project& p, const std::string& db = "") {
  p.write("fan.yaml", R"(dag: fan
tasks:
  - id: first
    run: echo first
  - id: fan
    after: [first]
    foreach: [a, b]
    run: echo {{ item }}
)");
  auto r = p.flow("run fan.yaml --run-id r-complete" + (db.empty() ? "" : " --db '" + db + "'"));
  ASSERT_EQ(r.code, 0) << r.err;
}

}  // namespace

TEST(BashCompletion, OffersTheSubcommandsAfterFlow) {
  Project p;
  auto got = complete(p, "flow ");
  for (const char* c : {"run", "validate", "status", "logs", "retry", "sites", "schema",
                        "completion", "artifacts", "tui"})
    EXPECT_TRUE(has(got, c)) << c << " not in: " << all(got);
  EXPECT_FALSE(has(got, "__complete")) << "the helper is hidden";
  EXPECT_EQ(complete(p, "flow sta"), std::vector<std::string>{"status"});
  auto sites = complete(p, "flow sites ");
  for (const char* c : {"list", "show", "check", "trust"})
    EXPECT_TRUE(has(sites, c)) << c << " not in: " << all(sites);
  EXPECT_EQ(complete(p, "flow schema "), (std::vector<std::string>{}));
}

TEST(BashCompletion, OffersTheOptionsOfTheCommandBeingTyped) {
  Project p;
  auto got = complete(p, "flow run --");
  for (const char* o : {"--dry-run", "--run-id", "--detach", "--json", "--db", "--help"})
    EXPECT_TRUE(has(got, o)) << o << " not in: " << all(got);
  EXPECT_FALSE(has(got, "--downstream")) << "an option of retry, not of run";
  EXPECT_TRUE(has(complete(p, "flow retry RUN TASK --"), "--downstream"));
  EXPECT_EQ(complete(p, "flow --ver"), std::vector<std::string>{"--version"});
}

TEST(BashCompletion, OffersSiteNamesFromTheCatalogue) {
  Project p;
  p.write("more-sites/gpu-box.yaml", "transport: local\nscheduler: slurm\nworkdir: /tmp/x\n");
  const std::string env = "FLOW_SITES_PATH='" + (p.dir() / "more-sites").string() + "'";
  auto got = complete(p, "flow sites show ", env);
  for (const char* s : {"local", "localslurm", "jureca-dc-gpu", "gpu-box"})
    EXPECT_TRUE(has(got, s)) << s << " not in: " << all(got);
  EXPECT_EQ(complete(p, "flow sites check gpu", env), std::vector<std::string>{"gpu-box"});
}

TEST(BashCompletion, OffersRunIdsAndTheTasksOfTheRunNamed) {
  Project p;
  record_run(p);
  EXPECT_EQ(complete(p, "flow status "), std::vector<std::string>{"r-complete"});
  EXPECT_EQ(complete(p, "flow status r-"), std::vector<std::string>{"r-complete"});
  EXPECT_EQ(complete(p, "flow logs "), std::vector<std::string>{"r-complete"});
  // logs takes an instance, retry a task.
  auto instances = complete(p, "flow logs r-complete ");
  for (const char* i : {"first", "fan", "fan[0]", "fan[1]"})
    EXPECT_TRUE(has(instances, i)) << i << " not in: " << all(instances);
  auto tasks = complete(p, "flow retry r-complete ");
  EXPECT_TRUE(has(tasks, "first") && has(tasks, "fan")) << all(tasks);
  EXPECT_FALSE(has(tasks, "fan[0]")) << all(tasks);
  EXPECT_EQ(complete(p, "flow retry r-complete fi"), std::vector<std::string>{"first"});
  // Options in between do not shift the positions.
  EXPECT_TRUE(has(complete(p, "flow logs --json r-complete "), "fan[1]"));
  EXPECT_EQ(complete(p, "flow logs r-complete first "), (std::vector<std::string>{}));
}

TEST(BashCompletion, OffersArtifactSearchFiltersAndDagNamesButNoDagsForANamePattern) {
  Project p;
  record_run(p);
  auto got = complete(p, "flow artifacts search --");
  for (const char* o :
       {"--name", "--format", "--kind", "--dag", "--task", "--run", "--meta", "--limit", "--json"})
    EXPECT_TRUE(has(got, o)) << o << " not in: " << all(got);
  EXPECT_TRUE(has(complete(p, "flow artifacts "), "search"));
  EXPECT_EQ(complete(p, "flow artifacts search --dag "), std::vector<std::string>{"fan"});
  EXPECT_EQ(complete(p, "flow artifacts search --run "), std::vector<std::string>{"r-complete"});
  EXPECT_EQ(complete(p, "flow artifacts search --name "), (std::vector<std::string>{}))
      << "an artifact name pattern, not a DAG";
  auto tasks = complete(p, "flow artifacts search --run r-complete --task ");
  EXPECT_TRUE(has(tasks, "first") && has(tasks, "fan"))
      << "the tasks of the run named by --run: " << all(tasks);
}

TEST(BashCompletion, UsesTheDatabaseTheCommandLineNames) {
  Project p;
  const std::string db = (p.dir() / "elsewhere/flow.db").string();
  fs::create_directories(p.dir() / "elsewhere");
  record_run(p, db);
  fs::remove(p.db());  // only the database named by --db knows the run
  EXPECT_EQ(complete(p, "flow status --db " + db + " "), std::vector<std::string>{"r-complete"});
  EXPECT_TRUE(has(complete(p, "flow logs --db " + db + " r-complete "), "fan[0]"));
  EXPECT_EQ(complete(p, "flow status "), (std::vector<std::string>{})) << "no runs here";
}

TEST(BashCompletion, OffersDagFilesForRunAndValidate) {
  Project p;
  p.write("pipelines/a.yaml", "dag: a\ntasks: [{id: x, run: echo}]\n");
  p.write("pipelines/notes.txt", "not a DAG\n");
  auto got = complete(p, "flow run pipelines/");
  EXPECT_TRUE(has(got, "pipelines/a.yaml")) << all(got);
  EXPECT_FALSE(has(got, "pipelines/notes.txt")) << all(got);
}

// zsh gets the same completion through its bashcompinit; zsh is a test dependency
// (scripts/install-deps.sh).
TEST(ZshCompletion, TheScriptParsesAndCompletesThroughBashcompinit) {
  Project p;
  record_run(p);
  put_flow_on_path(p);
  ASSERT_EQ(shell(p, "command -v zsh").code, 0)
      << "zsh is not installed: it is a test dependency (scripts/install-deps.sh)";
  auto script = p.flow("completion zsh");
  ASSERT_EQ(script.code, 0) << script.err;
  p.write("flow.zsh", script.out);
  auto parse = shell(p, "zsh -n flow.zsh");
  EXPECT_EQ(parse.code, 0) << parse.err;
  // Sourced in a zsh (compinit and bashcompinit loaded), the function answers as in bash.
  p.write("complete.zsh", R"(source ./flow.zsh
COMP_WORDS=(flow logs r-complete '')
COMP_CWORD=3
_flow
print -l -- "${COMPREPLY[@]}"
)");
  // HOME: compinit writes its .zcompdump there.
  auto r = shell(p, "HOME='" + p.dir().string() + "' PATH='" + (p.dir() / "bin").string() +
                        ":/usr/bin:/bin' zsh -f complete.zsh");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fan[1]"), std::string::npos) << r.out << r.err;
  EXPECT_EQ(p.flow("completion fish").code, 2);
  EXPECT_EQ(p.flow("completion bash --json").code, 2);
}
