// Who drives a run: taking it over is one transaction that exactly one engine wins, an
// owner is gone when its process is (this host) or its heartbeat is (another host), and a
// displaced owner is fenced: it commits and launches nothing more.
#include "engine/run/ownership.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "engine/dag/loader.hpp"
#include "engine/run/process.hpp"
#include "engine/run/run_controller.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using run::EngineIdentity;
using run::OwnerState;

namespace {

state::RunRecord owned_run(const std::string& id, const std::string& yaml = "dag: d\ntasks: []\n") {
  state::RunRecord r;
  r.id = id;
  r.dag = "d";
  r.dag_yaml = yaml;
  r.dag_hash = "h";
  r.run_dir = "/tmp/unused";
  r.created = now_ms();
  return r;
}

EngineIdentity engine(const std::string& token, const std::string& host = "") {
  EngineIdentity e = EngineIdentity::self();
  e.token = token;
  if (!host.empty()) e.host = host;
  return e;
}

// The pid and start time of a process that has ended (reaped).
std::pair<int, uint64_t> dead_process() {
  int pid = ::fork();
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  uint64_t start = 0;
  for (int i = 0; i < 200 && start == 0; ++i) {
    start = run::process_start_ticks(pid);
    if (!start) ::usleep(5000);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return {pid, start};
}

}  // namespace

TEST(Ownership, ExactlyOneOfManyRacingEnginesTakesTheRun) {
  test::TempDir d;
  {
    auto store = state::Store::open(d / "flow.db");
    auto r = owned_run("r1");
    auto [pid, start] = dead_process();  // the engine that was killed
    r.owner_pid = pid;
    r.owner_start = start;
    r.owner_host = EngineIdentity::self().host;
    r.owner_token = "killed";
    store->insert_run(r);
  }
  for (int round = 0; round < 5; ++round) {
    std::atomic<int> won{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        // Each racer is its own engine with its own connection, as separate processes are.
        auto store = state::Store::open(d / "flow.db");
        auto me = engine("round" + std::to_string(round) + "-engine" + std::to_string(t));
        try {
          run::take_run(*store, "r1", me, {});
          ++won;
        } catch (const run::RunOwnedElsewhere&) {
          ++refused;
        }
      });
    }
    for (auto& th : threads)
      th.join();
    EXPECT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), 7) << "round " << round;
    // Make the run free again for the next round: its owner "dies".
    auto store = state::Store::open(d / "flow.db");
    auto r = *store->get_run("r1");
    auto [pid, start] = dead_process();
    r.owner_pid = pid;
    r.owner_start = start;
    store->update_run(r);
  }
}

TEST(Ownership, RefusalNamesTheOwnerAndRollsBackThePreparation) {
  test::TempDir d;
  auto store = state::Store::open(d / "flow.db");
  store->insert_run(owned_run("r1"));
  auto a = engine("a");
  run::take_run(*store, "r1", a, {});
  bool prepared = false;
  try {
    run::take_run(*store, "r1", engine("b"), {}, [&](state::RunRecord&) { prepared = true; });
    FAIL() << "a live owner must be refused";
  } catch (const run::RunOwnedElsewhere& e) {
    EXPECT_NE(
        std::string(e.what()).find("flow process " + std::to_string(::getpid()) + " on " + a.host),
        std::string::npos)
        << e.what();
    EXPECT_EQ(e.exit_code(), 3);
  }
  EXPECT_FALSE(prepared);
  EXPECT_EQ(store->owner_token("r1"), "a");
}

TEST(Ownership, PreparationThatThrowsLeavesTheRunAsItWas) {
  test::TempDir d;
  auto store = state::Store::open(d / "flow.db");
  store->insert_run(owned_run("r1"));
  EXPECT_THROW(run::take_run(*store, "r1", engine("b"), {},
                             [&](state::RunRecord& r) {
                               r.state = state::RunState::kFailed;
                               store->update_run(r);
                               throw InputError(SourceLocation{}, "no such task");
                             }),
               InputError);
  auto r = store->get_run("r1");
  EXPECT_EQ(r->owner_token, "");
  EXPECT_EQ(r->owner_pid, 0);
  EXPECT_EQ(r->state, state::RunState::kRunning);
}

