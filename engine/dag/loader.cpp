#include "engine/dag/loader.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>

#include "engine/core/duration.hpp"
#include "engine/core/suggest.hpp"
#include "engine/core/yaml_reader.hpp"
#include "engine/dag/hpo_reader.hpp"

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
                                           "code",    "secrets",         "notify",   "sla",
                                           "tasks"};
const std::vector<std::string> kTaskKeys = {"id",          "run",           "after",
                                            "site",        "slurm",         "retries",
                                            "retry_delay", "retry_backoff", "retry_max_delay",
                                            "retry_on",    "timeout",       "trigger",
                                            "env",         "foreach",       "hpo",
                                            "inputs",      "outputs",       "notify",
                                            "sla",         "resources",     "description"};
const std::vector<std::string> kDefaultKeys = {
    "site",    "retries", "retry_delay", "retry_backoff", "retry_max_delay", "retry_on",
    "timeout", "trigger", "env",         "slurm",         "resources"};
const std::vector<std::string> kSlurmKeys = {"nodes",         "ntasks",   "gpus",
                                             "cpus_per_task", "time",     "partition",
                                             "account",       "software", "extra"};
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

const std::vector<std::string> kResourceKeys = {"cpus", "gpus", "memory"};

// `memory:` as Slurm's --mem takes it: a whole number of MiB, or one with a K, M, G or T
// suffix (binary units, as Slurm reads them). Nullopt when it is none of these.
std::optional<long long> memory_mb(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])))
    ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const long long n = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  if (unit.size() == 2 && (unit[1] == 'B' || unit[1] == 'b')) unit.pop_back();
  if (unit.size() > 1) return std::nullopt;
  switch (unit.empty() ? 'M' : std::toupper(static_cast<unsigned char>(unit[0]))) {
    case 'K':
      return (n + 1023) / 1024;
    case 'M':
      return n;
    case 'G':
      return n * 1024;
    case 'T':
      return n * 1024 * 1024;
    default:
      return std::nullopt;
  }
}

void read_resources(Reader& r, const YNode& n, Resources& res, const std::string& what) {
  if (!r.is_map(n, what)) return;
  r.check_keys(n, kResourceKeys, what);
  res = Resources{};
  res.declared = true;
  if (auto v = n["cpus"]) {
    if (auto i = r.integer(v, "resources.cpus", 1, 4096)) res.cpus = static_cast<int>(*i);
  }
  if (auto v = n["gpus"]) {
    if (auto i = r.integer(v, "resources.gpus", 0, 64)) res.gpus = static_cast<int>(*i);
  }
  if (auto v = n["memory"]) {
    if (auto t = r.str(v, "resources.memory")) {
      auto mb = memory_mb(*t);
      if (!mb || *mb < 1 || *mb > (1LL << 30)) {
        r.error(v, "resources.memory '" + *t +
                       "' is not a memory size: use a number of MiB or one with K, M, G or T "
                       "(e.g. 4G, 500M), at least 1M and at most 1P");
      } else {
        res.memory_mb = static_cast<int>(*mb);
      }
    }
  }
}

