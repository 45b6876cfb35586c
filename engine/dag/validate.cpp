#include "engine/dag/validate.hpp"

#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include "engine/core/suggest.hpp"
#include "engine/dag/graph.hpp"
#include "engine/dag/template.hpp"
#include "engine/dag/template_names.hpp"
#include "engine/schedule/timetable.hpp"
#include "engine/site/local_node.hpp"
#include "engine/site/site.hpp"

namespace flow::dag {

namespace {

struct Checker {
  const Dag& dag;
  const TaskGraph& graph;
  std::vector<Diagnostic> out;
  std::map<std::string, site::LocalNode> local_nodes;  // plain-process sites, as found once

  std::vector<std::string> task_ids() const {  // for "did you mean" hints only
    std::vector<std::string> ids;
    ids.reserve(dag.tasks.size());
    for (const auto& t : dag.tasks)
      ids.push_back(t.id);
    return ids;
  }

  void error(const SourceLocation& l, std::string msg) { out.push_back({l, std::move(msg)}); }

  std::vector<std::string> param_names() const {
    std::vector<std::string> names;
    for (const auto& [k, _] : dag.params.items())
      names.push_back(k);
    return names;
  }

  // Checks one reference used by task `ti` in `field`; `in_foreach` = inside foreach:.
  // Which names exist is engine/dag/template_names.hpp's table; here, where each may be
  // used and what it must refer to.
  void check_ref(size_t ti, const TemplateRef& r, const SourceLocation& where,
                 const std::string& field, bool in_foreach) {
    const Task& t = dag.tasks[ti];
    const auto& p = r.path;
    const std::string ctx = "task '" + t.id + "' " + field + ": " + r.text + ": ";
    const auto name = match_template_name(p);
    if (!name) return unknown_name(where, ctx, r);
    switch (name->kind) {
      case NameKind::kParam:
        if (!dag.params.contains(p[1])) {
          auto names = param_names();
          return error(where, ctx + "unknown parameter '" + p[1] + "'" + did_you_mean(p[1], names) +
                                  (names.empty() ? "; this DAG has no params"
                                                 : "; known parameters: " + join(names)));
        }
        return;
      case NameKind::kRunField:
        return;
      case NameKind::kItem:
      case NameKind::kItemField:
        if (!t.foreach || in_foreach) {
          return error(where,
                       ctx + "{{ item }} is only defined in the command of a task with 'foreach'");
        }
        return;
      case NameKind::kTrialParam:
      case NameKind::kTrialField:
        if (!t.hpo) return error(where, ctx + "{{ trial.* }} is only defined in a task with 'hpo'");
        if (name->kind == NameKind::kTrialParam) check_space_name(where, ctx, t, p[2]);
        return;
      case NameKind::kTaskOutput:
      case NameKind::kBestParam:
      case NameKind::kBestField:
        return check_upstream(ti, where, ctx, p, name->kind != NameKind::kTaskOutput);
      case NameKind::kSecret:
        return check_secret(where, ctx, field, p[1]);
    }
  }

  // secrets.X: X is declared under `secrets:`, and the reference is an `env:` value. In a
  // command or a foreach list the value would be written where others can read it: the
  // process's command line, the Slurm job script, the database's copy of that script.
  void check_secret(const SourceLocation& where, const std::string& ctx, const std::string& field,
                    const std::string& secret) {
    if (!dag.secrets.count(secret)) {
      std::vector<std::string> names;
      for (const auto& [k, _] : dag.secrets)
        names.push_back(k);
      return error(where, ctx + "unknown secret '" + secret + "'" + did_you_mean(secret, names) +
                              (names.empty() ? "; declare it under 'secrets:'"
                                             : "; declared secrets: " + join(names)));
    }
    if (field.rfind("env.", 0) != 0) {
      return error(where, ctx +
                              "a secret may only be used in an env: value, where it reaches "
                              "the task without being written into its command, job script "
                              "or the database; write env: {VAR: '{{ secrets." +
                              secret + " }}'} and use $VAR in '" + field + "'");
    }
  }

