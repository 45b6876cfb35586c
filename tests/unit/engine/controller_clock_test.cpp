// The run controller's waits follow the engine's clock (engine/core/clock.hpp): with a
// ManualClock, a retry delay of ten minutes or a timeout of two hours pass when the test
// says so, and not before.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "engine/dag/loader.hpp"
#include "engine/run/run_controller.hpp"
#include "tests/support/fake_executor.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using namespace std::chrono_literals;
using state::TaskState;

namespace {

struct Controlled {
  test::ManualTime time;
  test::TempDir dir;
  std::unique_ptr<state::Store> store = state::Store::open(dir / "flow.db");
  boost::asio::io_context io;
  test::FakeExecutor ex{io, "local"};
  std::unique_ptr<run::RunController> c;

  explicit Controlled(const std::string& yaml, bool queue_first = false) {
    ex.queue_first = queue_first;
    auto dag = dag::load_dag_text(yaml, "t.yaml");
    state::RunRecord r;
    r.id = "r1";
    r.dag = dag.name;
    r.dag_yaml = yaml;
    r.dag_hash = "h";
    r.run_dir = (dir / "runs" / "r1").string();
    r.created = now_ms();
    store->insert_run(r);
    c = std::make_unique<run::RunController>(
        io, *store, dag, r, [this](const std::string&) -> run::Executor& { return ex; },
        run::ControllerOptions{dir.path(), 100ms});
    ex.set_sink([this](run::ExecEvent e) { c->on_event(std::move(e)); });
    c->start();
    settle();
  }
  // Lets the engine do everything it can without the clock moving. Timers look at the
  // manual clock at least every millisecond (engine/core/engine_timer.hpp), so this runs
  // the loop for a few real milliseconds, not just what is ready now.
  void settle() {
    for (int i = 0; i < 10; ++i) {
      io.restart();
      io.run_for(std::chrono::milliseconds(3));
    }
  }
  TaskState state(const std::string& id) { return store->get_instance("r1", id)->state; }
};

}  // namespace

TEST(ControllerClock, ARetryWaitsForItsDelayOnTheEngineClock) {
  Controlled r(R"(dag: r
tasks:
  - id: a
    retries: 1
    retry_delay: 10m
    run: "false"
)");
  ASSERT_EQ(r.ex.launched.size(), 1u);
  r.ex.finish_oldest(run::Outcome::kFailed);
  r.settle();
  EXPECT_EQ(r.state("a"), TaskState::kUpForRetry);
  r.time.advance(9min + 59s);
  r.settle();
  EXPECT_EQ(r.ex.launched.size(), 1u) << "retried before its delay";
  r.time.advance(1s);
  r.settle();
  ASSERT_EQ(r.ex.launched.size(), 2u);
  EXPECT_EQ(r.ex.launched[1].key.try_number, 2);
  r.ex.finish_oldest();
  r.settle();
  EXPECT_TRUE(r.c->done());
  EXPECT_EQ(r.c->run().state, state::RunState::kSucceeded);
}

TEST(ControllerClock, BackoffGrowsTheDelayOfEachFurtherRetry) {
  Controlled r(R"(dag: r
tasks:
  - id: a
    retries: 2
    retry_delay: 1m
    retry_backoff: 3
    run: "false"
)");
  r.ex.finish_oldest(run::Outcome::kFailed);
  r.settle();
  r.time.advance(1min);
  r.settle();
  ASSERT_EQ(r.ex.launched.size(), 2u);
  r.ex.finish_oldest(run::Outcome::kFailed);
  r.settle();
  r.time.advance(2min + 59s);  // the second retry waits 1m x 3
  r.settle();
  EXPECT_EQ(r.ex.launched.size(), 2u);
  r.time.advance(1s);
  r.settle();
  EXPECT_EQ(r.ex.launched.size(), 3u);
}

