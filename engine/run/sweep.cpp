#include "engine/run/sweep.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <string_view>

#include "engine/core/sha256.hpp"
#include "engine/core/suggest.hpp"
#include "engine/dag/hpo_config.hpp"
#include "engine/state/trial_segment.hpp"
#include "hpo/pareto.hpp"

namespace flow::run {

namespace {

const char* kKey = "trial";  // the instance attrs key that holds the trial

nlohmann::json to_json(const hpo::TrialRecord& t) {
  auto history = nlohmann::json::array();
  for (const auto& [e, m] : t.history)
    history.push_back({e, m});
  return {{"index", t.index},
          {"params", t.params},
          {"bracket", t.bracket},
          {"rung", t.rung},
          {"generation", t.generation},
          {"parent", t.parent},
          {"epochs", t.epochs},
          {"source", t.source},
          {"history", history},
          {"objectives", t.objectives},
          {"status", std::string(hpo::to_string(t.status))}};
}

hpo::TrialRecord from_json(const nlohmann::json& j) {
  hpo::TrialRecord t;
  t.index = j.value("index", 0);
  t.params = j.value("params", nlohmann::json::object());
  t.bracket = j.value("bracket", 0);
  t.rung = j.value("rung", 0);
  t.generation = j.value("generation", 0);
  t.parent = j.value("parent", -1);
  t.epochs = j.value("epochs", 0);
  t.source = j.value("source", -1);
  for (const auto& h : j.value("history", nlohmann::json::array()))
    t.history.emplace_back(h.at(0).get<int>(), h.at(1).get<double>());
  for (const auto& v : j.value("objectives", nlohmann::json::array()))
    t.objectives.push_back(v.is_number() ? v.get<double>() : NAN);
  t.status =
      hpo::trial_status_from(j.value("status", "running")).value_or(hpo::TrialStatus::kRunning);
  return t;
}

void store(state::InstanceRecord& inst, const hpo::TrialRecord& t) {
  auto& j = inst.attrs[kKey];
  const auto keep = j.is_object() ? j : nlohmann::json::object();
  j = to_json(t);
  for (const char* k : {"target", "checkpoint", "checkpoint_in", "checkpoint_out", "segment",
                        "segment_tries_before"}) {
    if (keep.contains(k)) j[k] = keep[k];
  }
}

uint64_t seed_of(const dag::Task& task, const std::string& run_id) {
  if (task.hpo->seed) return *task.hpo->seed;
  return std::stoull(sha256_hex(run_id + "/" + task.id).substr(0, 15), nullptr, 16);
}

}  // namespace

Sweep::Sweep(const dag::Task& task, const std::string& run_id)
    : task_id_(task.id), tuner_(hpo::make_tuner(config_of(*task.hpo), seed_of(task, run_id))) {
  for (auto& index : tuner_->make_indices())
    records_.attach(std::move(index));
}

hpo::Config Sweep::config_of(const dag::HpoSpec& spec) {
  return dag::hpo_config(spec);
}

std::string Sweep::trial_instance_id(const std::string& task, int trial) {
  return task + "[trial-" + std::to_string(trial) + "]";
}

std::string Sweep::best_trial_instance_id(const std::string& task, const nlohmann::json& best) {
  return task + "[" + best.value("trial", std::string()) + "]";
}

namespace {
// Reads the trial records of `insts` into `records`, each at its trial number; a number no
// instance has yet is a default record with that index. Returns the indices read.
template <typename Instances>
std::vector<int> read_trials(const Instances& insts, hpo::Trials& records) {
  std::vector<int> read;
  for (const auto* c : insts) {
    if (!c->attrs.contains(kKey)) continue;
    auto t = from_json(c->attrs[kKey]);
    t.index = std::max(t.index, 0);
    read.push_back(t.index);
    records.put(std::move(t));
  }
  return read;
}
}  // namespace

hpo::Trials& Sweep::update_trials(const std::vector<const state::InstanceRecord*>& changed) {
  has_trials_ = true;
  for (int i : read_trials(changed, records_)) {
    holding_.insert(i);  // its checkpoints may have changed
    changed_.push_back(i);
  }
  return records_;
}

void Sweep::begin_segment(state::InstanceRecord& inst, const hpo::Segment& s, hpo::Trials& records,
                          const std::string& run_dir,
                          const state::InstanceRecord* resume_source) const {
  // Read the source's latest checkpoint first: it may be this very instance.
  std::string checkpoint_in;
  if (resume_source && resume_source->attrs.contains(kKey))
    checkpoint_in = resume_source->attrs[kKey].value("checkpoint", "");
  hpo::TrialRecord t;
  if (static_cast<size_t>(s.trial) < records.size()) t = records[static_cast<size_t>(s.trial)];
  // The segments so far: counted from the first; a trial begun before they were counted
  // has had one per segment it completed.
  const state::SegmentTry so_far = state::segment_try_of(inst);
  int segments_before = 0;
  if (so_far.is_trial())
    segments_before = so_far.segment;
  else if (inst.attrs.contains(kKey))
    segments_before = static_cast<int>(t.history.size());
  t.index = s.trial;
  t.params = s.params;
  t.bracket = s.bracket;
  t.rung = s.rung;
  t.generation = s.generation;
  t.parent = s.parent;
  t.source = s.resume_from;
  t.epochs = s.start_epochs;
  t.status = hpo::TrialStatus::kRunning;
  store(inst, t);
  records.put(std::move(t));
  holding_.insert(s.trial);
  changed_.push_back(s.trial);
  auto& j = inst.attrs[kKey];
  j.erase("continued_from");  // a new segment: no continuation yet
  j["target"] = s.target_epochs;
  j["checkpoint_in"] = checkpoint_in;
  j["checkpoint_out"] = checkpoint_path(run_dir, s.trial, s.target_epochs);
  state::set_segment_try(inst, {segments_before + 1, 0}, inst.try_number);
  prune(records, run_dir, /*every_trial=*/false);
}

std::string Sweep::checkpoint_path(const std::string& run_dir, int trial, int epochs) const {
  return run_dir + "/hpo-" + task_id_ + "-trial-" + std::to_string(trial) + "-e" +
         std::to_string(epochs) + ".ckpt";
}

bool Sweep::is_checkpoint_name(const std::string& task, const std::string& name) {
  const std::string head = "hpo-" + task + "-trial-";
  const std::string tail = ".ckpt";
  if (name.size() <= head.size() + tail.size() || name.compare(0, head.size(), head) != 0 ||
      name.compare(name.size() - tail.size(), tail.size(), tail) != 0)
    return false;
  // What is between: N-eE, both decimal numbers.
  const std::string mid = name.substr(head.size(), name.size() - head.size() - tail.size());
  const size_t dash = mid.find("-e");
  auto digits = [](std::string_view v) {
    return !v.empty() &&
           std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return dash != std::string::npos && digits(std::string_view(mid).substr(0, dash)) &&
         digits(std::string_view(mid).substr(dash + 2));
}

namespace {
uint64_t checkpoint_key(int trial, int epochs) {
  return static_cast<uint64_t>(static_cast<uint32_t>(trial)) << 32 | static_cast<uint32_t>(epochs);
}
}  // namespace

void Sweep::prune(const hpo::Trials& records, const std::string& run_dir, bool every_trial) const {
  if (run_dir.empty()) {  // nothing reachable to delete: nothing to remember either
    changed_.clear();
    return;
  }
  std::vector<int> among;
  if (every_trial) {
    for (const auto& t : records)
      among.push_back(t.index);
  } else if (++since_full_ * kFullPruneEvery >= holding_.size()) {
    // Every trial that may hold a checkpoint: also those a tuner retires without their
    // record changing (ASHA: a paused trial that others have outranked for good).
    since_full_ = 0;
    among.assign(holding_.begin(), holding_.end());
  } else {
    // What may have retired since the last prune: the changed trials' checkpoints, those
    // their segments started from, and the best trial's, if another one overtook it.
    std::set<int> look;
    for (int i : changed_) {
      look.insert(i);
      if (i >= 0 && static_cast<size_t>(i) < records.size()) {
        const int source = records[static_cast<size_t>(i)].source;
        if (source >= 0) look.insert(source);
      }
    }
    if (last_best_) look.insert(*last_best_);
    for (int i : look) {
      if (holding_.count(i)) among.push_back(i);
    }
  }
  changed_.clear();
  last_best_ = tuner_->best(records);
  for (const auto& [trial, epochs] : tuner_->retired_checkpoints(records, among)) {
    if (!pruned_.insert(checkpoint_key(trial, epochs)).second) continue;  // removed before
    std::error_code ec;  // absent (deleted before, never written, or not on this machine)
    std::filesystem::remove(checkpoint_path(run_dir, trial, epochs), ec);
  }
  // A trial all of whose checkpoints are removed has nothing left to retire until its
  // record changes (update_trials, begin_segment put it back).
  for (int i : among) {
    if (i < 0 || static_cast<size_t>(i) >= records.size()) continue;
    const auto& h = records[static_cast<size_t>(i)].history;
    if (std::all_of(h.begin(), h.end(),
                    [&](const auto& e) { return pruned_.count(checkpoint_key(i, e.first)) > 0; }))
      holding_.erase(i);
  }
}

namespace {

// One metrics line as JSON. Python's json module writes NaN, Infinity and -Infinity, which
// are not JSON: they are read as null here, so that a diverged trial is seen, not skipped.
nlohmann::json parse_metrics_line(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_discarded()) return j;
  // NaN, Infinity and -Infinity outside strings become null.
  std::string fixed;
  fixed.reserve(line.size());
  bool in_string = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (in_string) {
      fixed += c;
      if (c == '\\' && i + 1 < line.size()) fixed += line[++i];
      if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (std::string_view word : {"-Infinity", "Infinity", "NaN"}) {
      const size_t end = i + word.size();
      if (line.compare(i, word.size(), word) == 0 &&
          (end == line.size() || !std::isalnum(static_cast<unsigned char>(line[end])))) {
        fixed += "null";
        i = end - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) fixed += c;
  }
  return nlohmann::json::parse(fixed, nullptr, false);
}

}  // namespace

std::optional<std::string> Sweep::end_segment(state::InstanceRecord& inst,
                                              const std::filesystem::path& metrics) const {
  auto t = from_json(inst.attrs[kKey]);
  const int target = inst.attrs[kKey].value("target", spec().max_epochs);
  const hpo::Config& c = spec();
  std::vector<std::string> names;
  for (const auto& o : c.objectives)
    names.push_back(o.metric);
  if (names.empty()) names.push_back(c.metric);
  // The last line (at an epoch no later than the target) that has every objective.
  std::optional<std::vector<double>> values;
  std::ifstream in(metrics, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    auto j = parse_metrics_line(line);
    if (!j.is_object()) continue;
    if (j.contains("epoch") && j["epoch"].is_number() && j["epoch"].get<double>() > target)
      continue;
    std::vector<double> row;
    for (const auto& n : names) {
      if (!j.contains(n) || !(j[n].is_number() || j[n].is_null())) break;
      row.push_back(j[n].is_number() ? j[n].get<double>() : NAN);
    }
    if (row.size() == names.size()) values = std::move(row);
  }
  auto failed = [&](std::string why) {
    t.status = hpo::TrialStatus::kFailed;
    store(inst, t);
    return why;
  };
  if (!values) {
    std::string example;
    for (const auto& n : names)
      example += ", \"" + n + "\": 0.42";
    return failed("the trial reported no " +
                  (names.size() == 1 ? "'" + names[0] + "'"
                                     : "line with all of its objectives (" + join(names) + ")") +
                  " in $FLOW_METRICS_FILE (write JSON lines such as {\"epoch\": 3" + example +
                  "})");
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (!std::isfinite((*values)[i]))
      return failed("the trial reported " + names[i] +
                    " = NaN or infinite (epoch <= " + std::to_string(target) +
                    "); it is recorded as failed and left out of the tuner's model");
  }
  t.epochs = target;
  t.history.emplace_back(target, hpo::scalarize(c, *values));
  if (c.multi_objective()) t.objectives = *values;
  t.status = tuner_->after_segment(t);
  store(inst, t);
  inst.attrs[kKey]["checkpoint"] = inst.attrs[kKey].value("checkpoint_out", "");
  return std::nullopt;
}

std::optional<int> Sweep::continue_after_time_limit(state::InstanceRecord& inst,
                                                    const std::filesystem::path& metrics) const {
  if (!inst.attrs.contains(kKey)) return std::nullopt;
  auto& j = inst.attrs[kKey];
  const std::string out = j.value("checkpoint_out", "");
  if (out.empty()) return std::nullopt;
  const int target = j.value("target", spec().max_epochs);
  const int from = j.value("continued_from", from_json(j).epochs);
  std::optional<int> saved;
  std::ifstream in(metrics, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    auto m = parse_metrics_line(line);
    if (!m.is_object() || !m.contains("checkpoint") || m["checkpoint"] != true ||
        !m.contains("epoch") || !m["epoch"].is_number_integer())
      continue;
    const int e = m["epoch"].get<int>();
    if (e > from && e <= target) saved = e;
  }
  if (!saved) return std::nullopt;
  j["checkpoint_in"] = out;
  j["continued_from"] = *saved;
  return saved;
}

void Sweep::fail(state::InstanceRecord& inst) const {
  auto t = from_json(inst.attrs[kKey]);
  t.status = hpo::TrialStatus::kFailed;
  store(inst, t);
}

nlohmann::json Sweep::conclude(const std::vector<state::InstanceRecord*>& insts) const {
  std::string run_dir;
  for (auto* inst : insts) {
    auto t = from_json(inst->attrs[kKey]);
    if (t.status == hpo::TrialStatus::kPaused) {
      t.status = hpo::TrialStatus::kStopped;
      store(*inst, t);
    }
    const std::string out = inst->attrs[kKey].value("checkpoint_out", "");
    if (run_dir.empty() && !out.empty()) run_dir = std::filesystem::path(out).parent_path();
  }
  hpo::Trials records;  // every trial, read afresh once
  for (auto& index : tuner_->make_indices())
    records.attach(std::move(index));
  read_trials(insts, records);
  prune(records, run_dir, /*every_trial=*/true);  // every checkpoint but the best's latest
  auto best = tuner_->best(records);
  if (!best) return nullptr;
  const auto& b = records[static_cast<size_t>(*best)];
  nlohmann::json out = {
      {"trial", b.id()}, {"params", b.params}, {"metric", *b.metric()}, {"epochs", b.epochs}};
  if (spec().multi_objective()) {
    out["objectives"] = objectives_json(spec(), b);
    auto front = nlohmann::json::array();
    for (int i : hpo::pareto_front(spec(), records.records()))
      front.push_back(records[static_cast<size_t>(i)].id());
    out["pareto"] = front;
  }
  return out;
}

nlohmann::json Sweep::objectives_json(const hpo::Config& c, const hpo::TrialRecord& t) {
  if (t.objectives.size() != c.objectives.size()) return nullptr;
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < c.objectives.size(); ++i)
    j[c.objectives[i].metric] = t.objectives[i];
  return j;
}

std::map<std::string, std::string> Sweep::env(const state::InstanceRecord& inst) {
  if (!inst.attrs.contains(kKey)) return {};
  const auto& j = inst.attrs[kKey];
  return {{"FLOW_TRIAL_ID", "trial-" + std::to_string(j.value("index", 0))},
          {"FLOW_TRIAL_PARAMS", j.value("params", nlohmann::json::object()).dump()},
          {"FLOW_TRIAL_EPOCHS", std::to_string(j.value("target", 0))},
          {"FLOW_CHECKPOINT_IN", j.value("checkpoint_in", "")},
          {"FLOW_CHECKPOINT_OUT", j.value("checkpoint_out", "")}};
}

std::optional<nlohmann::json> Sweep::lookup(const state::InstanceRecord& inst,
                                            const std::vector<std::string>& path) {
  if (!inst.attrs.contains(kKey) || path.empty()) return std::nullopt;
  const auto& j = inst.attrs[kKey];
  if (path[0] == "params_json" && path.size() == 1)
    return j.value("params", nlohmann::json::object()).dump();
  if (path[0] == "epochs" && path.size() == 1) return j.value("target", 0);
  if (path[0] == "id" && path.size() == 1) return "trial-" + std::to_string(j.value("index", 0));
  if (path[0] == "params" && path.size() == 2) {
    const auto& p = j.value("params", nlohmann::json::object());
    if (p.contains(path[1])) return p[path[1]];
  }
  return std::nullopt;
}

nlohmann::json Sweep::leaderboard(const dag::HpoSpec& spec, const state::InstanceRecord& parent,
                                  const std::vector<state::InstanceRecord>& trials) {
  const hpo::Config config = config_of(spec);
  std::vector<const state::InstanceRecord*> view;
  for (const auto& inst : trials)
    view.push_back(&inst);
  std::vector<hpo::TrialRecord> records;
  for (const auto* inst : view) {
    if (!inst->attrs.contains(kKey)) continue;
    auto t = from_json(inst->attrs[kKey]);
    if (t.index >= static_cast<int>(records.size()))
      records.resize(static_cast<size_t>(t.index) + 1);
    records[static_cast<size_t>(t.index)] = std::move(t);
  }
  std::set<int> front;
  for (int i : hpo::pareto_front(config, records))
    front.insert(i);
  int failed = 0;
  auto rows = nlohmann::json::array();
  for (const auto& inst : trials) {
    if (!inst.attrs.contains(kKey)) continue;
    const auto& j = inst.attrs[kKey];
    auto t = from_json(j);
    nlohmann::json row = {
        {"id", t.id()},
        {"instance", inst.id},
        {"params", t.params},
        {"metric", t.metric() ? nlohmann::json(*t.metric()) : nlohmann::json()},
        {"epochs", t.epochs},
        {"state", std::string(hpo::to_string(t.status))},
        {"instance_state", std::string(state::to_string(inst.state))},
        {"rung", t.rung},
        {"bracket", t.bracket},
        {"generation", t.generation},
        {"parent",
         t.parent < 0 ? nlohmann::json() : nlohmann::json("trial-" + std::to_string(t.parent))},
        {"target_epochs", j.value("target", 0)},
        {"tries", inst.try_number},
        {"history", j.value("history", nlohmann::json::array())}};
    // The segment it is on and its try of it (engine/state/trial_segment.hpp); null for a
    // trial recorded before segments were counted.
    if (const state::SegmentTry s = state::segment_try_of(inst); s.is_trial()) {
      row["segment"] = s.segment;
      row["segment_try"] = s.try_in_segment;
    } else {
      row["segment"] = row["segment_try"] = nullptr;
    }
    if (config.multi_objective()) {
      row["objectives"] = objectives_json(config, t);
      row["pareto"] = front.count(t.index) > 0;
    }
    failed += t.status == hpo::TrialStatus::kFailed;
    rows.push_back(std::move(row));
  }
  const bool max = spec.mode == "max";
  std::stable_sort(rows.begin(), rows.end(), [&](const nlohmann::json& a, const nlohmann::json& b) {
    if (a["metric"].is_null() != b["metric"].is_null()) return b["metric"].is_null();
    if (a["metric"].is_null()) return false;
    const double x = a["metric"].get<double>(), y = b["metric"].get<double>();
    return max ? x > y : x < y;
  });
  nlohmann::json best = nullptr;
  if (const auto& b = parent.attr("best"); b.is_object()) {
    best = {{"trial", b["trial"]},
            {"params", b["params"]},
            {"metric", b["metric"]},
            {"epochs", b.value("epochs", 0)}};
    if (b.contains("objectives")) best["objectives"] = b["objectives"];
  }
  nlohmann::json board = {{"algorithm", spec.algorithm},
                          {"metric", spec.metric},
                          {"mode", spec.mode},
                          {"samples", spec.samples},
                          {"max_epochs", spec.max_epochs},
                          {"state", std::string(state::to_string(parent.state))},
                          {"best", best},
                          {"sampler", config.model_based() ? "tpe" : "random"},
                          {"failed", failed},
                          {"trials", rows}};
  if (config.multi_objective()) {
    auto objectives = nlohmann::json::array();
    for (const auto& o : config.objectives)
      objectives.push_back({{"metric", o.metric}, {"mode", o.mode}});
    board["objectives"] = objectives;
    board["best_rule"] = config.best.metric.empty()
                             ? nlohmann::json{{"weights", config.best.weights}}
                             : nlohmann::json(config.best.metric);
    auto ids = nlohmann::json::array();
    for (int i : front)
      ids.push_back("trial-" + std::to_string(i));
    board["pareto"] = ids;
  }
  return board;
}

}  // namespace flow::run
