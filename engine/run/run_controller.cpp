// RunController, part 1: the loop — start and re-attach, ticks that decide what may run
// and launch it after one commit. Part 2, engine/run/attempt_events.cpp, applies what
// executors report about attempts; part 3, engine/run/run_stopping.cpp, ends the run and
// stops it (cancel, interrupt, a takeover by another engine).
#include "engine/run/run_controller.hpp"

#include <boost/asio/post.hpp>

#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/run/attempt_files.hpp"
#include "engine/run/foreach_expansion.hpp"
#include "engine/run/secrets.hpp"
#include "engine/run/sweep_step.hpp"
#include "engine/run/template_resolver.hpp"
#include "engine/run/trigger.hpp"
#include "engine/state/trial_segment.hpp"

namespace flow::run {

using state::InstanceRecord;
using state::TaskState;

namespace {
// Checkpoint the WAL (Store::set_manual_checkpoints) when it has grown by this many pages
// since the last checkpoint, as SQLite would, but after a tick's launches.
constexpr int kCheckpointPages = 1000;
}  // namespace

// What template references may read of the run: the live instances.
class RunController::View : public RunView {
 public:
  explicit View(const RunController& c) : c_(c) {}
  const state::RunRecord& run() const override { return c_.run_; }
  const InstanceRecord* instance(const std::string& id) const override {
    return c_.table_.find(id);
  }
  bool is_mapped(const std::string& task) const override {
    auto it = c_.node_by_task_.find(task);
    return it != c_.node_by_task_.end() && it->second->mapped();
  }
  bool is_swept(const std::string& task) const override {
    auto it = c_.node_by_task_.find(task);
    return it != c_.node_by_task_.end() && it->second->swept();
  }
  std::vector<const InstanceRecord*> children(const std::string& task) const override {
    const auto& kids = c_.table_.children(task);
    return {kids.begin(), kids.end()};
  }
  const std::string* secret(const std::string& name) const override {
    auto it = secrets_.find(name);
    return it == secrets_.end() ? nullptr : &it->second;
  }
  void set_secrets(SecretValues values) { secrets_ = std::move(values); }

