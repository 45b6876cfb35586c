#pragma once
// Opens a local HTML file in Debian's Chromium, headless, as a reader would: the page's
// scripts run, then the DOM they left is returned (and, if asked, a screenshot is taken).
// Console errors Chromium logs are returned too. Used by the `flow report` tests.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace flow::test {

struct PageLoad {
  int code = -1;        // Chromium's exit status
  std::string dom;      // the DOM after the page's scripts ran
  std::string console;  // Chromium's log lines of console messages and uncaught errors
  std::string error;    // why the browser could not be run, if it could not
};

inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `screenshot` (optional): a PNG of the whole page at `width` x `height` pixels.
inline PageLoad load_page(const std::filesystem::path& html,
                          const std::filesystem::path& screenshot = {}, int width = 1400,
                          int height = 2400) {
  PageLoad r;
  const char* chromium = "/usr/bin/chromium";
  if (!std::filesystem::exists(chromium)) {
    r.error = "no /usr/bin/chromium (scripts/install-deps.sh installs Debian's chromium)";
    return r;
  }
  TempDir profile("chromium-profile");
  // --no-sandbox: tests may run as root, where Chromium refuses its sandbox.
  std::string common = std::string(chromium) +
                       " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage"
                       " --no-first-run --disable-extensions --user-data-dir='" +
                       profile.path().string() + "' --virtual-time-budget=10000";
  auto url = "'file://" + std::filesystem::absolute(html).string() + "'";
  auto out = profile.path() / "dom.html", err = profile.path() / "chromium.log";
  std::string cmd = common + " --enable-logging=stderr --v=0 --dump-dom " + url + " >'" +
                    out.string() + "' 2>'" + err.string() + "'";
  int status = std::system(cmd.c_str());
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.dom = read_all(out);
  std::istringstream log(read_all(err));
  for (std::string line; std::getline(log, line);)
    if (line.find("CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos)
      r.console += line + "\n";
  if (!screenshot.empty()) {
    std::string shot = common + " --hide-scrollbars --window-size=" + std::to_string(width) + "," +
                       std::to_string(height) + " --screenshot='" + screenshot.string() + "' " +
                       url + " >/dev/null 2>&1";
    int s = std::system(shot.c_str());
    if (!(WIFEXITED(s) && WEXITSTATUS(s) == 0)) r.error = "chromium --screenshot failed";
  }
  return r;
}

// The JSON a `flow report` page carries (the <script id="flow-data"> element's text).
inline std::string report_data_text(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"flow-data\">";
  auto a = html.find(open);
  if (a == std::string::npos) return "";
  a += open.size();
  return html.substr(a, html.find("</script>", a) - a);
}

// A `flow report` page drew every section (each sets data-rendered="true") and reported no
// error: none in its own error box, none in Chromium's console log.
inline ::testing::AssertionResult every_report_section_rendered(const PageLoad& page) {
  if (!page.error.empty()) return ::testing::AssertionFailure() << page.error;
  if (page.code != 0)
    return ::testing::AssertionFailure() << "chromium exited " << page.code << "\n" << page.console;
  for (const char* s : {"summary", "timeline", "dag", "tasks", "hpo", "artifacts"}) {
    if (page.dom.find(std::string("<section id=\"") + s + "\" data-rendered=\"true\">") ==
        std::string::npos)
      return ::testing::AssertionFailure() << "section " << s << " not rendered\n" << page.console;
  }
  if (page.dom.find("<body data-errors") != std::string::npos ||
      page.dom.find("<div id=\"errors\"></div>") == std::string::npos) {
    auto at = page.dom.find("<div id=\"errors\">");
    return ::testing::AssertionFailure() << "the page reported errors: "
                                         << page.dom.substr(at == std::string::npos ? 0 : at, 2000);
  }
  if (page.console.find("Uncaught") != std::string::npos)
    return ::testing::AssertionFailure() << page.console;
  return ::testing::AssertionSuccess();
}

}  // namespace flow::test
