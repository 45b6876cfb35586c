#include "ui-report/report_data.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "engine/artifact/jsonld.hpp"
#include "engine/core/clock.hpp"
#include "engine/core/error.hpp"
#include "engine/dag/graph.hpp"
#include "engine/dag/loader.hpp"
#include "engine/run/leaderboard.hpp"
#include "engine/run/learning_curve.hpp"
#include "engine/state/trial_segment.hpp"

namespace flow::report {

namespace {

using nlohmann::json;
using state::TaskState;

constexpr TaskState kStates[] = {
    TaskState::kQueued,  TaskState::kStarting,  TaskState::kRunning,  TaskState::kSubmitting,
    TaskState::kPending, TaskState::kSucceeded, TaskState::kFailed,   TaskState::kUpstreamFailed,
    TaskState::kSkipped, TaskState::kCancelled, TaskState::kTimedOut, TaskState::kUpForRetry,
};

int state_index(TaskState s) {
  for (size_t i = 0; i < std::size(kStates); ++i)
    if (kStates[i] == s) return static_cast<int>(i);
  return 0;
}

// Cores and GPUs a try of `t` holds while it runs: its Slurm allocation (nodes x tasks per
// node x cpus per task, nodes x gpus per node), or one core for a plain process.
std::pair<int, int> cores_gpus(const dag::Task& t) {
  const auto& s = *t.slurm;
  int nodes = std::max(s.nodes, 1);
  int cores = nodes * std::max(s.ntasks, 1) * std::max(s.cpus_per_task, 1);
  return {cores, nodes * s.gpus};
}

std::string kind_of(const dag::Task& t) {
  if (t.hpo) return "hpo";
  if (t.foreach) return "foreach";
  return "task";
}

// When each try was submitted to a batch queue and when it started running, from the run's
// state-change events (the first `pending` and the first `running` of the try).
struct Phases {
  EpochMs launched = 0;  // starting (a process) or submitting (a batch job)
  EpochMs submitted = 0;
  EpochMs running = 0;
};

std::string try_key(const std::string& instance, int try_number) {
  return instance + '\x1f' + std::to_string(try_number);
}

std::unordered_map<std::string, Phases> phases_of(state::Store& store, const std::string& run) {
  std::unordered_map<std::string, Phases> out;
  for (const auto& e : store.events(run)) {
    if (e.instance_id.empty() || e.try_number <= 0) continue;
    bool launch = e.state == "starting" || e.state == "submitting";
    bool pending = e.state == "pending", running = e.state == "running";
    if (!launch && !pending && !running) continue;
    auto& p = out[try_key(e.instance_id, e.try_number)];
    if (launch && !p.launched) p.launched = e.ts;
    if (pending && !p.submitted) p.submitted = e.ts;
    if (running && !p.running) p.running = e.ts;
  }
  return out;
}

// Milliseconds since `t0`, or -1 for an unset time.
int64_t rel(EpochMs t, EpochMs t0) {
  return t > 0 ? t - t0 : -1;
}

}  // namespace

json report_data(state::Store& store, const std::string& run_id, const run::MaxJobsOf& max_jobs,
                 const run::GpusOf& gpus_of) {
  auto run = store.get_run(run_id);
  if (!run) throw Error(ErrorKind::kInvalidInput, "no run '" + run_id + "'");
  dag::Dag dag = dag::load_dag_text(run->dag_yaml, run->dag_file);
  const EpochMs t0 = run->created ? run->created : run->started;
  const EpochMs end = run->ended ? run->ended : now_ms();

  json data;
  data["flow"] = FLOW_VERSION;
  data["generated"] = iso_utc(now_ms());
  data["t0"] = t0;
  data["run"] = {{"id", run->id},
                 {"dag", run->dag},
                 {"dag_file", run->dag_file},
                 {"state", std::string(state::to_string(run->state))},
                 {"params", run->params},
                 {"logical_date", run->logical_date},
                 {"data_interval", {run->data_interval_start, run->data_interval_end}},
                 {"created", iso_utc(run->created)},
                 {"started", run->started ? iso_utc(run->started) : ""},
                 {"ended", run->ended ? iso_utc(run->ended) : ""},
                 {"host", run->owner_host},
                 {"workdir", run->workdir},
                 {"parallelism", run->parallelism},
                 {"wall_ms", end - t0}};
  json states = json::array();
  for (auto s : kStates)
    states.push_back(std::string(state::to_string(s)));
  data["states"] = states;

  // Tasks of the DAG, in the order people read it (upstream first).
  std::map<std::string, size_t> task_index;
  std::vector<const dag::Task*> tasks;
  for (const auto& id : dag::reading_order(dag)) {
    if (const dag::Task* t = dag.find(id)) {
      task_index[id] = tasks.size();
      tasks.push_back(t);
    }
  }

  // Instances: one row each; `index` maps an instance id to its row for the tries.
  auto instances = store.instances(run_id);
  const auto waiting = run::waiting_reasons(*run, dag, instances, max_jobs, now_ms(), gpus_of);
  std::unordered_map<std::string, size_t> index;
  std::vector<int> instance_task;  // row -> task index (-1: not in the DAG any more)
  json rows = json::array();
  json counts = json::object();
  for (const auto& in : instances) {
    auto ti = task_index.find(in.task_id);
    int task = ti == task_index.end() ? -1 : static_cast<int>(ti->second);
    std::string st(state::to_string(in.state));
    counts[st] = counts.value(st, 0) + 1;
    index[in.id] = rows.size();
    instance_task.push_back(task);
    json row =
        json::array({in.id, task, state_index(in.state), in.try_number, in.site, in.job_id,
                     in.exit_code, state::is_failure(in.state) ? in.message.substr(0, 300) : "",
                     waiting.contains(in.id) ? waiting.at(in.id).text : ""});
    if (const state::SegmentTry seg = state::segment_try_of(in); seg.is_trial()) {
      row.push_back(seg.segment);
      row.push_back(seg.try_in_segment);
    }
    rows.push_back(std::move(row));
  }
  data["instances"] = std::move(rows);
  data["counts"] = counts;

  // Tries, with their queue wait and run time; allocated core- and GPU-hours.
  auto phases = phases_of(store, run_id);
  json tries = json::array();
  double core_ms = 0, gpu_ms = 0;
  double cpu_used_ms = 0;  // measured CPU time of the tries whose use is known
  size_t measured = 0;
  std::map<std::string, double> trial_core_ms;  // instance id -> core-ms
  for (const auto& t : store.run_tries(run_id)) {
    auto ii = index.find(t.instance_id);
    if (ii == index.end()) continue;
    Phases p;
    if (auto pi = phases.find(try_key(t.instance_id, t.try_number)); pi != phases.end())
      p = pi->second;
    EpochMs started = p.running ? p.running : 0;
    // A Slurm job's start comes from sacct (whole seconds) and may precede the moment the
    // engine saw sbatch return: it never waited, so its wait is zero, not negative.
    if (started && p.submitted > started) p.submitted = started;
    EpochMs launched = p.launched ? p.launched : t.started;
    if (p.submitted && launched > p.submitted) launched = p.submitted;
    if (started && launched > started) launched = started;
    // [INSTANCE, TRY, STATE, LAUNCHED, SUBMITTED, STARTED, ENDED, JOB, EXIT, CPU_MS, RSS,
    //  WALL_MS, CPUS] (usage -1/0 when not known) and, for an HPO trial's try, [SEGMENT,
    //  SEGMENT_TRY] (other rows stay 13 long: a 100,000-task run does not grow).
    json row = json::array({ii->second, t.try_number, state_index(t.state), rel(launched, t0),
                            rel(p.submitted, t0), rel(started, t0), rel(t.ended, t0), t.job_id,
                            t.exit_code, t.usage.cpu_ms, t.usage.max_rss_bytes, t.usage.wall_ms,
                            t.usage.cpus});
    if (t.segment > 0) {
      row.push_back(t.segment);
      row.push_back(t.segment_try);
    }
    tries.push_back(std::move(row));
    if (t.usage.cpu_ms >= 0) {
      cpu_used_ms += static_cast<double>(t.usage.cpu_ms);
      ++measured;
    }
    int task = instance_task[ii->second];
    if (started && task >= 0) {
      EpochMs stop = t.ended ? t.ended : end;
      auto [cores, gpus] = cores_gpus(*tasks[static_cast<size_t>(task)]);
      double ms = static_cast<double>(std::max<EpochMs>(stop - started, 0));
      core_ms += ms * cores;
      gpu_ms += ms * gpus;
      if (tasks[static_cast<size_t>(task)]->hpo) trial_core_ms[t.instance_id] += ms * cores;
    }
  }
  data["tries"] = std::move(tries);
  constexpr double kHour = 3600.0 * 1000.0;
  data["usage"] = {{"core_hours", core_ms / kHour},
                   {"gpu_hours", gpu_ms / kHour},
                   {"cpu_hours_used", cpu_used_ms / kHour},
                   {"measured_tries", measured},
                   {"basis",
                    "allocated: run time x the task's slurm nodes, ntasks, cpus_per_task and gpus "
                    "(one core for a task without a slurm: block)"}};

  // Tasks: [ID, KIND, SITE, CORES, GPUS, [UPSTREAM TASK INDICES]] (compact: a static DAG
  // of 100,000 tasks has 100,000 of them).
  json task_rows = json::array();
  for (const auto* t : tasks) {
    auto [cores, gpus] = cores_gpus(*t);
    json after = json::array();
    for (const auto& up : t->after)
      if (auto it = task_index.find(up); it != task_index.end()) after.push_back(it->second);
    task_rows.push_back(json::array({t->id, kind_of(*t), dag.site_of(*t), cores, gpus, after}));
  }
  data["tasks"] = std::move(task_rows);

  json sweeps = json::array();
  for (const auto* t : tasks) {
    if (!t->hpo) continue;
    json board = run::sweep_leaderboard(store, run_id, *t);
    board["task"] = t->id;
    board["grace_epochs"] = t->hpo->grace_epochs;
    board["reduction_factor"] = t->hpo->reduction_factor;
    json hours = json::object();
    for (const auto& trial : board["trials"]) {
      auto inst = trial.value("instance", std::string());
      if (auto it = trial_core_ms.find(inst); it != trial_core_ms.end())
        hours[trial.value("id", inst)] = it->second / kHour;
    }
    board["core_hours"] = std::move(hours);
    // The learning curves `flow tui` draws too: every epoch a trial reported.
    run::SweepCurves curves = run::sweep_curves(store, run_id, *t, board);
    board["rungs"] = curves.rungs;
    for (auto& trial : board["trials"]) {
      auto it = curves.by_instance.find(trial.value("instance", std::string()));
      trial["curve"] =
          it == curves.by_instance.end() ? nlohmann::json::array() : run::curve_json(it->second);
    }
    sweeps.push_back(std::move(board));
  }
  data["sweeps"] = std::move(sweeps);

  json artifacts = json::array();
  for (const auto& a : store.list_artifacts(run_id)) {
    artifacts.push_back({{"id", a.id},
                         {"name", a.name},
                         {"instance", a.instance_id},
                         {"path", a.path},
                         {"sha256", a.sha256},
                         {"size", a.size},
                         {"format", a.format},
                         {"kind", a.kind},
                         {"jsonld", artifact::artifact_jsonld(a)}});
  }
  data["artifacts"] = std::move(artifacts);
  return data;
}

}  // namespace flow::report

namespace flow::report {

std::vector<TaskBox> task_boxes(const nlohmann::json& data) {
  std::vector<TaskBox> out;
  for (const auto& t : data.at("tasks")) {
    TaskBox b;
    b.id = t[0].get<std::string>();
    b.kind = t[1].get<std::string>();
    for (const auto& up : t[5])
      b.after.push_back(up.get<size_t>());
    out.push_back(std::move(b));
  }
  const auto& states = data.at("states");
  for (const auto& in : data.at("instances")) {
    int task = in[1].get<int>();
    if (task < 0 || static_cast<size_t>(task) >= out.size()) continue;
    ++out[static_cast<size_t>(task)].counts[states.at(in[2].get<size_t>()).get<std::string>()];
  }
  return out;
}

}  // namespace flow::report
