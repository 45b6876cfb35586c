// What `flow clean` removes on a Slurm site: the paths are checked before anything is sent
// (a wrong `rm -rf` empties a cluster home), only the run's two directories go, the shared
// code cache and other runs stay, and cleaning twice is fine. Over LocalTransport on a
// scratch workdir; the same against the real cluster is tests/e2e/slurm/clean_test.cpp.
#include "operators/slurm/site_cleanup.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "engine/core/error.hpp"
#include "fake_transport.hpp"
#include "operators/slurm/slurm_executor.hpp"
#include "operators/transport/local_transport.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using flow::slurm::remove_run_files;
using flow::slurm::run_paths_on_site;
using flow::slurm::strictly_under;
namespace fs = std::filesystem;

namespace {

site::Site site_at(const std::string& workdir) {
  site::Site s;
  s.name = "cluster";
  s.transport = site::Transport::kLocal;
  s.scheduler = "slurm";
  s.workdir = workdir;
  return s;
}

}  // namespace

TEST(SiteCleanup, StrictlyUnderNeedsOneMoreComponentBelowAPlainRoot) {
  EXPECT_TRUE(strictly_under("/home/u/flow/runs/r1", "/home/u/flow"));
  EXPECT_TRUE(strictly_under("/home/u/flow/x", "/home/u/flow/"));
  EXPECT_FALSE(strictly_under("/home/u/flow", "/home/u/flow"));
  EXPECT_FALSE(strictly_under("/home/u/flow/", "/home/u/flow"));
  EXPECT_FALSE(strictly_under("/home/u/flowx/runs", "/home/u/flow"));
  EXPECT_FALSE(strictly_under("/home/u", "/home/u/flow"));
  EXPECT_FALSE(strictly_under("/home/u/flow/runs/..", "/home/u/flow"));
  EXPECT_FALSE(strictly_under("/home/u/flow/../../etc", "/home/u/flow"));
  EXPECT_FALSE(strictly_under("/home/u/flow/./runs", "/home/u/flow"));
  EXPECT_FALSE(strictly_under("/home/u/flow//runs", "/home/u/flow"));
  EXPECT_FALSE(strictly_under("home/u/flow/runs", "home/u/flow"));
  EXPECT_FALSE(strictly_under("", ""));
  EXPECT_FALSE(strictly_under("/home/u/flow/ru\nns", "/home/u/flow"));
}

TEST(SiteCleanup, PathsAreTheRunsRunDirectoryAndLogDirectoryWhereTheExecutorPutThem) {
  const auto paths = run_paths_on_site(site_at("/home/u/flow/"), "r1");
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_EQ(paths[0], "/home/u/flow/runs/r1");
  EXPECT_EQ(paths[1], "/home/u/flow/logs/r1");
  // The executor's layout: every attempt's files are below the log directory.
  const std::string base =
      slurm::SlurmExecutor::remote_base(site_at("/home/u/flow"), {"r1", "t", 2});
  EXPECT_EQ(base.rfind(paths[1] + "/", 0), 0u) << base;
}

TEST(SiteCleanup, RefusesRunIdsThatAreNotIds) {
  for (const std::string id : {"", ".", "..", "a/b", "../x", "r 1", "r;rm", "*", "r\n1"}) {
    EXPECT_THROW(run_paths_on_site(site_at("/home/u/flow"), id), InputError) << id;
  }
  EXPECT_NO_THROW(run_paths_on_site(site_at("/home/u/flow"), "sweep-20270101T000000-ab12.x_y"));
}

TEST(SiteCleanup, RefusesWorkdirsThatAreNotPlainAbsolutePaths) {
  for (const std::string w : {"", "/", "//", "~", "~/flow", "flow", "./flow", "/home/u/../..",
                              "/home/./u", "/home//u", "/home/u\n"}) {
    EXPECT_THROW(run_paths_on_site(site_at(w), "r1"), InputError) << "'" << w << "'";
  }
}

