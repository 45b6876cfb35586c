#include "engine/dag/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "engine/core/duration.hpp"
#include "engine/core/suggest.hpp"

namespace flow::dag {

bool is_valid_id(std::string_view id) {
  if (id.empty() || id == "." || id == ".." || id.size() > 200) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

// Collects diagnostics while walking the YAML tree.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  SourceLocation loc(const YAML::Node& n) const {
    const YAML::Mark m = n.Mark();
    if (m.line < 0) return {file_, 0, 0};
    return {file_, m.line + 1, m.column + 1};
  }
  void error(const YAML::Node& n, const std::string& msg) { diags_.push_back({loc(n), msg}); }
  void error(const SourceLocation& l, const std::string& msg) { diags_.push_back({l, msg}); }
  std::vector<Diagnostic>& diagnostics() { return diags_; }

  // Reports keys of `map` not in `allowed`. `what` names the mapping ("task 'x'").
  void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                  const std::string& what) {
    for (const auto& kv : map) {
      auto key = kv.first.as<std::string>("");
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        error(kv.first, "unknown key '" + key + "' in " + what + did_you_mean(key, allowed) +
                            "; allowed keys: " + join(allowed));
      }
    }
  }

  bool is_map(const YAML::Node& n, const std::string& what) {
    if (n.IsMap()) return true;
    error(n, what + " must be a mapping (key: value)");
    return false;
  }

  std::optional<std::string> str(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(n, what + " must be a string");
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<long long> integer(const YAML::Node& n, const std::string& what, long long lo,
                                   long long hi) {
    long long v = 0;
    if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v)) {
      error(n, what + " must be a whole number, got '" + (n.IsScalar() ? n.Scalar() : "?") + "'");
      return std::nullopt;
    }
    if (v < lo || v > hi) {
      error(n, what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                   ", got " + std::to_string(v));
      return std::nullopt;
    }
    return v;
  }

  std::optional<double> number(const YAML::Node& n, const std::string& what) {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) {
      error(n, what + " must be a number");
      return std::nullopt;
    }
    return v;
  }

  std::optional<bool> boolean(const YAML::Node& n, const std::string& what) {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      error(n, what + " must be true or false");
      return std::nullopt;
    }
    return v;
  }

  std::optional<Duration> duration(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(n, what + " must be a duration like 30s, 5m, 2h");
      return std::nullopt;
    }
    auto d = parse_duration(n.Scalar());
    if (!d || d->count() < 0) {
      error(n, what + ": '" + n.Scalar() + "' is not a duration (use e.g. 500ms, 30s, 5m, 2h, 1d)");
      return std::nullopt;
    }
    return *d;
  }

  std::vector<std::string> str_list(const YAML::Node& n, const std::string& what) {
    std::vector<std::string> out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
    } else if (n.IsSequence()) {
      for (const auto& item : n) {
        if (auto s = str(item, what + " entry")) out.push_back(*s);
      }
    } else if (!n.IsNull()) {
      error(n, what + " must be a list of strings");
    }
    return out;
  }

 private:
  std::string file_;
  std::vector<Diagnostic> diags_;
};

// Scalars become JSON with YAML 1.2 core typing: ints, floats, bools, null, strings.
nlohmann::json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Sequence: {
      auto a = nlohmann::json::array();
      for (const auto& x : n)
        a.push_back(to_json(x));
      return a;
    }
    case YAML::NodeType::Map: {
      auto o = nlohmann::json::object();
      for (const auto& kv : n)
        o[kv.first.as<std::string>()] = to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar: {
      if (n.Tag() == "!") return n.Scalar();  // quoted: always a string
      const std::string& s = n.Scalar();
      long long i = 0;
      double d = 0;
      bool b = false;
      if (YAML::convert<long long>::decode(n, i) && s.find_first_of(".eE") == std::string::npos)
        return i;
      if (YAML::convert<double>::decode(n, d)) return d;
      if (s == "true" || s == "false" || s == "True" || s == "False") {
        YAML::convert<bool>::decode(n, b);
        return b;
      }
      if (s == "null" || s == "~") return nullptr;
      return s;
    }
    default:
      return nullptr;
  }
}

