// One table of template names: every name it lists is accepted by validation where it
// belongs and filled by the resolver; names it does not list are refused by both; and the
// reference (docs/REFERENCE.md) lists exactly the table's names.
#include "engine/dag/template_names.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "engine/dag/loader.hpp"
#include "engine/dag/validate.hpp"
#include "engine/run/template_resolver.hpp"

using namespace flow;
using dag::NameKind;

namespace {

// The name with its placeholders filled for the DAG below.
std::string instantiate(std::string_view pattern, NameKind kind) {
  std::string out;
  std::stringstream ss{std::string(pattern)};
  std::string seg;
  const bool best = kind == NameKind::kBestParam || kind == NameKind::kBestField;
  while (std::getline(ss, seg, '.')) {
    if (seg == "T") seg = best ? "tune" : "prep";
    if (seg == "K") seg = "k";
    if (seg == "X") seg = "x";
    if (seg == "F") seg = "f";
    out += (out.empty() ? "" : ".") + seg;
  }
  return out;
}

// A DAG in which every name of the table is used where it may be: trial names in the hpo
// task, item names in the foreach task, everything else downstream of both.
std::string dag_using_every_name() {
  std::string trial, item, other, secret;
  for (const auto& n : dag::template_names()) {
    const std::string ref = " {{ " + instantiate(n.pattern, n.kind) + " }}";
    switch (n.kind) {
      case NameKind::kTrialParam:
      case NameKind::kTrialField:
        trial += ref;
        break;
      case NameKind::kItem:
      case NameKind::kItemField:
        item += ref;
        break;
      case NameKind::kSecret:  // only in env: values
        secret += ref;
        break;
      default:
        other += ref;
    }
  }
  return "dag: names\nparams: {x: 1}\nsecrets: {x: {env: FLOW_TEST_SECRET}}\ntasks:\n"
         "  - id: prep\n    run: \"true\"\n"
         "  - id: tune\n    hpo: {algorithm: random, metric: m, samples: 1, max_epochs: 1,\n"
         "          space: {x: {uniform: [0, 1]}}}\n    run: echo" +
         trial +
         "\n"
         "  - id: items\n    foreach: '[{\"f\": 1}]'\n    run: echo" +
         item +
         "\n"
         "  - id: use\n    after: [prep, tune]\n    env: {S: \"" +
         secret + "\"}\n    run: echo" + other + "\n";
}

// A run in which every name has a value.
class FilledRun : public run::RunView {
 public:
  FilledRun() {
    run_.id = "r1";
    run_.dag = "names";
    run_.params = {{"x", 1}};
    run_.logical_date = run_.data_interval_start = run_.data_interval_end = "2027-01-01T00:00:00Z";
    add("prep", "prep", "").outputs = {{"k", 1}};
    auto& tune = add("tune", "tune", "");
    tune.attrs["best"] = {
        {"trial", "trial-0"}, {"params", {{"x", 0.5}}}, {"metric", 1.5}, {"epochs", 1}};
    auto& trial = add("tune[trial-0]", "tune", "tune");
    trial.attrs["trial"] = {{"index", 0}, {"params", {{"x", 0.5}}}, {"target", 1}};
    trial.outputs = {{"k", 2}};
    add("items", "items", "");
    add("items[0]", "items", "items").attrs["item"] = {{"f", 1}};
  }
  const state::RunRecord& run() const override { return run_; }
  const state::InstanceRecord* instance(const std::string& id) const override {
    auto it = inst_.find(id);
    return it == inst_.end() ? nullptr : &it->second;
  }
  bool is_mapped(const std::string& t) const override { return t == "items"; }
  const std::string* secret(const std::string& name) const override {
    static const std::string value = "s3cret";
    return name == "x" ? &value : nullptr;
  }
  bool is_swept(const std::string& t) const override { return t == "tune"; }
  std::vector<const state::InstanceRecord*> children(const std::string& t) const override {
    std::vector<const state::InstanceRecord*> out;
    for (const auto& [_, r] : inst_)
      if (r.parent == t) out.push_back(&r);
    return out;
  }