TEST(SiteCleanup, NothingIsSentWhenAPathIsRefused) {
  test::FakeTransport t;
  EXPECT_THROW(remove_run_files(t, site_at("~/flow"), "r1", false), InputError);
  EXPECT_THROW(remove_run_files(t, site_at("/home/u/flow"), "..", false), InputError);
  EXPECT_TRUE(t.commands().empty());
}

TEST(SiteCleanup, RemovesOnlyTheRunsDirectoriesAndKeepsTheCodeCacheAndOtherRuns) {
  test::TempDir tmp("flow-clean");
  const fs::path wd = tmp.path() / "work dir";  // a space: the paths go quoted
  tmp.write("work dir/runs/r1/code/train.py", "print(1)\n");
  tmp.write("work dir/runs/r1/data.npz", std::string(1000, 'x'));
  tmp.write("work dir/logs/r1/train/1.log", "hello\n");
  tmp.write("work dir/logs/r1/train/1.sbatch", "#!/bin/sh\n");
  tmp.write("work dir/cache/sha256/abc", "print(1)\n");
  tmp.write("work dir/runs/r10/keep", "other run\n");
  tmp.write("work dir/runs/r1.keep", "not the run\n");
  // The staged code is a read-only hard link into the cache; a task made a directory
  // read-only.
  fs::remove(wd / "runs/r1/code/train.py");
  fs::create_hard_link(wd / "cache/sha256/abc", wd / "runs/r1/code/train.py");
  ::chmod((wd / "cache/sha256/abc").c_str(), 0444);
  fs::create_directories(wd / "runs/r1/locked");
  ::chmod((wd / "runs/r1/locked").c_str(), 0555);

  transport::LocalTransport t;
  const auto dry = remove_run_files(t, site_at(wd.string()), "r1", /*dry_run=*/true);
  ASSERT_EQ(dry.size(), 2u);
  EXPECT_TRUE(dry[0].existed);
  EXPECT_EQ(dry[0].files.value_or(0), 2u);
  EXPECT_GE(dry[0].bytes.value_or(0), 1000u);
  EXPECT_EQ(dry[1].files.value_or(0), 2u);
  EXPECT_TRUE(fs::exists(wd / "runs/r1/data.npz")) << "a dry run removes nothing";

  const auto done = remove_run_files(t, site_at(wd.string()), "r1", false);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_TRUE(done[0].existed);
  EXPECT_EQ(done[0].path, (wd / "runs/r1").string());
  EXPECT_FALSE(fs::exists(wd / "runs/r1"));
  EXPECT_FALSE(fs::exists(wd / "logs/r1"));
  EXPECT_TRUE(fs::exists(wd / "cache/sha256/abc"));
  EXPECT_EQ(fs::status(wd / "cache/sha256/abc").permissions() & fs::perms::owner_write,
            fs::perms::none)
      << "the cached file keeps its mode";
  EXPECT_TRUE(fs::exists(wd / "runs/r10/keep"));
  EXPECT_TRUE(fs::exists(wd / "runs/r1.keep"));
  EXPECT_TRUE(fs::exists(wd / "logs"));

  const auto again = remove_run_files(t, site_at(wd.string()), "r1", false);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_FALSE(again[0].existed);
  EXPECT_FALSE(again[1].existed);
}

TEST(SiteCleanup, ASiteThatRefusesTheRemovalSaysSoWithItsReason) {
  test::FakeTransport t;
  t.on_run([](const std::string&) {
    return transport::CommandResult{1, "", "rm: cannot remove 'x': Permission denied\n"};
  });
  try {
    remove_run_files(t, site_at("/home/u/flow"), "r1", false);
    FAIL() << "no error";
  } catch (const EnvironmentError& e) {
    EXPECT_NE(std::string(e.what()).find("site 'cluster'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Permission denied"), std::string::npos) << e.what();
  }
}
