// `flow clean RUN` for runs on this machine: the checkpoints of finished sweeps go, files
// registered as artifacts stay verifiable, a run that is live (or could still go on) is
// refused, and a cleaned run is not resumed or retried. Slurm sites:
// tests/e2e/slurm/clean_test.cpp, tests/unit/slurm/site_cleanup_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>

#include "cli.hpp"
#include "engine/state/store.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char* kCleanTrial = R"(import json, os
p = json.loads(os.environ["FLOW_TRIAL_PARAMS"])
e = int(os.environ["FLOW_TRIAL_EPOCHS"])
with open(os.environ["FLOW_METRICS_FILE"], "a") as m:
    m.write(json.dumps({"epoch": e, "loss": p["x"]}) + "\n")
json.dump({"epoch": e}, open(os.environ["FLOW_CHECKPOINT_OUT"], "w"))
)";

std::string sweep(const std::string& id) {
  return "  - id: " + id +
         "\n"
         "    hpo:\n"
         "      algorithm: random\n"
         "      metric: loss\n"
         "      mode: min\n"
         "      samples: 2\n"
         "      max_epochs: 2\n"
         "      space: {x: {uniform: [0.0, 1.0]}}\n"
         "    run: python3 trial.py\n";
}

// Two sweeps; `export` registers the best checkpoint of `keep` as an artifact, as a
// pipeline that ships its best model would. `last` runs at the end (e.g. `exit 1`).
std::string two_sweeps(const std::string& last = "true") {
  return "dag: sweeps\ntasks:\n" + sweep("tune") + sweep("keep") +
         "  - id: export\n"
         "    after: [keep]\n"
         "    run: |\n"
         "      ck={{ run.dir }}/hpo-keep-{{ tasks.keep.best.trial }}-e{{ tasks.keep.best.epochs "
         "}}.ckpt\n"
         "      printf '{\"artifacts\": [\"%s\"]}' \"$ck\" > \"$FLOW_OUTPUTS_FILE\"\n"
         "  - id: last\n"
         "    after: [tune, export]\n"
         "    run: " +
         last + "\n";
}

