#pragma once
// A run's task instances in the order people read them (flow status and its --json, the
// TUI's task grid): task by task in the DAG's reading order (dag::reading_order: upstream
// first, ties in file order), each task's own instance first, then its foreach instances
// or HPO trials in index order (tiles[2] before tiles[10], trial-9 before trial-10).
// Instances of tasks the order does not name (none, unless the DAG could not be read) come
// last, in the order they were given.

#include <string>
#include <vector>

#include "engine/state/records.hpp"

namespace flow::state {

std::vector<InstanceRecord> in_reading_order(std::vector<InstanceRecord> instances,
                                             const std::vector<std::string>& task_order);

}  // namespace flow::state
