#pragma once
// The state machine of one run. It owns the live copy of the run's task instances, decides
// what may start (trigger rules, retries, concurrency), hands attempts to the Executor of
// each task's site, and applies what executors report. It runs on one io_context and
// follows one rule: every state change is committed to the Store before the engine acts
// on it. A tick applies all pending executor events, picks new attempts, commits all of it
// in ONE transaction, then launches — so SQLite cost is per tick, not per task. Events the
// engine does not act on (a process reporting that it started) do not start a tick of
// their own: they ride along with the next one (ControllerOptions::started_commit_delay).
//
// The same controller starts a new run and resumes an old one: instances found in flight
// are re-attached through their executor, never started twice.
//
// It delegates: the live instances and their counts (InstanceTable), the tick's writes
// (WriteBatch), try rows (TryLog), commands and environments (AttemptSpecs, with template
// names from engine/dag/template_names.hpp), foreach lists (foreach_expansion.hpp), HPO
// steps (sweep_step.hpp), the end of a run (run_end.hpp). Its implementation is in two
// files: run_controller.cpp (the loop) and attempt_events.cpp (executor reports).

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/core/engine_timer.hpp"
#include "engine/core/log.hpp"
#include "engine/dag/dag.hpp"
#include "engine/dag/template.hpp"
#include "engine/run/attempt_files.hpp"
#include "engine/run/attempt_spec.hpp"
#include "engine/run/executor.hpp"
#include "engine/run/index_queue.hpp"
#include "engine/run/instance_table.hpp"
#include "engine/run/ownership.hpp"
#include "engine/run/runnable_queue.hpp"
#include "engine/run/sweep.hpp"
#include "engine/run/try_log.hpp"
#include "engine/run/write_batch.hpp"
#include "engine/state/store.hpp"

namespace flow::run {

// Finds the executor for a site name. Throws flow::Error if the site cannot be used.
using ExecutorLookup = std::function<Executor&(const std::string& site)>;

// What the CLI shows while a run goes on. Called after the change is committed.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_change(const state::InstanceRecord& instance, state::TaskState from,
                         const std::string& message) = 0;
  // After every tick, with the count of instances per state.
  virtual void on_tick(const std::map<state::TaskState, int>& /*counts*/) {}
};

struct ControllerOptions {
  std::filesystem::path home;                        // logs under home/logs/RUN/INSTANCE/TRY.log
  std::chrono::milliseconds control_interval{1000};  // cancel-flag poll, heartbeat
  // How long a `running` report (kStarted) may wait to be committed with other changes.
  // The engine acts on nothing in it, so it need not cost a transaction of its own; this
  // bounds how long `flow status` can still show a started task as `starting`.
  std::chrono::milliseconds started_commit_delay{20};
  // How many state changes a tick gathers before it stops deciding and launching and
  // leaves the rest to the next tick: instances that end without a process (a command that
  // cannot be rendered, an upstream that failed) could otherwise all end in one tick, and a
  // million of them held 1.4 GB until its commit (docs/BENCHMARKS.md). One instance's
  // changes may go over it.
  size_t tick_changes = 65536;
  // The engine this controller drives the run as (null = this process). The run must be
  // free or already this engine's (engine/run/ownership.hpp); start() takes it.
  const EngineIdentity* engine = nullptr;
  std::chrono::milliseconds stale_after = default_stale_after();
};

class RunController {
 public:
  RunController(boost::asio::io_context& io, state::Store& store, dag::Dag dag,
                state::RunRecord run, ExecutorLookup executors, ControllerOptions options,
                RunObserver* observer = nullptr);
  ~RunController();

  // Takes the run over (take_run: EnvironmentError if another live engine owns it),
  // loads its instances from the store (creating the static ones on first start),
  // re-attaches in-flight attempts and starts scheduling. Returns immediately; the run
  // proceeds as the io_context runs, and done() turns true at the end.
  void start();

  // Ctrl-C: stop running attempts, start nothing new; the run ends `interrupted` and the
  // stopped instances are queued again for `flow resume`.
  void interrupt();
  // `flow cancel`: stop attempts; the run ends `cancelled`.
  void cancel();

  // Executor events for this run; the CLI routes each executor's Sink here by run id.
  void on_event(ExecEvent e);
  // An attempt of another run on the same executors ended: a slot may be free for what
  // this run has waiting. (Its own attempts' ends start a tick anyway.)
  void poke();

  bool done() const { return done_; }
  // Why this engine stopped driving the run before its end ("" if it did not): another
  // engine took it over, so nothing more was committed or launched from here.
  const std::string& abandoned() const { return abandoned_; }
  // The run's row as this engine keeps it: without the DAG's text (dag_yaml is empty).
  const state::RunRecord& run() const { return run_; }
  const dag::Dag& dag() const { return dag_; }
  std::vector<state::InstanceRecord> instances() const;
  // Copies of the instances `keep` selects, in creation order.
  std::vector<state::InstanceRecord> instances_if(
      const std::function<bool(const state::InstanceRecord&)>& keep) const;
  // Instances per state, fan-out tasks' own instances included.
  std::map<state::TaskState, int> counts() const;
  // Once done(): forgets the instances (they are all in the store), so that what comes
  // after the run, such as printing it, does not need the run's size in memory again.
  void drop_instances();

