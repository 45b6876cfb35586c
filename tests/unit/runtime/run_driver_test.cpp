// The run driver: many runs over one executor per site, events routed to their run, a slot
// freed by one run used by another, Ctrl-C stopping them all. Fake executors, real SQLite.
#include "engine/runtime/run_driver.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "engine/dag/loader.hpp"
#include "engine/run/ownership.hpp"
#include "runtime_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using state::RunState;

namespace {

const char* kChain = R"(dag: chain
defaults: {site: cluster}
tasks:
  - id: a
    run: "true"
  - id: b
    after: [a]
    run: "true"
)";

struct Runs {
  test::TempDir dir;
  std::unique_ptr<state::Store> store = state::Store::open(dir / "flow.db");
  dag::Dag dag = dag::load_dag_text(kChain, "chain.yaml");

  state::RunRecord add(const std::string& id) {
    state::RunRecord r;
    r.id = id;
    r.dag = dag.name;
    r.dag_yaml = kChain;
    r.dag_hash = "h";
    r.run_dir = (dir / "runs" / id).string();
    r.created = now_ms();
    store->insert_run(r);
    return r;
  }
};

// Runs the io_context until `done` or nothing is left to do, ending one attempt of `ex`
// whenever it has one in flight.
template <class Done>
void drive(boost::asio::io_context& io, test::FakeExecutor* ex, Done done) {
  for (int i = 0; i < 5000 && !done(); ++i) {
    io.run_one_for(std::chrono::milliseconds(2));
    if (ex && !ex->in_flight.empty()) ex->finish_oldest();
  }
}

// The site's executor, made by the pool when the first attempt is launched: runs the loop
// until then.
test::FakeExecutor* executor(boost::asio::io_context& io, test::FakeSites& sites) {
  for (int i = 0; i < 500 && !sites.made.count("cluster"); ++i)
    io.run_one_for(std::chrono::milliseconds(2));
  return sites.made.count("cluster") ? sites.made.at("cluster") : nullptr;
}

}  // namespace

TEST(RunDriver, DrivesTwoRunsOverOneSharedExecutorToTheirEnd) {
  Runs runs;
  test::FakeSites sites;
  boost::asio::io_context io;
  runtime::RunDriver driver(io, *runs.store, sites.catalog, sites.services(), runs.dir.path(), 2);
  std::map<std::string, RunState> ended;
  for (const char* id : {"r1", "r2"}) {
    driver.start(runs.dag, runs.add(id), nullptr,
                 [&](const runtime::RunDriver::Finished& f) { ended[f.run.id] = f.run.state; });
  }
  test::FakeExecutor* const ex = executor(io, sites);
  ASSERT_NE(ex, nullptr);
  drive(io, ex, [&] { return ended.size() == 2; });
  EXPECT_EQ(sites.made.size(), 1u) << "one executor per site, shared by both runs";
  EXPECT_EQ(ended, (std::map<std::string, RunState>{{"r1", RunState::kSucceeded},
                                                    {"r2", RunState::kSucceeded}}));
  EXPECT_EQ(ex->launched.size(), 4u);
  EXPECT_EQ(driver.active(), 0u);
  for (const char* id : {"r1", "r2"}) {
    EXPECT_EQ(runs.store->get_run(id)->state, RunState::kSucceeded);
    for (const auto& i : runs.store->instances(id))
      EXPECT_EQ(i.state, state::TaskState::kSucceeded) << id << " " << i.id << " " << i.message;
  }
}

