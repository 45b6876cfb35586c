#include "engine/run/run_controller.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <fstream>

#include "engine/artifact/provenance.hpp"
#include "engine/artifact/registration.hpp"
#include "engine/artifact/registration_error.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/core/text_file.hpp"
#include "engine/dag/template.hpp"
#include "engine/run/ownership.hpp"
#include "engine/run/process.hpp"
#include "engine/run/sweep.hpp"
#include "engine/run/trigger.hpp"

namespace flow::run {

using state::InstanceRecord;
using state::TaskState;

namespace {
// Checkpoint the WAL (Store::set_manual_checkpoints) when it has grown by this many pages
// since the last checkpoint, as SQLite would, but after a tick's launches.
constexpr int kCheckpointPages = 1000;
}  // namespace

struct RunController::Node {
  size_t index = 0;
  const dag::Task* task = nullptr;
  std::vector<Node*> upstream;
  std::vector<Node*> downstream;
  std::vector<std::string> children;  // mapped instances or trials, in index order
  bool mapped() const { return task->foreach.has_value(); }
  bool swept() const { return task->hpo.has_value(); }
  // Its instance only summarises others (mapped instances or HPO trials).
  bool fans_out() const { return mapped() || swept(); }
  std::unique_ptr<Sweep> sweep;  // swept nodes, once they started
  const std::string& id() const { return task->id; }
  // Parsed once; rendering is per attempt.
  std::optional<dag::Template> run_tpl;
  std::map<std::string, dag::Template> env_tpl;
};

RunController::RunController(boost::asio::io_context& io, state::Store& store, dag::Dag dag,
                             state::RunRecord run, ExecutorLookup executors,
                             ControllerOptions options, RunObserver* observer)
    : io_(io),
      store_(store),
      dag_(std::move(dag)),
      graph_(dag_),
      run_(std::move(run)),
      executors_(std::move(executors)),
      options_(std::move(options)),
      observer_(observer),
      control_timer_(io),
      retry_timer_(io),
      lazy_timer_(io) {
  options_.home = std::filesystem::absolute(options_.home);
  for (size_t i = 0; i < dag_.tasks.size(); ++i) {
    auto n = std::make_unique<Node>();
    n->index = i;
    n->task = &dag_.tasks[i];
    node_by_task_[n->id()] = n.get();
    nodes_.push_back(std::move(n));
  }
  for (auto& n : nodes_) {
    for (const auto& up : n->task->after) {
      Node* u = node_by_task_.at(up);
      n->upstream.push_back(u);
      u->downstream.push_back(n.get());
    }
    try {
      n->run_tpl = dag::Template::parse(n->task->run);
      for (const auto& [k, v] : n->task->env)
        n->env_tpl.emplace(k, dag::Template::parse(v));
    } catch (const std::invalid_argument&) {
      // validate() reported it before any run could start.
    }
  }
}

RunController::~RunController() {
  if (!done_) store_.set_manual_checkpoints(false);
  control_timer_.cancel();
  retry_timer_.cancel();
  lazy_timer_.cancel();
  for (auto& [_, t] : timeouts_)
    t->cancel();
}

std::vector<InstanceRecord> RunController::instances() const {
  std::vector<InstanceRecord> out;
  for (const auto& id : inst_order_)
    out.push_back(inst_.at(id));
  return out;
}

AttemptFiles RunController::files_for(const std::string& instance_id, int try_number) const {
  auto dir = options_.home / "logs" / run_.id / instance_id;
  auto t = std::to_string(try_number);
  return AttemptFiles{dir / (t + ".log"), dir / (t + ".outputs.json"), dir / (t + ".metrics.jsonl"),
                      dir / (t + ".exit")};
}

// ---- start ------------------------------------------------------------------------------

void RunController::start() {
  // Take the run (atomically; a no-op re-stamp when the CLI already took it over for a
  // resume): from here until it ends, every commit of this controller checks it still owns
  // it (flush()).
  TakeoverPolicy keep;
  keep.stale_after = options_.stale_after;
  const auto taken = take_run(store_, run_.id, engine(), keep).run;
  engine().stamp(run_, now_ms());
  run_.cancel_requested = taken.cancel_requested;
  for (auto& rec : store_.instances(run_.id)) {
    inst_order_.push_back(rec.id);
    if (rec.state == TaskState::kUpForRetry) retry_due_.insert({rec.next_try_at, rec.id});
    inst_.emplace(rec.id, std::move(rec));
  }
  if (inst_.empty()) {
    for (auto& n : nodes_) {
      InstanceRecord r;
      r.run_id = run_.id;
      r.id = n->id();
      r.task_id = n->id();
      r.site = dag_.site_of(*n->task);
      inst_order_.push_back(r.id);
      dirty_.insert(r.id);
      inst_.emplace(r.id, std::move(r));
    }
  }
  for (const auto& [_, r] : inst_)
    track(r, +1);
  for (const auto& id : inst_order_) {
    const auto& r = inst_.at(id);
    if (!r.parent.empty()) {
      if (auto it = node_by_task_.find(r.parent); it != node_by_task_.end()) {
        it->second->children.push_back(id);
      }
    }
  }
  run_.state = state::RunState::kRunning;
  if (run_.started == 0) run_.started = now_ms();
  run_.ended = 0;

  for (auto& n : nodes_) {
    auto& r = inst_.at(n->id());
    if (r.state == TaskState::kQueued) undecided_.insert(n.get());
  }
  for (const auto& id : inst_order_) {
    auto& r = inst_.at(id);
    const Node* n = node_by_task_.at(r.task_id);
    if (!r.parent.empty() && r.state == TaskState::kQueued) {
      runnable_.push_back(id);
    } else if (state::is_in_flight(r.state) && !(n->fans_out() && r.parent.empty())) {
      // Re-attach: the attempt may still be running from an engine that died.
      try {
        Executor& ex = executors_(r.site);
        LaunchSpec spec = make_spec(r, *n->task, ex, /*render=*/false);
        AttemptHandle h{r.pid, r.pid_start, r.job_id, r.job_name, ""};
        ex.reattach(spec, h);
        if (r.state == TaskState::kRunning) start_timeout(r);
      } catch (const Error& e) {
        finish_instance(r, TaskState::kFailed, std::string("cannot re-attach: ") + e.what());
      }
    }
  }
  for (auto& n : nodes_) {
    if (n->fans_out()) update_mapped_parent(*n);
  }
  run_dirty_ = true;
  store_.set_manual_checkpoints(true);  // see tick() and control_poll()
  if (!flush()) return;
  if (run_.cancel_requested) cancel();  // `flow cancel` of a run with no live engine
  control_timer_.expires_after(options_.control_interval);
  control_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) control_poll();
  });
  schedule_tick();
}

