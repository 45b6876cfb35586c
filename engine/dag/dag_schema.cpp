#include "engine/dag/dag_schema.hpp"

#include <string>
#include <vector>

#include "engine/core/json_schema.hpp"

namespace flow::dag {

namespace {

using schema::any_of;
using schema::boolean;
using schema::duration;
using schema::integer;
using schema::json;
using schema::one_of_values;
using schema::required;
using schema::types;
using schema::with;

// A YAML scalar the loader reads as text: a plain number or boolean is text too (`run: 42`).
json text() {
  return types({"string", "number", "boolean"});
}

// Text with a pattern. Plain numbers and booleans are written with characters every
// pattern used here allows (ids, paths), so they pass as they are.
json text_matching(const std::string& pattern) {
  json s = {{"type", "string"}, {"pattern", pattern}};
  return any_of({s, types({"number", "boolean"})});
}

// Ids: letters, digits, '_', '.', '-'; not '.' or '..'; at most 200 characters.
json id() {
  json s = {
      {"type", "string"}, {"pattern", "^[A-Za-z0-9_.-]{1,200}$"}, {"not", {{"enum", {".", ".."}}}}};
  return any_of({s, types({"number", "boolean"})});
}

// One value or a list of them (the loader's Reader::str_list); null is an empty list.
json one_or_list(const json& item, bool unique = false) {
  json list = {{"type", "array"}, {"items", item}};
  if (unique) list["uniqueItems"] = true;
  return any_of({{{"type", "null"}}, item, list});
}

// Staged paths and `code:` entries (staged_path_problem in engine/dag/dag.cpp): relative
// (no leading / or ~), no `..` component, no template, no backslash or control
// character, not the base directory itself.
json path() {
  return text_matching(
      "^(?![/~])(?!.*\\{\\{)(?!(.*/)?\\.\\.(/|$))(?!(\\./|/)*\\.?$)[^\\\\\\x00-\\x1f\\x7f]+$");
}

const std::vector<std::string> kTriggerRules = {"all_success", "all_done", "one_failed",
                                                "one_success", "none_failed"};

json slurm() {
  json p = json::object();
  p["nodes"] = with(integer(1, 100000), "--nodes (default 1)");
  p["ntasks"] = with(integer(1, 100000), "--ntasks-per-node");
  p["gpus"] = with(integer(0, 64), "--gpus-per-node (0 = the site's / system's)");
  p["cpus_per_task"] = with(integer(1, 4096), "--cpus-per-task");
  p["time"] = with(any_of({{{"type", "string"}, {"pattern", "^[0-9:-]+$"}}, {{"type", "integer"}}}),
                   "--time: HH:MM:SS, D-HH:MM:SS, MM:SS or minutes (default 01:00:00)");
  p["partition"] = with(text(), "--partition (default: the site's, then the system's)");
  p["account"] = with(text(), "--account (default: the site's; none: no line)");
  p["software"] = with(one_or_list(text()),
                       "LAMEC software (name or list of names); decides modules and launcher");
  p["extra"] = with(one_or_list(text()),
                    "extra header lines (string or list), --mem=4G or #SBATCH --mem=4G");
  return with({{"type", "object"}, {"properties", p}, {"additionalProperties", false}},
              "job settings (REFERENCE §3.4); only on a site with scheduler: slurm");
}

json resources() {
  json p = json::object();
  p["cpus"] = with(integer(1, 4096), "cores for one try (default 1)");
  p["gpus"] = with(integer(0, 64), "GPUs for one try, seen as CUDA_VISIBLE_DEVICES (default 0)");
  p["memory"] = with(any_of({{{"type", "string"}, {"pattern", "^[0-9]{1,12}([KkMmGgTt][Bb]?)?$"}},
                             {{"type", "integer"}, {"minimum", 1}}}),
                     "memory for one try: MiB, or a number with K, M, G or T (Slurm: --mem; plain "
                     "processes: not enforced)");
  return with({{"type", "object"}, {"properties", p}, {"additionalProperties", false}},
              "what one try needs of a node (REFERENCE §3.15): exclusive cores and GPUs on a "
              "plain-process site, #SBATCH lines on a Slurm site");
}

json env() {
  return with({{"type", "object"},
               {"propertyNames", {{"pattern", "^(?!FLOW_)[A-Za-z_][A-Za-z0-9_]*$"}}},
               {"additionalProperties", text()}},
              "extra environment variables; values are templates (not shell-quoted); NAME is "
              "[A-Za-z_][A-Za-z0-9_]* and must not start with FLOW_; values are scalars");
}

// The keys tasks and `defaults:` share.
void task_settings(json& p) {
  p["site"] = with(text(), "where the task runs (REFERENCE §5); default defaults.site, else local");
  p["slurm"] = slurm();
  p["resources"] = resources();
  p["retries"] = with(integer(0, 1000), "extra tries after failed ones (default 0)");
  p["retry_delay"] = with(duration(), "wait before the first retry (default 10s)");
  p["retry_backoff"] = with({{"type", "number"}, {"minimum", 1.0}},
                            "factor per further retry, >= 1.0 (default 2.0; 1.0 = constant)");
  p["retry_max_delay"] = with(duration(), "cap on the wait between tries (default 1h)");
  p["retry_on"] = with(one_or_list(one_of_values(RetryStates::all())),
                       "Slurm end states retried besides FAILED (default TIMEOUT, NODE_FAIL, "
                       "PREEMPTED, BOOT_FAIL)");
  p["timeout"] = with(duration(), "limit per try (default none)");
  p["trigger"] = with(one_of_values(kTriggerRules),
                      "when the task runs given its upstream states (default all_success)");
  p["env"] = env();
}

json staged() {
  json entry = {{"type", "object"},
                {"properties",
                 {{"path", path()},
                  {"base", with(one_of_values({"run", "workdir", "site"}),
                                "run (the run directory, default), workdir (where flow run "
                                "started) or site (the site's workdir)")}}},
                {"required", json::array({"path"})},
                {"additionalProperties", false}};
  return one_or_list(any_of({path(), entry}), true);
}

json hpo() {
  json pair = {
      {"type", "array"}, {"items", {{"type", "number"}}}, {"minItems", 2}, {"maxItems", 2}};
  json positive_pair = pair;
  positive_pair["items"] =
      json::array({{{"type", "number"}, {"exclusiveMinimum", 0}}, {{"type", "number"}}});
  json int_pair = pair;
  int_pair["items"] = {{"type", "integer"}};
  json choices = {{"type", "array"}, {"minItems", 1}};
  json dists = json::array();
  for (const auto& [kind, args] :
       std::vector<std::pair<std::string, json>>{{"uniform", pair},
                                                 {"loguniform", positive_pair},
                                                 {"randint", int_pair},
                                                 {"choice", choices}}) {
    dists.push_back({{"type", "object"},
                     {"properties", {{kind, args}}},
                     {"required", json::array({kind})},
                     {"additionalProperties", false}});
  }
  json p = json::object();
  p["algorithm"] = with(one_of_values({"random", "grid", "tpe", "asha", "hyperband", "pbt"}),
                        "the tuner (default random)");
  p["metric"] = with(text(), "key of the metrics lines trials write (REFERENCE §4.5)");
  p["mode"] = with(one_of_values({"min", "max"}), "better is lower / higher (default min)");
  p["samples"] =
      with(integer(1, 100000), "trials (population size for pbt; ignored by grid; default 8)");
  p["max_epochs"] = with(integer(1, 1000000), "epochs a trial trains at most (default 10)");
  p["grace_epochs"] =
      with(integer(1, 1000000), "asha/hyperband: the first rung, <= max_epochs (default 1)");
  p["reduction_factor"] =
      with(integer(2, 100), "asha/hyperband: rung spacing and promotion ratio (default 3)");
  p["perturbation_interval"] = with(integer(1, 1000000), "pbt: epochs per segment (default 5)");
  p["parallel"] = with(integer(1, 10000), "trial segments running at once (default 2)");
  p["seed"] = with(integer(0, 1LL << 62),
                   "random stream of the tuner (default: from run id and "
                   "task id)");
  p["sampler"] = with(one_of_values({"random", "tpe"}),
                      "asha/hyperband: how new trials are drawn (default random)");
  p["startup_trials"] =
      with(integer(1, 100000), "model-based samplers: random trials before the model (default 10)");
  p["objectives"] = with({{"type", "object"},
                          {"minProperties", 2},
                          {"additionalProperties", one_of_values({"min", "max"})}},
                         "multi-objective: two or more metrics, each min or max (instead of "
                         "metric and mode)");
  p["best"] =
      with(any_of({text(),
                   {{"type", "object"},
                    {"properties",
                     {{"weights",
                       {{"type", "object"},
                        {"minProperties", 1},
                        {"additionalProperties", {{"type", "number"}, {"minimum", 0}}}}}}},
                    {"required", json::array({"weights"})},
                    {"additionalProperties", false}}}),
           "multi-objective: the best trial, an objective's name or {weights: {objective: w}}");
  p["space"] =
      with({{"type", "object"}, {"minProperties", 1}, {"additionalProperties", {{"oneOf", dists}}}},
           "the parameters: NAME: {uniform: [lo, hi]}, {loguniform: [lo, hi]} (lo > "
           "0), {randint: [lo, hi]} or {choice: [a, b, ...]}");
  json tpe_sampler = required({"sampler"});
  tpe_sampler["properties"] = {{"sampler", {{"const", "tpe"}}}};
  json tpe_algorithms = required({"algorithm"});
  tpe_algorithms["properties"] = {{"algorithm", {{"enum", {"asha", "hyperband", "tpe"}}}}};
  return with({{"type", "object"},
               {"properties", p},
               {"additionalProperties", false},
               {"required", json::array({"space"})},
               {"anyOf", json::array({required({"metric"}), required({"objectives"})})},
               {"dependencies",
                {{"best", json::array({"objectives"})}, {"objectives", json::array({"best"})}}},
               {"allOf", json::array({json{{"not", required({"metric", "objectives"})}},
                                      json{{"not", required({"mode", "objectives"})}},
                                      json{{"if", tpe_sampler}, {"then", tpe_algorithms}}})}},
              "hyperparameter sweep (REFERENCE §3.5); not together with foreach");
}

// `notify:` (REFERENCE §3.14): one entry or a list; an entry has `on` (an event or a list
// of them), and `webhook` and/or `command`.
json notify() {
  json event = one_of_values({"failure", "retry", "success", "sla_miss"});
  json entry = {{"type", "object"},
                {"properties",
                 {{"on", with(one_or_list(event, true),
                              "failure, retry, success, sla_miss or a list of them (default "
                              "[failure])")},
                  {"webhook", with(text(),
                                   "an http:// or https:// URL (a template; may use "
                                   "{{ secrets.X }}): the JSON body is POSTed")},
                  {"command", with(text(), "a shell command that reads the JSON body on stdin")}}},
                {"anyOf", json::array({required({"webhook"}), required({"command"})})},
                {"additionalProperties", false}};
  return one_or_list(entry);
}

json task() {
  json p = json::object();
  p["id"] = with(id(), "unique in the DAG: letters, digits, '_', '.', '-'");
  p["run"] = with(any_of({{{"type", "string"}, {"minLength", 1}}, types({"number", "boolean"})}),
                  "shell command (a template, REFERENCE §3.10), run by /bin/sh");
  p["after"] = with(one_or_list(text(), true),
                    "upstream tasks: a task id or a list of them; each must exist and be "
                    "listed once");
  task_settings(p);
  p["foreach"] = with(any_of({{{"type", "array"}}, text()}),
                      "dynamic fan-out: a literal list, or a string that is exactly one template "
                      "reference yielding a list (REFERENCE §3.6)");
  p["hpo"] = hpo();
  p["inputs"] = with(staged(),
                     "files the task reads: a path, {path, base} or a list of them; uploaded to "
                     "its Slurm site before each try (REFERENCE §3.12)");
  p["outputs"] = with(staged(),
                      "files the task writes: a path, {path, base} or a list of them; "
                      "downloaded from its Slurm site after a succeeded try (REFERENCE §3.12)");
  p["description"] = with(json::object(), "accepted and ignored");
  p["notify"] = with(notify(),
                     "notifications about the task: its failure, retry, success, SLA miss "
                     "(REFERENCE §3.14)");
  p["sla"] = with(duration(),
                  "the task should have ended this long after the run's SLA start (REFERENCE "
                  "§3.14)");
  return {{"type", "object"},
          {"properties", p},
          {"required", {"id", "run"}},
          {"additionalProperties", false},
          {"not", required({"foreach", "hpo"})}};
}

json defaults() {
  json p = json::object();
  task_settings(p);
  return with({{"type", "object"}, {"properties", p}, {"additionalProperties", false}},
              "task defaults (REFERENCE §3.2): a task's own value replaces the default; env "
              "adds to it, slurm sets only the fields it names");
}

json secrets() {
  json from_env = {{"type", "object"},
                   {"properties",
                    {{"env", with({{"type", "string"}, {"pattern", "^[A-Za-z_][A-Za-z0-9_]*$"}},
                                  "the environment variable of flow run / flow resume")}}},
                   {"required", json::array({"env"})},
                   {"additionalProperties", false}};
  json from_file = {
      {"type", "object"},
      {"properties",
       {{"file",
         with(any_of({{{"type", "string"}, {"minLength", 1}}, types({"number", "boolean"})}),
              "the file holding the value (~/ allowed), one trailing newline dropped")}}},
      {"required", json::array({"file"})},
      {"additionalProperties", false}};
  return with({{"type", "object"},
               {"propertyNames", {{"pattern", "^[A-Za-z0-9_-]{1,200}$"}}},
               {"additionalProperties", {{"oneOf", json::array({from_env, from_file})}}}},
              "NAME: {env: VAR} or {file: PATH}: values the engine reads when it starts or "
              "resumes a run and never stores (REFERENCE §3.13)");
}

}  // namespace

json dag_schema() {
  json p = json::object();
  p["dag"] = with(id(), "the DAG's name: letters, digits, '_', '.', '-'");
  p["description"] = with(text(), "free text");
  p["schedule"] =
      with(text(), "cron expression (REFERENCE §8); without it the scheduler ignores the DAG");
  p["timezone"] = with(text(), "IANA zone the schedule's fields are read in (default UTC)");
  p["catchup"] =
      with(boolean(), "the scheduler runs every missed interval (true) or only the latest");
  p["max_active_runs"] =
      with(integer(1, 10000), "runs of this DAG a live engine executes at once (default 16)");
  p["params"] = with({{"type", "object"}}, "parameters, overridable with -p key=value");
  p["defaults"] = defaults();
  p["code"] = with(one_or_list(path(), true),
                   "files and directories (relative to the directory flow run starts in) the "
                   "commands use; synced to every Slurm site a run uses (REFERENCE §3.12)");
  p["secrets"] = secrets();
  p["notify"] = with(notify(),
                     "notifications about the run: its failure, success, SLA miss, any retry in "
                     "it (REFERENCE §3.14)");
  p["sla"] =
      with(duration(), "the run should have ended this long after its SLA start (REFERENCE §3.14)");
  p["tasks"] = with({{"type", "array"}, {"minItems", 1}, {"items", task()}},
                    "at least one task (REFERENCE §3.3)");
  return {{"$schema", "http://json-schema.org/draft-07/schema#"},
          {"title", "flow DAG file"},
          {"description", "A flow DAG file (docs/REFERENCE.md §3); printed by `flow schema dag`."},
          {"type", "object"},
          {"properties", p},
          {"required", {"dag", "tasks"}},
          {"additionalProperties", false}};
}

}  // namespace flow::dag
