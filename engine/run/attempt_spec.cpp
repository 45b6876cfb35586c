#include "engine/run/attempt_spec.hpp"

#include <stdexcept>

#include "engine/dag/template.hpp"
#include "engine/run/attempt_files.hpp"
#include "engine/run/secrets.hpp"
#include "engine/run/sweep.hpp"

namespace flow::run {

AttemptSpecs::AttemptSpecs(const dag::Dag& dag, std::filesystem::path home)
    : dag_(dag), home_(std::filesystem::absolute(home)) {}

namespace {

dag::Template parse(const dag::Task& task, const std::string& what, const std::string& text) {
  try {
    return dag::Template::parse(text);
  } catch (const std::invalid_argument& e) {
    // validate() reports it before a run starts; a run resumed from a database written by
    // another version of flow could still hold one.
    throw std::runtime_error("task '" + task.id + "': " + what + ": " + e.what());
  }
}

}  // namespace

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
  const std::string run_dir = ex.run_dir(run.id);
  auto resolver = [&](const dag::TemplateRef& ref) {
    return resolve_reference(ref, inst, view, run_dir);
  };
  if (render) s.command = dag::render(parse(task, "run", task.run), resolver, /*shell=*/true);
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
    s.env["FLOW_ITEM"] = dag::value_text(inst.attr("item"));
  }
  for (const auto& [k, text] : task.extras->env) {
    if (render) {
      const dag::Template t = parse(task, "env." + k, text);
      s.env[k] = dag::render(t, resolver, false);
      if (uses_secret(t)) s.secret_env.insert(k);
      continue;
    }
    // Re-attaching runs nothing, but the executor masks what the try printed when it ends
    // (engine/run/secret_mask.hpp): it needs the secret values, and only those.
    try {
      const dag::Template t = parse(task, "env." + k, text);
      if (!uses_secret(t)) continue;
      s.env[k] = dag::render(t, resolver, false);
      s.secret_env.insert(k);
    } catch (const std::exception&) {
      // A value that also names something not available now: nothing to mask with.
    }
  }
  return s;
}

}  // namespace flow::run