// ---- the loop -------------------------------------------------------------------------------

void RunController::schedule_tick() {
  if (tick_scheduled_ || done_) return;
  tick_scheduled_ = true;
  boost::asio::post(io_, [this] { tick(); });
}

void RunController::schedule_lazy_tick() {
  if (tick_scheduled_ || lazy_armed_ || done_) return;
  lazy_armed_ = true;
  lazy_timer_.expires_after(options_.started_commit_delay);
  lazy_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled at the end: the controller may be gone by now
    lazy_armed_ = false;
    schedule_tick();
  });
}

void RunController::on_event(ExecEvent e) {
  // kStarted only records the pid (a hint: re-attach finds a process by its marker) and
  // moves starting -> running; nothing waits on it, so it waits for the next tick.
  const bool urgent = e.kind != ExecEvent::Kind::kStarted;
  events_.push_back(std::move(e));
  if (urgent) {
    schedule_tick();
  } else {
    schedule_lazy_tick();
  }
}

void RunController::poke() {
  if (!runnable_.empty()) schedule_tick();
}

void RunController::tick() {
  tick_scheduled_ = false;
  if (done_) return;
  auto events = std::move(events_);
  events_.clear();
  for (auto& e : events)
    apply(std::move(e));

  if (!stopping_) {
    const EpochMs now = now_ms();
    while (!retry_due_.empty() && retry_due_.begin()->first <= now) {
      std::string id = retry_due_.begin()->second;
      set_state(inst_.at(id), TaskState::kQueued, "retrying");  // erases it from retry_due_
      runnable_.push_back(id);
    }
    // A node is looked at again only when one of its upstreams reached an end state (the
    // only thing trigger rules depend on); deciding one can queue its downstream here too.
    while (!undecided_.empty()) {
      Node* n = *undecided_.begin();
      undecided_.erase(undecided_.begin());
      decide_node(*n);
    }
    std::map<Executor*, int> budget;
    std::set<std::string> full_sites;  // no free slot left this tick
    std::deque<std::string> keep;
    while (!runnable_.empty()) {
      std::string id = std::move(runnable_.front());
      runnable_.pop_front();
      auto& r = inst_.at(id);
      if (r.state != TaskState::kQueued) continue;
      if (full_sites.count(r.site) || !try_launch(r, *node_by_task_.at(r.task_id)->task, budget)) {
        full_sites.insert(r.site);
        keep.push_back(std::move(id));
      }
    }
    runnable_ = std::move(keep);
  }
  if (!flush()) return;  // not committed: launch nothing
  auto launches = std::move(to_launch_);
  to_launch_.clear();
  for (auto& [spec, plan, ex] : launches)
    ex->launch(spec, plan);
  // With the new attempts running, copy the WAL into the database if it grew enough (it
  // fsyncs, which used to stall a commit that came before a launch).
  if (store_.wal_pages() >= kCheckpointPages) store_.checkpoint();
  check_finished();
  if (observer_ && !done_) observer_->on_tick(counts_);
  arm_retry_timer();
}

