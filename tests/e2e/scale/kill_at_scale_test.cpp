// Crash safety at scale: a `foreach` of 100,000 items, fanned out at run time from an
// upstream task's outputs, with the engine killed (SIGKILL) at random moments and resumed
// each time. Every item appends its index to one ledger; at the end each index is there
// exactly once (nothing lost, nothing run twice), the run succeeded, and the database is
// intact. The moments come from a seed printed at the start (FLOW_KILL_SEED=N repeats a
// run); FLOW_KILL_ITEMS and FLOW_KILL_COUNT change the size and the number of kills.
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/state/store.hpp"
#include "tests/e2e/engine/cli.hpp"
#include "tests/support/scoped_env.hpp"

using flow::test::Background;
using flow::test::Project;

namespace {

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

// Lines in the ledger so far (the items that ran, maybe some twice).
size_t ledger_lines(const std::filesystem::path& ledger) {
  std::ifstream in(ledger);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line))
    ++n;
  return n;
}

// Where the project lives. The run makes three files per item (the instance's log
// directory, its log and its exit-status file), 300,000 in all, and the test deletes them
// at the end. On a disk mounted with `discard` (this VM's / is) every freed block waits for
// the device: deleting them took 13 minutes, twice as long as the run itself. So tmpfs
// (/dev/shm) when it has the inodes and a GiB to spare, else the usual temporary directory;
// FLOW_KILL_DIR names another place.
std::optional<std::string> scratch_base(long items) {
  if (const char* d = std::getenv("FLOW_KILL_DIR"); d && *d) return d;
  struct statvfs fs {};
  if (::statvfs("/dev/shm", &fs) != 0 || ::access("/dev/shm", W_OK) != 0) return std::nullopt;
  const auto free_bytes = static_cast<unsigned long long>(fs.f_bavail) * fs.f_frsize;
  if (fs.f_favail < static_cast<unsigned long>(4 * items) || free_bytes < (1ULL << 30))
    return std::nullopt;
  return "/dev/shm";
}

}  // namespace

TEST(CrashResumeAtScale, RandomKillsDuringAHundredThousandItemForeachLoseAndRepeatNothing) {
  const long items = env_or("FLOW_KILL_ITEMS", 100000);
  const long kills = env_or("FLOW_KILL_COUNT", 4);
  const auto seed = static_cast<unsigned>(env_or("FLOW_KILL_SEED", std::random_device{}()));
  std::printf("kill-at-scale: %ld items, %ld kills, seed %u (FLOW_KILL_SEED=%u repeats it)\n",
              items, kills, seed, seed);
  std::mt19937 rng(seed);

  std::optional<flow::test::ScopedEnv> tmpdir;  // TempDir (in Project) reads TMPDIR
  if (auto base = scratch_base(items)) tmpdir.emplace("TMPDIR", base->c_str());
  Project p;
  std::printf("kill-at-scale: in %s\n", p.dir().c_str());
  const auto ledger = p.dir() / "ledger";
  p.write("scale.yaml",
          "dag: scale\ntasks:\n"
          "  - id: list\n"
          "    run: |\n"
          "      { printf '{\"items\": ['; seq -s, 0 " +
              std::to_string(items - 1) +
              "; printf ']}'; } > \"$FLOW_OUTPUTS_FILE\"\n"
              "  - id: items\n"
              "    after: [list]\n"
              "    foreach: \"{{ tasks.list.outputs.items }}\"\n"
              "    run: echo {{ item }} >> " +
              ledger.string() + "\n");
  // Where the kills land: the first a random 0.2-3 s after the start (before, during or
  // after the fan-out), each later one once the ledger passed a random count between the
  // previous kill's and the end, plus up to half a second.
  std::vector<long> at;
  for (long k = 1; k < kills; ++k)
    at.push_back(std::uniform_int_distribution<long>(1, items - 1)(rng));
  std::sort(at.begin(), at.end());
  // A kill that lands before the engine recorded run s1 (on a loaded machine the first
  // one can: the database did not exist yet) leaves nothing to resume; the user starts the
  // run again, and so does the test.
  const std::string run_args = "run scale.yaml --run-id s1 -j 4";
  auto next_args = [&] {
    return p.flow("status s1 --summary --json").code == 0 ? std::string("resume s1 -j 4")
                                                          : run_args;
  };
  std::string args = run_args;
  for (long k = 0; k < kills; ++k) {
    Background bg(p, args, "engine" + std::to_string(k));
    int delay_ms = std::uniform_int_distribution<int>(200, 3000)(rng);
    if (k > 0) {
      const auto target = static_cast<size_t>(at[static_cast<size_t>(k - 1)]);
      ASSERT_TRUE(flow::test::eventually(
          [&] { return ledger_lines(ledger) >= target || bg.poll().has_value(); }, 900))
          << bg.err();
      delay_ms = std::uniform_int_distribution<int>(0, 500)(rng);
    }
    ::usleep(static_cast<useconds_t>(delay_ms) * 1000);
    if (bg.poll()) break;  // it finished before this kill: nothing left to interrupt
    bg.signal(SIGKILL);
    const int code = bg.wait();
    std::printf("kill %ld: exit %d, %zu items in the ledger\n", k + 1, code, ledger_lines(ledger));
    args = next_args();
  }
  auto r = p.flow(next_args());  // finishes the run (or says it already succeeded)
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  std::vector<int> seen(static_cast<size_t>(items), 0);
  std::ifstream in(ledger);
  std::string line;
  long bad = 0, twice = 0;
  while (std::getline(in, line)) {
    const long i = std::strtol(line.c_str(), nullptr, 10);
    if (i < 0 || i >= items) {
      ++bad;
      continue;
    }
    if (++seen[static_cast<size_t>(i)] == 2) {
      ++twice;
      if (twice <= 5) ADD_FAILURE() << "item " << i << " ran twice";
    }
  }
  long missing = 0;
  for (long i = 0; i < items; ++i) {
    if (seen[static_cast<size_t>(i)] == 0 && ++missing <= 5)
      ADD_FAILURE() << "item " << i << " never ran";
  }
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(twice, 0) << "items that ran twice";
  EXPECT_EQ(missing, 0) << "items that never ran";

  auto summary = nlohmann::json::parse(p.flow("status s1 --summary --json").out);
  EXPECT_EQ(summary["run"]["state"], "succeeded");
  EXPECT_EQ(summary["counts"]["succeeded"], items + 2);  // the items, list and items' own
  auto store = flow::state::Store::open_existing(p.db());
  EXPECT_EQ(store->integrity_check(), "ok");
}
