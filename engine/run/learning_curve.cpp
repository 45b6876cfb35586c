#include "engine/run/learning_curve.hpp"

#include <optional>

#include "engine/dag/hpo_config.hpp"
#include "hpo/asha.hpp"

namespace flow::run {

namespace {

// A value of a metrics line: a number, or NaN for null; nullopt when it is not there.
std::optional<double> value_of(const nlohmann::json& line, const std::string& key) {
  auto it = line.find(key);
  if (it == line.end()) return std::nullopt;
  if (it->is_number()) return it->get<double>();
  if (it->is_null()) return NAN;
  return std::nullopt;
}

}  // namespace

std::vector<CurvePoint> trial_curve(const hpo::Config& config,
                                    const std::vector<state::MetricRecord>& lines,
                                    const nlohmann::json& history) {
  std::vector<std::string> names;
  for (const auto& o : config.objectives)
    names.push_back(o.metric);
  if (names.empty()) names.push_back(config.metric);
  std::map<int, double> by_epoch;
  for (const auto& line : lines) {
    if (!line.values.is_object()) continue;
    auto epoch = line.values.find("epoch");
    if (epoch == line.values.end() || !epoch->is_number()) continue;
    std::vector<double> row;
    for (const auto& n : names) {
      auto v = value_of(line.values, n);
      if (!v) break;
      row.push_back(*v);
    }
    if (row.size() != names.size()) continue;
    by_epoch[static_cast<int>(std::lround(epoch->get<double>()))] = hpo::scalarize(config, row);
  }
  std::vector<CurvePoint> out;
  if (by_epoch.empty() && history.is_array()) {
    for (const auto& h : history) {
      if (!h.is_array() || h.size() < 2 || !h[0].is_number()) continue;
      by_epoch[h[0].get<int>()] = h[1].is_number() ? h[1].get<double>() : NAN;
    }
  }
  for (const auto& [epoch, value] : by_epoch)
    out.push_back({epoch, value});
  return out;
}

SweepCurves sweep_curves(state::Store& store, const std::string& run_id, const dag::Task& task,
                         const nlohmann::json& board) {
  SweepCurves out;
  if (!task.hpo) return out;
  const hpo::Config config = dag::hpo_config(*task.hpo);
  if (config.algorithm == "asha" || config.algorithm == "hyperband")
    out.rungs = hpo::rung_milestones(config);
  for (const auto& t : board.value("trials", nlohmann::json::array())) {
    const std::string instance = t.value("instance", std::string());
    if (instance.empty()) continue;
    out.by_instance[instance] = trial_curve(config, store.metrics(run_id, instance),
                                            t.value("history", nlohmann::json::array()));
  }
  return out;
}

nlohmann::json curve_json(const std::vector<CurvePoint>& points) {
  auto out = nlohmann::json::array();
  for (const auto& p : points)
    out.push_back({p.epoch, std::isnan(p.value) ? nlohmann::json() : nlohmann::json(p.value)});
  return out;
}

}  // namespace flow::run