bool RunController::decide_node(Node& node) {
  auto& r = inst_.at(node.id());
  if (r.state != TaskState::kQueued) return true;
  std::vector<TaskState> ups;
  ups.reserve(node.upstream.size());
  for (Node* u : node.upstream)
    ups.push_back(inst_.at(u->id()).state);
  switch (decide(node.task->trigger, ups)) {
    case Decision::kWait:
      return false;
    case Decision::kSkip:
      finish_instance(r, TaskState::kSkipped,
                      "skipped by trigger rule " + std::string(dag::to_string(node.task->trigger)));
      return true;
    case Decision::kUpstreamFailed: {
      std::vector<std::string> bad;
      for (Node* u : node.upstream) {
        if (state::is_failure(inst_.at(u->id()).state)) bad.push_back(u->id());
      }
      finish_instance(r, TaskState::kUpstreamFailed, "upstream failed: " + join(bad));
      return true;
    }
    case Decision::kRun:
      if (node.mapped()) {
        expand_foreach(node);
      } else if (node.swept()) {
        r.started = now_ms();
        set_state(r, TaskState::kRunning,
                  "hpo " + node.task->hpo->algorithm + " over " +
                      std::to_string(node.task->hpo->space.size()) + " parameters");
        advance_sweep(node);
      } else {
        runnable_.push_back(r.id);
      }
      return true;
  }
  return false;
}

void RunController::expand_foreach(Node& node) {
  auto& parent = inst_.at(node.id());
  const dag::Task& task = *node.task;
  nlohmann::json list;
  try {
    list = nlohmann::json::parse(*task.foreach, nullptr, false);
    if (!list.is_array()) {
      auto tpl = dag::Template::parse(*task.foreach);
      const dag::TemplateRef* ref = tpl.sole_ref();
      if (!ref) throw std::runtime_error("foreach must be a single reference");
      Executor& ex = executors_(parent.site);
      list = resolve(*ref, parent, task, ex);
      if (list.is_string()) {
        auto parsed = nlohmann::json::parse(list.get<std::string>(), nullptr, false);
        if (parsed.is_array()) list = parsed;
      }
      if (!list.is_array()) {
        throw std::runtime_error(ref->text + " is " + list.dump() + ", not a list");
      }
    }
  } catch (const std::exception& e) {
    finish_instance(parent, TaskState::kFailed, std::string("foreach: ") + e.what());
    return;
  }
  if (list.empty()) {
    finish_instance(parent, TaskState::kSkipped, "foreach list is empty: nothing to map over");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    InstanceRecord c;
    c.run_id = run_.id;
    c.id = task.id + "[" + std::to_string(i) + "]";
    c.task_id = task.id;
    c.parent = task.id;
    c.map_index = static_cast<int>(i);
    c.site = parent.site;
    c.attrs["item"] = list[i];
    node.children.push_back(c.id);
    inst_order_.push_back(c.id);
    dirty_.insert(c.id);
    event_writes_.push_back({0, run_.id, c.id, 0, now_ms(), "queued", ""});
    runnable_.push_back(c.id);
    track(c, +1);
    inst_.emplace(c.id, std::move(c));
  }
  parent.started = now_ms();
  set_state(parent, TaskState::kRunning, "mapped over " + std::to_string(list.size()) + " items");
}

bool RunController::try_launch(InstanceRecord& inst, const dag::Task& task,
                               std::map<Executor*, int>& budget) {
  Executor* ex = nullptr;
  try {
    ex = &executors_(inst.site);
  } catch (const Error& e) {
    finish_instance(inst, TaskState::kFailed, e.what());
    return true;
  }
  auto [it, fresh] = budget.try_emplace(ex, 0);
  if (fresh) it->second = ex->free_slots();
  if (it->second == 0) return false;
  if (it->second > 0) --it->second;

  inst.try_number++;
  LaunchSpec spec;
  try {
    spec = make_spec(inst, task, *ex, /*render=*/true);
  } catch (const std::exception& e) {
    // A template that cannot be filled will not get better on retry.
    finish_instance(inst, TaskState::kFailed, e.what());
    return true;
  }
  Plan plan = ex->plan(spec);
  inst.pid = 0;
  inst.pid_start = 0;
  inst.job_id.clear();
  inst.job_name = plan.handle.job_name;
  inst.started = now_ms();
  inst.ended = 0;
  inst.exit_code = 0;
  inst.signal = 0;
  inst.native_state.clear();
  state::TryRecord& t = live_tries_[inst.id];
  t = state::TryRecord{};
  t.run_id = run_.id;
  t.instance_id = inst.id;
  t.try_number = inst.try_number;
  t.site = inst.site;
  t.job_name = plan.handle.job_name;
  t.script = plan.handle.script;
  t.log_path = spec.files.log.string();
  t.started = inst.started;
  inst.message.clear();
  set_state(inst,
            plan.intent == IntentState::kStarting ? TaskState::kStarting : TaskState::kSubmitting);
  to_launch_.emplace_back(std::move(spec), std::move(plan), ex);
  return true;
}