std::optional<TriggerRule> parse_trigger(const std::string& s) {
  if (s == "all_success") return TriggerRule::kAllSuccess;
  if (s == "all_done") return TriggerRule::kAllDone;
  if (s == "one_failed") return TriggerRule::kOneFailed;
  if (s == "one_success") return TriggerRule::kOneSuccess;
  if (s == "none_failed") return TriggerRule::kNoneFailed;
  return std::nullopt;
}

const std::vector<std::string> kTopKeys = {"dag",      "description", "schedule",
                                           "timezone", "catchup",     "max_active_runs",
                                           "params",   "defaults",    "tasks"};
const std::vector<std::string> kTaskKeys = {"id",          "run",           "after",
                                            "site",        "slurm",         "retries",
                                            "retry_delay", "retry_backoff", "retry_max_delay",
                                            "retry_on",    "timeout",       "trigger",
                                            "env",         "foreach",       "hpo",
                                            "description"};
const std::vector<std::string> kDefaultKeys = {
    "site",     "retries", "retry_delay", "retry_backoff", "retry_max_delay",
    "retry_on", "timeout", "trigger",     "env",           "slurm"};
const std::vector<std::string> kSlurmKeys = {"nodes",         "ntasks",   "gpus",
                                             "cpus_per_task", "time",     "partition",
                                             "account",       "software", "extra"};
const std::vector<std::string> kHpoKeys = {"algorithm",
                                           "metric",
                                           "mode",
                                           "samples",
                                           "max_epochs",
                                           "grace_epochs",
                                           "reduction_factor",
                                           "perturbation_interval",
                                           "parallel",
                                           "space",
                                           "seed"};
const std::vector<std::string> kSlurmStates = {
    "TIMEOUT",   "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "OUT_OF_MEMORY", "DEADLINE",
    "CANCELLED", "FAILED",    "REQUEUED",  "SUSPENDED", "REVOKED",       "SPECIAL_EXIT"};

void read_slurm(Reader& r, const YAML::Node& n, SlurmSpec& s, const std::string& what) {
  if (!r.is_map(n, what)) return;
  r.check_keys(n, kSlurmKeys, what);
  if (auto v = n["nodes"]) {
    if (auto i = r.integer(v, "slurm.nodes", 1, 100000)) s.nodes = static_cast<int>(*i);
  }
  if (auto v = n["ntasks"]) {
    if (auto i = r.integer(v, "slurm.ntasks", 1, 100000)) s.ntasks = static_cast<int>(*i);
  }
  if (auto v = n["gpus"]) {
    if (auto i = r.integer(v, "slurm.gpus", 0, 64)) s.gpus = static_cast<int>(*i);
  }
  if (auto v = n["cpus_per_task"]) {
    if (auto i = r.integer(v, "slurm.cpus_per_task", 1, 4096))
      s.cpus_per_task = static_cast<int>(*i);
  }
  if (auto v = n["time"]) {
    if (auto t = r.str(v, "slurm.time")) {
      // D-HH:MM:SS, HH:MM:SS, MM:SS or minutes, as sbatch --time accepts.
      bool ok = !t->empty() && t->find_first_not_of("0123456789:-") == std::string::npos;
      if (!ok)
        r.error(v,
                "slurm.time '" + *t + "' is not a Slurm time limit (use HH:MM:SS or D-HH:MM:SS)");
      s.time = *t;
    }
  }
  if (auto v = n["partition"]) s.partition = r.str(v, "slurm.partition").value_or("");
  if (auto v = n["account"]) s.account = r.str(v, "slurm.account").value_or("");
  if (auto v = n["software"]) s.software = r.str_list(v, "slurm.software");
  if (auto v = n["extra"]) s.extra = r.str_list(v, "slurm.extra");
}

