// flow report RUN [-o FILE] — one self-contained HTML page of a run (ui-report/,
// docs/REPORT.md, docs/REFERENCE.md §2.5).
#include <cstdio>
#include <iostream>
#include <optional>

#include "engine/cli/app.hpp"
#include "engine/cli/render.hpp"
#include "engine/core/byte_size.hpp"
#include "engine/core/text_file.hpp"
#include "engine/runtime/new_run.hpp"
#include "ui-report/html_page.hpp"
#include "ui-report/report_data.hpp"

namespace flow::cli {

void register_report_commands(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* cmd = app.add_subcommand(
      "report", "Write one HTML page of a run: summary, timeline, DAG, tasks, HPO, artifacts");
  add_global_options(*cmd, g);
  auto& id = ov.add<std::string>();
  auto& out = ov.add<std::string>();
  cmd->add_option("run_id", id, "Run id")->required();
  cmd->add_option("-o,--output", out, "The HTML file (default: report-RUN.html; - = stdout)");
  cmd->callback([&] {
    action = [&]() -> int {
      auto store = state::Store::open_existing(g.db_path());
      require_run(*store, id);
      auto data =
          report::report_data(*store, id, runtime::catalogue_max_jobs(), runtime::catalogue_gpus());
      std::string html = report::report_html(data);
      if (out == "-") {
        std::fwrite(html.data(), 1, html.size(), stdout);
        return 0;
      }
      std::filesystem::path path = out.empty() ? "report-" + id + ".html" : out;
      write_file_atomic(path, html);
      if (g.json) {
        nlohmann::json j = {{"run", id},
                            {"path", std::filesystem::absolute(path).string()},
                            {"bytes", html.size()},
                            {"instances", data["instances"].size()},
                            {"tries", data["tries"].size()},
                            {"sweeps", data["sweeps"].size()},
                            {"artifacts", data["artifacts"].size()}};
        std::cout << j.dump(2) << "\n";
      } else {
        std::printf("wrote %s (%s): run %s, %zu task instances, %zu tries\n", path.string().c_str(),
                    human_bytes(html.size()).c_str(), id.c_str(), data["instances"].size(),
                    data["tries"].size());
      }
      return 0;
    };
  });
}

}  // namespace flow::cli
