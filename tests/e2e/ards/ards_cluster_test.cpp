// dags/ards_pipeline_slurm.yaml as the README runs it, on the real test cluster: preprocess
// here; the DAG's scripts and data.npz staged over SFTP; every ASHA segment of the sweep and
// the final training as Slurm jobs over SSH on a cluster whose jobs cannot see this machine's
// files (scripts/test-cluster.sh); model.pt back for evaluate and the ONNX export here. The
// model must have learned, the ONNX file must compute what PyTorch computes, and it is
// registered and verified here.
#include <gtest/gtest.h>

#include "../engine/cli.hpp"
#include "../slurm/cluster.hpp"

using flow::test::jobs_of_run;
using flow::test::Project;
using flow::test::slurp;
using flow::test::unique_run_id;
using nlohmann::json;

TEST(ArdsOnSlurm, SweepAndTrainingRunAsSlurmJobsAndTheModelComesBackRegisteredAndVerified) {
  Project p;
  const std::string run = unique_run_id("ards");
  // The DAG's paths (code: [dags/ards], the scripts its commands call) are relative to the
  // repository root, where users run it.
  auto r = p.flow("run dags/ards_pipeline_slurm.yaml --run-id " + run + " -p rows=2048",
                  "cd " FLOW_SOURCE_DIR " &&");
  ASSERT_EQ(r.code, 0) << r.out << r.err;

  const json st = json::parse(p.flow("status " + run + " --json").out);
  EXPECT_EQ(st["run"]["state"], "succeeded") << st.dump();
  std::map<std::string, std::set<std::string>> sites;  // task -> sites its instances ran on
  json evaluate;
  for (const auto& t : st["tasks"]) {
    sites[t["task"]].insert(t["site"]);
    if (t["site"] == "localslurm" && t["id"] != "tune") {  // "tune" is the sweep, not a job
      EXPECT_TRUE(t["job_id"].is_string()) << t.dump();
    }
    if (t["task"] == "evaluate") evaluate = t["outputs"];
  }
  EXPECT_EQ(sites["preprocess"], std::set<std::string>{"local"});
  EXPECT_EQ(sites["tune"], std::set<std::string>{"localslurm"});
  EXPECT_EQ(sites["train"], std::set<std::string>{"localslurm"});
  EXPECT_EQ(sites["evaluate"], std::set<std::string>{"local"});
  EXPECT_EQ(sites["export_onnx"], std::set<std::string>{"local"});

  // Every segment of the sweep was a job, and the training one more, each submitted once.
  auto h = json::parse(p.flow("hpo " + run + " tune --json").out);
  ASSERT_EQ(h["trials"].size(), 12u) << h.dump();
  EXPECT_EQ(h["failed"], 0);
  size_t segments = 0;
  for (const auto& t : h["trials"])
    segments += t["history"].size();
  const auto jobs = jobs_of_run(run, segments + 1);
  EXPECT_EQ(jobs.size(), segments + 1) << "one job per segment and one for train";
  for (const auto& [name, n] : jobs)
    EXPECT_EQ(n, 1) << name << " was submitted twice";

  // The scripts were synced once in the run, before the first job (sent, or already in the
  // site's content cache from an earlier run); model.pt came back.
  int code_syncs = 0, code_files = 0, code_placed = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(p.home() / "logs" / run)) {
    if (!e.path().string().ends_with(".staging.json")) continue;
    const json rep = json::parse(slurp(e.path()), nullptr, false);
    if (!rep.is_object() || !rep["stage_in"].contains("code")) continue;
    ++code_syncs;
    code_files = rep["stage_in"]["code"]["files"].get<int>();
    code_placed = rep["stage_in"]["code"]["sent"].get<int>() +
                  rep["stage_in"]["code"]["unchanged"].get<int>();
  }
  EXPECT_EQ(code_syncs, 1);
  EXPECT_GE(code_files, 6) << "dags/ards has six files";
  EXPECT_EQ(code_placed, code_files);
  EXPECT_TRUE(std::filesystem::exists(p.home() / "runs" / run / "model.pt"));

  // The model learned (the bound of tests/e2e/ards/ards_pipeline_test.cpp: noise floor 14.4
  // mmHg, constant predictor about 38).
  ASSERT_TRUE(evaluate.is_object()) << st.dump();
  EXPECT_LE(evaluate["test_mae"].get<double>(), 20.0) << evaluate.dump();

  // The ONNX model is registered here, computes what PyTorch computes and verifies.
  auto list = json::parse(p.flow("artifacts list --run " + run + " --json").out);
  json model;
  for (const auto& a : list)
    if (a["format"] == "onnx") model = a;
  ASSERT_TRUE(model.is_object()) << list.dump();
  EXPECT_EQ(model["task"], "export_onnx");
  EXPECT_EQ(model["metadata"]["numeric_check"]["status"], "passed") << model.dump();
  auto v = p.flow("artifacts verify " + model["id"].get<std::string>() + " --json");
  EXPECT_EQ(v.code, 0) << v.out << v.err;
}

// The same pipeline with the test cluster in allocation mode (docs/REFERENCE.md §5.1): the
// whole ASHA sweep (every segment and promotion) and the final training run inside
// allocations flow manages, with at most two sbatch calls in all and none per task.
TEST(ArdsOnSlurm, TheWholeSweepAndTrainingRunInsideAtMostTwoAllocations) {
  Project p;
  const std::string run = unique_run_id("ards-alloc");
  const std::string workdir = "/home/flowuser/ards-alloc/" + run;
  flow::test::CancelJobsUnder cleanup(workdir);  // the allocation would idle for 30 s
  // The built-in localslurm, with a workdir of its own and `allocation:`: a later site
  // directory replaces a site of the same name.
  std::string site = slurp(std::filesystem::path(FLOW_SOURCE_DIR) / "sites" / "localslurm.yaml");
  const auto at = site.find("workdir:");
  ASSERT_NE(at, std::string::npos);
  site = site.substr(0, at) + "workdir: " + workdir + site.substr(site.find('\n', at));
  site += "allocation: {nodes: 1, time: 1h, idle_timeout: 30s}\n";
  p.write("sites/localslurm.yaml", site);
  auto r =
      p.flow("run dags/ards_pipeline_slurm.yaml --run-id " + run + " -p rows=2048",
             "cd " FLOW_SOURCE_DIR " && FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const json st = json::parse(p.flow("status " + run + " --json").out);
  EXPECT_EQ(st["run"]["state"], "succeeded") << st.dump();
  auto h = json::parse(p.flow("hpo " + run + " tune --json").out);
  ASSERT_EQ(h["trials"].size(), 12u) << h.dump();
  EXPECT_EQ(h["failed"], 0);
  EXPECT_TRUE(jobs_of_run(run, 0).empty()) << "a segment or train was submitted on its own";
  // The allocations are the jobs that worked under this test's workdir.
  int allocations = 0;
  for (int attempt = 0; attempt < 60 && allocations == 0; ++attempt) {
    auto out =
        flow::test::sh("sacct -a -X -n -P -o JobName%100,WorkDir%300 --starttime=now-1days").out;
    allocations = 0;
    size_t pos = 0;
    while ((pos = out.find("|" + workdir + "/allocations/", pos)) != std::string::npos) {
      ++allocations;
      ++pos;
    }
    if (allocations == 0) ::usleep(500'000);
  }
  EXPECT_GE(allocations, 1);
  EXPECT_LE(allocations, 2) << "sbatch calls for the whole pipeline";
  EXPECT_TRUE(std::filesystem::exists(p.home() / "runs" / run / "model.pt"));
}