TEST(Ownership, AnOwnerOnAnotherHostIsGoneOnlyOnceItsHeartbeatIsStale) {
  state::RunRecord r = owned_run("r1");
  r.owner_pid = 4242;
  r.owner_host = "login02";
  r.owner_token = "other";
  const EpochMs now = 1'000'000;
  const auto me = engine("me", "login01");
  r.heartbeat = now - 5'000;
  EXPECT_EQ(run::owner_of(r, me, now, std::chrono::seconds(60)).state, OwnerState::kLive);
  r.heartbeat = now - 61'000;
  auto v = run::owner_of(r, me, now, std::chrono::seconds(60));
  EXPECT_EQ(v.state, OwnerState::kGone);
  EXPECT_EQ(v.who, "flow process 4242 on login02, last heartbeat 1m01s ago");
}

TEST(Ownership, AnOwnerOnThisHostIsGoneWhenItsProcessIs) {
  state::RunRecord r = owned_run("r1");
  auto [pid, start] = dead_process();
  r.owner_pid = pid;
  r.owner_start = start;
  r.owner_host = EngineIdentity::self().host;
  r.owner_token = "dead";
  r.heartbeat = now_ms();  // a fresh heartbeat does not matter on the same host
  EXPECT_EQ(run::owner_of(r, engine("me"), now_ms(), std::chrono::hours(1)).state,
            OwnerState::kGone);
  r.owner_pid = ::getpid();
  r.owner_start = run::process_start_ticks(::getpid());
  EXPECT_EQ(run::owner_of(r, engine("me"), now_ms(), std::chrono::hours(1)).state,
            OwnerState::kLive);
  r.owner_pid = 0;
  EXPECT_EQ(run::owner_of(r, engine("me"), now_ms(), std::chrono::hours(1)).state,
            OwnerState::kNone);
}

TEST(Ownership, ForceTakesTheRunFromALiveOwner) {
  test::TempDir d;
  auto store = state::Store::open(d / "flow.db");
  store->insert_run(owned_run("r1"));
  run::take_run(*store, "r1", engine("a"), {});
  run::TakeoverPolicy force;
  force.force = true;
  auto t = run::take_run(*store, "r1", engine("b"), force);
  EXPECT_EQ(t.previous.state, OwnerState::kLive);
  EXPECT_EQ(store->owner_token("r1"), "b");
}

namespace {

// An executor that runs nothing: it records launches and ends each attempt on demand. Its
// launch() looks at the database through a connection of its own, as another process
// would, to prove the attempt's intent was committed before it was acted on.
class RecordingExecutor : public run::Executor {
 public:
  RecordingExecutor(boost::asio::io_context& io, std::filesystem::path db)
      : io_(io), reader_(state::Store::open(db)) {}
  std::string run_dir(const std::string&) const override { return "/tmp"; }
  run::Plan plan(const run::LaunchSpec&) override { return {}; }
  void launch(const run::LaunchSpec& spec, const run::Plan&) override {
    auto inst = reader_->get_instance(spec.key.run_id, spec.key.instance_id);
    auto tries = reader_->tries(spec.key.run_id, spec.key.instance_id);
    const bool recorded = inst && inst->state == state::TaskState::kStarting &&
                          inst->try_number == spec.key.try_number && !tries.empty() &&
                          tries.back().try_number == spec.key.try_number;
    launched.push_back({spec.key.instance_id, recorded});
    in_flight.push_back(spec.key);
  }
  void reattach(const run::LaunchSpec&, const run::AttemptHandle&) override {}
  void cancel(const run::AttemptKey&, run::CancelReason) override {}
  // Ends the oldest attempt in flight with success.
  void finish_one() {
    auto key = in_flight.front();
    in_flight.erase(in_flight.begin());
    boost::asio::post(io_, [this, key] {
      run::ExecEvent e;
      e.key = key;
      e.kind = run::ExecEvent::Kind::kFinished;
      e.outcome = run::Outcome::kSucceeded;
      emit(std::move(e));
    });
  }
  struct Launch {
    std::string id;
    bool intent_committed;
  };
  std::vector<Launch> launched;
  std::vector<run::AttemptKey> in_flight;

