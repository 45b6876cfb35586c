#pragma once
// The DAG of a run drawn as SVG, one box per task coloured by the states of its instances
// (a `foreach` or `hpo` task is one box with its counts). Layered left to right: a task's
// column is the length of the longest path from a source to it; within a column, tasks keep
// the reading order. A DAG of more than `max_boxes` tasks is drawn as one bar per column,
// split by state, because a 100,000-box drawing is neither readable nor small.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace flow::report {

// One task of the drawing: `after` indexes earlier tasks (upstream first), `counts` its
// instances by state.
struct TaskBox {
  std::string id;
  std::string kind;  // task | foreach | hpo
  std::vector<size_t> after;
  std::map<std::string, int> counts;
};

// Returns a complete <svg> element.
std::string dag_svg(const std::vector<TaskBox>& tasks, size_t max_boxes = 400);

// The colour of a task state (CSS hex), shared by the DAG, the timeline and the table.
std::string state_colour(const std::string& state);

// The state that describes a whole task: failed over running over queued over succeeded.
std::string summary_state(const std::map<std::string, int>& counts);

// Text escaped for XML/HTML content and attribute values.
std::string xml_escape(const std::string& s);

}  // namespace flow::report
