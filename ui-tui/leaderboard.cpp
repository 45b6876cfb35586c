#include "ui-tui/leaderboard.hpp"

#include <cmath>

#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/run/leaderboard.hpp"
#include "ui-tui/format.hpp"

namespace flow::tui {

namespace {

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int num(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<int>() : 0;
}

std::optional<double> optional_number(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

}  // namespace

Leaderboard Leaderboard::from_json(const std::string& task, const nlohmann::json& board) {
  Leaderboard b;
  b.task = task;
  b.algorithm = str(board, "algorithm");
  b.metric = str(board, "metric");
  b.mode = str(board, "mode");
  b.state = str(board, "state");
  b.samples = num(board, "samples");
  b.max_epochs = num(board, "max_epochs");
  if (auto it = board.find("best"); it != board.end() && it->is_object()) {
    b.best_trial = str(*it, "trial");
    b.best_metric = optional_number(*it, "metric");
    b.best_params = it->value("params", nlohmann::json::object());
  }
  for (const auto& id : board.value("pareto", nlohmann::json::array())) {
    if (id.is_string()) b.pareto.push_back(id.get<std::string>());
  }
  for (const auto& t : board.value("trials", nlohmann::json::array())) {
    TrialRow r;
    r.trial = str(t, "id");
    r.instance = str(t, "instance");
    r.metric = optional_number(t, "metric");
    r.epochs = num(t, "epochs");
    r.rung = num(t, "rung");
    r.generation = num(t, "generation");
    r.parent = str(t, "parent");
    r.status = str(t, "state");
    r.instance_state = str(t, "instance_state");
    r.params = t.value("params", nlohmann::json::object());
    r.objectives = t.value("objectives", nlohmann::json());
    r.pareto = t.value("pareto", false);
    for (const auto& h : t.value("history", nlohmann::json::array())) {
      if (!h.is_array() || h.size() < 2 || !h[0].is_number()) continue;
      r.curve.push_back({h[0].get<int>(), h[1].is_number() ? h[1].get<double>() : NAN});
    }
    b.trials.push_back(std::move(r));
  }
  return b;
}

Leaderboard Leaderboard::load(state::Store& store, const state::RunRecord& run, const dag::Dag& dag,
                              const std::string& task) {
  const dag::Task* t = dag.find(task);
  if (!t || !t->hpo) {
    std::vector<std::string> sweeps;
    for (const auto& x : dag.tasks)
      if (x.hpo) sweeps.push_back(x.id);
    throw Error(ErrorKind::kInvalidInput,
                "'" + task + "' is not an hpo task" +
                    (sweeps.empty() ? "; this DAG has none" : "; hpo tasks: " + join(sweeps)));
  }
  const nlohmann::json json = run::sweep_leaderboard(store, run.id, *t);
  Leaderboard board = from_json(task, json);
  run::SweepCurves curves = run::sweep_curves(store, run.id, *t, json);
  board.rungs = std::move(curves.rungs);
  for (auto& trial : board.trials) {
    if (auto it = curves.by_instance.find(trial.instance); it != curves.by_instance.end())
      trial.curve = std::move(it->second);
  }
  return board;
}

bool trial_matches(const TrialRow& t, std::string_view filter) {
  const std::string params = params_text(t.params);
  return matches(filter, {t.trial, t.status, params});
}

}  // namespace flow::tui
