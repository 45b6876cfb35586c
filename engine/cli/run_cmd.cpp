// flow run | validate | graph | resume | retry | cancel
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <random>
#include <thread>

#include "engine/cli/app.hpp"
#include "engine/cli/executor_pool.hpp"
#include "engine/cli/progress.hpp"
#include "engine/cli/render.hpp"
#include "engine/core/error.hpp"
#include "engine/core/sha256.hpp"
#include "engine/core/suggest.hpp"
#include "engine/dag/graph.hpp"
#include "engine/dag/loader.hpp"
#include "engine/dag/validate.hpp"
#include "engine/run/resume.hpp"
#include "engine/run/run_controller.hpp"
#include "engine/site/site.hpp"
#include "operators/lamec/lamec.hpp"

namespace flow::cli {

namespace {

// -p key=value, typed after the parameter's default: int, float, bool or string.
void apply_param(dag::Dag& dag, const std::string& kv) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(SourceLocation{}, "-p " + kv + ": expected key=value");
  }
  std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
  if (!dag.params.contains(key)) {
    std::vector<std::string> names;
    for (const auto& [k, _] : dag.params.items())
      names.push_back(k);
    throw InputError(SourceLocation{dag.source_file},
                     "-p " + key + ": the DAG has no parameter '" + key + "'" +
                         did_you_mean(key, names) +
                         (names.empty() ? "" : "; parameters: " + join(names)));
  }
  const auto& old = dag.params[key];
  auto bad = [&](const char* type) {
    throw InputError(SourceLocation{}, "-p " + key + "=" + value + ": parameter '" + key + "' is " +
                                           type + " (default " + old.dump() + ")");
  };
  if (old.is_boolean()) {
    if (value == "true" || value == "yes" || value == "1")
      dag.params[key] = true;
    else if (value == "false" || value == "no" || value == "0")
      dag.params[key] = false;
    else
      bad("a boolean (true/false)");
  } else if (old.is_number_integer()) {
    try {
      size_t used = 0;
      long long v = std::stoll(value, &used);
      if (used != value.size()) bad("an integer");
      dag.params[key] = v;
    } catch (const std::logic_error&) {
      bad("an integer");
    }
  } else if (old.is_number()) {
    try {
      size_t used = 0;
      double v = std::stod(value, &used);
      if (used != value.size()) bad("a number");
      dag.params[key] = v;
    } catch (const std::logic_error&) {
      bad("a number");
    }
  } else if (old.is_string()) {
    dag.params[key] = value;
  } else {
    auto j = nlohmann::json::parse(value, nullptr, false);
    dag.params[key] = j.is_discarded() ? nlohmann::json(value) : j;
  }
}

site::SiteCatalog load_sites() {
  return site::SiteCatalog::load(site::SiteCatalog::default_dirs());
}

std::string new_run_id(const std::string& dag) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y%m%dT%H%M%S", &tm);
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rd() & 0xffff));
  return dag + "-" + ts + "-" + suffix;
}

// Drives one run to its end on this thread; returns the exit code. The Slurm sites the DAG
// uses are checked first (connection, host key, sbatch); a new run (`insert`) is recorded
// only once they answered, so an unreachable site leaves no half-started run behind.
int execute(const GlobalOptions& g, state::Store& store, const dag::Dag& dag,
            const state::RunRecord& record, int parallelism, bool print_result = true,
            bool insert = false) {
  auto sites = load_sites();
  boost::asio::io_context io;
  const bool tty = !g.json && ::isatty(STDOUT_FILENO);
  ProgressPrinter progress(g.json ? stderr : stdout, tty);
  // Site news goes to stderr; on a TTY the live line is cleared first and redrawn later.
  ExecutorPool pool(io, sites, g.home(), parallelism, [tty](const std::string& text) {
    std::fprintf(stderr, "%sflow: %s\n", tty ? "\r\x1b[K" : "", text.c_str());
  });
  pool.preflight(dag);
  if (insert) {
    store.insert_run(record);
    if (!g.json)
      std::printf("run %s of %s (%zu tasks)\n", record.id.c_str(), dag.name.c_str(),
                  dag.tasks.size());
    std::fflush(stdout);
  }
  run::ControllerOptions opts;
  opts.home = g.home();
  run::RunController controller(
      io, store, dag, record,
      [&pool](const std::string& s) -> run::Executor& { return pool.get(s); }, opts, &progress);
  pool.set_route([&controller](run::ExecEvent e) { controller.on_event(std::move(e)); });

  int interrupts = 0;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (++interrupts == 1) {
          std::fprintf(stderr, "\nflow: %s: stopping running tasks (again to quit at once)\n",
                       sig == SIGINT ? "interrupted" : "terminated");
          controller.interrupt();
          signals.async_wait(on_signal);
        } else {
          std::fprintf(stderr,
                       "flow: quitting; running tasks are left as they are "
                       "(flow resume %s re-attaches them)\n",
                       record.id.c_str());
          std::_Exit(130);
        }
      };
  signals.async_wait(on_signal);
  // The io_context runs until the controller reports the end of the run.
  boost::asio::steady_timer done_check(io);
  std::function<void()> poll_done = [&] {
    if (controller.done()) {
      signals.cancel();
      io.stop();
      return;
    }
    done_check.expires_after(std::chrono::milliseconds(20));
    done_check.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) poll_done();
    });
  };
  controller.start();
  poll_done();
  io.run();
  progress.finish();

  const auto& run = controller.run();
  auto instances = controller.instances();
  if (!print_result) {
  } else if (g.json) {
    std::cout << status_json(run, instances).dump(2) << "\n";
  } else {
    print_summary(stdout, run, instances, g.home());
  }
  switch (run.state) {
    case state::RunState::kSucceeded:
      return 0;
    case state::RunState::kInterrupted:
      return 130;
    default:
      return 1;
  }
}

