// flow run | validate | graph | resume | retry | cancel
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "engine/cli/app.hpp"
#include "engine/cli/detach.hpp"
#include "engine/cli/foreground.hpp"
#include "engine/cli/render.hpp"
#include "engine/cli/wiring.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/dag/graph.hpp"
#include "engine/dag/loader.hpp"
#include "engine/run/alerts.hpp"
#include "engine/run/ownership.hpp"
#include "engine/run/resume.hpp"
#include "engine/run/run_cleaning.hpp"
#include "engine/run/secrets.hpp"
#include "engine/runtime/new_run.hpp"
#include "engine/schedule/clock.hpp"

namespace flow::cli {

namespace {

using runtime::load_sites;
using runtime::load_validated;
using runtime::new_run_id;
using runtime::new_run_record;
using runtime::set_manual_dates;

// The plan `run --dry-run --json` prints: the tasks in dependency order.
nlohmann::json dry_run_json(const dag::Dag& dag) {
  dag::TaskGraph g(dag);
  auto tasks = nlohmann::json::array();
  for (size_t i : g.topo_order()) {
    const auto& t = dag.tasks[i];
    tasks.push_back({{"id", t.id},
                     {"after", t.after},
                     {"site", dag.site_of(t)},
                     {"kind", t.hpo       ? "hpo"
                              : t.foreach ? "foreach"
                                          : "task"},
                     {"run", t.run}});
  }
  return {{"dag", dag.name}, {"dry_run", true}, {"tasks", tasks}};
}

void print_dry_run(const dag::Dag& dag) {
  dag::TaskGraph g(dag);
  std::printf("dag %s: %zu tasks, in this order:\n", dag.name.c_str(), dag.tasks.size());
  for (size_t i : g.topo_order()) {
    const auto& t = dag.tasks[i];
    std::printf("  %-20s site=%s%s%s\n      %s\n", t.id.c_str(), dag.site_of(t).c_str(),
                t.after.empty() ? "" : (" after=" + join(t.after, ",")).c_str(),
                t.foreach ? " (foreach)" : "", t.run.c_str());
  }
}

// Takes run `id` over for this process and prepares it in the same transaction
// (engine/run/ownership.hpp): of several commands racing for one run, exactly one gets
// it; the others are refused with the owner's name. Says whose the run was when it was
// taken from an engine that is gone (or, with --force, from a live one).
run::Takeover take_over(state::Store& store, const std::string& id, bool force,
                        const std::function<void(state::RunRecord&)>& prepare) {
  run::TakeoverPolicy policy;
  policy.force = force;
  auto t = run::take_run(store, id, run::EngineIdentity::self(), policy, prepare);
  if (t.previous.state == run::OwnerState::kLive) {
    std::fprintf(stderr,
                 "flow: warning: took run %s over from %s, which still looked alive (--force); "
                 "it stops at its next commit without starting anything more\n",
                 id.c_str(), t.previous.who.c_str());
  } else if (t.previous.state == run::OwnerState::kGone) {
    std::fprintf(stderr, "flow: run %s was owned by %s (gone); taking it over\n", id.c_str(),
                 t.previous.who.c_str());
  }
  return t;
}

// Thrown inside take_over's transaction to roll it back: there is nothing to do.
struct NothingToDo {
  std::string message;
};

}  // namespace

void register_run_commands(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  // flow run
  {
    auto* cmd = app.add_subcommand("run", "Validate a DAG, create a run and execute it to the end");
    add_global_options(*cmd, g);
    auto& file = ov.add<std::string>();
    auto& run_id = ov.add<std::string>();
    auto& params = ov.add<std::vector<std::string>>();
    auto& jobs = ov.add<int>(0);
    auto& dry = ov.add<bool>(false);
    cmd->add_option("file", file, "DAG file (YAML)")->required();
    cmd->add_option("-p,--param", params, "Override a parameter: key=value (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("-j,--jobs", jobs, "Concurrent local tasks (default: number of cores)")
        ->check(CLI::Range(1, 100000));
    cmd->add_option("--run-id", run_id, "Run id (default: DAG-TIMESTAMP-XXXX)");
    cmd->add_flag("--dry-run", dry, "Validate and print the plan; run nothing");
    auto& detach_flag = ov.add<bool>(false);
    cmd->add_flag("--detach", detach_flag,
                  "Go on in the background once the run is recorded; print its id and return "
                  "(output in $FLOW_HOME/runs/RUN/console.log)");
    cmd->callback([&] {
      action = [&]() -> int {
        auto sites = load_sites();
        const runtime::Services wired = services();
        dag::Dag dag = load_validated(file, params, &sites, &wired);
        if (dry) {
          if (g.json)
            std::cout << dry_run_json(dag).dump(2) << "\n";
          else
            print_dry_run(dag);
          return 0;
        }
        if (!run_id.empty() && !dag::is_valid_id(run_id)) {
          throw InputError(
              SourceLocation{},
              "--run-id '" + run_id + "' is invalid: use letters, digits, '_', '.', '-'");
        }
        // A secret that cannot be read stops here, before any run is created.
        (void)run::read_secrets(dag);
        const std::string id = run_id.empty() ? new_run_id(dag.name) : run_id;
        auto taken = [&](state::Store& store) {
          if (store.get_run(id)) {
            throw InputError(SourceLocation{}, "--run-id '" + id +
                                                   "' is already taken; resume it with: flow "
                                                   "resume " +
                                                   id);
          }
        };
        std::optional<Detached> background;
        if (detach_flag) {
          taken(*state::Store::open(g.db_path()));  // closed again: no connection across fork
          background = detach(g.home() / "runs" / id / "console.log", id, g.json);
        }
        auto store = state::Store::open(g.db_path());
        state::RunRecord r = new_run_record(dag, id, g.home(), jobs);
        set_manual_dates(r, dag, schedule::now());
        taken(*store);
        return drive_in_foreground(g, *store, sites, std::move(dag), r, jobs, /*print_result=*/true,
                                   /*insert=*/true, [&] {
                                     if (background) background->started();
                                   });
      };
    });
  }
  // flow validate
  {
    auto* cmd = app.add_subcommand("validate",
                                   "Check DAG files: schema, references, cycles, templates, sites");
    add_global_options(*cmd, g);
    auto& files = ov.add<std::vector<std::string>>();
    cmd->add_option("files", files, "DAG files")->required();
    cmd->callback([&] {
      action = [&]() -> int {
        std::unique_ptr<site::SiteCatalog> sites;
        auto out = nlohmann::json::array();
        bool all_ok = true;
        for (const auto& f : files) {
          nlohmann::json entry = {{"file", f}, {"ok", true}, {"errors", nlohmann::json::array()}};
          try {
            if (!sites) sites = std::make_unique<site::SiteCatalog>(load_sites());
            const runtime::Services wired = services();
            load_validated(f, {}, sites.get(), &wired);
            if (!g.json) std::printf(files.size() > 1 ? "%s: ok\n" : "ok\n", f.c_str());
          } catch (const InputError& e) {
            all_ok = false;
            entry["ok"] = false;
            for (const auto& d : e.diagnostics()) {
              entry["errors"].push_back({{"file", d.where.file},
                                         {"line", d.where.line},
                                         {"col", d.where.col},
                                         {"message", d.message}});
              if (!g.json) std::fprintf(stderr, "%s\n", d.str().c_str());
            }
          }
          out.push_back(std::move(entry));
        }
        if (g.json) std::cout << out.dump(2) << "\n";
        return all_ok ? 0 : 2;
      };
    });
  }
  // flow graph
  {
    auto* cmd = app.add_subcommand("graph", "Print the DAG as Graphviz DOT or text");
    add_global_options(*cmd, g);
    auto& file = ov.add<std::string>();
    auto& format = ov.add<std::string>("text");
    cmd->add_option("file", file, "DAG file")->required();
    cmd->add_option("--format", format, "dot or text")->check(CLI::IsMember({"dot", "text"}));
    cmd->callback([&] {
      action = [&]() -> int {
        dag::Dag dag = load_validated(file, {}, nullptr);
        dag::TaskGraph graph(dag);
        auto order = graph.topo_order();
        if (g.json) {
          auto tasks = nlohmann::json::array();
          for (size_t i : order) {
            const auto& t = dag.tasks[i];
            tasks.push_back({{"id", t.id}, {"after", t.after}, {"site", dag.site_of(t)}});
          }
          std::cout << nlohmann::json{{"dag", dag.name}, {"tasks", tasks}}.dump(2) << "\n";
        } else if (format == "dot") {
          std::printf("digraph \"%s\" {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n",
                      dag.name.c_str());
          for (size_t i : order) {
            const auto& t = dag.tasks[i];
            std::string label = t.id + (t.foreach ? " [foreach]" : "") + (t.hpo ? " [hpo]" : "");
            std::printf("  \"%s\" [label=\"%s\"];\n", t.id.c_str(), label.c_str());
            for (const auto& up : t.after)
              std::printf("  \"%s\" -> \"%s\";\n", up.c_str(), t.id.c_str());
          }
          std::printf("}\n");
        } else {
          for (size_t i : order) {
            const auto& t = dag.tasks[i];
            std::printf("%s%s%s\n", t.id.c_str(), t.after.empty() ? "" : "  <- ",
                        join(t.after).c_str());
          }
        }
        return 0;
      };
    });
  }
  // flow resume
  {
    auto* cmd = app.add_subcommand("resume", "Continue a failed or interrupted run");
    add_global_options(*cmd, g);
    auto& id = ov.add<std::string>();
    auto& jobs = ov.add<int>(0);
    auto& force = ov.add<bool>(false);
    cmd->add_option("run_id", id, "Run id")->required();
    cmd->add_option("-j,--jobs", jobs, "Concurrent local tasks")->check(CLI::Range(1, 100000));
    cmd->add_flag(
        "--force", force,
        "Take the run over even from an engine that still looks alive (it is fenced out)");
    auto& detach_flag = ov.add<bool>(false);
    cmd->add_flag("--detach", detach_flag,
                  "Go on in the background once the run is taken over; print its id and "
                  "return (output in $FLOW_HOME/runs/RUN/console.log)");
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        auto run = require_run(*store, id);
        dag::Dag dag = dag::load_dag_text(run.dag_yaml, run.dag_file);
        dag.params = run.params;
        // Refused here too, while the user still sees it (prepare_resume checks it again).
        if (run.state != state::RunState::kSucceeded) run::refuse_if_cleaned(*store, id, "resumed");
        std::optional<Detached> background;
        if (detach_flag && run.state != state::RunState::kSucceeded) {
          (void)run::read_secrets(dag);  // as below, but while the user still sees the error
          store.reset();                 // no connection across fork
          background = detach(g.home() / "runs" / id / "console.log", id, g.json);
          store = state::Store::open_existing(g.db_path());
          run = require_run(*store, id);
        }
        try {
          run = take_over(*store, id, force, [&](state::RunRecord& r) {
                  if (r.state == state::RunState::kSucceeded) {
                    throw NothingToDo{"run " + id + " already succeeded; nothing to resume"};
                  }
                  // A secret that cannot be read rolls the takeover back: nothing changes.
                  (void)run::read_secrets(dag);
                  run::prepare_resume(*store, id);
                }).run;
        } catch (const NothingToDo& n) {
          // The run succeeded and no live engine owns it: notifications still `pending` were
          // left by an engine killed while it delivered them (docs/ALERTS.md).
          store->abandon_deliveries(id, run::kAbandonedDelivery, now_ms());
          if (g.json) {  // the final document of a resume, as if it had run
            StatusPages pages(*store, run, dag::reading_order(dag));
            print_status_json(stdout, run, pages);
          } else {
            std::printf("%s\n", n.message.c_str());
          }
          return 0;
        }
        if (jobs) run.parallelism = jobs;
        if (!g.json) std::printf("resuming run %s of %s\n", id.c_str(), dag.name.c_str());
        std::fflush(stdout);
        if (background) background->started();
        return drive_in_foreground(g, *store, load_sites(), std::move(dag), run, run.parallelism);
      };
    });
  }
  // flow retry
  {
    auto* cmd =
        app.add_subcommand("retry", "Clear one task (and optionally its downstream) and run again");
    add_global_options(*cmd, g);
    auto& id = ov.add<std::string>();
    auto& task = ov.add<std::string>();
    auto& downstream = ov.add<bool>(false);
    cmd->add_option("run_id", id, "Run id")->required();
    cmd->add_option("task", task, "Task id")->required();
    cmd->add_flag("--downstream", downstream, "Also clear every task downstream of it");
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        auto run = require_run(*store, id);
        dag::Dag dag = dag::load_dag_text(run.dag_yaml, run.dag_file);
        dag.params = run.params;
        run = take_over(*store, id, /*force=*/false, [&](state::RunRecord&) {
                (void)run::read_secrets(dag);  // unreadable: the takeover rolls back
                run::prepare_retry(*store, dag, id, task, downstream);
              }).run;
        if (!g.json)
          std::printf("retrying %s%s in run %s\n", task.c_str(),
                      downstream ? " and downstream" : "", id.c_str());
        std::fflush(stdout);
        return drive_in_foreground(g, *store, load_sites(), std::move(dag), run, run.parallelism);
      };
    });
  }
  // flow cancel
  {
    auto* cmd = app.add_subcommand("cancel",
                                   "Stop a run: kill its local processes, scancel its Slurm jobs");
    add_global_options(*cmd, g);
    auto& id = ov.add<std::string>();
    cmd->add_option("run_id", id, "Run id")->required();
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        auto run = require_run(*store, id);
        if (run.state != state::RunState::kRunning && run.state != state::RunState::kInterrupted &&
            run.state != state::RunState::kFailed) {
          if (g.json)
            std::cout << nlohmann::json{{"run", run_json(run)}, {"cancelled", false}}.dump(2)
                      << "\n";
          else
            std::printf("run %s is already %s\n", id.c_str(),
                        std::string(state::to_string(run.state)).c_str());
          return 0;
        }
        // What cancel prints at the end: the run as it is now.
        auto report = [&](const state::RunRecord& now) {
          if (g.json)
            std::cout << nlohmann::json{{"run", run_json(now)},
                                        {"cancelled", now.state == state::RunState::kCancelled}}
                             .dump(2)
                      << "\n";
          else
            std::printf("run %s %s\n", id.c_str(),
                        std::string(state::to_string(now.state)).c_str());
        };
        store->set_cancel_requested(id);
        std::optional<run::Takeover> taken;
        try {
          taken = take_over(*store, id, /*force=*/false, {});
        } catch (const run::RunOwnedElsewhere&) {
          // The owning engine sees the flag within a second and stops its attempts.
          for (int i = 0; i < 600; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            // Ten times a second: the row only, not the DAG text (megabytes for a big DAG).
            auto now = store->get_run_without_dag(id);
            if (!now) break;
            run = std::move(*now);
            if (run.state != state::RunState::kRunning) break;
          }
          report(run);
          return run.state == state::RunState::kCancelled ? 0 : 1;
        }
        // No engine owned it, and now this one does: re-attach to whatever is left and stop
        // it from here.
        run = taken->run;
        dag::Dag dag = dag::load_dag_text(run.dag_yaml, run.dag_file);
        dag.params = run.params;
        drive_in_foreground(g, *store, load_sites(), std::move(dag), run, run.parallelism,
                            /*print_result=*/false);
        run = require_run(*store, id);
        report(run);
        return 0;
      };
    });
  }
}

}  // namespace flow::cli
