// flow schedule next | scheduler | backfill | trigger
#include <cstdio>
#include <iostream>
#include <thread>

#include "engine/cli/app.hpp"
#include "engine/cli/foreground.hpp"
#include "engine/cli/wiring.hpp"
#include "engine/core/error.hpp"
#include "engine/dag/loader.hpp"
#include "engine/run/secrets.hpp"
#include "engine/runtime/backfill.hpp"
#include "engine/runtime/dag_folder.hpp"
#include "engine/runtime/new_run.hpp"
#include "engine/runtime/scheduler.hpp"
#include "engine/schedule/clock.hpp"
#include "engine/schedule/time_text.hpp"

namespace flow::cli {

namespace {

using namespace runtime;
using schedule::Instant;

// The timetable of a DAG that must have a schedule (`what` names the command).
schedule::Timetable require_schedule(const dag::Dag& dag, const std::string& what) {
  auto tt = timetable_of(dag);
  if (!tt) {
    throw InputError(SourceLocation{dag.source_file},
                     "dag '" + dag.name + "' has no schedule, so " + what +
                         " has nothing to go by; add one, e.g. schedule: \"0 2 * * *\"");
  }
  return *tt;
}

// A valid DAG from the folder, found by its `dag:` name.
dag::Dag find_dag(const std::string& dir, const std::string& name, const site::SiteCatalog& sites) {
  const Services wired = services();
  DagFolder folder(dir, &sites, &wired);
  folder.refresh();
  return *folder.find(name).dag;
}

nlohmann::json fire_json(const schedule::Timetable& tt, const schedule::DataInterval& iv) {
  using schedule::format_local;
  using schedule::format_utc;
  return {{"utc", format_utc(iv.end)},
          {"local", format_local(iv.end, tt.zone())},
          {"data_interval_start", format_utc(iv.start)},
          {"data_interval_end", format_utc(iv.end)},
          {"logical_date", format_utc(iv.start)},
          {"data_interval_start_local", format_local(iv.start, tt.zone())},
          {"data_interval_end_local", format_local(iv.end, tt.zone())},
          {"timezone", tt.zone().name()}};
}

// `flow schedule next`
void register_schedule_next(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* group = app.add_subcommand("schedule", "Look at a DAG's schedule");
  group->require_subcommand(1);
  auto* cmd = group->add_subcommand(
      "next", "The next fire times of a DAG, in UTC and in its zone, with their data intervals");
  add_global_options(*cmd, g);
  auto& file = ov.add<std::string>();
  auto& after = ov.add<std::string>();
  auto& n = ov.add<int>(5);
  cmd->add_option("file", file, "DAG file (YAML)")->required();
  cmd->add_option("-n", n, "How many fire times (default 5)")->check(CLI::Range(1, 100000));
  cmd->add_option("--after", after,
                  "Start after this time instead of now: YYYY-MM-DD[THH:MM[:SS]] in the DAG's "
                  "zone, or with Z / +HH:MM");
  cmd->callback([&] {
    action = [&]() -> int {
      dag::Dag dag = load_validated(file, {}, nullptr);
      const schedule::Timetable tt = require_schedule(dag, "flow schedule next");
      const Instant from = after.empty()
                               ? schedule::now()
                               : schedule::parse_time(after, tt.zone(), "--after").instant;
      const auto intervals = tt.next_intervals(from, n);
      if (g.json) {
        auto out = nlohmann::json::array();
        for (const auto& iv : intervals)
          out.push_back(fire_json(tt, iv));
        std::cout << out.dump(2) << "\n";
        return 0;
      }
      std::printf("%s: schedule '%s' in %s (catchup %s, max_active_runs %d)\n", dag.name.c_str(),
                  dag.schedule->c_str(), tt.zone().name().c_str(), dag.catchup ? "true" : "false",
                  dag.max_active_runs);
      std::printf("%-22s %-27s %s\n", "fire time (UTC)",
                  ("fire time (" + tt.zone().name() + ")").c_str(), "data interval");
      for (const auto& iv : intervals) {
        std::printf("%-22s %-27s %s .. %s\n", schedule::format_utc(iv.end).c_str(),
                    schedule::format_local(iv.end, tt.zone()).c_str(),
                    schedule::format_local(iv.start, tt.zone()).c_str(),
                    schedule::format_local(iv.end, tt.zone()).c_str());
      }
      return 0;
    };
  });
}

// `flow scheduler`
void register_scheduler(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* cmd = app.add_subcommand(
      "scheduler", "Daemon: start a run of each DAG with a schedule for every due interval");
  add_global_options(*cmd, g);
  auto& dags = ov.add<std::string>("dags");
  auto& once = ov.add<bool>(false);
  auto& jobs = ov.add<int>(0);
  auto& poll_s = ov.add<double>(5);
  cmd->add_option("--dags", dags, "Folder with the DAG files (default dags/)");
  cmd->add_flag("--once", once, "One tick: start what is due, run it to the end, exit");
  cmd->add_option("-j,--jobs", jobs, "Concurrent local tasks over all runs (default: cores)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--poll", poll_s, "Seconds between looks at the DAG folder (default 5)")
      ->check(CLI::Range(0.1, 3600.0));
  cmd->callback([&] {
    action = [&]() -> int {
      auto sites = load_sites();
      auto store = state::Store::open(g.db_path());
      Scheduler::Options o;
      o.dags_dir = dags;
      o.once = once;
      o.json = g.json;
      o.parallelism = jobs;
      o.poll = std::chrono::milliseconds(static_cast<long long>(poll_s * 1000));
      Scheduler scheduler(*store, sites, services(), g.home(), o);
      return scheduler.run();
    };
  });
}

// `flow backfill`
void register_backfill(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* cmd = app.add_subcommand(
      "backfill", "Run a scheduled DAG once for every interval that starts in a date range");
  add_global_options(*cmd, g);
  auto& name = ov.add<std::string>();
  auto& from = ov.add<std::string>();
  auto& to = ov.add<std::string>();
  auto& dags = ov.add<std::string>("dags");
  auto& jobs = ov.add<int>(0);
  cmd->add_option("name", name, "The DAG's name (its dag: value)")->required();
  cmd->add_option("--from", from, "First interval start: YYYY-MM-DD[THH:MM[:SS]] (DAG's zone)")
      ->required();
  cmd->add_option("--to", to, "Last interval start (a date: that whole day)")->required();
  cmd->add_option("--dags", dags, "Folder with the DAG files (default dags/)");
  cmd->add_option("-j,--jobs", jobs, "Concurrent local tasks (default: number of cores)")
      ->check(CLI::Range(1, 100000));
  cmd->callback([&] {
    action = [&]() -> int {
      auto sites = load_sites();
      dag::Dag dag = find_dag(dags, name, sites);
      const schedule::Timetable tt = require_schedule(dag, "flow backfill");
      const auto a = schedule::parse_time(from, tt.zone(), "--from");
      const auto b = schedule::parse_time(to, tt.zone(), "--to");
      // --to as a date takes in the whole day: up to the next midnight.
      Instant until = b.instant + std::chrono::seconds(1);
      if (b.date_only) {
        auto day = date::floor<date::days>(tt.zone().to_local(b.instant));
        until = schedule::to_instant(date::local_seconds(day + date::days(1)), tt.zone());
      }
      if (a.instant >= until) {
        throw InputError(SourceLocation{}, "--from " + from + " is after --to " + to);
      }
      constexpr size_t kMax = 10000;
      auto intervals = tt.intervals_starting(a.instant, until, kMax + 1);
      if (intervals.size() > kMax) {
        throw InputError(SourceLocation{}, "--from " + from + " --to " + to + " holds more than " +
                                               std::to_string(kMax) +
                                               " intervals; backfill a shorter range at a time");
      }
      auto store = state::Store::open(g.db_path());
      if (!g.json) {
        std::printf("backfill of %s: %zu interval%s from %s to %s (%s)\n", dag.name.c_str(),
                    intervals.size(), intervals.size() == 1 ? "" : "s",
                    schedule::format_local(a.instant, tt.zone()).c_str(),
                    schedule::format_local(until, tt.zone()).c_str(), tt.zone().name().c_str());
        std::fflush(stdout);
      }
      return run_backfill({g.home(), g.json, jobs}, *store, sites, services(), dag, intervals);
    };
  });
}

// `flow trigger`
void register_trigger(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* cmd =
      app.add_subcommand("trigger", "Start a run of a DAG (by name) now and run it to the end");
  add_global_options(*cmd, g);
  auto& name = ov.add<std::string>();
  auto& dags = ov.add<std::string>("dags");
  auto& run_id = ov.add<std::string>();
  auto& params = ov.add<std::vector<std::string>>();
  auto& jobs = ov.add<int>(0);
  cmd->add_option("name", name, "The DAG's name (its dag: value)")->required();
  cmd->add_option("-p,--param", params, "Override a parameter: key=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--dags", dags, "Folder with the DAG files (default dags/)");
  cmd->add_option("-j,--jobs", jobs, "Concurrent local tasks (default: number of cores)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--run-id", run_id, "Run id (default: DAG-TIMESTAMP-XXXX)");
  cmd->callback([&] {
    action = [&]() -> int {
      auto sites = load_sites();
      dag::Dag dag = find_dag(dags, name, sites);
      const Services wired = services();
      prepare_dag(dag, params, &sites, &wired);
      if (!run_id.empty() && !dag::is_valid_id(run_id)) {
        throw InputError(SourceLocation{}, "--run-id '" + run_id +
                                               "' is invalid: use letters, digits, '_', '.', '-'");
      }
      // A secret that cannot be read stops here, before any run is created.
      (void)run::read_secrets(dag);
      auto store = state::Store::open(g.db_path());
      state::RunRecord r =
          new_run_record(dag, run_id.empty() ? new_run_id(dag.name) : run_id, g.home(), jobs);
      set_manual_dates(r, dag, schedule::now());
      if (store->get_run(r.id)) {
        throw InputError(
            SourceLocation{},
            "--run-id '" + r.id + "' is already taken; resume it with: flow resume " + r.id);
      }
      // Like a manual run in Airflow, it waits for a free max_active_runs slot.
      for (bool told = false;; told = true) {
        int active = count_executing_runs(*store, dag.name);
        if (active < dag.max_active_runs) break;
        if (!told) {
          std::fprintf(stderr,
                       "flow: %d run%s of %s already active (max_active_runs %d); waiting for "
                       "one to end (Ctrl-C gives up; nothing is recorded yet)\n",
                       active, active == 1 ? "" : "s", dag.name.c_str(), dag.max_active_runs);
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
      return drive_in_foreground(g, *store, sites, std::move(dag), r, jobs, /*print_result=*/true,
                                 /*insert=*/true);
    };
  });
}

}  // namespace

void register_schedule_commands(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  register_schedule_next(app, g, action, ov);
  register_scheduler(app, g, action, ov);
  register_backfill(app, g, action, ov);
  register_trigger(app, g, action, ov);
}

}  // namespace flow::cli