// Every task on a Slurm site must yield a job script (LAMEC rules: software the site's
// system has, combinations that share one launcher): found here, with the task's line,
// rather than when the task is about to be submitted.
void check_job_scripts(const dag::Dag& dag, const site::SiteCatalog& sites) {
  std::vector<Diagnostic> problems;
  std::optional<lamec::ModuleCatalog> modules;
  for (const auto& t : dag.tasks) {
    const site::Site* s = sites.find(dag.site_of(t));
    if (!s || !s->is_slurm()) continue;
    try {
      if (!modules) modules = lamec::ModuleCatalog::load(lamec::ModuleCatalog::default_dirs());
      lamec::make_request(*s, t.slurm, t.run, *modules);
    } catch (const InputError& e) {
      for (const auto& d : e.diagnostics()) {
        problems.push_back({d.where.line ? d.where : t.loc(t.slurm.empty() ? "run" : "slurm"),
                            "task '" + t.id + "' on site '" + s->name + "': " + d.message});
      }
    }
  }
  if (!problems.empty()) throw InputError(std::move(problems));
}

dag::Dag load_validated(const std::string& file, const std::vector<std::string>& params,
                        const site::SiteCatalog* sites) {
  dag::Dag dag = dag::load_dag_file(file);
  for (const auto& p : params)
    apply_param(dag, p);
  dag::validate_or_throw(dag, {sites});
  if (sites) check_job_scripts(dag, *sites);
  return dag;
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

void check_not_owned(const state::RunRecord& run) {
  if (run.state == state::RunState::kRunning && run::owner_alive(run)) {
    throw Error(ErrorKind::kEnvironment,
                "run " + run.id + " is being executed by flow process " +
                    std::to_string(run.owner_pid) + " on " + run.owner_host +
                    "; wait for it, or stop it with: flow cancel " + run.id);
  }
}

}  // namespace

