#include "engine/cli/app.hpp"

#include <cstdlib>
#include <iostream>

#include "engine/core/error.hpp"
#include "engine/core/log.hpp"

namespace flow::cli {

std::filesystem::path GlobalOptions::db_path() const {
  if (!db.empty()) return db;
  return home() / "flow.db";
}

std::filesystem::path GlobalOptions::home() const {
  if (const char* h = std::getenv("FLOW_HOME"); h && *h) return h;
  if (!db.empty()) {
    auto parent = std::filesystem::path(db).parent_path();
    return parent.empty() ? std::filesystem::path(".") : parent;
  }
  return ".flow";
}

void add_global_options(CLI::App& cmd, GlobalOptions& g) {
  cmd.add_option("--db", g.db, "SQLite database (default $FLOW_HOME/flow.db, FLOW_HOME=./.flow)");
  cmd.add_flag("--json", g.json, "Print one JSON document on stdout");
  cmd.add_flag("-v,--verbose", g.verbose,
               "More diagnostics on stderr: -v what the engine does, -vv every state change "
               "and poll (every run also keeps them in $FLOW_HOME/runs/RUN/engine.log)");
}

int run_cli(int argc, char** argv) {
  CLI::App app{"flow: a workflow engine for HPC machine-learning pipelines", "flow"};
  app.set_version_flag("--version", std::string("flow ") + FLOW_VERSION);
  app.require_subcommand(1);
  GlobalOptions g;
  Action action;
  OptionValues ov;
  register_run_commands(app, g, action, ov);
  register_query_commands(app, g, action, ov);
  register_sites_commands(app, g, action, ov);
  register_lamec_commands(app, g, action, ov);
  register_hpo_commands(app, g, action, ov);
  register_artifacts_commands(app, g, action, ov);
  register_schedule_commands(app, g, action, ov);
  register_clean_commands(app, g, action, ov);
  register_report_commands(app, g, action, ov);
  register_tui_commands(app, g, action, ov);
  register_tooling_commands(app, g, action, ov);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(ErrorKind::kInvalidInput);
  }
  if (!action) return static_cast<int>(ErrorKind::kInvalidInput);
  log::set_verbosity(g.verbose);
  try {
    return action();
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics())
      std::cerr << d.str() << "\n";
    return e.exit_code();
  } catch (const Error& e) {
    std::cerr << "flow: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "flow: internal error: " << e.what()
              << "\n(this is a bug in flow; please report it with the command you ran)\n";
    return static_cast<int>(ErrorKind::kFailure);
  }
}

}  // namespace flow::cli
