#pragma once
// `flow run` and friends: drive one run in the foreground with live progress (a status
// line on a TTY, one line per state change otherwise) and print its summary (or, with
// --json, its status document).

#include <functional>

#include "engine/cli/app.hpp"
#include "engine/dag/dag.hpp"
#include "engine/site/site.hpp"
#include "engine/state/store.hpp"

namespace flow::cli {

// The DAG's sites are prepared first (Executor::preflight); a new run (`insert`) is
// recorded only once they answered, and then `on_recorded` is called (`--detach` returns
// to the user there). Returns the exit code: 0 succeeded, 130 interrupted, 1 otherwise;
// throws EnvironmentError (exit 3) when another engine took the run over.
int drive_in_foreground(const GlobalOptions& g, state::Store& store, const site::SiteCatalog& sites,
                        dag::Dag dag, const state::RunRecord& record, int parallelism,
                        bool print_result = true, bool insert = false,
                        const std::function<void()>& on_recorded = {});

}  // namespace flow::cli
