#pragma once
// The `flow` command line: CLI11 subcommands, each in its own *_cmd.cpp. Commands are
// thin: parse, call the engine or an operator, print. Errors are thrown as flow::Error and
// turned into a message and an exit code by run_cli() (exit codes: docs/REFERENCE.md §2.2).

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace flow::cli {

// Options every command takes.
struct GlobalOptions {
  std::string db;  // --db PATH; empty = $FLOW_HOME/flow.db
  bool json = false;
  bool verbose = false;

  // The database file to use.
  std::filesystem::path db_path() const;
  // Where logs and run directories live: $FLOW_HOME if set, else the directory of --db
  // if given, else ./.flow.
  std::filesystem::path home() const;
};

// A command's body: runs after parsing, returns the exit code.
using Action = std::function<int()>;

// Adds --json / --db / -v to a subcommand (CLI11 options are per subcommand so that
// `flow status RUN --json` works in any position).
void add_global_options(CLI::App& cmd, GlobalOptions& g);

// Registration hooks, one per *_cmd.cpp. Each adds its subcommands to `app` and sets
// `action` from the chosen subcommand's callback.
void register_run_commands(CLI::App& app, GlobalOptions& g,
                           Action& action);  // run, validate, graph, resume, retry, cancel
void register_query_commands(CLI::App& app, GlobalOptions& g,
                             Action& action);  // runs, status, logs
void register_sites_commands(CLI::App& app, GlobalOptions& g, Action& action);  // sites
void register_lamec_commands(CLI::App& app, GlobalOptions& g, Action& action);  // lamec
void register_hpo_commands(CLI::App& app, GlobalOptions& g, Action& action);    // hpo
void register_artifacts_commands(CLI::App& app, GlobalOptions& g,
                                 Action& action);  // artifacts list, show, verify
void register_schedule_commands(CLI::App& app, GlobalOptions& g,
                                Action& action);  // schedule next, scheduler, backfill, trigger
void register_tui_commands(CLI::App& app, GlobalOptions& g, Action& action);  // tui

// Parses argv, runs the chosen command, prints errors; returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace flow::cli