std::vector<std::string> checkpoints(const Project& p, const std::string& run) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(p.home() / "runs" / run)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 5 && name.substr(name.size() - 5) == ".ckpt") out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(Clean, RemovesTheCheckpointsOfFinishedSweepsAndKeepsArtifactsVerifiable) {
  Project p;
  p.write("trial.py", kCleanTrial);
  p.write("sweeps.yaml", two_sweeps());
  auto r = p.flow("run sweeps.yaml --run-id s1");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  // Each sweep kept its best trial's checkpoint; keep's is the registered artifact.
  const auto before = checkpoints(p, "s1");
  ASSERT_EQ(before.size(), 2u) << testing::PrintToString(before);
  auto artifacts = json::parse(p.flow("artifacts list --json").out);
  ASSERT_EQ(artifacts.size(), 1u) << artifacts.dump(2);
  const std::string artifact = artifacts[0]["path"];
  const std::string id = artifacts[0]["id"];
  EXPECT_EQ(fs::path(artifact).filename().string().rfind("hpo-keep-trial-", 0), 0u) << artifact;

  auto dry = p.flow("clean s1 --dry-run");
  ASSERT_EQ(dry.code, 0) << dry.out << dry.err;
  EXPECT_NE(dry.out.find("here: would remove 1 HPO checkpoint"), std::string::npos) << dry.out;
  EXPECT_EQ(checkpoints(p, "s1"), before) << "a dry run removes nothing";

  auto c = p.flow("clean s1 --json");
  ASSERT_EQ(c.code, 0) << c.out << c.err;
  auto j = json::parse(c.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << c.out;
  EXPECT_EQ(j["run"], "s1");
  EXPECT_EQ(j["dry_run"], false);
  EXPECT_EQ(j["ok"], true);
  EXPECT_TRUE(j["sites"].empty()) << "a local run has no site files";
  ASSERT_EQ(j["here"]["checkpoints"].size(), 1u) << j.dump(2);
  const std::string removed = j["here"]["checkpoints"][0]["path"];
  EXPECT_EQ(fs::path(removed).filename().string().rfind("hpo-tune-trial-", 0), 0u) << removed;
  EXPECT_GT(j["here"]["checkpoints"][0]["bytes"].get<int>(), 0);
  EXPECT_EQ(j["here"]["kept_artifacts"], json::array({artifact}));
  EXPECT_EQ(j["files"], 1);

  EXPECT_FALSE(fs::exists(removed));
  EXPECT_TRUE(fs::exists(artifact));
  auto v = p.flow("artifacts verify " + id);
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  // The run's rows and local logs stay.
  EXPECT_EQ(p.flow("status s1").code, 0);
  EXPECT_EQ(p.flow("hpo s1 tune").code, 0);
  EXPECT_TRUE(fs::exists(p.home() / "logs" / "s1"));

  auto again = p.flow("clean s1");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("here: no HPO checkpoints to remove"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("run s1: nothing to remove (cleaned before"), std::string::npos)
      << again.out;
}

TEST(Clean, ACleanedRunIsNeitherResumedNorRetried) {
  Project p;
  p.write("trial.py", kCleanTrial);
  p.write("sweeps.yaml", two_sweeps("exit 1"));
  ASSERT_EQ(p.flow("run sweeps.yaml --run-id f1").code, 1);
  auto c = p.flow("clean f1");
  ASSERT_EQ(c.code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("it can no longer be resumed"), std::string::npos) << c.out;

  auto resume = p.flow("resume f1");
  EXPECT_EQ(resume.code, 2) << resume.out << resume.err;
  EXPECT_NE(resume.err.find("run f1 was cleaned"), std::string::npos) << resume.err;
  auto retry = p.flow("retry f1 last");
  EXPECT_EQ(retry.code, 2) << retry.out << retry.err;
  EXPECT_NE(retry.err.find("so it cannot be retried"), std::string::npos) << retry.err;
  auto st = json::parse(p.flow("status f1 --json").out);
  EXPECT_EQ(st["run"]["state"], "failed") << "the refusals changed nothing";
}

TEST(Clean, ALiveRunIsRefusedNamingItsEngineAndAnInterruptedOneUntilCancelled) {
  Project p;
  p.write("slow.yaml", "dag: slow\ntasks:\n  - id: wait\n    run: sleep 60\n");
  Background bg(p, "run slow.yaml --run-id live1");
  ASSERT_TRUE(eventually([&] {
    auto st = json::parse(p.flow("status live1 --json").out, nullptr, false);
    return st.is_object() && st["tasks"].size() == 1 && st["tasks"][0]["state"] == "running";
  }));
  for (const std::string args : {"clean live1", "clean live1 --dry-run"}) {
    auto c = p.flow(args);
    EXPECT_EQ(c.code, 3) << args << ": " << c.out << c.err;
    EXPECT_NE(c.err.find("run live1 is being executed by flow process " + std::to_string(bg.pid())),
              std::string::npos)
        << c.err;
  }
  bg.signal(SIGINT);
  EXPECT_EQ(bg.wait(), 130) << bg.err();

  auto interrupted = p.flow("clean live1");
  EXPECT_EQ(interrupted.code, 2) << interrupted.out << interrupted.err;
  EXPECT_NE(interrupted.err.find("run live1 is interrupted"), std::string::npos) << interrupted.err;
  EXPECT_NE(interrupted.err.find("flow cancel live1"), std::string::npos) << interrupted.err;

  ASSERT_EQ(p.flow("cancel live1").code, 0);
  auto c = p.flow("clean live1");
  EXPECT_EQ(c.code, 0) << c.out << c.err;
  EXPECT_NE(c.out.find("run live1: nothing to remove"), std::string::npos) << c.out;
  // Clean gave the run back: it has no owner.
  auto store = flow::state::Store::open_existing(p.db());
  EXPECT_EQ(store->get_run("live1")->owner_pid, 0);
}

// A site that refuses the removal (here: a `transport: local` Slurm site whose `rm` fails,
// as on a read-only file system) is named, gets no record, and the rest is cleaned; the
// next clean, once the site is fine, removes its files.
TEST(Clean, ASiteThatFailsIsNamedAndNotRecordedWhileTheRestIsCleaned) {
  Project p;
  p.write("trial.py", kCleanTrial);
  p.write("sweeps.yaml", two_sweeps());
  ASSERT_EQ(p.flow("run sweeps.yaml --run-id s2").code, 0);
  const fs::path wd = p.dir() / "site-work";
  p.write("site-work/runs/s2/out.txt", "made on the site\n");
  p.write("sites/lsite.yaml",
          "site: lsite\ntransport: local\nscheduler: slurm\nworkdir: " + wd.string() + "\n");
  p.write("bin/rm",
          "#!/bin/sh\necho \"rm: cannot remove '$3': Read-only file system\" >&2\nexit 1\n");
  fs::permissions(p.dir() / "bin/rm", fs::perms::owner_all);
  {  // The run's last task ran on that site.
    auto store = flow::state::Store::open_existing(p.db());
    auto last = store->get_instance("s2", "last");
    ASSERT_TRUE(last);
    last->site = "lsite";
    store->put_instance(*last);
  }
  const std::string sites = "FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'";

  auto failed = p.flow("clean s2", sites + " PATH='" + (p.dir() / "bin").string() + "':$PATH");
  EXPECT_EQ(failed.code, 3) << failed.out << failed.err;
  EXPECT_NE(failed.out.find("site lsite (local): not cleaned"), std::string::npos) << failed.out;
  EXPECT_NE(failed.err.find("site 'lsite'"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("Read-only file system"), std::string::npos) << failed.err;
  EXPECT_NE(failed.out.find("here: removed 1 HPO checkpoint"), std::string::npos) << failed.out;
  EXPECT_TRUE(fs::exists(wd / "runs/s2/out.txt"));

  auto fine = p.flow("clean s2 --json", sites);
  EXPECT_EQ(fine.code, 0) << fine.out << fine.err;
  auto j = json::parse(fine.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << fine.out;
  ASSERT_EQ(j["cleaned_before"].size(), 1u) << "only here was recorded: " << j.dump(2);
  EXPECT_EQ(j["cleaned_before"][0]["what"].get<std::string>().rfind("here: ", 0), 0u);
  ASSERT_EQ(j["sites"].size(), 1u);
  EXPECT_EQ(j["sites"][0]["paths"][0]["existed"], true);
  EXPECT_FALSE(fs::exists(wd / "runs/s2"));
  EXPECT_TRUE(fs::exists(wd / "runs"));
}
