#include "engine/run/foreach_expansion.hpp"

#include <stdexcept>

namespace flow::run {

nlohmann::json foreach_list(const dag::Task& task,
                            const std::function<nlohmann::json(const dag::TemplateRef&)>& resolve) {
  auto list = nlohmann::json::parse(*task.foreach, nullptr, false);
  if (list.is_array()) return list;
  auto tpl = dag::Template::parse(*task.foreach);
  const dag::TemplateRef* ref = tpl.sole_ref();
  if (!ref) throw std::runtime_error("foreach must be a single reference");
  list = resolve(*ref);
  if (list.is_string()) {
    auto parsed = nlohmann::json::parse(list.get<std::string>(), nullptr, false);
    if (parsed.is_array()) list = std::move(parsed);
  }
  if (!list.is_array()) throw std::runtime_error(ref->text + " is " + list.dump() + ", not a list");
  return list;
}

state::InstanceRecord mapped_instance(const state::InstanceRecord& parent, size_t index,
                                      nlohmann::json item) {
  state::InstanceRecord c;
  c.id = parent.task_id + "[" + std::to_string(index) + "]";
  c.task_id = parent.task_id;
  c.parent = parent.task_id;
  c.map_index = static_cast<int>(index);
  c.site = parent.site;
  c.attrs["item"] = std::move(item);
  return c;
}

}  // namespace flow::run
