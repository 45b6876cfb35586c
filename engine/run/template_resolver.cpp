#include "engine/run/template_resolver.hpp"

#include <stdexcept>

#include "engine/core/suggest.hpp"
#include "engine/dag/template_names.hpp"
#include "engine/run/sweep.hpp"

namespace flow::run {

namespace {

using dag::NameKind;
using state::InstanceRecord;

struct Filler {
  const dag::TemplateRef& ref;
  const InstanceRecord& inst;
  const RunView& view;
  const std::string& run_dir;

  [[noreturn]] void fail(const std::string& why) const {
    throw std::runtime_error("task '" + inst.id + "': cannot fill " + ref.text + ": " + why);
  }
  const std::vector<std::string>& p() const { return ref.path; }

  nlohmann::json run_field() const {
    const auto& r = view.run();
    const std::string& f = p()[1];
    if (f == "id") return r.id;
    if (f == "dag") return r.dag;
    if (f == "dir") return run_dir;
    if (f == "logical_date") return r.logical_date;
    if (f == "data_interval_start") return r.data_interval_start;
    return r.data_interval_end;  // the table admits no other field
  }

  nlohmann::json item() const {
    if (!inst.attrs.contains("item")) fail("not an instance of a foreach task");
    nlohmann::json v = inst.attrs["item"];
    for (size_t i = 1; i < p().size(); ++i) {
      if (!v.is_object() || !v.contains(p()[i])) fail("the item has no field '" + p()[i] + "'");
      v = v[p()[i]];
    }
    return v;
  }

  nlohmann::json best() const {
    const std::string& task = p()[1];
    if (!view.is_swept(task)) fail("not an hpo task");
    const InstanceRecord* node = view.instance(task);
    const auto& best = node ? node->attr("best") : nlohmann::json();
    if (!best.is_object()) fail("task '" + task + "' has no best trial (did it succeed?)");
    if (p()[3] == "params") {
      if (!best["params"].contains(p()[4]))
        fail("the best trial has no parameter '" + p()[4] + "'");
      return best["params"][p()[4]];
    }
    if (p()[3] == "params_json") return best["params"].dump();
    if (!best.contains(p()[3])) fail("the best trial has no '" + p()[3] + "'");
    return best[p()[3]];
  }

  nlohmann::json output_of(const InstanceRecord& up) const {
    const std::string& key = p()[3];
    if (!up.outputs.is_object()) {
      fail("task '" + up.id +
           "' wrote no outputs (it must write a JSON object to $FLOW_OUTPUTS_FILE)");
    }
    if (!up.outputs.contains(key)) {
      std::vector<std::string> keys;
      for (const auto& [k, _] : up.outputs.items())
        keys.push_back(k);
      fail("task '" + up.id + "' wrote no output '" + key + "'" + did_you_mean(key, keys) +
           "; it wrote: " + join(keys));
    }
    return up.outputs[key];
  }

  nlohmann::json task_output() const {
    const std::string& task = p()[1];
    const InstanceRecord* up = view.instance(task);
    if (!up) fail("no task '" + task + "'");
    if (view.is_swept(task)) {  // an hpo task's outputs are its best trial's
      const auto& best = up->attr("best");
      if (!best.is_object()) fail("task '" + task + "' has no best trial");
      const InstanceRecord* trial = view.instance(Sweep::best_trial_instance_id(task, best));
      if (!trial) fail("the best trial of task '" + task + "' is not in the run");
      return output_of(*trial);
    }
    if (view.is_mapped(task)) {
      auto list = nlohmann::json::array();
      for (const InstanceRecord* c : view.children(task)) {
        if (c->state == state::TaskState::kSucceeded) list.push_back(output_of(*c));
      }
      return list;
    }
    return output_of(*up);
  }
};

}  // namespace

nlohmann::json resolve_reference(const dag::TemplateRef& ref, const InstanceRecord& inst,
                                 const RunView& view, const std::string& run_dir) {
  Filler f{ref, inst, view, run_dir};
  auto name = dag::match_template_name(ref.path);
  if (!name) f.fail("unknown name");
  switch (name->kind) {
    case NameKind::kParam:
      if (!view.run().params.contains(ref.path[1])) f.fail("no parameter '" + ref.path[1] + "'");
      return view.run().params[ref.path[1]];
    case NameKind::kRunField:
      return f.run_field();
    case NameKind::kItem:
    case NameKind::kItemField:
      return f.item();
    case NameKind::kTrialParam:
    case NameKind::kTrialField: {
      std::vector<std::string> rest(ref.path.begin() + 1, ref.path.end());
      if (auto v = Sweep::lookup(inst, rest)) return *v;
      f.fail("not a trial of an hpo task, or no such trial field");
    }
    case NameKind::kBestParam:
    case NameKind::kBestField:
      return f.best();
    case NameKind::kTaskOutput:
      return f.task_output();
    case NameKind::kSecret:
      if (const std::string* v = view.secret(ref.path[1])) return *v;
      f.fail("secret '" + ref.path[1] + "' was not read when the run started");
  }
  f.fail("unknown name");
}

}  // namespace flow::run
