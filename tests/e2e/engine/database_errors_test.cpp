// The state database in a hostile world, with the real `flow` binary: a truncated or
// scribbled-over flow.db, a disk that fills up while a run commits, a read-only $FLOW_HOME.
// Each gets a clear message and exit 3 (environment), never a crash or an "internal error";
// what was committed before stays committed, and the database passes
// `PRAGMA integrity_check`.
#include <gtest/gtest.h>

#include <fstream>

#include "cli.hpp"
#include "hostile_fs.hpp"

using flow::test::CmdResult;
using flow::test::expect_clean_exit;
using flow::test::Project;
using flow::test::slurp;
using flow::test::sqlite_query;

namespace fs = std::filesystem;

namespace {

const char* kThreeTasks = R"(dag: three
tasks:
  - id: a
    run: echo a
  - id: b
    after: [a]
    run: echo b
  - id: c
    after: [b]
    run: echo c
)";

// A database with one finished run, closed cleanly (no -wal left).
void make_database(const Project& p) {
  p.write("three.yaml", kThreeTasks);
  auto r = p.flow("run three.yaml --run-id done1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  ASSERT_FALSE(fs::exists(p.db().string() + "-wal")) << "flow left its WAL behind";
}

// Every command that opens the damaged database must say so, with exit 3.
void expect_damaged_everywhere(const Project& p) {
  for (const std::string args : {"runs", "status done1", "run three.yaml", "resume done1"}) {
    CmdResult r = p.flow(args);
    expect_clean_exit(r, 3, "flow " + args);
    EXPECT_NE(r.err.find(p.db().string()), std::string::npos) << "flow " << args << ": " << r.err;
    EXPECT_NE(r.err.find("damaged"), std::string::npos) << "flow " << args << ": " << r.err;
  }
}

}  // namespace

TEST(DatabaseErrors, TruncatedDatabaseIsExit3NamingTheFile) {
  Project p;
  make_database(p);
  fs::resize_file(p.db(), 2 * 4096);  // the header and the schema survive, the tables do not
  expect_damaged_everywhere(p);
}

TEST(DatabaseErrors, DatabaseCutInsideItsHeaderIsExit3NamingTheFile) {
  Project p;
  make_database(p);
  fs::resize_file(p.db(), 60);
  expect_damaged_everywhere(p);
}

TEST(DatabaseErrors, GarbageOverTheHeaderIsExit3NamingTheFile) {
  Project p;
  make_database(p);
  flow::test::scribble(p.db(), 0, 100);
  expect_damaged_everywhere(p);
}

TEST(DatabaseErrors, GarbageOverTheTablesIsExit3NamingTheFile) {
  Project p;
  make_database(p);
  const auto size = fs::file_size(p.db());
  ASSERT_GT(size, 4096u * 3);
  flow::test::scribble(p.db(), 4096, size - 4096);
  expect_damaged_everywhere(p);
}