// The end of a run is handed on as counts and the tasks' reading order, not as the
// instances: the caller reads those back from the store (a run of 1,000,000 instances is
// not copied, nor kept by the controller, at its end).
TEST(RunDriver, AFinishedRunIsReportedByItsCountsAndReadingOrder) {
  Runs runs;
  test::FakeSites sites;
  boost::asio::io_context io;
  runtime::RunDriver driver(io, *runs.store, sites.catalog, sites.services(), runs.dir.path(), 2);
  std::optional<runtime::RunDriver::Finished> got;
  driver.start(runs.dag, runs.add("r1"), nullptr,
               [&](runtime::RunDriver::Finished f) { got = std::move(f); });
  test::FakeExecutor* const ex = executor(io, sites);
  ASSERT_NE(ex, nullptr);
  drive(io, ex, [&] { return got.has_value(); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->run.state, RunState::kSucceeded);
  EXPECT_EQ(got->counts.at(state::TaskState::kSucceeded), 2);
  EXPECT_EQ(got->task_order, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(got->abandoned.empty());
  EXPECT_EQ(runs.store->instances("r1").size(), 2u);
}

TEST(RunDriver, ASlotFreedByOneRunIsUsedByTheOther) {
  Runs runs;
  test::FakeSites sites(/*slots=*/1);
  boost::asio::io_context io;
  runtime::RunDriver driver(io, *runs.store, sites.catalog, sites.services(), runs.dir.path(), 2);
  int finished = 0;
  for (const char* id : {"r1", "r2"})
    driver.start(runs.dag, runs.add(id), nullptr, [&](const auto&) { ++finished; });
  auto* ex = executor(io, sites);
  ASSERT_NE(ex, nullptr);
  for (int i = 0; i < 200; ++i)
    io.run_one_for(std::chrono::milliseconds(2));
  ASSERT_EQ(ex->launched.size(), 1u) << "one slot: only one attempt may run";
  const std::string first_run = ex->launched[0].key.run_id;
  ex->finish_oldest();
  // The first run's `a` ended; its own `b` and the other run's `a` compete for the slot,
  // and the other run, waiting since the start, is woken too (RunDriver pokes it).
  for (int i = 0; i < 200 && ex->launched.size() < 2; ++i)
    io.run_one_for(std::chrono::milliseconds(2));
  ASSERT_EQ(ex->launched.size(), 2u);
  drive(io, ex, [&] { return finished == 2; });
  EXPECT_EQ(finished, 2);
  std::set<std::string> runs_launched;
  for (const auto& s : ex->launched)
    runs_launched.insert(s.key.run_id);
  EXPECT_EQ(runs_launched.size(), 2u) << "the run that waited was started: " << first_run;
}

TEST(RunDriver, InterruptStopsTheAttemptsOfEveryRunAndEndsThemInterrupted) {
  Runs runs;
  test::FakeSites sites;
  boost::asio::io_context io;
  runtime::RunDriver driver(io, *runs.store, sites.catalog, sites.services(), runs.dir.path(), 2);
  std::map<std::string, RunState> ended;
  for (const char* id : {"r1", "r2"}) {
    driver.start(runs.dag, runs.add(id), nullptr,
                 [&](const runtime::RunDriver::Finished& f) { ended[f.run.id] = f.run.state; });
  }
  auto* ex = executor(io, sites);
  ASSERT_NE(ex, nullptr);
  for (int i = 0; i < 500 && ex->launched.size() < 2; ++i)
    io.run_one_for(std::chrono::milliseconds(2));
  ASSERT_EQ(ex->launched.size(), 2u);
  driver.interrupt();
  for (int i = 0; i < 2000 && ended.size() < 2; ++i)
    io.run_one_for(std::chrono::milliseconds(2));
  EXPECT_EQ(ended, (std::map<std::string, RunState>{{"r1", RunState::kInterrupted},
                                                    {"r2", RunState::kInterrupted}}));
  EXPECT_EQ(ex->cancels.size(), 2u);
  // What was stopped is queued again for `flow resume`.
  EXPECT_EQ(runs.store->get_instance("r1", "a")->state, state::TaskState::kQueued);
}

TEST(RunDriver, ARunAnotherLiveEngineOwnsIsRefusedAtStart) {
  Runs runs;
  test::FakeSites sites;
  boost::asio::io_context io;
  runtime::RunDriver driver(io, *runs.store, sites.catalog, sites.services(), runs.dir.path(), 2);
  auto r = runs.add("r1");
  run::EngineIdentity other = run::EngineIdentity::self();
  other.token = "another engine in this process";
  run::take_run(*runs.store, "r1", other, {});
  EXPECT_THROW(driver.start(runs.dag, r, nullptr, {}), run::RunOwnedElsewhere);
  EXPECT_EQ(driver.active(), 0u);
}
