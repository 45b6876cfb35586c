#pragma once
// The dependency graph of a Dag, in Boost.Graph: cycle detection with the offending path,
// a topological plan, and ancestor queries (a template may only read outputs of tasks that
// are guaranteed to have finished: its ancestors).

#include <boost/graph/adjacency_list.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/dag/dag.hpp"

namespace flow::dag {

class TaskGraph {
 public:
  // Edges upstream -> downstream. `after` entries that name no task are ignored here
  // (validate reports them).
  explicit TaskGraph(const Dag& dag);

  // A cycle as task ids, first repeated at the end ("a", "b", "a"), or nullopt.
  std::optional<std::vector<std::string>> find_cycle() const;

  // Task indices (into dag.tasks) in an order where every task comes after its upstreams,
  // ties broken by file order. Requires !find_cycle().
  std::vector<size_t> topo_order() const;

  // Index -> indices of all transitive upstream tasks.
  std::vector<bool> ancestors_of(size_t task) const;

  // Indices of direct and transitive downstream tasks of `task`.
  std::vector<size_t> descendants_of(size_t task) const;

  size_t size() const { return boost::num_vertices(g_); }

  // The index (into dag.tasks) of the task with this id; the first one if ids repeat.
  std::optional<size_t> index_of(std::string_view id) const {
    auto it = index_.find(id);
    return it == index_.end() ? std::nullopt : std::optional<size_t>(it->second);
  }

 private:
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
  const Dag& dag_;
  Graph g_;
  std::unordered_map<std::string_view, size_t> index_;  // ids point into dag.tasks
};

// Task ids in the order people read a DAG in (flow status, the TUI's task grid): upstream
// tasks first, ties in file order, so a file written upstream-first reads in file order.
// A cyclic DAG (never one that ran) is listed in file order.
std::vector<std::string> reading_order(const Dag& dag);

// "a -> b -> c -> a"
std::string format_cycle(const std::vector<std::string>& cycle);

}  // namespace flow::dag