 private:
  const RunController& c_;
  SecretValues secrets_;  // read at start(), in memory only (engine/run/secrets.hpp)
};

RunController::RunController(boost::asio::io_context& io, state::Store& store, dag::Dag dag,
                             state::RunRecord run, ExecutorLookup executors,
                             ControllerOptions options, RunObserver* observer)
    : io_(io),
      store_(store),
      dag_(std::move(dag)),
      run_(std::move(run)),
      executors_(std::move(executors)),
      options_(std::move(options)),
      observer_(observer),
      table_(batch_,
             [this](const InstanceRecord& r) {
               return r.parent.empty() && node_by_task_.at(r.task_id)->fans_out();
             }),
      tries_(store_, batch_, run_.id),
      view_(std::make_unique<View>(*this)),
      specs_(dag_, options_.home),
      control_timer_(io),
      retry_timer_(io),
      lazy_timer_(io) {
  // The DAG's text is in the database (run_dags) and nothing here reads it again: a DAG of
  // 1,000,000 tasks is not held as text twice more for the length of the run.
  std::string().swap(run_.dag_yaml);
  std::string().swap(dag_.source_text);
  // Validation is over: the locations of the tasks' fields are not read again, and a static
  // DAG of 1,000,000 tasks would hold a list of them (and the file's name) per task.
  for (dag::Task& t : dag_.tasks)
    t.drop_source();
  node_by_task_.reserve(dag_.tasks.size());
  undecided_.reserve(dag_.tasks.size());
  nodes_.reserve(dag_.tasks.size());
  if (!run_.run_dir.empty())
    run_log_ =
        std::make_unique<log::RunLog>(run_.id, std::filesystem::path(run_.run_dir) / "engine.log");
  for (size_t i = 0; i < dag_.tasks.size(); ++i) {
    Node& n = nodes_.emplace_back();  // reserved: no node moves, pointers to them stay
    n.index = i;
    n.task = &dag_.tasks[i];
    node_by_task_[n.id()] = &n;
  }
  for (Node& n : nodes_) {
    for (const auto& up : n.task->after) {
      Node* u = node_by_task_.at(up);
      n.upstream.push_back(u);
      u->downstream.push_back(&n);
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
  out.reserve(table_.size());
  for (const InstanceRecord* r : table_.order()) {
    out.push_back(*r);
    out.back().run_id = run_.id;  // the live records leave it empty (instance_table.hpp)
  }
  return out;
}

std::vector<InstanceRecord> RunController::instances_if(
    const std::function<bool(const InstanceRecord&)>& keep) const {
  std::vector<InstanceRecord> out;
  for (const InstanceRecord* r : table_.order()) {
    if (!keep(*r)) continue;
    out.push_back(*r);
    out.back().run_id = run_.id;
  }
  return out;
}

std::map<TaskState, int> RunController::counts() const {
  std::map<TaskState, int> out = table_.counts();
  for (const auto& [s, n] : table_.summary_counts())
    out[s] += n;
  return out;
}

void RunController::drop_instances() {
  table_.clear();
}

AttemptFiles RunController::files_for(const std::string& instance_id, int try_number) const {
  return specs_.files(run_.id, instance_id, try_number);
}

// ---- start ------------------------------------------------------------------------------

void RunController::start() {
  // Secrets first: one that cannot be read stops the start before the run is taken.
  view_->set_secrets(read_secrets(dag_));
  // Take the run (atomically; a no-op re-stamp when the CLI already took it over for a
  // resume): from here until it ends, every commit of this controller checks it still owns
  // it (flush()).
  TakeoverPolicy keep;
  keep.stale_after = options_.stale_after;
  const auto taken = take_run(store_, run_.id, engine(), keep).run;
  engine().stamp(run_, now_ms());
  run_.cancel_requested = taken.cancel_requested;
  store_.for_each_instance(run_.id, [&](InstanceRecord rec) {
    if (rec.state == TaskState::kUpForRetry) retry_due_.insert({rec.next_try_at, rec.id});
    table_.load(std::move(rec));
  });
  if (table_.empty()) {  // a new run: one instance per task, written with the first commit
    for (const Node& n : nodes_) {
      InstanceRecord r;
      r.id = n.id();
      r.task_id = n.id();
      r.site = dag_.site_of(*n.task);
      table_.touch(table_.load(std::move(r)).id);
    }
  }
  log::info("run " + run_.id + " of " + dag_.name + ": engine pid " +
                std::to_string(run_.owner_pid) + " on " +
                (run_.owner_host.empty() ? std::string("this host") : run_.owner_host) +
                (run_.started ? " resumes it" : " starts it"),
            run_.id);
  run_.state = state::RunState::kRunning;
  if (run_.started == 0) run_.started = now_ms();
  run_.ended = 0;

  for (Node& n : nodes_) {
    if (table_.at(n.id()).state == TaskState::kQueued) undecided_.push(n.index);
  }
  for (InstanceRecord* each : table_.order()) {
    auto& r = *each;
    const Node* n = node_by_task_.at(r.task_id);
    if (!r.parent.empty() && r.state == TaskState::kQueued) {
      make_runnable(r);
    } else if (state::is_in_flight(r.state) && !(n->fans_out() && r.parent.empty())) {
      reattach(r, *n->task);
    }
  }
  for (Node& n : nodes_) {
    if (n.fans_out()) update_mapped_parent(n);
  }
  batch_.touch_run();
  store_.set_manual_checkpoints(true);  // see tick() and control_poll()
  if (!flush()) return;
  if (run_.cancel_requested) cancel();  // `flow cancel` of a run with no live engine
  control_timer_.expires_after(options_.control_interval);
  control_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) control_poll();
  });
  schedule_tick();
}

void RunController::reattach(InstanceRecord& r, const dag::Task& task) {
  // The attempt may still be running from an engine that died.
  try {
    Executor& ex = executors_(r.site);
    LaunchSpec spec = make_spec(r, task, ex, /*render=*/false);
    // The script too: a try in an allocation is found again from the place it names.
    AttemptHandle h{r.pid, r.pid_start, r.job_id, r.job_name, tries_.of(r).script};
    ex.reattach(spec, h);
    if (r.state == TaskState::kRunning) start_timeout(r);
  } catch (const Error& e) {
    finish_instance(r, TaskState::kFailed, std::string("cannot re-attach: ") + e.what());
  }
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
      auto& r = table_.at(retry_due_.begin()->second);
      set_state(r, TaskState::kQueued, "retrying");  // erases it from retry_due_
      make_runnable(r);
    }
    // A node is looked at again only when one of its upstreams reached an end state (the
    // only thing trigger rules depend on); deciding one can queue its downstream here too.
    while (!undecided_.empty() && !tick_full()) {
      decide_node(nodes_[undecided_.pop()]);
    }
    launch_runnable();
  }
  if (!flush()) {  // not committed: launch nothing, and hold no cores or GPUs for it
    for (auto& [spec, plan, ex] : to_launch_)
      ex->release(spec.key);
    return;
  }
  auto launches = std::move(to_launch_);
  to_launch_.clear();
  for (auto& [spec, plan, ex] : launches)
    ex->launch(spec, plan);
  // With the new attempts running, copy the WAL into the database if it grew enough (it
  // fsyncs, which used to stall a commit that came before a launch).
  if (store_.wal_pages() >= kCheckpointPages) store_.checkpoint();
  check_finished();
  if (observer_ && !done_) observer_->on_tick(table_.counts());
  arm_retry_timer();
  // A full tick left nodes to decide or instances to launch, or an instance that ended
  // without a process as this tick launched (a command that cannot be rendered) ended its
  // foreach and so made a downstream node decidable: the next tick goes on with them,
  // after this one's commit.
  if (tick_was_full_ || (!stopping_ && !undecided_.empty())) {
    tick_was_full_ = false;
    schedule_tick();
  }
}

