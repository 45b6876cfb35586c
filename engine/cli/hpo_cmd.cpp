// flow hpo RUN TASK — the leaderboard of an HPO node (docs/REFERENCE.md §2.5, §7.2).
#include <cstdio>
#include <iostream>

#include "engine/cli/app.hpp"
#include "engine/cli/render.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/dag/loader.hpp"
#include "engine/run/leaderboard.hpp"

namespace flow::cli {

namespace {

std::string short_params(const nlohmann::json& params) {
  std::string s;
  for (const auto& [k, v] : params.items()) {
    if (!s.empty()) s += " ";
    std::string text = v.dump();
    if (v.is_number_float()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.4g", v.get<double>());
      text = buf;
    }
    s += k + "=" + text;
  }
  return s;
}

void print_table(const nlohmann::json& board) {
  std::printf("%s on %s (%s), %zu trials, %s\n", board["algorithm"].get<std::string>().c_str(),
              board["metric"].get<std::string>().c_str(), board["mode"].get<std::string>().c_str(),
              board["trials"].size(), board["state"].get<std::string>().c_str());
  if (board["best"].is_object()) {
    std::printf("best: %s %s=%s  %s\n", board["best"]["trial"].get<std::string>().c_str(),
                board["metric"].get<std::string>().c_str(), board["best"]["metric"].dump().c_str(),
                short_params(board["best"]["params"]).c_str());
  }
  if (board.value("core_hours", nlohmann::json()).is_number()) {
    std::printf("cost: %.3g core-hours", board["core_hours"].get<double>());
    if (board.value("gpu_hours", nlohmann::json()).is_number())
      std::printf(", %.3g GPU-hours", board["gpu_hours"].get<double>());
    std::printf(" (allotted x run time, all tries)\n");
  }
  if (board.contains("objectives")) {
    std::string objectives, front;
    for (const auto& o : board["objectives"])
      objectives += (objectives.empty() ? "" : ", ") + o["metric"].get<std::string>() + " (" +
                    o["mode"].get<std::string>() + ")";
    for (const auto& id : board["pareto"])
      front += " " + id.get<std::string>();
    std::printf("objectives: %s; best by %s\npareto front:%s\n", objectives.c_str(),
                board["best_rule"].dump().c_str(), front.empty() ? " -" : front.c_str());
  }
  std::printf("\n%-10s %-10s %12s %6s %4s %4s %-10s %s\n", "TRIAL", "STATE", "METRIC", "EPOCHS",
              "RUNG", "GEN", "PARENT", "PARAMS");
  for (const auto& t : board["trials"]) {
    char metric[32] = "-";
    if (t["metric"].is_number())
      std::snprintf(metric, sizeof metric, "%.6g", t["metric"].get<double>());
    std::printf("%-10s %-10s %12s %6d %4d %4d %-10s %s\n", t["id"].get<std::string>().c_str(),
                t["state"].get<std::string>().c_str(), metric, t["epochs"].get<int>(),
                t["rung"].get<int>(), t["generation"].get<int>(),
                t["parent"].is_string() ? t["parent"].get<std::string>().c_str() : "-",
                ((t.value("objectives", nlohmann::json()).is_object()
                      ? std::string(t.value("pareto", false) ? "* " : "  ") +
                            short_params(t["objectives"]) + " | "
                      : std::string()) +
                 short_params(t["params"]))
                    .c_str());
  }
}

}  // namespace

void register_hpo_commands(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* cmd = app.add_subcommand("hpo", "Leaderboard of an HPO node: trials, params, metric");
  add_global_options(*cmd, g);
  auto& id = ov.add<std::string>();
  auto& task = ov.add<std::string>();
  cmd->add_option("run_id", id, "Run id")->required();
  cmd->add_option("task", task, "The hpo task, e.g. tune")->required();
  cmd->callback([&] {
    action = [&]() -> int {
      auto store = state::Store::open_existing(g.db_path());
      auto run = require_run(*store, id);
      dag::Dag dag = dag::load_dag_text(run.dag_yaml, run.dag_file);
      const dag::Task* t = dag.find(task);
      if (!t || !t->hpo) {
        std::vector<std::string> sweeps;
        for (const auto& x : dag.tasks)
          if (x.hpo) sweeps.push_back(x.id);
        throw Error(ErrorKind::kInvalidInput,
                    "run " + id + " has no hpo task '" + task + "'" + did_you_mean(task, sweeps) +
                        (sweeps.empty() ? "; its DAG has none" : "; hpo tasks: " + join(sweeps)));
      }
      auto board = run::sweep_leaderboard(*store, id, *t);
      if (g.json) {
        std::cout << board.dump(2) << "\n";
      } else {
        print_table(board);
      }
      return 0;
    };
  });
}

}  // namespace flow::cli
