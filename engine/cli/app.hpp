#pragma once
// The `flow` command line: CLI11 subcommands, each in its own *_cmd.cpp. Commands are
// thin: parse, call the engine or an operator, print. Errors are thrown as flow::Error and
// turned into a message and an exit code by run_cli() (exit codes: docs/REFERENCE.md §2.2).

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace flow::cli {

// Options every command takes.
struct GlobalOptions {
  std::string db;  // --db PATH; empty = $FLOW_HOME/flow.db
  bool json = false;
  int verbose = 0;  // -v 1, -vv 2 (engine/core/log.hpp)

  // The database file to use.
  std::filesystem::path db_path() const;
  // Where logs and run directories live: $FLOW_HOME if set, else the directory of --db
  // if given, else ./.flow.
  std::filesystem::path home() const;
};

// A command's body: runs after parsing, returns the exit code.
using Action = std::function<int()>;

// The variables CLI11 binds a subcommand's options to, owned by one run_cli() call. They
// must outlive parsing (the command's body reads them); unlike function-local statics, a
// second App built in the same process (tests, `flow tui` actions) starts from the
// defaults again instead of the values of the previous parse.
class OptionValues {
 public:
  template <class T>
  T& add(T initial = T{}) {
    auto p = std::make_shared<T>(std::move(initial));
    T& ref = *p;
    values_.push_back(std::move(p));
    return ref;
  }

 private:
  std::vector<std::shared_ptr<void>> values_;
};

// Adds --json / --db / -v to a subcommand (CLI11 options are per subcommand so that
// `flow status RUN --json` works in any position).
void add_global_options(CLI::App& cmd, GlobalOptions& g);

// Registration hooks, one per *_cmd.cpp. Each adds its subcommands to `app` and sets
// `action` from the chosen subcommand's callback.
void register_run_commands(CLI::App& app, GlobalOptions& g, Action& action,
                           OptionValues& ov);  // run, validate, graph, resume, retry, cancel
void register_query_commands(CLI::App& app, GlobalOptions& g, Action& action,
                             OptionValues& ov);  // runs, status, logs
void register_status_command(CLI::App& app, GlobalOptions& g, Action& action,
                             OptionValues& ov);  // status (status_cmd.cpp)
void register_sites_commands(CLI::App& app, GlobalOptions& g, Action& action,
                             OptionValues& ov);  // sites
void register_lamec_commands(CLI::App& app, GlobalOptions& g, Action& action,
                             OptionValues& ov);  // lamec
void register_hpo_commands(CLI::App& app, GlobalOptions& g, Action& action,
                           OptionValues& ov);  // hpo
void register_artifacts_commands(CLI::App& app, GlobalOptions& g, Action& action,
                                 OptionValues& ov);  // artifacts list, search, show, verify
void register_schedule_commands(CLI::App& app, GlobalOptions& g, Action& action,
                                OptionValues& ov);  // schedule next, scheduler, backfill, trigger
void register_report_commands(CLI::App& app, GlobalOptions& g, Action& action,
                              OptionValues& ov);  // report
void register_clean_commands(CLI::App& app, GlobalOptions& g, Action& action,
                             OptionValues& ov);  // clean
void register_tui_commands(CLI::App& app, GlobalOptions& g, Action& action,
                           OptionValues& ov);  // tui
void register_tooling_commands(CLI::App& app, GlobalOptions& g, Action& action,
                               OptionValues& ov);  // schema, completion (+ hidden __complete)

// Parses argv, runs the chosen command, prints errors; returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace flow::cli