bool RunController::tick_full() {
  if (batch_.changes() < options_.tick_changes) return false;
  tick_was_full_ = true;
  return true;
}

void RunController::launch_runnable() {
  // What waits behind a full site is not looked at: a tick costs what it launches.
  std::map<Executor*, int> budget;
  runnable_.drain([&](const std::string& id) {
    if (tick_full()) return RunnableQueue::Taken::kSiteFull;  // stays first, for the next tick
    auto& r = table_.at(id);
    if (r.state != TaskState::kQueued) return RunnableQueue::Taken::kYes;
    return try_launch(r, *node_by_task_.at(r.task_id)->task, budget)
               ? RunnableQueue::Taken::kYes
               : RunnableQueue::Taken::kSiteFull;
  });
}

bool RunController::decide_node(Node& node) {
  auto& r = table_.at(node.id());
  if (r.state != TaskState::kQueued) return true;
  std::vector<TaskState> ups;
  ups.reserve(node.upstream.size());
  for (Node* u : node.upstream)
    ups.push_back(table_.at(u->id()).state);
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
        if (state::is_failure(table_.at(u->id()).state)) bad.push_back(u->id());
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
        make_runnable(r);
      }
      return true;
  }
  return false;
}

void RunController::expand_foreach(Node& node) {
  auto& parent = table_.at(node.id());
  nlohmann::json list;
  try {
    list =
        foreach_list(*node.task, [&](const dag::TemplateRef& ref) { return resolve(ref, parent); });
  } catch (const std::exception& e) {
    finish_instance(parent, TaskState::kFailed, std::string("foreach: ") + e.what());
    return;
  }
  if (list.empty()) {
    finish_instance(parent, TaskState::kSkipped, "foreach list is empty: nothing to map over");
    return;
  }
  table_.expect_children(parent.id, list.size());
  for (size_t i = 0; i < list.size(); ++i)
    make_runnable(table_.create(mapped_instance(parent, i, std::move(list[i])), ""));
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
  // The cores and GPUs the task asks for, held from here until the try ends; when they
  // are not free the instance waits at the head of its site's queue.
  const AttemptKey key{run_.id, inst.id, inst.try_number + 1};
  if (!ex->claim(key, task.resources, task.extras->timeout)) return false;

  inst.try_number++;
  LaunchSpec spec;
  try {
    spec = make_spec(inst, task, *ex, /*render=*/true);
  } catch (const std::exception& e) {
    // A template that cannot be filled will not get better on retry. Nothing launches, so
    // the slot stays free for the next instance.
    ex->release(key);
    finish_instance(inst, TaskState::kFailed, e.what());
    return true;
  }
  if (it->second > 0) --it->second;
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
  inst.message.clear();
  tries_.begin(inst, plan, spec);
  log::info(inst.id + ": try " + std::to_string(inst.try_number) + " on site " + inst.site +
                (plan.handle.job_name.empty() ? "" : " as " + plan.handle.job_name),
            run_.id);
  set_state(inst,
            plan.intent == IntentState::kStarting ? TaskState::kStarting : TaskState::kSubmitting);
  to_launch_.emplace_back(std::move(spec), std::move(plan), ex);
  return true;
}

LaunchSpec RunController::make_spec(const InstanceRecord& inst, const dag::Task& task, Executor& ex,
                                    bool render) {
  return specs_.make(inst, task, *view_, ex, render);
}

nlohmann::json RunController::resolve(const dag::TemplateRef& ref, const InstanceRecord& inst) {
  return resolve_reference(ref, inst, *view_, executors_(inst.site).run_dir(run_.id));
}

// ---- state changes ---------------------------------------------------------------------------

void RunController::set_state(InstanceRecord& inst, TaskState to, const std::string& msg,
                              EpochMs at) {
  if (inst.state != to) {
    // The first line of the message only: a failure's message carries the log's last lines.
    const std::string first = msg.substr(0, msg.find('\n'));
    // Failures and retries with -v (the progress lines already show them), the rest -vv.
    const log::Level level =
        to == TaskState::kFailed || to == TaskState::kTimedOut || to == TaskState::kUpForRetry
            ? log::Level::kInfo
            : log::Level::kDebug;
    log::write(level,
               inst.id + ": " + std::string(state::to_string(inst.state)) + " -> " +
                   std::string(state::to_string(to)) + (first.empty() ? "" : " (" + first + ")"),
               run_.id);
  }
  if (inst.state == TaskState::kUpForRetry) retry_due_.erase({inst.next_try_at, inst.id});
  table_.set_state(inst, to, msg, at);
  if (to == TaskState::kUpForRetry) retry_due_.insert({inst.next_try_at, inst.id});
  tries_.on_state(inst, to, msg);
}