// Sets `retry` only when `n` has a retry key: a task without one keeps no RetryPolicy of
// its own (flow::Defaulted).
void read_retry_fields(Reader& r, const YNode& n, Defaulted<RetryPolicy>& retry) {
  if (!n["retries"] && !n["retry_delay"] && !n["retry_max_delay"] && !n["retry_backoff"] &&
      !n["retry_on"])
    return;
  RetryPolicy& p = retry.edit();
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
    p.retry_on = RetryStates();
    const auto& states = RetryStates::all();
    for (const auto& s : r.str_list(v, "retry_on")) {
      if (auto why = why_not_retryable(s)) {
        r.error(v, "retry_on: '" + s + "' cannot be retried on: " + *why);
      } else if (!p.retry_on.add(s)) {
        r.error(v, "retry_on: '" + s + "' is not a Slurm end state" + did_you_mean(s, states) +
                       "; use some of " + join(states));
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

const std::vector<std::string> kNotifyKeys = {"on", "webhook", "command"};
const std::vector<std::string> kNotifyEvents = {"failure", "retry", "success", "sla_miss"};

std::optional<NotifyEvent> parse_notify_event(const std::string& s) {
  if (s == "failure") return NotifyEvent::kFailure;
  if (s == "retry") return NotifyEvent::kRetry;
  if (s == "success") return NotifyEvent::kSuccess;
  if (s == "sla_miss") return NotifyEvent::kSlaMiss;
  return std::nullopt;
}

// One `notify:` entry: {on: EVENT | [EVENT...], webhook: URL, command: CMD} (docs/ALERTS.md).
std::optional<NotifySpec> read_notify_entry(Reader& r, const YNode& n, const std::string& what) {
  if (!n.IsMap()) {
    r.error(n, what + " must be a mapping with 'webhook:' and/or 'command:' (and 'on:')");
    return std::nullopt;
  }
  r.check_keys(n, kNotifyKeys, what);
  NotifySpec spec;
  spec.where = r.loc(n);
  if (auto v = n["on"]) {
    spec.on.clear();
    for (const auto& e : r.str_list(v, what + ".on")) {
      auto ev = parse_notify_event(e);
      if (!ev) {
        r.error(v, what + ".on: '" + e + "' is not an event" + did_you_mean(e, kNotifyEvents) +
                       "; use some of " + join(kNotifyEvents));
      } else if (spec.wants(*ev)) {
        r.error(v, what + ".on: '" + e + "' is listed twice");
      } else {
        spec.on.push_back(*ev);
      }
    }
    if (v.IsSequence() && v.size() == 0) r.error(v, what + ".on is empty: name an event");
  }
  if (auto v = n["webhook"]) {
    spec.webhook = r.str(v, what + ".webhook").value_or("");
    const bool templated = spec.webhook.find("{{") != std::string::npos;
    if (!templated && spec.webhook.rfind("http://", 0) != 0 &&
        spec.webhook.rfind("https://", 0) != 0) {
      r.error(v, what +
                     ".webhook must be an http:// or https:// URL (or a template such as "
                     "'{{ secrets.slack_url }}')");
    }
  }
  if (auto v = n["command"]) {
    spec.command = r.str(v, what + ".command").value_or("");
    if (spec.command.empty()) r.error(v, what + ".command is empty");
  }
  if (!n["webhook"] && !n["command"]) {
    r.error(n, what + " says where to send it: add 'webhook: URL' and/or 'command: CMD'");
    return std::nullopt;
  }
  return spec;
}

// `notify:`: one entry or a list of them.
std::vector<NotifySpec> read_notify(Reader& r, const YNode& n, const std::string& what) {
  std::vector<NotifySpec> out;
  if (n.IsSequence()) {
    size_t i = 0;
    for (YNode item : n) {
      if (auto s = read_notify_entry(r, item, what + "[" + std::to_string(i) + "]"))
        out.push_back(std::move(*s));
      ++i;
    }
  } else if (auto s = read_notify_entry(r, n, what)) {
    out.push_back(std::move(*s));
  }
  return out;
}

std::optional<Duration> read_sla(Reader& r, const YNode& n, const std::string& what) {
  auto d = r.duration(n, what);
  if (d && d->count() <= 0) {
    r.error(n, what + " must be longer than 0s");
    return std::nullopt;
  }
  return d;
}

// `t.source` is set (load_dag made it, with the task's own location).
void read_task_fields(Reader& r, const YNode& n, Task& t) {
  auto& fields = t.source->fields;
  fields.reserve(n.size());
  for (const auto& [k, v] : n.pairs())
    fields.push_back({k.Scalar(), v.line() + 1, v.col() + 1});
  if (auto v = n["run"]) t.run = r.str(v, "run").value_or("");
  if (auto v = n["after"]) {
    t.after = r.str_list(v, "after");
    std::set<std::string> seen;
    for (const auto& a : t.after) {
      if (!seen.insert(a).second) r.error(v, "after: '" + a + "' is listed twice");
    }
  }
  if (auto v = n["site"]) t.site = r.str(v, "site").value_or("");
  if (auto v = n["slurm"]) read_slurm(r, v, t.slurm.edit(), "slurm of task '" + t.id + "'");
  if (auto v = n["resources"])
    read_resources(r, v, t.resources, "resources of task '" + t.id + "'");
  read_retry_fields(r, n, t.retry);
  if (auto v = n["timeout"]) t.extras.edit().timeout = r.duration(v, "timeout");
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
  if (auto v = n["env"]) read_env(r, v, t.extras.edit().env);
  if (auto v = n["foreach"]) {
    if (v.IsSequence()) {
      t.foreach.emplace(to_json(v).dump());  // a literal list, kept as JSON text
    } else {
      if (auto text = r.str(v, "foreach")) t.foreach.emplace(std::move(*text));
    }
  }
  if (auto v = n["hpo"]) {
    t.hpo.emplace();
    read_hpo(r, v, *t.hpo);
  }
  if (auto v = n["inputs"]) t.extras.edit().inputs = read_staged_list(r, v, "inputs");
  if (auto v = n["outputs"]) t.extras.edit().outputs = read_staged_list(r, v, "outputs");
  if (auto v = n["notify"])
    t.extras.edit().notify = read_notify(r, v, "notify of task '" + t.id + "'");
  if (auto v = n["sla"]) t.extras.edit().sla = read_sla(r, v, "sla of task '" + t.id + "'");
}

void read_defaults(Reader& r, const YNode& n, Dag& dag, Task& proto) {
  if (!r.is_map(n, "defaults")) return;
  r.check_keys(n, kDefaultKeys, "defaults");
  if (auto v = n["site"]) dag.default_site = r.str(v, "defaults.site").value_or("local");
  read_retry_fields(r, n, proto.retry);
  if (auto v = n["timeout"]) proto.extras.edit().timeout = r.duration(v, "defaults.timeout");
  if (auto v = n["trigger"]) {
    if (auto tr = parse_trigger(r.str(v, "defaults.trigger").value_or("")))
      proto.trigger = *tr;
    else
      r.error(v, "defaults.trigger is not a trigger rule");
  }
  if (auto v = n["env"]) read_env(r, v, proto.extras.edit().env);
  if (auto v = n["slurm"]) read_slurm(r, v, proto.slurm.edit(), "defaults.slurm");
  if (auto v = n["resources"]) read_resources(r, v, proto.resources, "defaults.resources");
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
  if (auto v = root["notify"]) dag.notify = read_notify(r, v, "notify");
  if (auto v = root["sla"]) dag.sla = read_sla(r, v, "sla");
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
      Task::Source& source = t.source.emplace();
      source.where = r.loc(tn);
      if (auto id = tn["id"]) {
        t.id = r.str(id, "id").value_or("");
        source.where = r.loc(id);
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
      if (t.run.empty()) r.error(t.where(), "task '" + t.id + "' has no 'run' command");
      if (t.foreach && t.hpo) {
        r.error(t.where(), "task '" + t.id + "' has both 'foreach' and 'hpo'; use one");
      }
      const Task& added = dag.tasks.emplace_back(std::move(t));
      if (!added.id.empty()) {
        auto [it, fresh] = seen.emplace(added.id, dag.tasks.size() - 1);
        if (!fresh) {
          r.error(added.where(), "duplicate task id '" + added.id + "' (first defined at " +
                                     dag.tasks[it->second].where().str() + ")");
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
