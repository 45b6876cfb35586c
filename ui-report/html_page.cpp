#include "ui-report/html_page.hpp"

#include "ui-report/assets.hpp"
#include "ui-report/dag_svg.hpp"
#include "ui-report/report_data.hpp"

namespace flow::report {

namespace {

// JSON that is safe inside <script type="application/json">: no "</script>" or "<!--" can
// appear once every '<' is written as \u003c (only strings can hold one). Text that is not
// valid UTF-8 (a log tail) is replaced, not an error.
std::string script_json(const nlohmann::json& data) {
  std::string text = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + 64);
  for (char c : text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string report_html(const nlohmann::json& data) {
  const auto& run = data.at("run");
  std::string id = run.at("id").get<std::string>();
  std::string dag = run.at("dag").get<std::string>();
  std::string title = "flow report: " + dag + " " + id;
  std::string html;
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<meta name=\"generator\" content=\"flow " + xml_escape(data.value("flow", "")) + "\">\n";
  html += "<title>" + xml_escape(title) + "</title>\n<style>\n";
  html += kReportCss;
  html += "</style>\n</head>\n<body>\n";
  html += "<header><h1>" + xml_escape(dag) + " <span class=\"mono\">" + xml_escape(id) +
          "</span></h1><div class=\"sub\">" + xml_escape(run.value("state", "")) + " &middot; " +
          "report written " + xml_escape(data.value("generated", "")) + " by flow " +
          xml_escape(data.value("flow", "")) + "</div></header>\n";
  html += "<div id=\"errors\"></div>\n";
  html +=
      "<nav><a href=\"#summary\">Summary</a><a href=\"#timeline\">Timeline</a><a "
      "href=\"#dag\">DAG</a><a href=\"#tasks\">Tasks</a><a href=\"#hpo\">HPO</a><a "
      "href=\"#artifacts\">Artifacts</a></nav>\n";
  html += "<section id=\"summary\"><h2>Summary</h2><div id=\"summary-body\"></div></section>\n";
  html +=
      "<section id=\"timeline\"><h2>Timeline</h2>"
      "<div class=\"controls\"><span id=\"timeline-count\" class=\"muted\"></span>"
      "<span class=\"chip\"><span class=\"swatch\" style=\"background:#c9ced8\"></span>waiting "
      "(launched or queued)</span><span class=\"chip\"><span class=\"swatch\" "
      "style=\"background:#7bc47f\"></span>running, coloured by the try's end state</span>"
      "<span class=\"muted\">Ctrl or Shift + wheel zooms, drag pans, double-click resets</span>"
      "<button id=\"timeline-reset\">reset zoom</button></div>"
      "<div id=\"timeline-scroll\"><canvas id=\"timeline-canvas\"></canvas>"
      "<div id=\"timeline-spacer\"></div></div><div id=\"timeline-tip\"></div></section>\n";
  html +=
      "<section id=\"dag\"><h2>DAG</h2><div id=\"dag-legend\" class=\"controls\"></div>"
      "<div class=\"dag-wrap\">" +
      dag_svg(task_boxes(data)) + "</div></section>\n";
  html +=
      "<section id=\"tasks\"><h2>Tasks</h2><div class=\"controls\">"
      "<input id=\"task-filter\" type=\"search\" placeholder=\"filter: id, site, job, message\">"
      "<select id=\"task-state\"><option value=\"\">every state</option></select>"
      "<span id=\"task-shown\" class=\"muted\"></span></div>"
      "<table id=\"task-table\" class=\"grid\"></table>"
      "<button id=\"task-more\" hidden>show more</button></section>\n";
  html += "<section id=\"hpo\"><h2>HPO</h2><div id=\"hpo-body\"></div></section>\n";
  html +=
      "<section id=\"artifacts\"><h2>Artifacts</h2><div id=\"artifacts-body\"></div></section>\n";
  html += "<script type=\"application/json\" id=\"flow-data\">" + script_json(data) +
          "</script>\n<script>\n";
  html += kReportJs;
  html += "</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace flow::report