void RunController::finish_instance(InstanceRecord& inst, TaskState to, const std::string& msg) {
  inst.ended = now_ms();
  if (inst.started == 0) inst.started = inst.ended;
  set_state(inst, to, msg);
  tries_.forget(inst.id);
  Node* node = node_by_task_.at(inst.task_id);
  if (!inst.parent.empty()) {
    update_mapped_parent(*node);
    return;
  }
  for (Node* d : node->downstream) {
    if (table_.at(d->id()).state == TaskState::kQueued) undecided_.push(d->index);
  }
}

void RunController::update_mapped_parent(Node& node) {
  if (node.swept()) return advance_sweep(node);
  auto& parent = table_.at(node.id());
  const auto& children = table_.children(node.id());
  if (parent.state != TaskState::kRunning || children.empty()) return;
  // Called as each child ends: the tally answers "all done?" without visiting them.
  const auto tally = table_.child_tally(node.id());
  if (tally.terminal < children.size()) return;
  if (tally.failed == 0) {
    finish_instance(parent, TaskState::kSucceeded,
                    std::to_string(children.size()) + " mapped instances succeeded");
    return;
  }
  std::vector<std::string> named;  // the first five failed, once
  for (const InstanceRecord* c : children) {
    if (!state::is_failure(c->state)) continue;
    if (named.size() == 5) {
      named.push_back("...");
      break;
    }
    named.push_back(c->id);
  }
  finish_instance(parent, TaskState::kFailed,
                  std::to_string(tally.failed) + " of " + std::to_string(children.size()) +
                      " mapped instances failed: " + join(named));
}

void RunController::advance_sweep(Node& node) {
  auto& parent = table_.at(node.id());
  if (parent.state != TaskState::kRunning || stopping_) return;
  std::string run_dir;
  try {
    run_dir = executors_(parent.site).run_dir(run_.id);
  } catch (const Error& e) {
    return finish_instance(parent, TaskState::kFailed, e.what());
  }
  if (!node.sweep) node.sweep = std::make_unique<Sweep>(*node.task, run_.id);
  auto step = run::advance_sweep(*node.sweep, *node.task, table_, run_dir);
  for (const auto& id : step.queued)
    make_runnable(table_.at(id));
  if (!step.finished) return;
  const dag::Task& task = *node.task;
  const size_t trials = table_.children(task.id).size();
  if (step.best.is_null()) {
    return finish_instance(
        parent, TaskState::kFailed,
        "no trial reported '" + task.hpo->metric + "' (" + std::to_string(trials) + " trials)");
  }
  parent.attrs["best"] = step.best;
  finish_instance(parent, TaskState::kSucceeded,
                  "best " + step.best["trial"].get<std::string>() + ": " + task.hpo->metric + "=" +
                      step.best["metric"].dump() + " of " + std::to_string(trials) + " trials");
}

// ---- persistence -----------------------------------------------------------------------------

bool RunController::flush() {
  if (done_) return false;
  using R = WriteBatch::Result;
  const R result = batch_.commit(
      store_, run_, engine().token,
      [this](const std::string& id) -> const InstanceRecord& { return table_.at(id); });
  if (result == R::kNotOwner) {
    // The fence: another engine took this run over (flow resume --force, or a heartbeat
    // gone stale), and nothing of this engine may be committed or acted on any more.
    auto now = store_.get_run_without_dag(run_.id);
    abandon(now ? "run " + run_.id + " was taken over by " +
                      owner_of(*now, engine(), now_ms(), options_.stale_after).who
                : "run " + run_.id + " was deleted");
    return false;
  }
  if (result == R::kCommitted && observer_) {
    for (const auto& c : batch_.take_changes()) {
      const auto& r = table_.at(c.id);
      if (r.state == c.to && r.try_number == c.try_number &&
          state::segment_try_of(r) == c.segment) {
        observer_->on_change(r, c.from, r.message);
      } else {
        // The instance changed again in the same tick (a process that started and ended
        // before its start was committed, a trial promoted as its segment ended): show
        // this change as it was, with its own try and segment.
        auto then = r;
        then.state = c.to;
        then.try_number = c.try_number;
        state::set_segment_try(then, c.segment, c.try_number);
        observer_->on_change(then, c.from, c.message);
      }
    }
  }
  if (!observer_) batch_.take_changes();
  return true;
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

}  // namespace flow::run