 private:
  state::InstanceRecord& add(const std::string& id, const std::string& task,
                             const std::string& parent) {
    auto& r = inst_[id];
    r.id = id;
    r.task_id = task;
    r.parent = parent;
    r.state = state::TaskState::kSucceeded;
    return r;
  }
  state::RunRecord run_;
  std::map<std::string, state::InstanceRecord> inst_;
};

const state::InstanceRecord& user_of(const FilledRun& run, NameKind kind) {
  switch (kind) {
    case NameKind::kTrialParam:
    case NameKind::kTrialField:
      return *run.instance("tune[trial-0]");
    case NameKind::kItem:
    case NameKind::kItemField:
      return *run.instance("items[0]");
    default:
      return *run.instance("prep");
  }
}

}  // namespace

TEST(TemplateNames, EveryNameOfTheTableIsAcceptedByValidation) {
  auto d = dag::load_dag_text(dag_using_every_name(), "names.yaml");
  auto problems = dag::validate(d);
  for (const auto& p : problems)
    ADD_FAILURE() << p.str();
}

TEST(TemplateNames, EveryNameOfTheTableIsFilledByTheResolver) {
  FilledRun run;
  for (const auto& n : dag::template_names()) {
    const std::string name = instantiate(n.pattern, n.kind);
    auto tpl = dag::Template::parse("{{ " + name + " }}");
    nlohmann::json v;
    EXPECT_NO_THROW(v = run::resolve_reference(*tpl.sole_ref(), user_of(run, n.kind), run, "/rd"))
        << name;
    EXPECT_FALSE(v.is_null()) << name;
  }
}

TEST(TemplateNames, NamesOutsideTheTableAreRefusedByBoth) {
  FilledRun run;
  for (const std::string name :
       {"params", "run", "run.foo", "tasks.prep", "tasks.prep.outputs", "tasks.tune.best",
        "tasks.tune.best.params", "tasks.tune.best.foo", "trial", "trial.foo", "trial.params",
        "itm", "item2", "secrets", "secrets.x.y"}) {
    std::vector<std::string> path;
    std::stringstream ss(name);
    for (std::string seg; std::getline(ss, seg, '.');)
      path.push_back(seg);
    EXPECT_FALSE(dag::match_template_name(path)) << name;
    auto tpl = dag::Template::parse("{{ " + name + " }}");
    EXPECT_THROW(run::resolve_reference(*tpl.sole_ref(), *run.instance("prep"), run, "/rd"),
                 std::runtime_error)
        << name;
    auto d = dag::load_dag_text(
        "dag: n\nparams: {x: 1}\ntasks:\n  - id: prep\n    run: \"true\"\n  - id: u\n"
        "    after: [prep]\n    run: echo {{ " +
            name + " }}\n",
        "n.yaml");
    EXPECT_FALSE(dag::validate(d).empty()) << name << " passed validation";
  }
}

TEST(TemplateNames, TheReferenceListsExactlyTheTablesNames) {
  std::ifstream in(std::string(FLOW_SOURCE_DIR) + "/docs/REFERENCE.md");
  ASSERT_TRUE(in) << "docs/REFERENCE.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  const auto begin = text.find("<!-- template-names:begin -->");
  const auto end = text.find("<!-- template-names:end -->");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  std::set<std::string> documented;
  std::istringstream lines(text.substr(begin, end - begin));
  for (std::string line; std::getline(lines, line);) {
    // A table row whose first cell starts with a `name`.
    const auto cell = line.find_first_not_of(" |");
    if (line.rfind('|', 0) != 0 || cell == std::string::npos || line[cell] != '`') continue;
    const auto close = line.find('`', cell + 1);
    if (close != std::string::npos) documented.insert(line.substr(cell + 1, close - cell - 1));
  }
  std::set<std::string> table;
  for (const auto& n : dag::template_names())
    table.insert(std::string(n.pattern));
  EXPECT_EQ(documented, table);
}
