#include "engine/dag/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>

#include "engine/core/duration.hpp"
#include "engine/core/suggest.hpp"
#include "engine/core/yaml_reader.hpp"

namespace flow::dag {

bool is_valid_id(std::string_view id) {
  return yaml::is_valid_name(id);
}

namespace {

using yaml::decode;
using yaml::Reader;
using yaml::to_json;
using YNode = yaml::Node;

std::optional<TriggerRule> parse_trigger(const std::string& s) {
  if (s == "all_success") return TriggerRule::kAllSuccess;
  if (s == "all_done") return TriggerRule::kAllDone;
  if (s == "one_failed") return TriggerRule::kOneFailed;
  if (s == "one_success") return TriggerRule::kOneSuccess;
  if (s == "none_failed") return TriggerRule::kNoneFailed;
  return std::nullopt;
}

const std::vector<std::string> kTopKeys = {"dag",     "description",     "schedule", "timezone",
                                           "catchup", "max_active_runs", "params",   "defaults",
                                           "code",    "secrets",         "tasks"};
const std::vector<std::string> kTaskKeys = {"id",          "run",           "after",
                                            "site",        "slurm",         "retries",
                                            "retry_delay", "retry_backoff", "retry_max_delay",
                                            "retry_on",    "timeout",       "trigger",
                                            "env",         "foreach",       "hpo",
                                            "inputs",      "outputs",       "description"};
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
                                           "seed",
                                           "sampler",
                                           "startup_trials",
                                           "objectives",
                                           "best"};
// The Slurm end states a try may be retried on (retry_on:).
const std::vector<std::string> kSlurmStates = {"TIMEOUT",   "NODE_FAIL",     "PREEMPTED",
                                               "BOOT_FAIL", "OUT_OF_MEMORY", "DEADLINE",
                                               "FAILED",    "REVOKED",       "SPECIAL_EXIT"};

// States that look like candidates but cannot be retried on, and why.
std::optional<std::string> why_not_retryable(const std::string& state) {
  if (state == "CANCELLED")
    return "a cancelled job is never retried: `flow cancel` and `scancel` mean stop";
  if (state == "REQUEUED" || state == "SUSPENDED" || state == "PENDING" || state == "RUNNING")
    return "it is not an end state: Slurm resumes or requeues the job itself and flow keeps "
           "following it";
  return std::nullopt;
}

void read_slurm(Reader& r, const YNode& n, SlurmSpec& s, const std::string& what) {
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

void read_retry_fields(Reader& r, const YNode& n, RetryPolicy& p) {
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
      if (auto why = why_not_retryable(s)) {
        r.error(v, "retry_on: '" + s + "' cannot be retried on: " + *why);
      } else if (std::find(kSlurmStates.begin(), kSlurmStates.end(), s) == kSlurmStates.end()) {
        r.error(v, "retry_on: '" + s + "' is not a Slurm end state" +
                       did_you_mean(s, kSlurmStates) + "; use some of " + join(kSlurmStates));
      } else {
        p.retry_on.push_back(s);
      }
    }
  }
}

bool is_env_name(const std::string& key) {
  bool ok = !key.empty() && !std::isdigit(static_cast<unsigned char>(key[0]));
  for (char c : key)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  return ok;
}

// `secrets:` NAME: {env: VAR} | {file: PATH} (docs/REFERENCE.md §3.11).
void read_secrets(Reader& r, const YNode& n, Dag& dag) {
  if (!r.is_map(n, "secrets")) return;
  for (const auto& [k, v] : n.pairs()) {
    const std::string& name = k.Scalar();
    const std::string what = "secret '" + name + "'";
    if (!is_valid_id(name) || name.find('.') != std::string::npos) {
      r.error(k, what + ": a secret's name uses letters, digits, '_' and '-'");
      continue;
    }
    if (!v.IsMap() || v.size() != 1) {
      r.error(v, what + ": say where its value is: {env: VARIABLE} or {file: PATH}");
      continue;
    }
    r.check_keys(v, {"env", "file"}, what);
    SecretSource src;
    src.where = r.loc(k);
    if (auto e = v["env"]) {
      src.from = SecretSource::From::kEnv;
      src.ref = r.str(e, what + " env").value_or("");
      if (!is_env_name(src.ref)) {
        r.error(e, what + ": '" + src.ref + "' is not an environment variable name");
        continue;
      }
    } else if (auto f = v["file"]) {
      src.from = SecretSource::From::kFile;
      src.ref = r.str(f, what + " file").value_or("");
      if (src.ref.empty()) {
        r.error(f, what + ": the file's path is empty");
        continue;
      }
    } else {
      continue;  // check_keys reported the unknown key
    }
    dag.secrets[name] = std::move(src);
  }
}

