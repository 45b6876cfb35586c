#pragma once
// Fills `{{ name }}` references when an attempt is rendered, from what the run knows at
// that moment. The names are those of engine/dag/template_names.hpp; validation has
// checked where each is used, so a failure here is about values that are not there yet
// or any more (an upstream that wrote no such output, a best trial that does not exist).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/dag/template.hpp"
#include "engine/state/records.hpp"

namespace flow::run {

// What the resolver may read of a run; the run controller implements it over its live
// instances.
class RunView {
 public:
  virtual ~RunView() = default;
  virtual const state::RunRecord& run() const = 0;
  virtual const state::InstanceRecord* instance(const std::string& id) const = 0;
  virtual bool is_mapped(const std::string& task_id) const = 0;  // has foreach
  virtual bool is_swept(const std::string& task_id) const = 0;   // has hpo
  // The mapped instances of a foreach task, in index order.
  virtual std::vector<const state::InstanceRecord*> children(const std::string& task_id) const = 0;
  // The value of secret `name` (engine/run/secrets.hpp), or null when it was not read.
  virtual const std::string* secret(const std::string& name) const {
    (void)name;
    return nullptr;
  }
};

// The value of `ref` for instance `inst`; `run_dir` is {{ run.dir }} on the instance's
// site. Throws std::runtime_error("task 'x': cannot fill {{ ... }}: why").
nlohmann::json resolve_reference(const dag::TemplateRef& ref, const state::InstanceRecord& inst,
                                 const RunView& view, const std::string& run_dir);

}  // namespace flow::run
