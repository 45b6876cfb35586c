#pragma once
// The report page's stylesheet and script, compiled in from ui-report/assets/report.css and
// report.js (cmake/embed_asset.cmake writes them into assets.cpp at build time).

namespace flow::report {

extern const char* const kReportCss;
extern const char* const kReportJs;

}  // namespace flow::report
