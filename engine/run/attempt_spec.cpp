#include "engine/run/attempt_spec.hpp"

#include <functional>
#include <set>
#include <stdexcept>

#include "engine/run/attempt_files.hpp"
#include "engine/run/secrets.hpp"
#include "engine/run/sweep.hpp"

namespace flow::run {

AttemptSpecs::AttemptSpecs(const dag::Dag& dag, std::filesystem::path home)
    : dag_(dag), home_(std::filesystem::absolute(home)) {
  templates_.resize(dag_.tasks.size());
  for (size_t i = 0; i < dag_.tasks.size(); ++i) {
    const dag::Task& task = dag_.tasks[i];
    Templates& t = templates_[i];
    try {
      t.run = dag::Template::parse(task.run);
      t.env.reserve(task.env.size());
      for (const auto& [k, v] : task.env)
        t.env.emplace_back(k, dag::Template::parse(v));
      const std::set<std::string> secret = secret_env_names(task);
      t.secret_env.assign(secret.begin(), secret.end());
    } catch (const std::invalid_argument&) {
      // validate() reported it before any run could start.
    }
  }
}

const dag::Template* AttemptSpecs::Templates::env_of(const std::string& name) const {
  for (const auto& [k, t] : env) {
    if (k == name) return &t;
  }
  return nullptr;
}

const AttemptSpecs::Templates& AttemptSpecs::templates_of(const dag::Task& task) const {
  // Tasks are the DAG's own (the controller's nodes point into dag_.tasks).
  const dag::Task* first = dag_.tasks.data();
  const std::less<const dag::Task*> before;  // a total order, even for unrelated pointers
  if (before(&task, first) || !before(&task, first + dag_.tasks.size()))
    throw std::logic_error("task '" + task.id + "' is not one of this run's DAG");
  return templates_[static_cast<size_t>(&task - first)];
}

AttemptFiles AttemptSpecs::files(const std::string& run_id, const std::string& instance_id,
                                 int try_number) const {
  return attempt_files(home_, run_id, instance_id, try_number);
}

LaunchSpec AttemptSpecs::make(const state::InstanceRecord& inst, const dag::Task& task,
                              const RunView& view, Executor& ex, bool render) const {
  const state::RunRecord& run = view.run();
  LaunchSpec s;
  s.key = AttemptKey{run.id, inst.id, inst.try_number};
  s.dag = dag_.name;
  s.task_id = task.id;
  s.files = files(run.id, inst.id, inst.try_number);
  s.workdir = run.workdir;
  s.site = inst.site;
  s.slurm = *task.slurm;
  s.resources = task.resources;
  s.staging = stage_plan(dag_, task, run.run_dir, run.workdir);
  const Templates& tpl = templates_of(task);
  const std::string run_dir = ex.run_dir(run.id);
  auto resolver = [&](const dag::TemplateRef& ref) {
    return resolve_reference(ref, inst, view, run_dir);
  };
  if (render && tpl.run) s.command = dag::render(*tpl.run, resolver, /*shell=*/true);
  s.env["FLOW_RUN_ID"] = run.id;
  s.env["FLOW_DAG"] = dag_.name;
  s.env["FLOW_TASK_ID"] = inst.id;
  s.env["FLOW_TRY"] = std::to_string(inst.try_number);
  s.env["FLOW_RUN_DIR"] = run_dir;
  if (task.hpo && !inst.parent.empty()) {
    for (auto& [k, v] : Sweep::env(inst))
      s.env[k] = std::move(v);
  } else if (inst.map_index >= 0) {
    s.env["FLOW_MAP_INDEX"] = std::to_string(inst.map_index);
    s.env["FLOW_ITEM"] = dag::value_text(inst.attrs.value("item", nlohmann::json()));
  }
  if (render) {
    for (const auto& [k, t] : tpl.env)
      s.env[k] = dag::render(t, resolver, false);
    s.secret_env.insert(tpl.secret_env.begin(), tpl.secret_env.end());
  } else {
    // Re-attaching runs nothing, but the executor masks what the try printed when it ends
    // (engine/run/secret_mask.hpp): it needs the secret values, and only those.
    for (const auto& name : tpl.secret_env) {
      const dag::Template* t = tpl.env_of(name);
      if (!t) continue;
      try {
        s.env[name] = dag::render(*t, resolver, false);
        s.secret_env.insert(name);
      } catch (const std::exception&) {
        // A value that also names something not available now: nothing to mask with.
      }
    }
  }
  return s;
}

}  // namespace flow::run