TEST(ControllerClock, ATimeoutStopsTheAttemptWhenTheEngineClockPassesIt) {
  Controlled r(R"(dag: t
tasks:
  - id: a
    timeout: 2h
    run: sleep 10000
)");
  ASSERT_EQ(r.ex.launched.size(), 1u);
  r.time.advance(1h + 59min);
  r.settle();
  EXPECT_TRUE(r.ex.cancels.empty());
  r.time.advance(1min);
  r.settle();
  ASSERT_EQ(r.ex.cancels.size(), 1u);
  EXPECT_EQ(r.ex.cancels[0].second, run::CancelReason::kTimeout);
  EXPECT_TRUE(r.c->done());
  EXPECT_EQ(r.state("a"), TaskState::kTimedOut);
}

TEST(ControllerClock, TheHeartbeatIsWrittenOnTheEngineClock) {
  Controlled r(R"(dag: h
tasks:
  - id: a
    run: sleep 10000
)");
  const EpochMs before = r.store->get_run("r1")->heartbeat;
  r.time.advance(5s);
  r.settle();
  EXPECT_EQ(r.store->get_run("r1")->heartbeat, before + 5000);
}

// Regression: a Slurm task's `timeout` counted from the submission, so a job that waited
// in the queue longer than its timeout was cancelled as soon as it started (or before).
TEST(ControllerClock, ATimeoutCountsFromWhenTheJobStartsRunningNotFromTheQueue) {
  Controlled r(R"(dag: r
tasks:
  - id: a
    timeout: 10m
    run: train
)",
               /*queue_first=*/true);
  ASSERT_EQ(r.ex.launched.size(), 1u);
  EXPECT_EQ(r.state("a"), TaskState::kPending);
  r.time.advance(3h);  // a long queue wait
  r.settle();
  EXPECT_TRUE(r.ex.cancels.empty()) << "the queue wait counted against the timeout";
  r.ex.start_running(r.ex.launched[0].key);
  r.settle();
  EXPECT_EQ(r.state("a"), TaskState::kRunning);
  EXPECT_EQ(r.store->get_instance("r1", "a")->started, now_ms()) << "started = left the queue";
  r.time.advance(9min + 59s);
  r.settle();
  EXPECT_TRUE(r.ex.cancels.empty());
  r.time.advance(1s);
  r.settle();
  ASSERT_EQ(r.ex.cancels.size(), 1u);
  EXPECT_EQ(r.ex.cancels[0].second, run::CancelReason::kTimeout);
}

// A Slurm requeue puts a running try back in the queue: it shows `pending` with why, and its
// timeout counts again from when it runs again, not through the second queue wait.
TEST(ControllerClock, ARequeuedJobWaitsPendingAndItsTimeoutStartsOverWhenItRunsAgain) {
  Controlled r(R"(dag: r
tasks:
  - id: a
    timeout: 10m
    run: train
)",
               /*queue_first=*/true);
  const auto key = r.ex.launched[0].key;
  r.ex.start_running(key);
  r.settle();
  r.time.advance(8min);
  r.settle();
  r.ex.requeue(key, "NODE_FAIL");
  r.settle();
  EXPECT_EQ(r.state("a"), TaskState::kPending);
  EXPECT_EQ(r.store->get_instance("r1", "a")->message, "requeued by Slurm (NODE_FAIL)");
  r.time.advance(1h);  // waits in the queue again
  r.settle();
  EXPECT_TRUE(r.ex.cancels.empty()) << "the timeout ran on through the requeue";
  r.ex.start_running(key);
  r.settle();
  EXPECT_EQ(r.state("a"), TaskState::kRunning);
  EXPECT_EQ(r.store->get_instance("r1", "a")->try_number, 1);
  r.time.advance(9min + 59s);
  r.settle();
  EXPECT_TRUE(r.ex.cancels.empty());
  r.time.advance(1s);
  r.settle();
  ASSERT_EQ(r.ex.cancels.size(), 1u);
  EXPECT_EQ(r.ex.cancels[0].second, run::CancelReason::kTimeout);
}
