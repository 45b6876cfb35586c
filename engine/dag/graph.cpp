#include "engine/dag/graph.hpp"

#include <boost/graph/depth_first_search.hpp>
#include <queue>
#include <unordered_map>

namespace flow::dag {

TaskGraph::TaskGraph(const Dag& dag) : dag_(dag), g_(dag.tasks.size()) {
  index_.reserve(dag.tasks.size());
  for (size_t i = 0; i < dag.tasks.size(); ++i)
    index_.emplace(dag.tasks[i].id, i);
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    for (const auto& up : dag.tasks[i].after) {
      if (auto it = index_.find(up); it != index_.end()) boost::add_edge(it->second, i, g_);
    }
  }
}

namespace {

struct CycleFound {
  std::vector<size_t> path;
};

// Records DFS tree edges so a back edge u->v can be turned into the path v .. u -> v.
class CycleVisitor : public boost::default_dfs_visitor {
 public:
  explicit CycleVisitor(std::vector<size_t>& parent) : parent_(parent) {}
  template <class Edge, class G>
  void tree_edge(Edge e, const G& g) {
    parent_[boost::target(e, g)] = boost::source(e, g);
  }
  template <class Edge, class G>
  void back_edge(Edge e, const G& g) {
    size_t u = boost::source(e, g), v = boost::target(e, g);
    if (u == v) throw CycleFound{{v, v}};
    std::vector<size_t> rev{v, u};
    for (size_t x = u; x != v; x = parent_[x]) {
      if (x != u) rev.push_back(x);
    }
    // rev = v, u, parent(u), ..., child-of-v ; build v -> ... -> u -> v
    std::vector<size_t> path{v};
    for (size_t i = rev.size(); i-- > 2;)
      path.push_back(rev[i]);
    path.push_back(u);
    path.push_back(v);
    throw CycleFound{std::move(path)};
  }

 private:
  std::vector<size_t>& parent_;
};

}  // namespace

std::optional<std::vector<std::string>> TaskGraph::find_cycle() const {
  std::vector<size_t> parent(size(), 0);
  std::vector<boost::default_color_type> color(size());
  try {
    boost::depth_first_search(g_, boost::visitor(CycleVisitor(parent))
                                      .color_map(boost::make_iterator_property_map(
                                          color.begin(), boost::get(boost::vertex_index, g_))));
  } catch (const CycleFound& c) {
    std::vector<std::string> ids;
    for (size_t i : c.path)
      ids.push_back(dag_.tasks[i].id);
    return ids;
  }
  return std::nullopt;
}

std::vector<size_t> TaskGraph::topo_order() const {
  // Kahn's algorithm with a min-heap on file order: stable, readable plans.
  std::vector<size_t> indeg(size(), 0);
  for (size_t v = 0; v < size(); ++v)
    indeg[v] = boost::in_degree(v, g_);
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t v = 0; v < size(); ++v) {
    if (indeg[v] == 0) ready.push(v);
  }
  std::vector<size_t> order;
  order.reserve(size());
  while (!ready.empty()) {
    size_t v = ready.top();
    ready.pop();
    order.push_back(v);
    for (auto [e, end] = boost::out_edges(v, g_); e != end; ++e) {
      size_t w = boost::target(*e, g_);
      if (--indeg[w] == 0) ready.push(w);
    }
  }
  return order;
}

std::vector<bool> TaskGraph::ancestors_of(size_t task) const {
  std::vector<bool> seen(size(), false);
  std::vector<size_t> stack{task};
  while (!stack.empty()) {
    size_t v = stack.back();
    stack.pop_back();
    for (auto [e, end] = boost::in_edges(v, g_); e != end; ++e) {
      size_t u = boost::source(*e, g_);
      if (!seen[u]) {
        seen[u] = true;
        stack.push_back(u);
      }
    }
  }
  return seen;
}

std::vector<size_t> TaskGraph::descendants_of(size_t task) const {
  std::vector<bool> seen(size(), false);
  std::vector<size_t> stack{task}, out;
  while (!stack.empty()) {
    size_t v = stack.back();
    stack.pop_back();
    for (auto [e, end] = boost::out_edges(v, g_); e != end; ++e) {
      size_t w = boost::target(*e, g_);
      if (!seen[w]) {
        seen[w] = true;
        out.push_back(w);
        stack.push_back(w);
      }
    }
  }
  return out;
}

std::string format_cycle(const std::vector<std::string>& cycle) {
  std::string s;
  for (const auto& id : cycle) {
    if (!s.empty()) s += " -> ";
    s += id;
  }
  return s;
}

std::vector<std::string> reading_order(const Dag& dag) {
  std::vector<std::string> out;
  out.reserve(dag.tasks.size());
  const TaskGraph graph(dag);
  if (graph.find_cycle()) {
    for (const auto& t : dag.tasks)
      out.push_back(t.id);
    return out;
  }
  for (size_t i : graph.topo_order())
    out.push_back(dag.tasks[i].id);
  return out;
}

}  // namespace flow::dag