  void unknown_name(const SourceLocation& where, const std::string& ctx, const TemplateRef& r) {
    const auto& p = r.path;
    static const std::vector<std::string> heads = {"params", "run",  "tasks",
                                                   "trial",  "item", "secrets"};
    const std::string& head = p[0];
    if (std::find(heads.begin(), heads.end(), head) == heads.end()) {
      return error(where, ctx + "unknown name '" + r.dotted() + "'" + did_you_mean(head, heads) +
                              "; names start with params., run., tasks., trial., secrets. or item");
    }
    if (head == "run") {
      std::vector<std::string> fields;
      for (const auto& n : template_names()) {
        if (n.kind == NameKind::kRunField) fields.push_back(std::string(n.pattern.substr(4)));
      }
      std::string f = p.size() > 1 ? p[1] : "";
      return error(where, ctx + "unknown run field '" + f + "'" + did_you_mean(f, fields) +
                              "; use run." + join(fields, ", run."));
    }
    if (head == "params") {
      return error(where, ctx + "say which parameter, e.g. {{ params.epochs }}");
    }
    if (head == "tasks" && p.size() >= 3 && p[2] == "best" && graph.index_of(p[1]) &&
        !dag.tasks[*graph.index_of(p[1])].hpo) {
      return error(where, ctx + "task '" + p[1] + "' is not an hpo task, it has no 'best'");
    }
    error(where, ctx + "use " + template_names_starting(head));
  }

  // trial.params.X: X must be a dimension of the task's search space.
  void check_space_name(const SourceLocation& where, const std::string& ctx, const Task& t,
                        const std::string& dim) {
    std::vector<std::string> dims;
    for (const auto& d : t.hpo->space) {
      if (d.name == dim) return;
      dims.push_back(d.name);
    }
    error(where, ctx + "'" + dim + "' is not in hpo.space" + did_you_mean(dim, dims) +
                     "; space: " + join(dims));
  }

  // tasks.T.*: T exists and is upstream of task `ti`; `best` needs T to be an hpo task.
  void check_upstream(size_t ti, const SourceLocation& where, const std::string& ctx,
                      const std::vector<std::string>& p, bool best) {
    const std::optional<size_t> up_index = graph.index_of(p[1]);
    if (!up_index) {
      return error(where, ctx + "no task '" + p[1] + "'" + did_you_mean(p[1], task_ids()));
    }
    if (!graph.ancestors_of(ti)[*up_index]) {
      return error(where, ctx + "task '" + p[1] + "' is not upstream of '" + dag.tasks[ti].id +
                              "', so its results are not available; add it to 'after'");
    }
    const Task& up = dag.tasks[*up_index];
    if (best && !up.hpo) {
      return error(where, ctx + "task '" + p[1] + "' is not an hpo task, it has no 'best'");
    }
    if (best && p[3] == "params" && p.size() == 5) check_space_name(where, ctx, up, p[4]);
  }