void read_retry_fields(Reader& r, const YAML::Node& n, RetryPolicy& p) {
  if (auto v = n["retries"]) {
    if (auto i = r.integer(v, "retries", 0, 1000)) p.retries = static_cast<int>(*i);
  }
  if (auto v = n["retry_delay"]) {
    if (auto d = r.duration(v, "retry_delay")) p.delay = *d;
  }
  if (auto v = n["retry_max_delay"]) {
    if (auto d = r.duration(v, "retry_max_delay")) p.max_delay = *d;
  }
  if (auto v = n["retry_backoff"]) {
    if (auto d = r.number(v, "retry_backoff")) {
      if (*d < 1.0) {
        r.error(v, "retry_backoff must be >= 1.0 (1.0 = constant delay)");
      } else {
        p.backoff = *d;
      }
    }
  }
  if (auto v = n["retry_on"]) {
    p.retry_on.clear();
    for (const auto& s : r.str_list(v, "retry_on")) {
      if (std::find(kSlurmStates.begin(), kSlurmStates.end(), s) == kSlurmStates.end()) {
        r.error(v, "retry_on: '" + s + "' is not a Slurm end state" +
                       did_you_mean(s, kSlurmStates) + "; use some of " + join(kSlurmStates));
      } else {
        p.retry_on.push_back(s);
      }
    }
  }
}

void read_env(Reader& r, const YAML::Node& n, std::map<std::string, std::string>& env) {
  if (!r.is_map(n, "env")) return;
  for (const auto& kv : n) {
    auto key = kv.first.as<std::string>("");
    bool ok = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
    for (char c : key)
      ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!ok) {
      r.error(kv.first, "env: '" + key + "' is not a valid environment variable name");
      continue;
    }
    if (key.rfind("FLOW_", 0) == 0) {
      r.error(kv.first, "env: '" + key + "' is reserved: FLOW_* variables are set by flow");
      continue;
    }
    if (!kv.second.IsScalar()) {
      r.error(kv.second, "env: value of '" + key + "' must be a string");
      continue;
    }
    env[key] = kv.second.Scalar();
  }
}

void read_hpo(Reader& r, const YAML::Node& n, HpoSpec& h) {
  h.where = r.loc(n);
  if (!r.is_map(n, "hpo")) return;
  r.check_keys(n, kHpoKeys, "hpo");
  static const std::vector<std::string> algos = {"random", "grid", "asha", "hyperband", "pbt"};
  if (auto v = n["algorithm"]) {
    auto a = r.str(v, "hpo.algorithm").value_or("");
    if (std::find(algos.begin(), algos.end(), a) == algos.end()) {
      r.error(v, "hpo.algorithm '" + a + "' is not known" + did_you_mean(a, algos) +
                     "; use one of " + join(algos));
    }
    h.algorithm = a;
  }
  if (auto v = n["metric"]) h.metric = r.str(v, "hpo.metric").value_or("");
  if (h.metric.empty()) r.error(n, "hpo needs 'metric': the name of the metric trials report");
  if (auto v = n["mode"]) {
    h.mode = r.str(v, "hpo.mode").value_or("min");
    if (h.mode != "min" && h.mode != "max") r.error(v, "hpo.mode must be 'min' or 'max'");
  }
  auto int_field = [&](const char* key, int& out, long long lo, long long hi) {
    if (auto v = n[key]) {
      if (auto i = r.integer(v, std::string("hpo.") + key, lo, hi)) out = static_cast<int>(*i);
    }
  };
  int_field("samples", h.samples, 1, 100000);
  int_field("max_epochs", h.max_epochs, 1, 1000000);
  int_field("grace_epochs", h.grace_epochs, 1, 1000000);
  int_field("reduction_factor", h.reduction_factor, 2, 100);
  int_field("perturbation_interval", h.perturbation_interval, 1, 1000000);
  int_field("parallel", h.parallel, 1, 10000);
  if (auto v = n["seed"]) {
    if (auto i = r.integer(v, "hpo.seed", 0, (1LL << 62))) h.seed = static_cast<uint64_t>(*i);
  }
  if (h.grace_epochs > h.max_epochs) {
    r.error(n, "hpo.grace_epochs (" + std::to_string(h.grace_epochs) +
                   ") must not exceed hpo.max_epochs (" + std::to_string(h.max_epochs) + ")");
  }
  auto space = n["space"];
  if (!space || !space.IsMap() || space.size() == 0) {
    r.error(space ? space : n, "hpo needs 'space': a mapping of parameter -> distribution");
    return;
  }
  static const std::vector<std::string> kinds = {"uniform", "loguniform", "randint", "choice"};
  for (const auto& kv : space) {
    SpaceDim d;
    d.name = kv.first.as<std::string>("");
    d.where = r.loc(kv.first);
    const auto& spec = kv.second;
    if (!spec.IsMap() || spec.size() != 1) {
      r.error(spec, "hpo.space." + d.name +
                        " must be one of {uniform: [lo, hi]}, "
                        "{loguniform: [lo, hi]}, {randint: [lo, hi]}, {choice: [a, b, ...]}");
      continue;
    }
    // Copies, not references: a yaml-cpp iterator yields its key/value pair by value.
    const YAML::Node kind_node = spec.begin()->first;
    const YAML::Node args = spec.begin()->second;
    d.kind = kind_node.as<std::string>("");
    if (std::find(kinds.begin(), kinds.end(), d.kind) == kinds.end()) {
      r.error(kind_node, "hpo.space." + d.name + ": unknown distribution '" + d.kind +
                                       "'" + did_you_mean(d.kind, kinds) + "; use one of " +
                                       join(kinds));
      continue;
    }
    if (!args.IsSequence() || args.size() == 0) {
      r.error(args, "hpo.space." + d.name + ": " + d.kind + " needs a list");
      continue;
    }
    d.args = to_json(args);
    if (d.kind != "choice") {
      if (d.args.size() != 2 || !d.args[0].is_number() || !d.args[1].is_number() ||
          d.args[0].get<double>() >= d.args[1].get<double>()) {
        r.error(args, "hpo.space." + d.name + ": " + d.kind + " needs [lo, hi] with lo < hi");
        continue;
      }
      if (d.kind == "loguniform" && d.args[0].get<double>() <= 0) {
        r.error(args, "hpo.space." + d.name + ": loguniform needs lo > 0");
        continue;
      }
    }
    h.space.push_back(std::move(d));
  }
}

