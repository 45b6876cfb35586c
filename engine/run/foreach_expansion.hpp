#pragma once
// `foreach`: the list a task maps over, and the instances made of it (docs/ENGINE.md
// "foreach"). The list is a literal YAML list (stored as JSON text) or one reference whose
// value is a list, or a string that parses as a JSON array.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/dag/dag.hpp"
#include "engine/dag/template.hpp"
#include "engine/state/records.hpp"

namespace flow::run {

// The list `task` maps over; `resolve` fills its reference. Throws std::runtime_error
// saying why there is no list.
nlohmann::json foreach_list(const dag::Task& task,
                            const std::function<nlohmann::json(const dag::TemplateRef&)>& resolve);

// Mapped instance `index` of the foreach task whose own instance is `parent`: "T[index]",
// queued, on the parent's site, with `item` in its attrs.
state::InstanceRecord mapped_instance(const state::InstanceRecord& parent, size_t index,
                                      nlohmann::json item);

}  // namespace flow::run