  void check_template(size_t ti, const std::string& text, const SourceLocation& where,
                      const std::string& field, bool in_foreach = false, bool shell = false) {
    try {
      auto tpl = Template::parse(text);
      for (const auto& r : tpl.refs())
        check_ref(ti, r, where, field, in_foreach);
      if (shell) {
        if (auto why = check_shell_placement(tpl); !why.empty())
          error(where, "task '" + dag.tasks[ti].id + "' " + field + ": cannot quote " + why);
      }
    } catch (const std::invalid_argument& e) {
      error(where, "task '" + dag.tasks[ti].id + "' " + field + ": " + e.what());
    }
  }
};

// `notify:` targets (docs/ALERTS.md) are rendered when a notification is made, outside any
// task: they may use params.X and run.* (the run's fields), and a webhook also secrets.X
// (its URL is never recorded or logged, only its scheme and host); a command is a shell
// command, its values are shell-quoted like a task's `run`, and it gets no secret (its
// text is recorded with each delivery).
// A plain-process site hands out this machine's cores and GPUs (engine/site/local_node.hpp):
// a try asking for more than the machine has would wait for ever.
void check_local_resources(Checker& c, const Task& t, const site::Site& s) {
  auto it = c.local_nodes.find(s.name);
  if (it == c.local_nodes.end()) it = c.local_nodes.emplace(s.name, site::local_node(s)).first;
  const site::LocalNode& node = it->second;
  const std::string head = "task '" + t.id + "' asks for ";
  if (t.resources.cpus > node.cores) {
    c.error(t.loc("resources"),
            head + std::to_string(t.resources.cpus) + " cores but site '" + s.name + "' has " +
                std::to_string(node.cores) + " (" +
                (s.cores_per_node > 0 ? "cores_per_node" : "this machine's hardware threads") +
                "); ask for at most " + std::to_string(node.cores));
  }
  const int have = static_cast<int>(node.gpus.size());
  if (t.resources.gpus > have) {
    c.error(t.loc("resources"), head + std::to_string(t.resources.gpus) + " GPU" +
                                    (t.resources.gpus == 1 ? "" : "s") + " but site '" + s.name +
                                    "' has " + std::to_string(have) + " (" + node.gpus_from + ")");
  }
}

void check_notify(Checker& c, const std::vector<NotifySpec>& specs, const std::string& owner) {
  const Dag& dag = c.dag;
  auto check = [&](const NotifySpec& n, const std::string& text, bool webhook) {
    const std::string ctx = owner + " notify " + (webhook ? "webhook" : "command") + ": ";
    try {
      const auto tpl = Template::parse(text);
      for (const auto& r : tpl.refs()) {
        const auto& p = r.path;
        const auto name = match_template_name(p);
        const std::string at = ctx + r.text + ": ";
        if (name && name->kind == NameKind::kParam) {
          if (!dag.params.contains(p[1])) {
            std::vector<std::string> names;
            for (const auto& [k, _] : dag.params.items())
              names.push_back(k);
            c.error(n.where, at + "unknown parameter '" + p[1] + "'" + did_you_mean(p[1], names));
          }
        } else if (name && name->kind == NameKind::kRunField) {
        } else if (name && name->kind == NameKind::kSecret) {
          if (!webhook) {
            c.error(n.where, at + "a secret may only be used in a webhook URL; a command's text "
                                  "is recorded with each delivery");
          } else if (!dag.secrets.count(p[1])) {
            std::vector<std::string> names;
            for (const auto& [k, _] : dag.secrets)
              names.push_back(k);
            c.error(n.where, at + "unknown secret '" + p[1] + "'" + did_you_mean(p[1], names) +
                                 "; declare it under 'secrets:'");
          }
        } else {
          c.error(n.where, at + "notify: may use params.X, run.* and (in a webhook) secrets.X");
        }
      }
      if (!webhook) {
        if (auto why = check_shell_placement(tpl); !why.empty())
          c.error(n.where, ctx + "cannot quote " + why);
      }
    } catch (const std::invalid_argument& e) {
      c.error(n.where, ctx + e.what());
    }
  };
  for (const auto& n : specs) {
    if (!n.webhook.empty()) check(n, n.webhook, true);
    if (!n.command.empty()) check(n, n.command, false);
  }
}

// `inputs:` and `outputs:` across tasks (docs/STAGING.md).
void check_staging(Checker& c, const ValidateOptions& options) {
  const Dag& dag = c.dag;
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    const Task& t = dag.tasks[i];
    if (t.extras->inputs.empty() && t.extras->outputs.empty()) continue;
    const std::string& site_name = dag.site_of(t);
    const site::Site* s = options.sites ? options.sites->find(site_name) : nullptr;
    auto check_site_base = [&](const StagedPath& p, const char* what) {
      if (p.base != PathBase::kSite || !s || s->is_slurm()) return;
      c.error(p.where, "task '" + t.id + "' " + what + " '" + p.label() +
                           "': base: site names a file in a Slurm site's workdir, but site '" +
                           site_name + "' runs plain processes here and has none");
    };
    std::vector<bool> ancestors;
    for (const auto& in : t.extras->inputs) {
      check_site_base(in, "input");
      if (in.base != PathBase::kRun) continue;
      // The run directory starts empty: a file in it must come from an upstream task.
      if (ancestors.empty()) ancestors = c.graph.ancestors_of(i);
      bool produced = false;
      for (size_t u = 0; u < dag.tasks.size() && !produced; ++u) {
        if (!ancestors[u]) continue;
        for (const auto& out : dag.tasks[u].extras->outputs) {
          if (out.base != PathBase::kRun) continue;
          if (out.path == in.path || out.path.rfind(in.path + "/", 0) == 0) produced = true;
        }
      }
      if (!produced) {
        c.error(in.where,
                "task '" + t.id + "' input '" + in.path +
                    "' is relative to the run directory, which starts empty, and no upstream "
                    "task lists it in 'outputs'; declare it there, or use {path: " +
                    in.path + ", base: workdir} for a file in the directory `flow run` starts in");
      }
    }
    for (const auto& out : t.extras->outputs)
      check_site_base(out, "output");
  }
}

// `code:` and the inputs in the working directory must exist when a run starts.
void check_local_files(Checker& c, const std::filesystem::path& workdir) {
  const Dag& dag = c.dag;
  std::error_code ec;
  for (const auto& p : dag.code) {
    if (!std::filesystem::exists(workdir / p, ec)) {
      c.error(dag.loc("code"), "code '" + p + "': no such file or directory in " +
                                   workdir.string() +
                                   " (code paths are relative to the directory `flow run` "
                                   "starts in)");
    }
  }
  for (const auto& t : dag.tasks) {
    for (const auto& in : t.extras->inputs) {
      if (in.base != PathBase::kWorkdir) continue;
      if (!std::filesystem::exists(workdir / in.path, ec)) {
        c.error(in.where, "task '" + t.id + "' input '" + in.label() + "' does not exist: no " +
                              (workdir / in.path).string() + "; create it, or fix the path");
      }
    }
  }
}
// `schedule` is a cron expression and `timezone` a zone of the tz database.
void check_schedule(const Dag& dag, std::vector<Diagnostic>& out) {
  auto add = [&](const InputError& e) {
    out.insert(out.end(), e.diagnostics().begin(), e.diagnostics().end());
  };
  if (dag.schedule) {
    try {
      schedule::CronExpr::parse(*dag.schedule, dag.loc("schedule"));
    } catch (const InputError& e) {
      add(e);
    }
  }
  // Only when it matters: reading the tz database costs a little.
  if (dag.schedule || dag.field_where.count("timezone")) {
    try {
      schedule::find_zone(dag.timezone, dag.loc("timezone"));
    } catch (const InputError& e) {
      add(e);
    }
  }
}

}  // namespace