// The disk fills up while the engine commits a task's result: `fill` writes a 3 MB
// outputs file, then fills the rest of a small tmpfs, so committing its success (its
// outputs go into the database) cannot be written. Nor could its exit-status file, so after
// the restart nobody knows how `fill` ended: that try counts as lost (failed) and its retry
// runs it again, while `first` and `second`, committed before the disk filled, do not.
TEST(DatabaseErrors, DiskFullDuringACommitKeepsWhatWasCommittedAndResumeFinishes) {
  Project p;
  const fs::path small = p.dir() / "small";
  if (auto why = flow::test::mount_tmpfs(small, "16m"); !why.empty())
    GTEST_SKIP() << "cannot mount a small tmpfs to fill up: " << why;
  const fs::path home = small / "home", side = p.dir() / "side";
  fs::create_directories(side);
  const std::string s = side.string(), filler = (small / "filler").string();
  p.write("full.yaml", R"(dag: full
tasks:
  - id: first
    run: |
      echo ran >> )" + s +
                           R"(/first; echo '{"n": 1}' > "$FLOW_OUTPUTS_FILE"
  - id: second
    after: [first]
    run: echo ran >> )" + s +
                           R"(/second
  - id: fill
    after: [second]
    retries: 1
    run: |
      echo ran >> )" + s + R"(/fill
      if [ ! -e )" + s + R"(/filled ]; then
        touch )" + s + R"(/filled
        { printf '{"big": "'; head -c 3000000 /dev/zero | tr '\0' x; printf '"}'; } > "$FLOW_OUTPUTS_FILE"
        dd if=/dev/zero of=)" +
                           filler + R"( bs=64k 2>/dev/null
      fi
      true
  - id: last
    after: [fill]
    run: echo ran >> )" + s +
                           R"(/last
)");
  CmdResult r = flow::test::flow_with_home(p, home, "run full.yaml --run-id full1");
  expect_clean_exit(r, 3, "flow run on a full disk");
  EXPECT_NE(r.err.find("disk full"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("flow resume"), std::string::npos) << r.err;
  ASSERT_TRUE(fs::exists(filler)) << "the disk never filled up; the test proves nothing";

  const fs::path db = home / "flow.db";
  EXPECT_EQ(sqlite_query(db, "PRAGMA integrity_check"), "ok\n");
  // Everything committed before the full disk is still there.
  EXPECT_EQ(sqlite_query(db,
                         "SELECT id || '=' || state FROM instances WHERE run_id='full1' "
                         "AND id IN ('first','second') ORDER BY id"),
            "first=succeeded\nsecond=succeeded\n");
  EXPECT_EQ(sqlite_query(db, "SELECT outputs_json FROM instances WHERE id='first'"), "{\"n\":1}\n");
  EXPECT_EQ(sqlite_query(db, "SELECT state FROM runs WHERE id='full1'").empty(), false);

  fs::remove(filler);
  CmdResult resumed = flow::test::flow_with_home(p, home, "resume full1");
  expect_clean_exit(resumed, 0, "flow resume after freeing space");
  EXPECT_EQ(sqlite_query(db, "PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(sqlite_query(db, "SELECT state FROM runs WHERE id='full1'"), "succeeded\n");
  // Succeeded tasks did not run again; the rest ran to the end.
  EXPECT_EQ(slurp(side / "first"), "ran\n");
  EXPECT_EQ(slurp(side / "second"), "ran\n");
  EXPECT_EQ(slurp(side / "last"), "ran\n");
  EXPECT_EQ(slurp(side / "fill"), "ran\nran\n");
}

// A read-only $FLOW_HOME (a read-only bind mount: root cannot write there either).
TEST(DatabaseErrors, ReadOnlyHomeIsExit3ForRunStatusAndResume) {
  Project p;
  p.write("three.yaml", kThreeTasks);
  p.write("fails.yaml", "dag: fails\ntasks:\n  - id: x\n    run: exit 1\n");
  ASSERT_EQ(p.flow("run three.yaml --run-id done1").code, 0);
  ASSERT_EQ(p.flow("run fails.yaml --run-id failed1").code, 1);
  if (auto why = flow::test::bind_read_only(p.home()); !why.empty())
    GTEST_SKIP() << "cannot make FLOW_HOME read-only: " << why;
  ASSERT_NE(::access(p.home().c_str(), W_OK), 0) << "the bind mount is still writable";

  for (const std::string args : {"run three.yaml", "status done1", "resume failed1"}) {
    CmdResult r = p.flow(args);
    expect_clean_exit(r, 3, "flow " + args);
    EXPECT_NE(r.err.find("read-only"), std::string::npos) << "flow " << args << ": " << r.err;
    EXPECT_NE(r.err.find(p.home().string()), std::string::npos) << "flow " << args << ": " << r.err;
  }
  ASSERT_EQ(::umount2(p.home().c_str(), 0), 0);
  EXPECT_EQ(sqlite_query(p.db(), "PRAGMA integrity_check"), "ok\n");
  EXPECT_EQ(sqlite_query(p.db(), "SELECT id || '=' || state FROM runs ORDER BY id"),
            "done1=succeeded\nfailed1=failed\n");
}