LaunchSpec RunController::make_spec(const InstanceRecord& inst, const dag::Task& task, Executor& ex,
                                    bool render) {
  LaunchSpec s;
  s.key = AttemptKey{run_.id, inst.id, inst.try_number};
  s.dag = dag_.name;
  s.task_id = task.id;
  s.files = files_for(inst.id, inst.try_number);
  s.workdir = run_.workdir;
  s.site = inst.site;
  s.slurm = task.slurm;
  const Node& node = *node_by_task_.at(task.id);
  auto resolver = [&](const dag::TemplateRef& ref) { return resolve(ref, inst, task, ex); };
  if (render && node.run_tpl) s.command = dag::render(*node.run_tpl, resolver, /*shell=*/true);
  s.env["FLOW_RUN_ID"] = run_.id;
  s.env["FLOW_DAG"] = dag_.name;
  s.env["FLOW_TASK_ID"] = inst.id;
  s.env["FLOW_TRY"] = std::to_string(inst.try_number);
  s.env["FLOW_RUN_DIR"] = ex.run_dir(run_.id);
  if (node.swept() && !inst.parent.empty()) {
    for (auto& [k, v] : Sweep::env(inst))
      s.env[k] = std::move(v);
  } else if (inst.map_index >= 0) {
    s.env["FLOW_MAP_INDEX"] = std::to_string(inst.map_index);
    s.env["FLOW_ITEM"] = dag::value_text(inst.attrs.value("item", nlohmann::json()));
  }
  if (render) {
    for (const auto& [k, tpl] : node.env_tpl)
      s.env[k] = dag::render(tpl, resolver, false);
  }
  return s;
}

nlohmann::json RunController::resolve(const dag::TemplateRef& ref, const InstanceRecord& inst,
                                      const dag::Task& task, Executor& ex) const {
  const auto& p = ref.path;
  auto fail = [&](const std::string& why) -> nlohmann::json {
    throw std::runtime_error("task '" + inst.id + "': cannot fill " + ref.text + ": " + why);
  };
  if (p[0] == "params" && p.size() == 2) {
    if (!run_.params.contains(p[1])) return fail("no parameter '" + p[1] + "'");
    return run_.params[p[1]];
  }
  if (p[0] == "run" && p.size() == 2) {
    if (p[1] == "id") return run_.id;
    if (p[1] == "dag") return dag_.name;
    if (p[1] == "dir") return ex.run_dir(run_.id);
    if (p[1] == "logical_date") return run_.logical_date;
    if (p[1] == "data_interval_start") return run_.data_interval_start;
    if (p[1] == "data_interval_end") return run_.data_interval_end;
  }
  if (p[0] == "item" && inst.attrs.contains("item")) {
    nlohmann::json v = inst.attrs["item"];
    for (size_t i = 1; i < p.size(); ++i) {
      if (!v.is_object() || !v.contains(p[i])) return fail("the item has no field '" + p[i] + "'");
      v = v[p[i]];
    }
    return v;
  }
  if (p[0] == "trial") {
    std::vector<std::string> rest(p.begin() + 1, p.end());
    if (auto v = Sweep::lookup(inst, rest)) return *v;
    return fail("not a trial of an hpo task, or no such trial field");
  }
  if (p[0] == "tasks" && p.size() >= 4 && p[2] == "best") {
    auto nit = node_by_task_.find(p[1]);
    if (nit == node_by_task_.end() || !nit->second->swept()) return fail("not an hpo task");
    const auto& best = inst_.at(p[1]).attrs.value("best", nlohmann::json());
    if (!best.is_object()) return fail("task '" + p[1] + "' has no best trial (did it succeed?)");
    if (p[3] == "params_json" && p.size() == 4) return best["params"].dump();
    if (p[3] == "params" && p.size() == 5 && best["params"].contains(p[4]))
      return best["params"][p[4]];
    if ((p[3] == "metric" || p[3] == "trial" || p[3] == "epochs") && p.size() == 4)
      return best[p[3]];
    return fail("use best.params.NAME, best.params_json, best.metric, best.trial or best.epochs");
  }
  if (p[0] == "tasks" && p.size() == 4 && p[2] == "outputs") {
    auto nit = node_by_task_.find(p[1]);
    if (nit == node_by_task_.end()) return fail("no task '" + p[1] + "'");
    auto value_of = [&](const InstanceRecord& up) -> nlohmann::json {
      if (!up.outputs.is_object()) {
        return fail("task '" + up.id +
                    "' wrote no outputs (it must write a JSON object to "
                    "$FLOW_OUTPUTS_FILE)");
      }
      if (!up.outputs.contains(p[3])) {
        std::vector<std::string> keys;
        for (const auto& [k, _] : up.outputs.items())
          keys.push_back(k);
        return fail("task '" + up.id + "' wrote no output '" + p[3] + "'" +
                    did_you_mean(p[3], keys) + "; it wrote: " + join(keys));
      }
      return up.outputs[p[3]];
    };
    const Node& up = *nit->second;
    if (up.swept()) {  // an hpo task's outputs are its best trial's
      const auto& best = inst_.at(up.id()).attrs.value("best", nlohmann::json());
      if (!best.is_object()) return fail("task '" + up.id() + "' has no best trial");
      return value_of(inst_.at(Sweep::trial_instance_id(
          up.id(), std::stoi(best["trial"].get<std::string>().substr(6)))));
    }
    if (up.mapped()) {
      auto list = nlohmann::json::array();
      for (const auto& cid : up.children) {
        const auto& c = inst_.at(cid);
        if (c.state == TaskState::kSucceeded) list.push_back(value_of(c));
      }
      return list;
    }
    return value_of(inst_.at(up.id()));
  }
  (void)task;
  return fail("unknown name");
}

// ---- events from executors ----------------------------------------------------------------

