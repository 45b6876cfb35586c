#include "bench/hpo/sim.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <queue>
#include <stdexcept>

#include "hpo/tuner.hpp"

namespace flow::bench {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<int> milestones(int grace, int rf, int max_epochs) {
  std::vector<int> m;
  for (long long e = grace; e < max_epochs; e *= rf)
    m.push_back(static_cast<int>(e));
  m.push_back(max_epochs);
  return m;
}

// Records the chosen config's true value at every fraction of the budget passed so far.
struct Progress {
  long budget;
  std::vector<double> true_at = std::vector<double>(kFractions.size(), NAN);
  size_t next = 0;
  void at(long spent, double chosen_true) {
    while (next < kFractions.size() && spent >= static_cast<long>(kFractions[next] * budget))
      true_at[next++] = chosen_true;
  }
  void finish(double chosen_true) {
    while (next < kFractions.size())
      true_at[next++] = chosen_true;
  }
};

}  // namespace

Result run_flow(const Objective& o, const std::string& algorithm, const std::string& sampler,
                const Settings& s) {
  const auto t0 = std::chrono::steady_clock::now();
  hpo::Config c;
  c.algorithm = algorithm;
  c.sampler = sampler;
  c.metric = "loss";
  c.mode = "min";
  c.max_epochs = o.max_epochs;
  c.grace_epochs = s.grace;
  c.reduction_factor = s.rf;
  c.parallel = s.workers;
  c.space = o.space;
  // Whole-run algorithms get exactly the trials the budget pays for; the others as many
  // as they can start.
  c.samples = algorithm == "random" || algorithm == "tpe"
                  ? static_cast<int>(s.budget / o.max_epochs)
                  : 1000000;
  auto tuner = hpo::make_tuner(c, s.seed);

  std::vector<hpo::TrialRecord> trials;
  struct Running {
    double end;
    int trial;
    int target;
    bool operator>(const Running& r) const { return end != r.end ? end > r.end : trial > r.trial; }
  };
  std::priority_queue<Running, std::vector<Running>, std::greater<>> running;
  long started = 0, finished = 0;
  double now = 0;
  bool exhausted = false;
  Progress progress{s.budget};
  auto chosen = [&] {
    auto b = tuner->best(trials);
    return b ? o.final_value(trials[static_cast<size_t>(*b)].params) : NAN;
  };
  while (true) {
    while (!exhausted) {
      auto seg = tuner->next(trials);
      if (!seg) break;
      const int len = seg->target_epochs - seg->start_epochs;
      if (started + len > s.budget) {
        exhausted = true;
        break;
      }
      started += len;
      if (seg->fresh) trials.emplace_back().index = seg->trial;
      auto& r = trials[static_cast<size_t>(seg->trial)];
      r.params = seg->params;
      r.bracket = seg->bracket;
      r.rung = seg->rung;
      r.generation = seg->generation;
      r.parent = seg->parent;
      r.source = seg->resume_from;
      r.epochs = seg->start_epochs;
      r.status = hpo::TrialStatus::kRunning;
      running.push({now + len, seg->trial, seg->target_epochs});
    }
    if (running.empty()) break;
    auto done = running.top();
    running.pop();
    now = done.end;
    auto& r = trials[static_cast<size_t>(done.trial)];
    finished += done.target - r.epochs;
    r.epochs = done.target;
    r.history.emplace_back(r.epochs, o.observe(r.params, r.epochs, s.seed, r.index));
    r.status = tuner->after_segment(r);
    progress.at(finished, chosen());
  }
  progress.finish(chosen());
  Result res;
  res.true_at = progress.true_at;
  res.trials = static_cast<int>(trials.size());
  res.epochs = finished;
  res.seconds = seconds_since(t0);
  return res;
}

Optuna::Optuna(const std::string& python, const std::string& driver) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    close(in[1]);
    close(out[0]);
    execl(python.c_str(), python.c_str(), driver.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  to_ = fdopen(in[1], "w");
  from_ = fdopen(out[0], "r");
  try {
    auto v = call({{"op", "version"}});
    if (!v.contains("optuna")) throw std::runtime_error("no version");
  } catch (...) {
    fclose(to_);
    fclose(from_);
    to_ = from_ = nullptr;
  }
}

