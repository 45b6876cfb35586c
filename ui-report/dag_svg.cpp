#include "ui-report/dag_svg.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

namespace flow::report {

namespace {

using Counts = std::map<std::string, int>;

constexpr int kBoxW = 170, kBoxH = 40, kColGap = 70, kRowGap = 16, kPad = 12;

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// The longest-path layer of each task; tasks come upstream first, so one pass suffices.
std::vector<int> layers_of(const std::vector<TaskBox>& tasks) {
  std::vector<int> layer(tasks.size(), 0);
  for (size_t i = 0; i < tasks.size(); ++i) {
    for (size_t up : tasks[i].after)
      if (up < i) layer[i] = std::max(layer[i], layer[up] + 1);
  }
  return layer;
}

// "12 succeeded, 1 failed" for a task's counts, states in a fixed order.
std::string counts_text(const Counts& counts) {
  std::string out;
  for (const auto& [state, n] : counts) {
    if (!out.empty()) out += ", ";
    out += std::to_string(n) + " " + state;
  }
  return out.empty() ? "not started" : out;
}

std::string boxes(const std::vector<TaskBox>& tasks, const std::vector<int>& layer) {
  int columns = tasks.empty() ? 0 : *std::max_element(layer.begin(), layer.end()) + 1;
  std::vector<int> rows_in(static_cast<size_t>(columns), 0);
  std::vector<std::pair<int, int>> pos(tasks.size());  // x, y of each box
  for (size_t i = 0; i < tasks.size(); ++i) {
    auto c = static_cast<size_t>(layer[i]);
    pos[i] = {kPad + layer[i] * (kBoxW + kColGap), kPad + rows_in[c]++ * (kBoxH + kRowGap)};
  }
  int height =
      kPad * 2 +
      (rows_in.empty() ? 0 : *std::max_element(rows_in.begin(), rows_in.end())) * (kBoxH + kRowGap);
  int width = kPad * 2 + columns * (kBoxW + kColGap) - kColGap;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"dag\" width=\"" +
                    std::to_string(std::max(width, 1)) + "\" height=\"" +
                    std::to_string(std::max(height, 1)) + "\" viewBox=\"0 0 " +
                    std::to_string(std::max(width, 1)) + " " + std::to_string(std::max(height, 1)) +
                    "\" role=\"img\" aria-label=\"DAG\">";
  svg += "<g class=\"edges\" fill=\"none\" stroke=\"#8a94a6\" stroke-width=\"1.4\">";
  for (size_t i = 0; i < tasks.size(); ++i) {
    for (size_t up : tasks[i].after) {
      if (up >= i) continue;
      double x1 = pos[up].first + kBoxW, y1 = pos[up].second + kBoxH / 2.0;
      double x2 = pos[i].first, y2 = pos[i].second + kBoxH / 2.0, mx = (x1 + x2) / 2;
      svg += "<path d=\"M" + num(x1) + "," + num(y1) + " C" + num(mx) + "," + num(y1) + " " +
             num(mx) + "," + num(y2) + " " + num(x2) + "," + num(y2) + "\"/>";
    }
  }
  svg += "</g>";
  for (size_t i = 0; i < tasks.size(); ++i) {
    const auto& t = tasks[i];
    const std::string& id = t.id;
    const std::string& kind = t.kind;
    const Counts& counts = t.counts;
    std::string state = summary_state(counts);
    auto [x, y] = pos[i];
    std::string label = id + (kind == "task" ? "" : " [" + kind + "]");
    int instances = 0;
    for (const auto& [_, n] : counts)
      instances += n;
    svg += "<g class=\"task\" data-task=\"" + xml_escape(id) + "\" data-state=\"" + state + "\">";
    svg += "<title>" + xml_escape(id + ": " + counts_text(counts)) + "</title>";
    svg += "<rect x=\"" + std::to_string(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" +
           std::to_string(kBoxW) + "\" height=\"" + std::to_string(kBoxH) + "\" rx=\"6\" fill=\"" +
           state_colour(state) + "\" stroke=\"#39414f\"/>";
    svg += "<text x=\"" + std::to_string(x + 8) + "\" y=\"" + std::to_string(y + 17) +
           "\" class=\"name\">" +
           xml_escape(label.size() > 24 ? label.substr(0, 23) + "…" : label) + "</text>";
    svg += "<text x=\"" + std::to_string(x + 8) + "\" y=\"" + std::to_string(y + 33) +
           "\" class=\"sub\">" +
           xml_escape(instances > 1 ? std::to_string(instances) + " instances, " + state : state) +
           "</text></g>";
  }
  return svg + "</svg>";
}

// A DAG too large for boxes: one horizontal bar per layer, its segments the instances of
// that layer's tasks by state.
std::string layer_bars(const std::vector<TaskBox>& tasks, const std::vector<int>& layer) {
  int columns = *std::max_element(layer.begin(), layer.end()) + 1;
  std::vector<std::map<std::string, int>> by_layer(static_cast<size_t>(columns));
  std::vector<int> tasks_in(static_cast<size_t>(columns), 0);
  for (size_t i = 0; i < tasks.size(); ++i) {
    auto c = static_cast<size_t>(layer[i]);
    ++tasks_in[c];
    for (const auto& [state, n] : tasks[i].counts)
      by_layer[c][state] += n;
  }
  constexpr int kBarW = 600, kBarH = 14, kLabelW = 210;
  int shown = std::min(columns, 200);
  int height = kPad * 2 + 20 + shown * (kBarH + 4);
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"dag layers\" width=\"" +
                    std::to_string(kLabelW + kBarW + kPad * 2) + "\" height=\"" +
                    std::to_string(height) + "\" role=\"img\" aria-label=\"DAG by depth\">";
  svg += "<text x=\"" + std::to_string(kPad) + "\" y=\"" + std::to_string(kPad + 10) +
         "\" class=\"sub\">" + std::to_string(tasks.size()) + " tasks in " +
         std::to_string(columns) +
         " levels: too many to draw one by one; each bar is one level (its tasks' instances by "
         "state)</text>";
  for (int c = 0; c < shown; ++c) {
    int total = 0;
    for (const auto& [_, n] : by_layer[static_cast<size_t>(c)])
      total += n;
    int y = kPad + 20 + c * (kBarH + 4);
    svg += "<text x=\"" + std::to_string(kPad) + "\" y=\"" + std::to_string(y + 11) +
           "\" class=\"sub\">level " + std::to_string(c) + ": " +
           std::to_string(tasks_in[static_cast<size_t>(c)]) + " tasks</text>";
    double x = kPad + kLabelW;
    for (const auto& [state, n] : by_layer[static_cast<size_t>(c)]) {
      double w = total ? kBarW * static_cast<double>(n) / total : 0;
      svg += "<rect x=\"" + num(x) + "\" y=\"" + std::to_string(y) + "\" width=\"" + num(w) +
             "\" height=\"" + std::to_string(kBarH) + "\" fill=\"" + state_colour(state) +
             "\"><title>" + std::to_string(n) + " " + state + "</title></rect>";
      x += w;
    }
  }
  if (shown < columns) {
    svg += "<text x=\"" + std::to_string(kPad) + "\" y=\"" + std::to_string(height - 2) +
           "\" class=\"sub\">… " + std::to_string(columns - shown) + " more levels</text>";
  }
  return svg + "</svg>";
}

}  // namespace

std::string state_colour(const std::string& state) {
  static const std::map<std::string, std::string> colours = {
      {"succeeded", "#7bc47f"},  {"failed", "#e5604d"},    {"upstream_failed", "#f0a35e"},
      {"timed_out", "#c94a9b"},  {"cancelled", "#9e9e9e"}, {"skipped", "#d6d6d6"},
      {"running", "#5b9bd5"},    {"starting", "#8fbce6"},  {"submitting", "#8fbce6"},
      {"pending", "#c5d9ee"},    {"queued", "#eceff4"},    {"up_for_retry", "#f4d35e"},
      {"not_started", "#ffffff"}};
  auto it = colours.find(state);
  return it == colours.end() ? "#ffffff" : it->second;
}

std::string summary_state(const Counts& counts) {
  static const char* order[] = {"failed",     "timed_out",       "running",      "starting",
                                "submitting", "pending",         "up_for_retry", "queued",
                                "cancelled",  "upstream_failed", "succeeded",    "skipped"};
  for (const char* s : order)
    if (auto it = counts.find(s); it != counts.end() && it->second > 0) return s;
  return "not_started";
}

std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string dag_svg(const std::vector<TaskBox>& tasks, size_t max_boxes) {
  if (tasks.empty()) return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>";
  auto layer = layers_of(tasks);
  return tasks.size() > max_boxes ? layer_bars(tasks, layer) : boxes(tasks, layer);
}

}  // namespace flow::report