void read_task_fields(Reader& r, const YAML::Node& n, Task& t) {
  for (const auto& kv : n) {
    t.field_where[kv.first.as<std::string>("")] = r.loc(kv.second);
  }
  if (auto v = n["run"]) t.run = r.str(v, "run").value_or("");
  if (auto v = n["after"]) {
    t.after = r.str_list(v, "after");
    std::set<std::string> seen;
    for (const auto& a : t.after) {
      if (!seen.insert(a).second) r.error(v, "after: '" + a + "' is listed twice");
    }
  }
  if (auto v = n["site"]) t.site = r.str(v, "site").value_or("");
  if (auto v = n["slurm"]) read_slurm(r, v, t.slurm, "slurm of task '" + t.id + "'");
  read_retry_fields(r, n, t.retry);
  if (auto v = n["timeout"]) t.timeout = r.duration(v, "timeout");
  if (auto v = n["trigger"]) {
    auto s = r.str(v, "trigger").value_or("");
    if (auto tr = parse_trigger(s)) {
      t.trigger = *tr;
    } else {
      static const std::vector<std::string> rules = {"all_success", "all_done", "one_failed",
                                                     "one_success", "none_failed"};
      r.error(v, "trigger '" + s + "' is not a trigger rule" + did_you_mean(s, rules) +
                     "; use one of " + join(rules));
    }
  }
  if (auto v = n["env"]) read_env(r, v, t.env);
  if (auto v = n["foreach"]) {
    if (v.IsSequence()) {
      t.foreach = to_json(v).dump();  // a literal list, kept as JSON text
    } else {
      t.foreach = r.str(v, "foreach");
    }
  }
  if (auto v = n["hpo"]) {
    t.hpo.emplace();
    read_hpo(r, v, *t.hpo);
  }
}

void read_defaults(Reader& r, const YAML::Node& n, Dag& dag, Task& proto) {
  if (!r.is_map(n, "defaults")) return;
  r.check_keys(n, kDefaultKeys, "defaults");
  if (auto v = n["site"]) dag.default_site = r.str(v, "defaults.site").value_or("local");
  read_retry_fields(r, n, proto.retry);
  if (auto v = n["timeout"]) proto.timeout = r.duration(v, "defaults.timeout");
  if (auto v = n["trigger"]) {
    if (auto tr = parse_trigger(r.str(v, "defaults.trigger").value_or("")))
      proto.trigger = *tr;
    else
      r.error(v, "defaults.trigger is not a trigger rule");
  }
  if (auto v = n["env"]) read_env(r, v, proto.env);
  if (auto v = n["slurm"]) read_slurm(r, v, proto.slurm, "defaults.slurm");
}

}  // namespace