void register_run_commands(CLI::App& app, GlobalOptions& g, Action& action) {
  // flow run
  {
    auto* cmd = app.add_subcommand("run", "Validate a DAG, create a run and execute it to the end");
    add_global_options(*cmd, g);
    static std::string file, run_id;
    static std::vector<std::string> params;
    static int jobs = 0;
    static bool dry = false;
    cmd->add_option("file", file, "DAG file (YAML)")->required();
    cmd->add_option("-p,--param", params, "Override a parameter: key=value (repeatable)");
    cmd->add_option("-j,--jobs", jobs, "Concurrent local tasks (default: number of cores)")
        ->check(CLI::Range(1, 100000));
    cmd->add_option("--run-id", run_id, "Run id (default: DAG-TIMESTAMP-XXXX)");
    cmd->add_flag("--dry-run", dry, "Validate and print the plan; run nothing");
    cmd->callback([&] {
      action = [&]() -> int {
        auto sites = load_sites();
        dag::Dag dag = load_validated(file, params, &sites);
        if (dry) {
          print_dry_run(dag);
          return 0;
        }
        if (!run_id.empty() && !dag::is_valid_id(run_id)) {
          throw InputError(
              SourceLocation{},
              "--run-id '" + run_id + "' is invalid: use letters, digits, '_', '.', '-'");
        }
        auto store = state::Store::open(g.db_path());
        state::RunRecord r;
        r.id = run_id.empty() ? new_run_id(dag.name) : run_id;
        r.dag = dag.name;
        r.dag_file = file;
        r.dag_yaml = dag.source_text;
        r.dag_hash = sha256_hex(dag.source_text);
        r.params = dag.params;
        r.run_dir = (std::filesystem::absolute(g.home()) / "runs" / r.id).string();
        r.workdir = std::filesystem::current_path().string();
        r.created = now_ms();
        r.parallelism = jobs;
        if (store->get_run(r.id)) {
          throw InputError(
              SourceLocation{},
              "--run-id '" + r.id + "' is already taken; resume it with: flow resume " + r.id);
        }
        return execute(g, *store, dag, r, jobs, /*print_result=*/true, /*insert=*/true);
      };
    });
  }
  // flow validate
  {
    auto* cmd = app.add_subcommand("validate",
                                   "Check DAG files: schema, references, cycles, templates, sites");
    add_global_options(*cmd, g);
    static std::vector<std::string> files;
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
            load_validated(f, {}, sites.get());
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
    static std::string file, format = "text";
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
    static std::string id;
    static int jobs = 0;
    cmd->add_option("run_id", id, "Run id")->required();
    cmd->add_option("-j,--jobs", jobs, "Concurrent local tasks")->check(CLI::Range(1, 100000));
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        auto run = require_run(*store, id);
        if (run.state == state::RunState::kSucceeded) {
          std::printf("run %s already succeeded; nothing to resume\n", id.c_str());
          return 0;
        }
        check_not_owned(run);
        dag::Dag dag = dag::load_dag_text(run.dag_yaml, run.dag_file);
        dag.params = run.params;
        run::prepare_resume(*store, id);
        run = require_run(*store, id);
        if (jobs) run.parallelism = jobs;
        if (!g.json) std::printf("resuming run %s of %s\n", id.c_str(), dag.name.c_str());
        std::fflush(stdout);
        return execute(g, *store, dag, run, run.parallelism);
      };
    });
  }
  // flow retry
  {
    auto* cmd =
        app.add_subcommand("retry", "Clear one task (and optionally its downstream) and run again");
    add_global_options(*cmd, g);
    static std::string id, task;
    static bool downstream = false;
    cmd->add_option("run_id", id, "Run id")->required();
    cmd->add_option("task", task, "Task id")->required();
    cmd->add_flag("--downstream", downstream, "Also clear every task downstream of it");
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        auto run = require_run(*store, id);
        check_not_owned(run);
        dag::Dag dag = dag::load_dag_text(run.dag_yaml, run.dag_file);
        dag.params = run.params;
        run::prepare_retry(*store, dag, id, task, downstream);
        run = require_run(*store, id);
        if (!g.json)
          std::printf("retrying %s%s in run %s\n", task.c_str(),
                      downstream ? " and downstream" : "", id.c_str());
        std::fflush(stdout);
        return execute(g, *store, dag, run, run.parallelism);
      };
    });
  }
  // flow cancel
  {
    auto* cmd = app.add_subcommand("cancel",
                                   "Stop a run: kill its local processes, scancel its Slurm jobs");
    add_global_options(*cmd, g);
    static std::string id;
    cmd->add_option("run_id", id, "Run id")->required();
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        auto run = require_run(*store, id);
        if (run.state != state::RunState::kRunning && run.state != state::RunState::kInterrupted &&
            run.state != state::RunState::kFailed) {
          std::printf("run %s is already %s\n", id.c_str(),
                      std::string(state::to_string(run.state)).c_str());
          return 0;
        }
        store->set_cancel_requested(id);
        if (run.state == state::RunState::kRunning && run::owner_alive(run)) {
          // The owning engine sees the flag within a second and stops its attempts.
          for (int i = 0; i < 600; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            run = require_run(*store, id);
            if (run.state != state::RunState::kRunning) break;
          }
          std::printf("run %s %s\n", id.c_str(), std::string(state::to_string(run.state)).c_str());
          return run.state == state::RunState::kCancelled ? 0 : 1;
        }
        // No engine owns it: re-attach to whatever is left and stop it from here.
        dag::Dag dag = dag::load_dag_text(run.dag_yaml, run.dag_file);
        dag.params = run.params;
        execute(g, *store, dag, run, run.parallelism, /*print_result=*/false);
        run = require_run(*store, id);
        std::printf("run %s %s\n", id.c_str(), std::string(state::to_string(run.state)).c_str());
        return 0;
      };
    });
  }
}

}  // namespace flow::cli
