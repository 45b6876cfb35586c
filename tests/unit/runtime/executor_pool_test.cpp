// One executor per site, shared; batch sites through the registered factory; preflight of
// the sites a DAG uses.
#include "engine/runtime/executor_pool.hpp"

#include <gtest/gtest.h>

#include "engine/dag/loader.hpp"
#include "engine/run/local_executor.hpp"
#include "runtime_fixture.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;

TEST(ExecutorPool, OneExecutorPerSiteSharedByEveryCaller) {
  test::TempDir d;
  boost::asio::io_context io;
  test::FakeSites sites;
  runtime::ExecutorPool pool(io, sites.catalog, sites.services(), d.path(), 2);
  run::Executor& a = pool.get("cluster");
  EXPECT_EQ(&a, &pool.get("cluster"));
  EXPECT_EQ(sites.made.size(), 1u);
  EXPECT_NE(&a, &pool.get("local"));
}

TEST(ExecutorPool, BatchSitesGetTheRegisteredExecutorAndOthersRunLocalProcesses) {
  test::TempDir d;
  boost::asio::io_context io;
  test::FakeSites sites;
  runtime::ExecutorPool pool(io, sites.catalog, sites.services(), d.path(), 2);
  run::Executor& cluster = pool.get("cluster");  // makes it
  EXPECT_EQ(&cluster, sites.made.at("cluster"));
  EXPECT_NE(dynamic_cast<run::LocalExecutor*>(&pool.get("local")), nullptr);
}

TEST(ExecutorPool, ABatchSiteWithoutARegisteredExecutorIsAnErrorNamingIt) {
  test::TempDir d;
  boost::asio::io_context io;
  test::FakeSites sites;
  runtime::ExecutorPool pool(io, sites.catalog, {}, d.path(), 2);
  try {
    pool.get("cluster");
    FAIL() << "no batch executor is registered";
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("site 'cluster': no executor for scheduler slurm"),
              std::string::npos)
        << e.what();
  }
}

TEST(ExecutorPool, AnUnknownSiteIsAnErrorListingTheKnownOnes) {
  test::TempDir d;
  boost::asio::io_context io;
  test::FakeSites sites;
  runtime::ExecutorPool pool(io, sites.catalog, sites.services(), d.path(), 2);
  try {
    pool.get("clustr");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find("unknown site 'clustr' (did you mean 'cluster'?)"),
              std::string::npos)
        << e.what();
  }
}

TEST(ExecutorPool, PreflightPreparesEverySiteTheDagUsesOnceAndLeavesUnknownOnes) {
  test::TempDir d;
  boost::asio::io_context io;
  test::FakeSites sites;
  runtime::ExecutorPool pool(io, sites.catalog, sites.services(), d.path(), 2);
  auto dag = dag::load_dag_text(R"(dag: p
tasks:
  - id: a
    site: cluster
    run: "true"
  - id: b
    site: cluster
    run: "true"
  - id: c
    site: gone
    run: "true"
  - id: d
    run: "true"
)",
                                "p.yaml");
  pool.preflight(dag);
  EXPECT_EQ(sites.made.at("cluster")->preflights, 1);
  EXPECT_THROW(pool.get("gone"), Error);  // left for the launch to report
}

TEST(ExecutorPool, EventsOfEveryExecutorGoToTheRoute) {
  test::TempDir d;
  boost::asio::io_context io;
  test::FakeSites sites;
  runtime::ExecutorPool pool(io, sites.catalog, sites.services(), d.path(), 2);
  std::vector<std::string> routed;
  pool.set_route([&](run::ExecEvent e) { routed.push_back(e.key.str()); });
  pool.get("cluster");
  run::LaunchSpec spec;
  spec.key = {"r1", "a", 1};
  sites.made.at("cluster")->launch(spec, {});
  io.run();
  EXPECT_EQ(routed, (std::vector<std::string>{"r1/a#1"}));
}