std::vector<Diagnostic> validate(const Dag& dag, const ValidateOptions& options) {
  TaskGraph graph(dag);
  Checker c{dag, graph, {}, {}};
  check_schedule(dag, c.out);
  for (const auto& t : dag.tasks) {
    for (const auto& up : t.after) {
      if (!graph.index_of(up)) {
        c.error(t.loc("after"), "task '" + t.id + "' depends on unknown task '" + up + "'" +
                                    did_you_mean(up, c.task_ids()));
      }
    }
  }
  if (auto cycle = graph.find_cycle()) {
    const Task* first = dag.find(cycle->front());
    c.error(first ? first->loc("after") : SourceLocation{dag.source_file},
            "dependency cycle: " + format_cycle(*cycle) + "; remove one of these 'after' entries");
    return c.out;  // ancestor checks below assume a DAG
  }
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    const Task& t = dag.tasks[i];
    c.check_template(i, t.run, t.loc("run"), "run", false, /*shell=*/true);
    for (const auto& [k, v] : t.extras->env)
      c.check_template(i, v, t.loc("env"), "env." + k);
    if (t.foreach) {
      // A literal list was stored as JSON text; anything else must be one reference.
      auto parsed = nlohmann::json::parse(*t.foreach, nullptr, false);
      if (!parsed.is_array()) {
        c.check_template(i, *t.foreach, t.loc("foreach"), "foreach", true);
        try {
          if (!Template::parse(*t.foreach).sole_ref()) {
            c.error(t.loc("foreach"), "task '" + t.id +
                                          "' foreach must be a list or a single "
                                          "reference such as \"{{ tasks.list.outputs.items }}\"");
          }
        } catch (const std::invalid_argument&) {
        }
      }
    }
    const std::string& site_name = dag.site_of(t);
    if (options.sites) {
      const site::Site* s = options.sites->find(site_name);
      if (!s) {
        c.error(t.site.empty() ? t.where() : t.loc("site"),
                "task '" + t.id + "': unknown site '" + site_name + "'" +
                    did_you_mean(site_name, options.sites->names()) +
                    "; known sites: " + join(options.sites->names()));
      } else if (!t.slurm->empty() && !s->is_slurm()) {
        c.error(t.loc("slurm"), "task '" + t.id + "' has a 'slurm:' block but site '" + site_name +
                                    "' runs plain processes; set 'site:' to a Slurm site");
      } else if (t.resources.declared && !s->is_slurm()) {
        check_local_resources(c, t, *s);
      }
    }
  }
  check_notify(c, dag.notify, "DAG");
  for (const auto& t : dag.tasks)
    check_notify(c, t.extras->notify, "task '" + t.id + "'");
  check_staging(c, options);
  if (options.workdir) check_local_files(c, *options.workdir);
  return c.out;
}

void validate_or_throw(const Dag& dag, const ValidateOptions& options) {
  auto diags = validate(dag, options);
  if (!diags.empty()) throw InputError(std::move(diags));
}

}  // namespace flow::dag