void read_env(Reader& r, const YNode& n, std::map<std::string, std::string>& env) {
  if (!r.is_map(n, "env")) return;
  for (const auto& [k, v] : n.pairs()) {
    const std::string& key = k.Scalar();
    if (!is_env_name(key)) {
      r.error(k, "env: '" + key + "' is not a valid environment variable name");
      continue;
    }
    if (key.rfind("FLOW_", 0) == 0) {
      r.error(k, "env: '" + key + "' is reserved: FLOW_* variables are set by flow");
      continue;
    }
    if (!v.IsScalar()) {
      r.error(v, "env: value of '" + key + "' must be a string");
      continue;
    }
    env[key] = v.Scalar();
  }
}

// hpo.objectives: {metric: min|max, ...} (two or more) and hpo.best: the rule that picks
// the best trial of such a sweep, an objective's name or {weights: {objective: w, ...}}.
void read_objectives(Reader& r, const YNode& hpo, const YNode& n, HpoSpec& h) {
  if (!n.IsMap() || n.size() < 2) {
    r.error(n,
            "hpo.objectives must map two or more metrics to min or max, e.g. "
            "{val_mae: min, latency_ms: min}; for one metric use metric and mode");
    return;
  }
  std::vector<std::string> names;
  for (const auto& [k, v] : n.pairs()) {
    const std::string mode = v.IsScalar() ? v.Scalar() : "";
    if (mode != "min" && mode != "max") {
      r.error(v, "hpo.objectives." + k.Scalar() + " must be min or max");
      continue;
    }
    h.objectives.emplace_back(k.Scalar(), mode);
    names.push_back(k.Scalar());
  }
  auto best = hpo["best"];
  if (!best) {
    r.error(n, "a sweep with several objectives (" + join(names) +
                   ") needs a rule for its best trial, which downstream tasks get: "
                   "best: <objective> (the trial best on it) or best: {weights: {" +
                   names[0] +
                   ": 1.0, ...}} (the lowest weighted sum; max objectives count "
                   "negated)");
    return;
  }
  auto known = [&](const std::string& m, const YNode& at, const std::string& what) {
    if (std::find(names.begin(), names.end(), m) != names.end()) return true;
    r.error(at, what + " '" + m + "' is not an objective" + did_you_mean(m, names) +
                    "; objectives: " + join(names));
    return false;
  };
  if (best.IsScalar()) {
    if (known(best.Scalar(), best, "hpo.best")) h.best_metric = best.Scalar();
    return;
  }
  auto weights = best.IsMap() && best.size() == 1 ? best["weights"] : YNode();
  if (!weights || !weights.IsMap() || weights.size() == 0) {
    r.error(best, "hpo.best must be an objective's name or {weights: {objective: weight, ...}}");
    return;
  }
  for (const auto& [k, v] : weights.pairs()) {
    if (!known(k.Scalar(), k, "hpo.best.weights:")) continue;
    auto w = r.number(v, "hpo.best.weights." + k.Scalar());
    if (w && (*w < 0 || !std::isfinite(*w))) {
      r.error(v, "hpo.best.weights." + k.Scalar() + " must be a number >= 0");
      continue;
    }
    if (w) h.best_weights[k.Scalar()] = *w;
  }
}

