// Job arrays (docs/SLURM.md "Job arrays") on the real test cluster: the elements of a
// foreach launched together go to Slurm as one sbatch --array, and each element is then
// followed, retried and found again on its own.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "../engine/cli.hpp"
#include "cluster.hpp"
#include "operators/slurm/job_array.hpp"
#include "operators/slurm/slurm_client.hpp"
#include "operators/transport/local_transport.hpp"

using flow::test::Background;
using flow::test::count_lines;
using flow::test::eventually;
using flow::test::foreach_list;
using flow::test::Project;
using flow::test::sh;
using flow::test::sites_env;
using flow::test::unique_run_id;
using nlohmann::json;

namespace {

// name -> how many jobs (array elements count one each) of run `run`, once at least
// `jobs` are visible to sacct.
std::map<std::string, int> jobs_of(const std::string& run, int jobs) {
  std::map<std::string, int> names;
  for (int attempt = 0; attempt < 60; ++attempt) {
    names = flow::test::jobs_of_run(run, 0);
    int n = 0;
    for (const auto& [_, c] : names)
      n += c;
    if (n >= jobs) break;
    ::usleep(500'000);
  }
  return names;
}

}  // namespace

// The check: a foreach of 300 on a plain Slurm site is one sbatch --array. Element 7
// fails its first try and is retried on its own, as a job of its own; every other element
// ran once, as an element of the one array.
TEST(SlurmJobArrays, AForeachOf300IsOneArrayAndAFailedElementIsRetriedOnItsOwn) {
  Project p;
  const std::string run = unique_run_id("arr");
  const std::string workdir = "/home/flowuser/arrays/" + run;
  flow::test::CancelJobsUnder cleanup(workdir);
  p.write("sites/plain.yaml", flow::test::ssh_site("plain", workdir) + "max_jobs: 1000\n");
  // Four cores each: 16 elements at a time on the two test nodes, which is what their
  // slurmd launch without timing out on a 2-core machine (a launch that times out is a
  // NODE_FAIL that Slurm requeues with a delay).
  p.write("a.yaml",
          "dag: a\ntasks:\n  - id: t\n    site: plain\n    retries: 1\n"
          "    retry_delay: 0s\n    resources: {cpus: 4}\n    foreach: " +
              foreach_list(300) +
              "\n    run: echo \"element $FLOW_MAP_INDEX\"; echo $FLOW_MAP_INDEX >> " + workdir +
              "/ledger; test $FLOW_MAP_INDEX != 7 -o $FLOW_TRY != 1\n");
  auto r = p.flow("run a.yaml --run-id " + run, sites_env(p));
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  auto names = jobs_of(run, 301);
  const std::string array = "flow." + run + ".t.1.array0";
  EXPECT_EQ(names[array], 300) << "all 300 first tries are elements of one array";
  EXPECT_EQ(names["flow." + run + ".t[7].2"], 1) << "the retry is a job of its own";
  EXPECT_EQ(names.size(), 2u) << "no other job was submitted";
  // One sbatch for the array: its elements share one array job id.
  auto ids = sh("sacct -a -X -n -P -o JobID --name=" + array + " --starttime=now-1days");
  std::set<std::string> arrays;
  for (size_t pos = 0; pos < ids.out.size();) {
    auto nl = ids.out.find('\n', pos);
    auto id = ids.out.substr(pos, nl - pos);
    pos = nl == std::string::npos ? ids.out.size() : nl + 1;
    if (!id.empty()) arrays.insert(id.substr(0, id.find('_')));
  }
  EXPECT_EQ(arrays.size(), 1u) << ids.out;

  // Every element ran (7 twice: its two tries; Slurm itself may requeue an element whose
  // launch failed, which is the same try), and its log is its own.
  const auto ledger = flow::test::slurp(workdir + "/ledger");
  auto ran = count_lines(ledger);
  EXPECT_EQ(ran.size(), 300u);
  EXPECT_GE(ran["7"], 2);
  EXPECT_EQ(p.flow("logs " + run + " 't[42]'", sites_env(p)).out, "element 42\n");

  // Each element succeeded in its first try, 7 in its second.
  auto st = json::parse(p.flow("status " + run + " --json", sites_env(p)).out, nullptr, false);
  int ok = 0;
  for (const auto& t : st["tasks"]) {
    if (t["id"] == "t") continue;
    ok += t["state"] == "succeeded";
    EXPECT_EQ(t["try"], t["id"] == "t[7]" ? 2 : 1) << t.dump();
  }
  EXPECT_EQ(ok, 300);
}

// Engine kill -9 while array elements run, then resume: each element is followed again by
// its element id and runs exactly once; nothing is submitted again.
TEST(SlurmJobArrays, EngineKilledWhileElementsRunResumesAndNoElementRunsTwice) {
  Project p;
  const std::string run = unique_run_id("arrkill");
  const std::string workdir = "/home/flowuser/arrays/" + run;
  flow::test::CancelJobsUnder cleanup(workdir);
  p.write("sites/plain.yaml", flow::test::ssh_site("plain", workdir));
  p.write("k.yaml", "dag: k\ntasks:\n  - id: t\n    site: plain\n    foreach: " + foreach_list(20) +
                        "\n    run: echo $FLOW_MAP_INDEX >> " + workdir + "/ledger; sleep 4\n");
  {
    Background bg(p, "run k.yaml --run-id " + run, "bg", sites_env(p));
    ASSERT_TRUE(eventually(
        [&] { return bg.poll() || flow::test::slurp(workdir + "/ledger").size() >= 8; }, 120));
    ASSERT_FALSE(bg.poll()) << bg.out() << bg.err();
    bg.signal(SIGKILL);
    bg.wait();
  }
  auto r = p.flow("resume " + run, sites_env(p));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const auto ledger = flow::test::slurp(workdir + "/ledger");
  auto ran = count_lines(ledger);
  EXPECT_EQ(ran.size(), 20u) << ledger;
  for (const auto& [i, n] : ran)
    EXPECT_EQ(n, 1) << "element " << i << " ran " << n << " times";
  auto names = jobs_of(run, 20);
  EXPECT_EQ(names.size(), 1u) << "only the array was submitted";
}

// What a resume relies on when no element id was recorded (the engine died between sbatch
// and recording it): the element is found by its array's name and its index, from squeue
// while it waits (sacct shows pending elements as one "ID_[a-b]" line) and from sacct after.
TEST(SlurmJobArrays, AnElementIsFoundByItsArraysNameAndIndexWhilePendingAndAfterItEnded) {
  const std::string run = unique_run_id("find");
  flow::run::AttemptKey key{run, "t[5]", 1};
  flow::transport::LocalTransport local;
  flow::slurm::SlurmClient client(local);
  const long m = client.max_array_size();
  ASSERT_GT(m, 6);
  const auto slot = flow::slurm::array_slot(key, "t", 5, m);
  // Held, so every element is pending at first.
  auto submitted =
      sh("sbatch --parsable --hold --array=3-6 -J " + slot.name + " -o /dev/null --wrap true");
  ASSERT_EQ(submitted.code, 0) << submitted.out;
  const std::string array = submitted.out.substr(0, submitted.out.find_first_of(";\n"));
  auto found =
      flow::slurm::pick_element(client.find_all_by_names({"flow." + run + ".t[5].1", slot.name}),
                                "flow." + run + ".t[5].1", slot);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->job_id, array + "_5");
  EXPECT_EQ(found->status.phase, flow::slurm::Phase::kPending);
  // An index the array does not have is not found.
  auto other = flow::slurm::array_slot(flow::run::AttemptKey{run, "t[9]", 1}, "t", 9, m);
  EXPECT_FALSE(flow::slurm::pick_element(client.find_all_by_names({slot.name}), "x", other));

  ASSERT_EQ(sh("scontrol release " + array).code, 0);
  ASSERT_TRUE(eventually(
      [&] {
        auto f = flow::slurm::pick_element(client.find_all_by_names({slot.name}), "x", slot);
        return f && f->status.phase == flow::slurm::Phase::kFinished;
      },
      120));
  auto after = flow::slurm::pick_element(client.find_all_by_names({slot.name}), "x", slot);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->job_id, array + "_5");
  EXPECT_EQ(after->status.state, "COMPLETED");
}