 private:
  boost::asio::io_context& io_;
  std::unique_ptr<state::Store> reader_;
};

const char* kChain = R"(dag: chain
tasks:
  - id: a
    run: "true"
  - id: b
    after: [a]
    run: "true"
  - id: c
    after: [b]
    run: "true"
)";

}  // namespace

// The engine's central promise: an attempt's intent is committed before it is launched.
TEST(Ownership, EveryLaunchFindsItsIntentAlreadyCommitted) {
  test::TempDir d;
  auto store = state::Store::open(d / "flow.db");
  store->insert_run(owned_run("r1", kChain));
  auto dag = dag::load_dag_text(kChain, "chain.yaml");
  boost::asio::io_context io;
  RecordingExecutor ex(io, d / "flow.db");
  run::ControllerOptions opts{d.path(), std::chrono::milliseconds(50)};
  run::RunController c(
      io, *store, dag, *store->get_run("r1"),
      [&](const std::string&) -> run::Executor& { return ex; }, opts);
  ex.set_sink([&](run::ExecEvent e) { c.on_event(std::move(e)); });
  c.start();
  for (int i = 0; i < 2000 && !c.done(); ++i) {
    io.run_one_for(std::chrono::milliseconds(5));
    if (!ex.in_flight.empty()) ex.finish_one();
  }
  ASSERT_TRUE(c.done());
  EXPECT_EQ(c.run().state, state::RunState::kSucceeded);
  ASSERT_EQ(ex.launched.size(), 3u);
  for (const auto& l : ex.launched)
    EXPECT_TRUE(l.intent_committed) << l.id << " was launched before its try was committed";
}

// A controller whose run another engine took over (flow resume --force) stops at its next
// commit: it records nothing more and launches nothing more.
TEST(Ownership, ADisplacedOwnerIsFencedOut) {
  test::TempDir d;
  auto store = state::Store::open(d / "flow.db");
  store->insert_run(owned_run("r1", kChain));
  auto dag = dag::load_dag_text(kChain, "chain.yaml");
  boost::asio::io_context io;
  RecordingExecutor ex(io, d / "flow.db");
  const auto a = engine("engine-a");
  run::ControllerOptions opts{d.path(), std::chrono::milliseconds(50)};
  opts.engine = &a;
  run::RunController c(
      io, *store, dag, *store->get_run("r1"),
      [&](const std::string&) -> run::Executor& { return ex; }, opts);
  ex.set_sink([&](run::ExecEvent e) { c.on_event(std::move(e)); });
  c.start();
  for (int i = 0; i < 2000 && ex.launched.empty(); ++i)
    io.run_one_for(std::chrono::milliseconds(5));
  ASSERT_EQ(ex.launched.size(), 1u);  // `a` runs

  // Engine b takes the run over while a's attempt of `a` is in flight.
  auto other = state::Store::open(d / "flow.db");
  run::TakeoverPolicy force;
  force.force = true;
  run::take_run(*other, "r1", engine("engine-b"), force);

  ex.finish_one();  // `a` ends: engine a would now commit it and launch `b`
  for (int i = 0; i < 400 && !c.done(); ++i)
    io.run_one_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(c.done());
  EXPECT_EQ(ex.launched.size(), 1u) << "the displaced engine launched " << ex.launched.back().id;
  EXPECT_NE(c.abandoned().find("was taken over by flow process"), std::string::npos)
      << c.abandoned();
  EXPECT_EQ(other->owner_token("r1"), "engine-b");
  EXPECT_EQ(other->get_instance("r1", "a")->state, state::TaskState::kStarting)
      << "engine a committed after it lost the run";
}
