// flow tui — the terminal UI (ui-tui/). The command only parses options; everything else
// is flow::tui::run_tui().
#include "engine/cli/app.hpp"
#include "engine/core/error.hpp"
#include "ui-tui/app.hpp"

namespace flow::cli {

void register_tui_commands(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* cmd = app.add_subcommand(
      "tui", "Terminal UI: runs, task grid, HPO leaderboard, log tail, retry/cancel (? for keys)");
  add_global_options(*cmd, g);
  auto& dag = ov.add<std::string>();
  auto& limit = ov.add<int>(200);
  cmd->add_option("--dag", dag, "Only runs of this DAG");
  cmd->add_option("--limit", limit, "At most this many runs in the list (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&] {
    action = [&]() -> int {
      if (g.json) {
        throw Error(ErrorKind::kInvalidInput,
                    "flow tui draws a screen and prints no JSON; for scripts use flow runs "
                    "--json, flow status RUN_ID --json or flow hpo RUN_ID TASK --json");
      }
      tui::Options o;
      o.db = g.db_path();
      o.home = g.home();
      o.dag = dag;
      o.limit = limit;
      return tui::run_tui(o);
    };
  });
}

}  // namespace flow::cli