void RunController::apply(ExecEvent e) {
  auto it = inst_.find(e.key.instance_id);
  if (it == inst_.end()) return;
  auto& r = it->second;
  if (r.try_number != e.key.try_number || !state::is_in_flight(r.state)) return;  // stale
  auto& t = live_tries_[r.id];
  if (t.instance_id.empty()) {  // re-attached: rebuild the try row from what is stored
    auto tries = store_.tries(run_.id, r.id);
    for (auto& x : tries) {
      if (x.try_number == r.try_number) t = x;
    }
    t.run_id = run_.id;
    t.instance_id = r.id;
    t.try_number = r.try_number;
  }
  using K = ExecEvent::Kind;
  switch (e.kind) {
    case K::kStarted:
      r.pid = e.handle.pid;
      r.pid_start = e.handle.pid_start;
      t.pid = r.pid;
      if (r.state != TaskState::kRunning) set_state(r, TaskState::kRunning, "", e.at);
      dirty_.insert(r.id);
      start_timeout(r);
      return;
    case K::kSubmitted:
      r.job_id = e.handle.job_id;
      if (!e.handle.job_name.empty()) r.job_name = e.handle.job_name;
      t.job_id = r.job_id;
      t.job_name = r.job_name;
      // The job id is a column of its own (status, progress lines); no message repeats it.
      if (r.state != TaskState::kPending) set_state(r, TaskState::kPending);
      dirty_.insert(r.id);
      return;
    case K::kRunning:
      if (!e.handle.job_id.empty()) r.job_id = e.handle.job_id;
      if (r.state != TaskState::kRunning) {
        set_state(r, TaskState::kRunning);
        start_timeout(r);
      }
      return;
    case K::kProgress:
      read_metrics(r);
      return;
    case K::kFinished:
      break;
  }
  if (auto tt = timeouts_.find(r.id); tt != timeouts_.end()) {
    tt->second->cancel();
    timeouts_.erase(tt);
  }
  const auto files = files_for(r.id, r.try_number);
  read_metrics(r, files);
  r.exit_code = e.exit_code;
  r.signal = e.signal;
  r.native_state = e.native_state;
  t.exit_code = e.exit_code;
  t.signal = e.signal;
  t.native_state = e.native_state;
  const dag::Task& task = *node_by_task_.at(r.task_id)->task;
  switch (e.outcome) {
    case Outcome::kSucceeded: {
      if (auto text = read_file(files.outputs)) {
        auto j = nlohmann::json::parse(*text, nullptr, false);
        if (!j.is_object()) {
          r.failures++;
          finish_instance(r, TaskState::kFailed,
                          "the task exited 0 but its outputs file " + files.outputs.string() +
                              " is not one JSON object");
          return;
        }
        r.outputs = std::move(j);
      }
      // A trial's segment first records its metric (the sweep trusts the instance state, so
      // a registration failure below also fails the trial); then the try's artifacts.
      Node* n = node_by_task_.at(r.task_id);
      const bool is_trial = n->swept() && !r.parent.empty();
      if (is_trial) {
        if (!n->sweep) n->sweep = std::make_unique<Sweep>(*n->task, run_.id);
        if (auto err = n->sweep->end_segment(r, files.metrics)) {
          r.failures++;
          finish_instance(r, TaskState::kFailed, *err);
          return;
        }
      }
      if (auto problem = register_artifacts(r); !problem.empty()) {
        r.failures++;
        finish_instance(r, TaskState::kFailed, problem);
        return;
      }
      if (is_trial) {
        const auto& trial = r.attrs["trial"];
        finish_instance(r, TaskState::kSucceeded,
                        n->task->hpo->metric + "=" + trial["history"].back()[1].dump() + " after " +
                            std::to_string(trial.value("epochs", 0)) + " epochs (" +
                            trial.value("status", "") + ")");
        return;
      }
      finish_instance(r, TaskState::kSucceeded, "");
      return;
    }
    case Outcome::kLost:
      r.try_number--;  // that try never happened
      live_tries_.erase(r.id);
      set_state(r, TaskState::kQueued, e.message);
      runnable_.push_back(r.id);
      return;
    case Outcome::kCancelled:
      if (stopping_ && stop_state_ == state::RunState::kInterrupted) {
        t.state = TaskState::kCancelled;
        t.ended = now_ms();
        t.message = "interrupted";
        try_writes_.push_back(t);
        set_state(r, TaskState::kQueued, "interrupted; will run again on resume");
        return;
      }
      finish_instance(r, TaskState::kCancelled, e.message.empty() ? "cancelled" : e.message);
      return;
    case Outcome::kFailed:
    case Outcome::kTimedOut: {
      r.failures++;
      const auto& on = task.retry.retry_on;
      bool retriable = e.native_state.empty() || e.native_state == "FAILED" ||
                       std::find(on.begin(), on.end(), e.native_state) != on.end();
      TaskState final_state =
          e.outcome == Outcome::kTimedOut ? TaskState::kTimedOut : TaskState::kFailed;
      if (!stopping_ && retriable && r.failures <= task.retry.retries) {
        t.state = final_state;
        t.ended = now_ms();
        t.message = e.message;
        try_writes_.push_back(t);
        auto delay = task.retry.delay_before(r.try_number + 1);
        r.next_try_at = now_ms() + delay.count();
        r.ended = now_ms();
        set_state(r, TaskState::kUpForRetry,
                  e.message + " — retry " + std::to_string(r.failures) + "/" +
                      std::to_string(task.retry.retries) + " in " + format_duration(delay));
        return;
      }
      finish_instance(r, final_state, e.message);
      return;
    }
  }
}

