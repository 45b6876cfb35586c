#pragma once
// The report as one self-contained HTML page: the data of report_data() as inline JSON, the
// DAG drawn as inline SVG, and the page's own CSS and script (ui-report/assets/, compiled in)
// that draw the summary, timeline, task table, HPO sweeps and artifacts. Nothing is loaded
// from elsewhere, so the file opens offline and can be mailed or archived.

#include <nlohmann/json.hpp>
#include <string>

namespace flow::report {

std::string report_html(const nlohmann::json& data);

}  // namespace flow::report