Dag load_dag_text(const std::string& text, const std::string& file) {
  Reader r(file);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    SourceLocation l{file, e.mark.line >= 0 ? e.mark.line + 1 : 0,
                     e.mark.column >= 0 ? e.mark.column + 1 : 0};
    throw InputError(l, "invalid YAML: " + e.msg);
  }
  Dag dag;
  dag.source_file = file;
  dag.source_text = text;
  if (!root.IsMap()) {
    throw InputError(SourceLocation{file, 1, 1},
                     "a DAG file must be a mapping with 'dag:' and 'tasks:' at the top");
  }
  r.check_keys(root, kTopKeys, "the DAG file");
  for (const auto& kv : root)
    dag.field_where[kv.first.as<std::string>("")] = r.loc(kv.first);

  if (auto v = root["dag"]) {
    dag.name = r.str(v, "dag").value_or("");
    if (!is_valid_id(dag.name)) {
      r.error(v, "dag name '" + dag.name + "' is invalid: use letters, digits, '_', '.', '-'");
    }
  } else {
    r.error(SourceLocation{file, 1, 1}, "missing 'dag:' (the DAG's name)");
  }
  if (auto v = root["description"]) dag.description = r.str(v, "description").value_or("");
  if (auto v = root["schedule"]) dag.schedule = r.str(v, "schedule");
  if (auto v = root["timezone"]) dag.timezone = r.str(v, "timezone").value_or("UTC");
  if (auto v = root["catchup"]) dag.catchup = r.boolean(v, "catchup").value_or(false);
  if (auto v = root["max_active_runs"]) {
    dag.max_active_runs = static_cast<int>(r.integer(v, "max_active_runs", 1, 10000).value_or(16));
  }
  if (auto v = root["params"]) {
    if (r.is_map(v, "params")) dag.params = to_json(v);
  }
  Task proto;
  if (auto v = root["defaults"]) read_defaults(r, v, dag, proto);

  auto tasks = root["tasks"];
  if (!tasks) {
    r.error(SourceLocation{file, 1, 1}, "missing 'tasks:' (a list of tasks)");
  } else if (!tasks.IsSequence()) {
    r.error(tasks, "'tasks' must be a list of tasks, each starting with '- id:'");
  } else {
    std::map<std::string, SourceLocation> seen;
    for (const auto& tn : tasks) {
      if (!tn.IsMap()) {
        r.error(tn, "each task must be a mapping starting with 'id:'");
        continue;
      }
      Task t = proto;
      t.field_where.clear();
      t.where = r.loc(tn);
      if (auto id = tn["id"]) {
        t.id = r.str(id, "id").value_or("");
        t.where = r.loc(id);
        if (!is_valid_id(t.id)) {
          r.error(id, "task id '" + t.id +
                          "' is invalid: use letters, digits, '_', '.', '-' "
                          "(no '/', spaces or '..')");
        }
      } else {
        r.error(tn, "task without 'id'");
      }
      r.check_keys(tn, kTaskKeys, "task '" + t.id + "'");
      read_task_fields(r, tn, t);
      if (t.run.empty()) r.error(t.where, "task '" + t.id + "' has no 'run' command");
      if (!t.id.empty()) {
        auto [it, fresh] = seen.emplace(t.id, t.where);
        if (!fresh) {
          r.error(t.where,
                  "duplicate task id '" + t.id + "' (first defined at " + it->second.str() + ")");
        }
      }
      if (t.foreach && t.hpo) {
        r.error(t.where, "task '" + t.id + "' has both 'foreach' and 'hpo'; use one");
      }
      dag.tasks.push_back(std::move(t));
    }
    if (tasks.size() == 0) r.error(tasks, "'tasks' is empty: a DAG needs at least one task");
  }
  if (!r.diagnostics().empty()) throw InputError(std::move(r.diagnostics()));
  return dag;
}

Dag load_dag_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      throw InputError(SourceLocation{path.string()}, "no such file");
    }
    throw EnvironmentError(path.string() + ": cannot read the file");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return load_dag_text(ss.str(), path.string());
}

}  // namespace flow::dag