void RunController::read_metrics(const InstanceRecord& inst) {
  read_metrics(inst, files_for(inst.id, inst.try_number));
}

void RunController::read_metrics(const InstanceRecord& inst, const AttemptFiles& files) {
  // Most tasks write no metrics: a failed access(2) is much cheaper than an ifstream.
  if (::access(files.metrics.c_str(), R_OK) != 0) return;
  std::ifstream in(files.metrics, std::ios::binary);
  if (!in) return;
  std::string key = inst.id + "#" + std::to_string(inst.try_number);
  size_t& offset = metrics_offset_[key];
  in.seekg(static_cast<std::streamoff>(offset));
  std::string line;
  int seq = metrics_seq_[key];
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a partial last line: read it when it is complete
    offset += line.size() + 1;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    metric_writes_.push_back({inst.id, inst.try_number, seq++, now_ms(), std::move(j)});
  }
  metrics_seq_[key] = seq;
}

std::string RunController::register_artifacts(const InstanceRecord& inst) {
  if (!inst.outputs.is_object() || !inst.outputs.contains("artifacts")) return "";
  artifact::TryContext ctx;
  ctx.run = &run_;
  ctx.instance_id = inst.id;
  ctx.task_id = inst.task_id;
  ctx.try_number = inst.try_number;
  ctx.site = inst.site;
  ctx.host = run_.owner_host;
  LaunchSpec spec;
  spec.key = AttemptKey{run_.id, inst.id, inst.try_number};
  spec.workdir = run_.workdir;
  spec.site = inst.site;
  ctx.started = inst.started;
  ctx.now = now_ms();
  try {
    std::string workdir = executors_(inst.site).workdir(spec);
    ctx.workdir = std::filesystem::absolute(workdir.empty() ? "." : workdir);
  } catch (const Error& e) {
    return "task '" + inst.id + "': cannot register its artifacts: " + e.what();
  }
  try {
    ctx.derived_from = artifact::upstream_artifacts(store_, dag_, run_.id, inst.task_id);
    auto rows = artifact::register_artifacts(inst.outputs, ctx);
    artifact_writes_.insert(artifact_writes_.end(), rows.begin(), rows.end());
  } catch (const artifact::RegistrationError& e) {
    return e.what();
  }
  return "";
}

void RunController::start_timeout(const InstanceRecord& inst) {
  const dag::Task& task = *node_by_task_.at(inst.task_id)->task;
  if (!task.timeout || timeouts_.count(inst.id)) return;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_);
  EpochMs elapsed = std::max<EpochMs>(0, now_ms() - inst.started);
  auto left = std::max<long long>(0, task.timeout->count() - elapsed);
  timer->expires_after(std::chrono::milliseconds(left));
  AttemptKey key{run_.id, inst.id, inst.try_number};
  std::string site = inst.site;
  timer->async_wait([this, key, site](const boost::system::error_code& ec) {
    if (ec) return;
    try {
      executors_(site).cancel(key, CancelReason::kTimeout);
    } catch (const Error&) {
    }
  });
  timeouts_[inst.id] = std::move(timer);
}

// ---- state changes ---------------------------------------------------------------------------

void RunController::set_state(InstanceRecord& inst, TaskState to, const std::string& msg,
                              EpochMs at) {
  TaskState from = inst.state;
  track(inst, -1);
  if (from == TaskState::kUpForRetry) retry_due_.erase({inst.next_try_at, inst.id});
  inst.state = to;
  track(inst, +1);
  if (to == TaskState::kUpForRetry) retry_due_.insert({inst.next_try_at, inst.id});
  if (!msg.empty() || state::is_terminal(to)) inst.message = msg;
  dirty_.insert(inst.id);
  event_writes_.push_back({0, run_.id, inst.id, inst.try_number, at ? at : now_ms(),
                           std::string(state::to_string(to)), msg});
  changes_.push_back({inst.id, from, to, msg});
  if (auto t = live_tries_.find(inst.id); t != live_tries_.end()) {
    if (state::is_in_flight(to) || state::is_terminal(to)) {
      t->second.state = to;
      if (state::is_terminal(to)) {
        t->second.ended = now_ms();
        t->second.message = msg;
      }
      try_writes_.push_back(t->second);
    }
  }
}

void RunController::track(const InstanceRecord& inst, int delta) {
  bool mapped_parent = inst.parent.empty() && node_by_task_.at(inst.task_id)->fans_out();
  (mapped_parent ? parent_counts_ : counts_)[inst.state] += delta;
}

void RunController::finish_instance(InstanceRecord& inst, TaskState to, const std::string& msg) {
  inst.ended = now_ms();
  if (inst.started == 0) inst.started = inst.ended;
  set_state(inst, to, msg);
  live_tries_.erase(inst.id);
  Node* node = node_by_task_.at(inst.task_id);
  if (!inst.parent.empty()) {
    update_mapped_parent(*node);
    return;
  }
  for (Node* d : node->downstream) {
    if (inst_.at(d->id()).state == TaskState::kQueued) undecided_.insert(d);
  }
}