Optuna::~Optuna() {
  if (to_) fclose(to_);
  if (from_) fclose(from_);
  if (pid_ > 0) waitpid(pid_, nullptr, 0);
}

nlohmann::json Optuna::call(const nlohmann::json& request) {
  if (!to_) throw std::runtime_error("optuna driver is not running");
  const std::string line = request.dump() + "\n";
  std::fputs(line.c_str(), to_);
  std::fflush(to_);
  std::string answer;
  int ch;
  while ((ch = std::fgetc(from_)) != EOF && ch != '\n')
    answer.push_back(static_cast<char>(ch));
  if (answer.empty()) throw std::runtime_error("optuna driver ended (request " + line + ")");
  return nlohmann::json::parse(answer);
}

Result run_optuna(Optuna& py, const Objective& o, const std::string& sampler,
                  const std::string& pruner, const Settings& s) {
  const auto t0 = std::chrono::steady_clock::now();
  auto space = nlohmann::json::array();
  for (const auto& d : o.space) {
    nlohmann::json j = {{"name", d.name}, {"kind", std::string(hpo::to_string(d.kind))}};
    if (d.kind == hpo::DimKind::kChoice)
      j["choices"] = d.choices;
    else
      j["lo"] = d.lo, j["hi"] = d.hi;
    space.push_back(j);
  }
  py.call({{"op", "study"},
           {"sampler", sampler},
           {"pruner", pruner},
           {"seed", s.seed},
           {"space", space},
           {"grace", s.grace},
           {"max_epochs", o.max_epochs},
           {"rf", s.rf}});
  const auto rungs = milestones(s.grace, s.rf, o.max_epochs);
  struct Worker {
    int trial = -1;
    hpo::Params params;
    int epoch = 0;
  };
  std::vector<Worker> workers(static_cast<size_t>(s.workers));
  long spent = 0;
  int trials = 0;
  double best_value = INFINITY;
  hpo::Params best_params;
  bool have_best = false;
  Progress progress{s.budget};
  auto chosen = [&] { return have_best ? o.final_value(best_params) : NAN; };
  // Lockstep: every epoch of simulated time, each worker trains one epoch (in worker
  // order), starting a new trial first if it is idle.
  while (spent < s.budget) {
    for (auto& w : workers) {
      if (spent >= s.budget) break;
      if (w.trial < 0) {
        auto a = py.call({{"op", "ask"}});
        w.trial = a["id"].get<int>();
        w.params = a["params"];
        w.epoch = 0;
        ++trials;
      }
      ++w.epoch;
      ++spent;
      const double v = o.observe(w.params, w.epoch, s.seed, w.trial);
      bool stop = false;
      if (w.epoch == o.max_epochs) {
        py.call({{"op", "tell"}, {"id", w.trial}, {"value", v}});
        if (v < best_value) best_value = v, best_params = w.params, have_best = true;
        stop = true;
      } else if (pruner != "none" &&
                 std::find(rungs.begin(), rungs.end(), w.epoch) != rungs.end()) {
        auto r = py.call({{"op", "report"}, {"id", w.trial}, {"step", w.epoch}, {"value", v}});
        if (r.value("prune", false)) {
          py.call({{"op", "tell"}, {"id", w.trial}, {"pruned", true}});
          stop = true;
        }
      }
      if (stop) w.trial = -1;
      progress.at(spent, chosen());
    }
  }
  for (auto& w : workers) {
    if (w.trial >= 0) py.call({{"op", "tell"}, {"id", w.trial}, {"pruned", true}});
  }
  progress.finish(chosen());
  Result res;
  res.true_at = progress.true_at;
  res.trials = trials;
  res.epochs = spent;
  res.seconds = seconds_since(t0);
  return res;
}

}  // namespace flow::bench
