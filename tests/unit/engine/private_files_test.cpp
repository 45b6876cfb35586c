#include "engine/core/private_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "engine/state/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;

namespace {

mode_t mode_of(const fs::path& p) {
  struct ::stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Sets the umask for the lifetime of the object.
struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

}  // namespace

TEST(PrivateFiles, NewDirectoriesAre0700WhateverTheUmask) {
  flow::test::TempDir t;
  for (mode_t mask : {0000, 0022, 0027}) {
    Umask u(mask);
    const fs::path top = t / ("m" + std::to_string(mask)), deep = top / "a" / "b";
    std::error_code ec;
    EXPECT_TRUE(flow::create_private_directories(deep, ec));
    EXPECT_FALSE(ec) << ec.message();
    for (const fs::path& p : {top, top / "a", deep})
      EXPECT_EQ(mode_of(p), 0700u) << p << " umask " << mask;
  }
}

TEST(PrivateFiles, ExistingDirectoriesKeepTheirMode) {
  flow::test::TempDir t;
  fs::create_directories(t / "shared");
  fs::permissions(t / "shared", fs::perms::owner_all | fs::perms::group_all |
                                    fs::perms::others_read | fs::perms::others_exec);
  std::error_code ec;
  EXPECT_TRUE(flow::create_private_directories(t / "shared" / "mine", ec));
  EXPECT_EQ(mode_of(t / "shared"), 0775u);
  EXPECT_EQ(mode_of(t / "shared" / "mine"), 0700u);
  EXPECT_FALSE(flow::create_private_directories(t / "shared" / "mine", ec));
  EXPECT_FALSE(ec);
}

TEST(PrivateFiles, APathThroughAFileIsAnError) {
  flow::test::TempDir t;
  std::ofstream(t / "file") << "x";
  std::error_code ec;
  EXPECT_FALSE(flow::create_private_directories(t / "file" / "dir", ec));
  EXPECT_TRUE(ec);
}

TEST(PrivateFiles, NewFilesAre0600AndExistingFilesAreLeftAlone) {
  flow::test::TempDir t;
  Umask u(0000);
  std::error_code ec;
  EXPECT_TRUE(flow::create_private_file(t / "db", ec));
  EXPECT_EQ(mode_of(t / "db"), 0600u);
  std::ofstream(t / "old") << "keep";
  fs::permissions(t / "old",
                  fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_TRUE(flow::create_private_file(t / "old", ec));
  EXPECT_EQ(mode_of(t / "old"), 0640u);
  std::ifstream in(t / "old");
  std::string text;
  in >> text;
  EXPECT_EQ(text, "keep");
  EXPECT_FALSE(flow::create_private_file(t / "missing" / "db", ec));
  EXPECT_TRUE(ec);
}

TEST(PrivateFiles, TheStoreCreatesItsDirectoryDatabaseWalAndShmPrivate) {
  flow::test::TempDir t;
  Umask u(0000);
  const fs::path home = t / "home" / ".flow", db = home / "flow.db";
  {
    auto store = flow::state::Store::open(db);
    flow::state::RunRecord r;
    r.id = "r1";
    r.dag = "d";
    r.dag_yaml = "dag: d";
    r.dag_hash = "h";
    r.run_dir = (home / "runs" / "r1").string();
    store->insert_run(r);
    ASSERT_TRUE(fs::exists(db.string() + "-wal"));
    EXPECT_EQ(mode_of(db.string() + "-wal"), 0600u);
    EXPECT_EQ(mode_of(db.string() + "-shm"), 0600u);
  }
  EXPECT_EQ(mode_of(t / "home"), 0700u);
  EXPECT_EQ(mode_of(home), 0700u);
  EXPECT_EQ(mode_of(db), 0600u);
}