void read_hpo(Reader& r, const YNode& n, HpoSpec& h) {
  h.where = r.loc(n);
  if (!r.is_map(n, "hpo")) return;
  r.check_keys(n, kHpoKeys, "hpo");
  static const std::vector<std::string> algos = {"random", "grid",      "tpe",
                                                 "asha",   "hyperband", "pbt"};
  if (auto v = n["algorithm"]) {
    auto a = r.str(v, "hpo.algorithm").value_or("");
    if (std::find(algos.begin(), algos.end(), a) == algos.end()) {
      r.error(v, "hpo.algorithm '" + a + "' is not known" + did_you_mean(a, algos) +
                     "; use one of " + join(algos));
    }
    h.algorithm = a;
  }
  if (auto v = n["sampler"]) {
    h.sampler = r.str(v, "hpo.sampler").value_or("random");
    if (h.sampler != "random" && h.sampler != "tpe") {
      r.error(v, "hpo.sampler '" + h.sampler + "' is not known; use random or tpe");
    } else if (h.sampler == "tpe" && h.algorithm != "asha" && h.algorithm != "hyperband" &&
               h.algorithm != "tpe") {
      r.error(v,
              "hpo.sampler tpe works with algorithm asha or hyperband (for plain TPE use "
              "algorithm: tpe), not " +
                  h.algorithm);
    }
  }
  if (auto v = n["objectives"]) read_objectives(r, n, v, h);
  if (auto v = n["metric"]) {
    h.metric = r.str(v, "hpo.metric").value_or("");
    if (!h.objectives.empty())
      r.error(v,
              "hpo has both 'metric' and 'objectives'; a multi-objective sweep lists every "
              "metric under objectives (and picks its best trial with 'best')");
  }
  if (h.metric.empty() && h.objectives.empty())
    r.error(n, "hpo needs 'metric': the name of the metric trials report");
  if (auto v = n["mode"]) {
    h.mode = r.str(v, "hpo.mode").value_or("min");
    if (h.mode != "min" && h.mode != "max") r.error(v, "hpo.mode must be 'min' or 'max'");
    if (!h.objectives.empty())
      r.error(v, "hpo.mode is for a single metric; give each objective its mode under objectives");
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
  int_field("startup_trials", h.startup_trials, 1, 100000);
  if (auto v = n["seed"]) {
    if (auto i = r.integer(v, "hpo.seed", 0, (1LL << 62))) h.seed = static_cast<uint64_t>(*i);
  }
  if (h.grace_epochs > h.max_epochs) {
    r.error(n, "hpo.grace_epochs (" + std::to_string(h.grace_epochs) +
                   ") must not exceed hpo.max_epochs (" + std::to_string(h.max_epochs) + ")");
  }
  if (!h.objectives.empty()) {  // the scalar the tuner ranks by: the best rule's
    h.metric = h.best_metric.empty() ? "weighted" : h.best_metric;
    for (const auto& [m, mode] : h.objectives) {
      if (m == h.best_metric) h.mode = mode;
    }
  }
  if (auto v = n["best"]; v && h.objectives.empty())
    r.error(v,
            "hpo.best is the rule of a multi-objective sweep; with one metric the best trial "
            "is the one best on it (remove best, or list the metrics under objectives)");
  auto space = n["space"];
  if (!space || !space.IsMap() || space.size() == 0) {
    r.error(space ? space : n,
            "hpo needs 'space' with at least one dimension: a mapping of parameter -> "
            "distribution, e.g. space: {lr: {loguniform: [1.0e-5, 1.0e-1]}}");
    return;
  }
  static const std::vector<std::string> kinds = {"uniform", "loguniform", "randint", "choice"};
  for (const auto& [k, spec] : space.pairs()) {
    SpaceDim d;
    d.name = k.Scalar();
    d.where = r.loc(k);
    if (!spec.IsMap() || spec.size() != 1) {
      r.error(spec, "hpo.space." + d.name +
                        " must be one of {uniform: [lo, hi]}, "
                        "{loguniform: [lo, hi]}, {randint: [lo, hi]}, {choice: [a, b, ...]}");
      continue;
    }
    const auto [kind_node, args] = spec.pairs().front();
    d.kind = kind_node.Scalar();
    if (std::find(kinds.begin(), kinds.end(), d.kind) == kinds.end()) {
      r.error(kind_node, "hpo.space." + d.name + ": unknown distribution '" + d.kind + "'" +
                             did_you_mean(d.kind, kinds) + "; use one of " + join(kinds));
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
      const double lo = d.args[0].get<double>(), hi = d.args[1].get<double>();
      if (!std::isfinite(lo) || !std::isfinite(hi)) {
        r.error(args, "hpo.space." + d.name + ": " + d.kind + " needs finite bounds");
        continue;
      }
      if (d.kind == "loguniform" && lo <= 0) {
        r.error(args, "hpo.space." + d.name + ": loguniform needs lo > 0 (its range is " +
                          "sampled in log space and log(" + d.args[0].dump() +
                          ") is undefined); use a small positive lo such as 1.0e-6, or uniform");
        continue;
      }
      // Integers a double holds exactly: sampling and the grid compute with them.
      constexpr double kMaxInt = 9007199254740992.0;  // 2^53
      if (d.kind == "randint" && (std::trunc(lo) != lo || std::trunc(hi) != hi ||
                                  std::fabs(lo) > kMaxInt || std::fabs(hi) > kMaxInt)) {
        r.error(args,
                "hpo.space." + d.name + ": randint needs whole numbers [lo, hi] within ±2^53");
        continue;
      }
    }
    h.space.push_back(std::move(d));
  }
  if (h.algorithm == "grid") {
    // As hpo/search_space.cpp's grid(): every choice; randint every integer up to 3 of
    // them, else 3; uniform and loguniform 3 points.
    constexpr uint64_t kMaxGridPoints = 100'000;
    uint64_t points = 1;
    for (const auto& d : h.space) {
      uint64_t values = 3;
      if (d.kind == "choice") values = d.args.size();
      if (d.kind == "randint")
        values = std::min<uint64_t>(
            3, static_cast<uint64_t>(d.args[1].get<double>() - d.args[0].get<double>()) + 1);
      points = std::min(points * std::max<uint64_t>(values, 1), kMaxGridPoints + 1);
    }
    if (points > kMaxGridPoints) {
      r.error(space, "hpo.space: a grid over these dimensions has more than " +
                         std::to_string(kMaxGridPoints) +
                         " points; use fewer choices, or algorithm random with samples");
    }
  }
}

const std::vector<std::string> kStagedKeys = {"path", "base"};
const std::vector<std::string> kBases = {"run", "workdir", "site"};

// One `inputs:`/`outputs:` entry: "path" or {path, base} (docs/STAGING.md).
std::optional<StagedPath> read_staged(Reader& r, const YNode& n, const std::string& what) {
  StagedPath sp;
  YNode path_node = n;
  if (n.IsMap()) {
    r.check_keys(n, kStagedKeys, what);
    path_node = n["path"];
    if (!path_node) {
      r.error(n, what + " needs 'path'");
      return std::nullopt;
    }
    if (auto b = n["base"]) {
      const auto base = r.str(b, what + ".base").value_or("");
      if (base == "run") {
        sp.base = PathBase::kRun;
      } else if (base == "workdir") {
        sp.base = PathBase::kWorkdir;
      } else if (base == "site") {
        sp.base = PathBase::kSite;
      } else if (b.IsScalar()) {
        r.error(b, what + ".base '" + base + "' is not known" + did_you_mean(base, kBases) +
                       "; use run (the run directory, default), workdir (where `flow run` was "
                       "started) or site (the site's workdir)");
      }
    }
  } else if (!n.IsScalar()) {
    r.error(n, what + " must be a path or a mapping with 'path' and 'base'");
    return std::nullopt;
  }
  auto text = r.str(path_node, what + ".path");
  if (!text) return std::nullopt;
  std::string normal;
  if (auto why = staged_path_problem(*text, &normal); !why.empty()) {
    r.error(path_node, what + " '" + *text + "': " + why);
    return std::nullopt;
  }
  sp.path = normal;
  sp.where = r.loc(path_node);
  return sp;
}

std::vector<StagedPath> read_staged_list(Reader& r, const YNode& n, const std::string& what) {
  std::vector<StagedPath> out;
  if (n.IsNull()) return out;
  if (!n.IsSequence()) {
    if (auto one = read_staged(r, n, what)) out.push_back(std::move(*one));
    return out;
  }
  std::set<std::string> seen;
  size_t i = 0;
  for (YNode item : n) {
    if (auto sp = read_staged(r, item, what + "[" + std::to_string(i) + "]")) {
      if (!seen.insert(sp->label()).second) {
        r.error(item, what + ": '" + sp->label() + "' is listed twice");
      } else {
        out.push_back(std::move(*sp));
      }
    }
    ++i;
  }
  return out;
}

void read_task_fields(Reader& r, const YNode& n, Task& t) {
  t.field_where.reserve(n.size());
  for (const auto& [k, v] : n.pairs())
    t.field_where.push_back({k.Scalar(), v.line() + 1, v.col() + 1});
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
  if (auto v = n["inputs"]) t.inputs = read_staged_list(r, v, "inputs");
  if (auto v = n["outputs"]) t.outputs = read_staged_list(r, v, "outputs");
}

void read_defaults(Reader& r, const YNode& n, Dag& dag, Task& proto) {
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

namespace {

Dag load_dag(std::string text, const std::string& file) {
  Reader r(file);
  const yaml::Tree tree = yaml::parse(text, file);
  const YNode root(tree);
  Dag dag;
  dag.source_file = file;
  dag.source_text = std::move(text);
  if (!root.IsMap()) {
    throw InputError(SourceLocation{file, 1, 1},
                     "a DAG file must be a mapping with 'dag:' and 'tasks:' at the top");
  }
  r.check_keys(root, kTopKeys, "the DAG file");
  for (const auto& [k, v] : root.pairs())
    dag.field_where[k.Scalar()] = r.loc(v);

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
  if (auto v = root["code"]) {
    std::set<std::string> seen;
    for (const auto& entry : r.str_list(v, "code")) {
      std::string normal;
      if (auto why = staged_path_problem(entry, &normal); !why.empty()) {
        r.error(v, "code '" + entry + "': " + why +
                       " (code paths are relative to the directory `flow run` starts in)");
      } else if (!seen.insert(normal).second) {
        r.error(v, "code: '" + normal + "' is listed twice");
      } else {
        dag.code.push_back(normal);
      }
    }
  }
  if (auto v = root["secrets"]) read_secrets(r, v, dag);
  Task proto;
  if (auto v = root["defaults"]) read_defaults(r, v, dag, proto);

  auto tasks = root["tasks"];
  if (!tasks) {
    r.error(SourceLocation{file, 1, 1}, "missing 'tasks:' (a list of tasks)");
  } else if (!tasks.IsSequence()) {
    r.error(tasks, "'tasks' must be a list of tasks, each starting with '- id:'");
  } else {
    dag.tasks.reserve(tasks.size());  // no reallocation: `seen` points into the tasks
    std::unordered_map<std::string_view, size_t> seen;
    seen.reserve(tasks.size());
    for (YNode tn : tasks) {
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
      if (t.foreach && t.hpo) {
        r.error(t.where, "task '" + t.id + "' has both 'foreach' and 'hpo'; use one");
      }
      const Task& added = dag.tasks.emplace_back(std::move(t));
      if (!added.id.empty()) {
        auto [it, fresh] = seen.emplace(added.id, dag.tasks.size() - 1);
        if (!fresh) {
          r.error(added.where, "duplicate task id '" + added.id + "' (first defined at " +
                                   dag.tasks[it->second].where.str() + ")");
        }
      }
    }
    if (tasks.size() == 0) r.error(tasks, "'tasks' is empty: a DAG needs at least one task");
  }
  if (!r.diagnostics().empty()) throw InputError(std::move(r.diagnostics()));
  return dag;
}

}  // namespace

Dag load_dag_text(const std::string& text, const std::string& file) {
  return load_dag(text, file);
}

Dag load_dag_file(const std::filesystem::path& path) {
  return load_dag(yaml::read_file(path), path.string());
}

}  // namespace flow::dag
