// The DAG drawing of `flow report` (ui-report/dag_svg.hpp).
#include "ui-report/dag_svg.hpp"

#include <gtest/gtest.h>

using flow::report::dag_svg;
using flow::report::TaskBox;

namespace {

// The <rect> of task `id`: its attributes as drawn.
std::string rect_of(const std::string& svg, const std::string& id) {
  auto g = svg.find("data-task=\"" + id + "\"");
  if (g == std::string::npos) return "";
  auto r = svg.find("<rect", g);
  return svg.substr(r, svg.find("/>", r) - r);
}

}  // namespace

TEST(DagSvg, PutsATaskOneColumnRightOfItsDeepestUpstream) {
  // a -> b -> c and a -> c: c is in column 2, not 1.
  std::vector<TaskBox> tasks = {
      {"a", "task", {}, {}}, {"b", "task", {0}, {}}, {"c", "task", {0, 1}, {}}};
  auto svg = dag_svg(tasks);
  EXPECT_NE(rect_of(svg, "a").find("x=\"12\""), std::string::npos) << svg;
  EXPECT_NE(rect_of(svg, "b").find("x=\"252\""), std::string::npos) << svg;
  EXPECT_NE(rect_of(svg, "c").find("x=\"492\""), std::string::npos) << svg;
  // Three edges, drawn as paths.
  size_t paths = 0;
  for (auto p = svg.find("<path"); p != std::string::npos; p = svg.find("<path", p + 1))
    ++paths;
  EXPECT_EQ(paths, 3u);
}

TEST(DagSvg, ColoursATaskByItsWorstInstanceState) {
  std::vector<TaskBox> tasks = {{"tiles", "foreach", {}, {{"succeeded", 3}, {"failed", 1}}},
                                {"merge", "task", {0}, {{"upstream_failed", 1}}},
                                {"done", "task", {}, {{"succeeded", 1}}}};
  auto svg = dag_svg(tasks);
  EXPECT_NE(svg.find("data-task=\"tiles\" data-state=\"failed\""), std::string::npos) << svg;
  EXPECT_NE(rect_of(svg, "tiles").find("fill=\"#e5604d\""), std::string::npos);
  EXPECT_NE(svg.find("data-task=\"merge\" data-state=\"upstream_failed\""), std::string::npos);
  EXPECT_NE(svg.find("data-task=\"done\" data-state=\"succeeded\""), std::string::npos);
  EXPECT_NE(svg.find("4 instances, failed"), std::string::npos);
  EXPECT_NE(svg.find("tiles [foreach]"), std::string::npos);
}

TEST(DagSvg, DrawsOneBarPerLevelPastTheBoxLimit) {
  std::vector<TaskBox> tasks;
  for (size_t i = 0; i < 5; ++i) {
    TaskBox t{"t" + std::to_string(i), "task", {}, {{"succeeded", 1}}};
    if (i) t.after.push_back(i - 1);
    tasks.push_back(t);
  }
  auto svg = dag_svg(tasks, 3);
  EXPECT_EQ(svg.find("data-task="), std::string::npos);
  EXPECT_NE(svg.find("5 tasks in 5 levels"), std::string::npos) << svg;
  EXPECT_NE(svg.find("level 4: 1 tasks"), std::string::npos) << svg;
}

TEST(DagSvg, EscapesTaskIdsInMarkup) {
  EXPECT_EQ(flow::report::xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}