 private:
  // A task of the DAG and its place in the graph.
  struct Node {
    size_t index = 0;
    const dag::Task* task = nullptr;
    std::vector<Node*> upstream;
    std::vector<Node*> downstream;
    bool mapped() const { return task->foreach.has_value(); }
    bool swept() const { return task->hpo.has_value(); }
    // Its instance only summarises others (mapped instances or HPO trials).
    bool fans_out() const { return mapped() || swept(); }
    std::unique_ptr<Sweep> sweep;  // swept nodes, once they started
    const std::string& id() const { return task->id; }
  };
  class View;  // what template references may read (RunView)
  void schedule_tick();
  void schedule_lazy_tick();
  void tick();
  void launch_runnable();
  // Whether this tick gathered options_.tick_changes state changes; if so, it remembers to
  // schedule the next tick once it committed them.
  bool tick_full();
  bool decide_node(Node& node);  // true once the node left the queued state
  void make_runnable(const state::InstanceRecord& inst) { runnable_.push(inst.site, inst.id); }
  bool try_launch(state::InstanceRecord& inst, const dag::Task& task,
                  std::map<Executor*, int>& budget);
  void reattach(state::InstanceRecord& inst, const dag::Task& task);
  void expand_foreach(Node& node);
  // An HPO node: start what its tuner says, or conclude it (engine/run/sweep_step.hpp).
  void advance_sweep(Node& node);

  void apply(ExecEvent e);
  void on_finished(state::InstanceRecord& inst, state::TryRecord& t, const ExecEvent& e);
  void on_succeeded(state::InstanceRecord& inst);
  void on_failed(state::InstanceRecord& inst, state::TryRecord& t, const ExecEvent& e);
  void read_metrics(const state::InstanceRecord& inst);
  // Queues the artifacts a succeeded try declared for the next commit (docs/ARTIFACTS.md);
  // returns "" or why they cannot be registered, which fails the try.
  std::string register_artifacts(const state::InstanceRecord& inst);

  void finish_instance(state::InstanceRecord& inst, state::TaskState to, const std::string& msg);
  void update_mapped_parent(Node& node);
  // `at`: when it happened, for the event row (0 = now).
  void set_state(state::InstanceRecord& inst, state::TaskState to, const std::string& msg = "",
                 EpochMs at = 0);
  void start_timeout(const state::InstanceRecord& inst);
  void check_finished();
  // Every instance not yet terminal ends in `to` (a cancel, or a run that cannot go on).
  void end_unfinished(state::TaskState to, const std::string& message);
  // Commits the tick's WriteBatch in one transaction and tells the observer. False
  // (nothing committed, the controller done) if this engine no longer owns the run.
  bool flush();
  void abandon(const std::string& why);
  void control_poll();
  void stop_all(CancelReason reason);
  void arm_retry_timer();

  LaunchSpec make_spec(const state::InstanceRecord& inst, const dag::Task& task, Executor& ex,
                       bool render);
  AttemptFiles files_for(const std::string& instance_id, int try_number) const;
  nlohmann::json resolve(const dag::TemplateRef& ref, const state::InstanceRecord& inst);
  const EngineIdentity& engine() const {
    return options_.engine ? *options_.engine : EngineIdentity::self();
  }

  boost::asio::io_context& io_;
  state::Store& store_;
  dag::Dag dag_;
  state::RunRecord run_;
  ExecutorLookup executors_;
  ControllerOptions options_;
  RunObserver* observer_;
  std::unique_ptr<log::RunLog> run_log_;  // <run_dir>/engine.log while this controller lives

  // By task index; reserved once in the constructor, so pointers to nodes stay valid.
  std::vector<Node> nodes_;
  // Keys are the tasks' own ids in dag_.tasks (which never changes while the run goes on).
  std::unordered_map<std::string_view, Node*> node_by_task_;
  WriteBatch batch_;     // what this tick changed, committed by flush()
  InstanceTable table_;  // the live instances (writes go through batch_)
  TryLog tries_;         // try rows of the attempts in flight (writes go through batch_)
  MetricsReader metrics_;
  std::unique_ptr<View> view_;
  AttemptSpecs specs_;

  IndexQueue undecided_;    // nodes (by index) whose trigger may now decide, lowest first
  RunnableQueue runnable_;  // queued instances ready to launch
  std::set<std::pair<EpochMs, std::string>> retry_due_;  // up_for_retry, by due time
  std::vector<ExecEvent> events_;
  bool tick_scheduled_ = false;
  bool tick_was_full_ = false;  // tick_full() said so: the next tick is due at once
  std::vector<std::tuple<LaunchSpec, Plan, Executor*>> to_launch_;
  std::map<std::string, std::unique_ptr<EngineTimer>> timeouts_;
  EngineTimer control_timer_;
  EngineTimer retry_timer_;
  EngineTimer lazy_timer_;  // started_commit_delay
  bool lazy_armed_ = false;
  bool stopping_ = false;
  state::RunState stop_state_ = state::RunState::kInterrupted;
  bool done_ = false;
  std::string abandoned_;
};

}  // namespace flow::run