void RunController::update_mapped_parent(Node& node) {
  if (node.swept()) return advance_sweep(node);
  auto& parent = inst_.at(node.id());
  if (parent.state != TaskState::kRunning || node.children.empty()) return;
  std::vector<std::string> failed;
  for (const auto& cid : node.children) {
    const auto& c = inst_.at(cid);
    if (!state::is_terminal(c.state)) return;
    if (state::is_failure(c.state)) failed.push_back(cid);
  }
  if (failed.empty()) {
    finish_instance(parent, TaskState::kSucceeded,
                    std::to_string(node.children.size()) + " mapped instances succeeded");
  } else {
    if (failed.size() > 5) failed.resize(5), failed.push_back("...");
    finish_instance(parent, TaskState::kFailed,
                    std::to_string(failed.size()) + " of " + std::to_string(node.children.size()) +
                        " mapped instances failed: " + join(failed));
  }
}

void RunController::advance_sweep(Node& node) {
  auto& parent = inst_.at(node.id());
  if (parent.state != TaskState::kRunning || stopping_) return;
  if (!node.sweep) node.sweep = std::make_unique<Sweep>(*node.task, run_.id);
  Sweep& sweep = *node.sweep;
  // The instance state is the truth for whether a segment runs or failed for good; the
  // trial record in its attrs follows it (a try that could not even start, a resume).
  std::vector<const InstanceRecord*> kids;
  for (const auto& cid : node.children) {
    auto& c = inst_.at(cid);
    const std::string status = c.attrs.value("trial", nlohmann::json::object()).value("status", "");
    if (state::is_failure(c.state) && status != "failed") {
      sweep.fail(c);
      dirty_.insert(c.id);
    } else if ((c.state == TaskState::kQueued || state::is_in_flight(c.state) ||
                c.state == TaskState::kUpForRetry) &&
               status != "running") {
      c.attrs["trial"]["status"] = "running";
      dirty_.insert(c.id);
    }
    kids.push_back(&c);
  }
  auto records = sweep.trials(kids);
  std::string run_dir;
  try {
    run_dir = executors_(parent.site).run_dir(run_.id);
  } catch (const Error& e) {
    finish_instance(parent, TaskState::kFailed, e.what());
    return;
  }
  const dag::Task& task = *node.task;
  while (auto seg = sweep.next(records)) {
    const std::string cid = Sweep::trial_instance_id(task.id, seg->trial);
    const InstanceRecord* source =
        seg->resume_from < 0 ? nullptr
                             : &inst_.at(Sweep::trial_instance_id(task.id, seg->resume_from));
    if (seg->fresh) {
      InstanceRecord c;
      c.run_id = run_.id;
      c.id = cid;
      c.task_id = task.id;
      c.parent = task.id;
      c.map_index = seg->trial;
      c.site = parent.site;
      sweep.begin_segment(c, *seg, records, run_dir, source);
      node.children.push_back(c.id);
      inst_order_.push_back(c.id);
      dirty_.insert(c.id);
      event_writes_.push_back(
          {0, run_.id, c.id, 0, now_ms(), "queued", "trial " + c.attrs["trial"]["params"].dump()});
      runnable_.push_back(c.id);
      track(c, +1);
      inst_.emplace(c.id, std::move(c));
    } else {
      auto& c = inst_.at(cid);
      sweep.begin_segment(c, *seg, records, run_dir, source);
      c.failures = 0;  // each segment has the task's full retry budget
      set_state(c, TaskState::kQueued,
                "continue to epoch " + std::to_string(seg->target_epochs) +
                    (seg->resume_from >= 0 && seg->resume_from != seg->trial
                         ? " from trial-" + std::to_string(seg->resume_from) + "'s checkpoint"
                         : ""));
      runnable_.push_back(cid);
    }
  }
  if (!sweep.finished(records)) return;
  std::vector<InstanceRecord*> all;
  for (const auto& cid : node.children) {
    all.push_back(&inst_.at(cid));
    dirty_.insert(cid);
  }
  auto best = sweep.conclude(all);
  if (best.is_null()) {
    finish_instance(parent, TaskState::kFailed,
                    "no trial reported '" + task.hpo->metric + "' (" +
                        std::to_string(node.children.size()) + " trials)");
    return;
  }
  parent.attrs["best"] = best;
  finish_instance(parent, TaskState::kSucceeded,
                  "best " + best["trial"].get<std::string>() + ": " + task.hpo->metric + "=" +
                      best["metric"].dump() + " of " + std::to_string(node.children.size()) +
                      " trials");
}

// ---- persistence -----------------------------------------------------------------------------

bool RunController::flush() {
  if (done_) return false;
  if (dirty_.empty() && try_writes_.empty() && event_writes_.empty() && metric_writes_.empty() &&
      artifact_writes_.empty() && !run_dirty_) {
    return true;
  }
  {
    state::Store::Transaction tx(store_);
    // The fence: another engine that took this run over (flow resume --force, or a
    // heartbeat gone stale) owns it now, and nothing of this engine may be committed.
    if (store_.owner_token(run_.id) != engine().token) {
      auto now = store_.get_run(run_.id);
      abandon(now ? "run " + run_.id + " was taken over by " +
                        owner_of(*now, engine(), now_ms(), options_.stale_after).who
                  : "run " + run_.id + " was deleted");
      return false;
    }
    for (const auto& id : dirty_)
      store_.put_instance(inst_.at(id));
    for (const auto& t : try_writes_)
      store_.put_try(t);
    for (const auto& e : event_writes_)
      store_.add_event(e);
    for (const auto& m : metric_writes_)
      store_.add_metric(run_.id, m);
    for (const auto& a : artifact_writes_)
      store_.put_artifact(a);
    if (run_dirty_) store_.update_run(run_);
    tx.commit();
  }
  dirty_.clear();
  try_writes_.clear();
  event_writes_.clear();
  metric_writes_.clear();
  artifact_writes_.clear();
  run_dirty_ = false;
  auto changes = std::move(changes_);
  changes_.clear();
  if (observer_) {
    for (const auto& c : changes) {
      const auto& r = inst_.at(c.id);
      if (r.state == c.to) {
        observer_->on_change(r, c.from, r.message);
      } else {
        // The instance changed again in the same tick (a process that started and ended
        // before its start was committed): show this change as it was.
        auto then = r;
        then.state = c.to;
        observer_->on_change(then, c.from, c.message);
      }
    }
  }
  return true;
}

void RunController::abandon(const std::string& why) {
  abandoned_ = why;
  done_ = true;
  to_launch_.clear();
  store_.set_manual_checkpoints(false);
  control_timer_.cancel();
  retry_timer_.cancel();
  lazy_timer_.cancel();
  for (auto& [_, t] : timeouts_)
    t->cancel();
}

void RunController::arm_retry_timer() {
  if (done_ || stopping_) return;
  if (retry_due_.empty()) return;
  EpochMs next = retry_due_.begin()->first;
  auto wait = std::max<EpochMs>(0, next - now_ms());
  retry_timer_.expires_after(std::chrono::milliseconds(wait));
  retry_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) schedule_tick();
  });
}

void RunController::check_finished() {
  // Counts are kept up to date by set_state(): no scan of all instances per tick.
  int in_flight_n = 0, not_terminal = 0, failures = 0;
  for (const auto& [s, n] : counts_) {
    if (state::is_in_flight(s)) in_flight_n += n;
    if (!state::is_terminal(s)) not_terminal += n;
    if (state::is_failure(s)) failures += n;
  }
  for (const auto& [s, n] : parent_counts_) {
    if (!state::is_terminal(s)) not_terminal += n;
    if (state::is_failure(s)) failures += n;
  }
  const bool in_flight = in_flight_n > 0, all_terminal = not_terminal == 0,
             any_failure = failures > 0;
  if (in_flight || !to_launch_.empty()) return;
  if (stopping_) {
    if (stop_state_ == state::RunState::kCancelled) {
      for (const auto& id : inst_order_) {
        auto& r = inst_.at(id);
        if (!state::is_terminal(r.state)) {
          r.ended = now_ms();
          set_state(r, TaskState::kCancelled, "run cancelled");
        }
      }
    }
    run_.state = stop_state_;
  } else if (all_terminal) {
    run_.state = any_failure ? state::RunState::kFailed : state::RunState::kSucceeded;
  } else {
    return;
  }
  run_.ended = now_ms();
  run_.owner_pid = 0;
  run_.owner_start = 0;
  run_.owner_token.clear();
  run_dirty_ = true;
  if (!flush()) return;
  done_ = true;
  store_.checkpoint();
  store_.set_manual_checkpoints(false);
  control_timer_.cancel();
  retry_timer_.cancel();
  lazy_timer_.cancel();
  for (auto& [_, t] : timeouts_)
    t->cancel();
}

void RunController::control_poll() {
  if (done_) return;
  if (auto stored = store_.get_run(run_.id); stored && stored->cancel_requested && !stopping_) {
    cancel();
  }
  run_.heartbeat = now_ms();
  run_dirty_ = true;
  if (!flush()) return;
  store_.checkpoint();
  if (run_.cancel_requested) cancel();  // `flow cancel` of a run with no live engine
  control_timer_.expires_after(options_.control_interval);
  control_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) control_poll();
  });
}

void RunController::stop_all(CancelReason reason) {
  for (const auto& id : inst_order_) {
    const auto& r = inst_.at(id);
    if (!state::is_in_flight(r.state)) continue;
    if (r.parent.empty() && node_by_task_.at(r.task_id)->fans_out()) continue;
    try {
      executors_(r.site).cancel(AttemptKey{run_.id, r.id, r.try_number}, reason);
    } catch (const Error&) {
    }
  }
}

void RunController::interrupt() {
  if (stopping_ || done_) return;
  stopping_ = true;
  stop_state_ = state::RunState::kInterrupted;
  runnable_.clear();
  stop_all(CancelReason::kShutdown);
  schedule_tick();
}

void RunController::cancel() {
  if (done_) return;
  stopping_ = true;
  stop_state_ = state::RunState::kCancelled;
  runnable_.clear();
  stop_all(CancelReason::kUser);
  schedule_tick();
}

}  // namespace flow::run
