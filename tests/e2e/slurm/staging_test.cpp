// Staging on the real test cluster (docs/STAGING.md): the real `flow` binary, Slurm jobs over
// SSH as flowuser. A job's working directory is the site's run directory
// (/home/flowuser/flow/runs/RUN), and the engine's $FLOW_HOME lies in a 0700 directory of
// another user (mkdtemp, as root): a job cannot read the engine's files, so every byte it
// reads was uploaded by flow over SFTP and every byte that comes back here was downloaded
// and checked. The test process itself (root, same machine) looks at the site's copies
// directly to check what is there.
#include <gtest/gtest.h>

#include <csignal>

#include "../engine/cli.hpp"
#include "cluster.hpp"

using flow::test::jobs_of_run;
using flow::test::Project;
using flow::test::sh;
using flow::test::slurp;
using flow::test::unique_run_id;
using nlohmann::json;

namespace {

const std::string kSiteRuns = "/home/flowuser/flow/runs/";

json staged_status_of(const Project& p, const std::string& run) {
  auto st = p.flow("status " + run + " --json");
  EXPECT_EQ(st.code, 0) << st.err;
  return json::parse(st.out, nullptr, false);
}

const json* staged_task(const json& st, const std::string& id) {
  for (const auto& t : st["tasks"])
    if (t["id"] == id) return &t;
  return nullptr;
}

// What staging reported for one try ({} if it wrote nothing).
json staging_report(const Project& p, const std::string& run, const std::string& instance,
                    int try_number = 1) {
  auto text =
      slurp(p.home() / "logs" / run / instance / (std::to_string(try_number) + ".staging.json"));
  auto j = json::parse(text, nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

std::string sha256_of(const std::string& file) {
  return sh("sha256sum '" + file + "'").out.substr(0, 64);
}

}  // namespace

// The test cluster does not share the engine's file system (scripts/test-cluster.sh
// "isolated"): a job, over SSH as flowuser or submitted here as root (`transport: local`),
// finds neither the engine's run directory nor its working directory, and this checkout is
// an empty directory there. Only what flow staged is on the cluster.
TEST(Staging, AJobCannotReadTheEnginesRunDirectoryOrItsCheckoutEvenAsRoot) {
  const std::string isolation = slurp("/run/flow-test-cluster/isolation");
  if (isolation.rfind("mount-namespace", 0) != 0)
    GTEST_SKIP() << "the test cluster could not be isolated on this machine: " << isolation;
  Project p;
  flow::test::SharedWithTheCluster shared("flow-isolated");
  p.write("sites/here.yaml",
          flow::test::local_sbatch_site("here", (shared.path() / "work").string()));
  const std::string run = unique_run_id("isolated");
  const std::string marker = (p.home() / "runs" / run / "marker").string();
  const std::string look =
      "      for f in " + marker + " " + (p.dir() / "look.yaml").string() +
      " " FLOW_SOURCE_DIR
      "/dags/ards_pipeline.yaml; do\n"
      "        if test -e \"$f\"; then echo \"sees $f\"; else echo missing; fi\n"
      "      done\n"
      "      ls -A " FLOW_SOURCE_DIR
      " | wc -l\n"
      "      id -un\n";
  p.write("look.yaml",
          "dag: look\ntasks:\n"
          "  - id: mark\n    run: echo here > {{ run.dir }}/marker\n"
          "  - id: ssh\n    after: [mark]\n    site: localslurm\n    run: |\n" +
              look + "  - id: root\n    after: [mark]\n    site: here\n    run: |\n" + look);
  ASSERT_TRUE(std::filesystem::exists(FLOW_SOURCE_DIR "/dags/ards_pipeline.yaml"));
  auto r = p.flow("run look.yaml --run-id " + run,
                  "FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  ASSERT_TRUE(std::filesystem::exists(marker));
  EXPECT_EQ(p.flow("logs " + run + " ssh").out, "missing\nmissing\nmissing\n0\nflowuser\n");
  EXPECT_EQ(p.flow("logs " + run + " root").out, "missing\nmissing\nmissing\n0\nroot\n");
}

TEST(Staging, DataCrossesFromHereToTheClusterAndBackUnchanged) {
  Project p;
  const std::string run = unique_run_id("cross");
  const std::string local_in = (p.home() / "runs" / run / "in.bin").string();
  p.write("cross.yaml",
          R"Y(dag: cross
tasks:
  - id: make
    run: head -c 3000000 /dev/urandom > {{ run.dir }}/in.bin
    outputs: [in.bin]
  - id: transform
    after: [make]
    site: localslurm
    inputs: [in.bin]
    outputs: [sum.txt, sub/copy.bin]
    run: |
      test -r )Y" +
              local_in +
              R"Y( && echo "sees the engine's run dir" || echo "cannot see the engine's files"
      sha256sum in.bin | cut -d' ' -f1 > sum.txt
      mkdir -p sub && cp in.bin sub/copy.bin
  - id: check
    after: [transform]
    inputs: [sum.txt, sub/copy.bin]
    run: |
      test "$(sha256sum {{ run.dir }}/in.bin | cut -d' ' -f1)" = "$(cat {{ run.dir }}/sum.txt)"
      cmp {{ run.dir }}/in.bin {{ run.dir }}/sub/copy.bin && echo identical
)Y");
  auto r = p.flow("run cross.yaml --run-id " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(p.flow("logs " + run + " transform").out, "cannot see the engine's files\n")
      << "the job read only what was staged";
  EXPECT_EQ(p.flow("logs " + run + " check").out, "identical\n");
  const std::string sha = sha256_of(local_in);
  EXPECT_EQ(sha256_of(kSiteRuns + run + "/in.bin"), sha) << "the site's copy is the same bytes";
  EXPECT_EQ(slurp(p.home() / "runs" / run / "sum.txt"), sha + "\n");
  auto rep = staging_report(p, run, "transform");
  EXPECT_EQ(rep["site"], "localslurm") << rep;
  EXPECT_EQ(rep["stage_in"]["inputs"]["sent"], 1) << rep;
  EXPECT_EQ(rep["stage_in"]["inputs"]["bytes"], 3000000) << rep;
  EXPECT_EQ(rep["stage_out"]["outputs"]["files"], 2) << rep;
  EXPECT_EQ(rep["stage_out"]["outputs"]["sent"], 2) << rep;
  EXPECT_EQ(rep["stage_out"]["outputs"]["bytes"], 3000000 + 65) << rep;
  EXPECT_EQ(
      sh("find " + kSiteRuns + run + " " + p.home().string() + " -name '.flow-part.*' | wc -l").out,
      "0\n")
      << "no temporary file is left on either side";
  auto names = jobs_of_run(run, 1);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names.begin()->second, 1);
}

// 150 files, 34 MB (three batches of at most 64 files) to a site with `transfer_streams: 3`
// and back: the batches go over several SSH connections in parallel, every file arrives
// checked, and the staging report says how many connections moved them.
TEST(Staging, ManyFilesGoOverSeveralConnectionsAndComeBackUnchanged) {
  Project p;
  p.write("sites/streams.yaml",
          flow::test::ssh_site("streams", "/home/flowuser/flow") + "transfer_streams: 3\n");
  std::string outputs;
  for (int i = 1; i <= 150; ++i)
    outputs += (i > 1 ? ", " : "") + std::string("out/f") + std::to_string(i) + ".bin";
  const auto data = p.dir() / "data";
  ASSERT_EQ(sh("mkdir -p '" + data.string() +
               "' && for i in $(seq 1 150); do head -c $((i * 2999)) "
               "/dev/urandom > '" +
               data.string() + "'/f$i.bin; done")
                .code,
            0);
  p.write("many.yaml", R"Y(dag: many
tasks:
  - id: copy
    site: streams
    inputs: [{path: data, base: workdir}]
    outputs: [)Y" + outputs +
                           R"Y(]
    run: cp -r data out
)Y");
  const std::string run = unique_run_id("streams");
  auto r = p.flow("run many.yaml --run-id " + run,
                  "FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const auto here = p.home() / "runs" / run;
  EXPECT_EQ(sh("diff -r '" + data.string() + "' '" + (here / "out").string() + "'").code, 0)
      << "every file came back with the bytes that went up";
  auto rep = staging_report(p, run, "copy");
  EXPECT_EQ(rep["stage_in"]["inputs"]["sent"], 150) << rep;
  // Three batches (64, 64 and 22 files): the first connection starts at once, the other two
  // join as soon as they are up, so at least two of them take part.
  EXPECT_GE(rep["stage_in"]["inputs"]["streams"], 2) << rep;
  EXPECT_LE(rep["stage_in"]["inputs"]["streams"], 3) << rep;
  EXPECT_EQ(rep["stage_out"]["outputs"]["sent"], 150) << rep;
  EXPECT_GE(rep["stage_out"]["outputs"]["streams"], 2) << rep;
  EXPECT_LE(rep["stage_out"]["outputs"]["streams"], 3) << rep;
  EXPECT_EQ(
      sh("find " + kSiteRuns + run + " " + here.string() + " -name '.flow-part.*' | wc -l").out,
      "0\n")
      << "no temporary file is left on either side";
}

TEST(Staging, OnlyTheChangedCodeFileIsSentOnTheNextRun) {
  Project p;
  p.write("code/run.sh", "echo version 1\n");
  p.write("code/lib/util.sh", "echo util\n");
  p.write("code/data/table.txt", std::string(200000, 't'));
  p.write("code/README", "helpers\n");
  p.write("code.yaml", R"(dag: codesync
code: [code]
tasks:
  - id: job
    site: localslurm
    run: sh code/run.sh && sh code/lib/util.sh && wc -c < code/data/table.txt
)");
  const std::string run1 = unique_run_id("code1");
  auto r1 = p.flow("run code.yaml --run-id " + run1);
  ASSERT_EQ(r1.code, 0) << r1.out << r1.err;
  EXPECT_EQ(p.flow("logs " + run1 + " job").out, "version 1\nutil\n200000\n");
  auto first = staging_report(p, run1, "job")["stage_in"]["code"];
  EXPECT_EQ(first["files"], 4) << first;
  // Earlier runs of this test may have left the same contents in the site's cache.
  EXPECT_EQ(first["sent"].get<int>() + first["unchanged"].get<int>(), 4) << first;

  // Content the site's cache cannot have seen before (earlier runs of this test).
  const std::string run2 = unique_run_id("code2");
  const std::string v2 = "echo version 2 # " + run2 + "\n";
  p.write("code/run.sh", v2);
  auto r2 = p.flow("run code.yaml --run-id " + run2);
  ASSERT_EQ(r2.code, 0) << r2.out << r2.err;
  EXPECT_EQ(p.flow("logs " + run2 + " job").out, "version 2\nutil\n200000\n");
  auto second = staging_report(p, run2, "job")["stage_in"]["code"];
  EXPECT_EQ(second["files"], 4) << second;
  EXPECT_EQ(second["sent"], 1) << second;
  EXPECT_EQ(second["unchanged"], 3) << second;
  EXPECT_EQ(second["bytes"], v2.size()) << "only the bytes of the changed file: " << second;
  EXPECT_NE((r2.out + r2.err).find("code 4 files: 1 sent"), std::string::npos) << r2.out << r2.err;
  EXPECT_EQ(slurp(kSiteRuns + run1 + "/code/run.sh"), "echo version 1\n")
      << "the first run's snapshot is untouched";
}

TEST(Staging, AMissingDeclaredInputStopsTheRunBeforeAnythingStarts) {
  Project p;
  p.write("missing.yaml", R"(dag: missing
tasks:
  - id: use
    site: localslurm
    inputs:
      - {path: data/nothere.csv, base: workdir}
    run: cat data/nothere.csv
)");
  const std::string run = unique_run_id("missing");
  auto r = p.flow("run missing.yaml --run-id " + run);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("missing.yaml:6:16"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("data/nothere.csv"), std::string::npos) << r.err;
  EXPECT_NE(p.flow("status " + run).code, 0) << "no run was created";
  EXPECT_EQ(jobs_of_run(run, 0).size(), 0u);
}

TEST(Staging, AnOutputPathEscapingTheRunDirIsAValidationError) {
  Project p;
  p.write("escape.yaml", R"(dag: escape
tasks:
  - id: a
    site: localslurm
    outputs: [results/../../secret.txt]
    run: "true"
)");
  auto r = p.flow("validate escape.yaml");
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("escape.yaml:5:15"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("climbs out"), std::string::npos) << r.err;
}

TEST(Staging, AMissingDeclaredOutputFailsTheTryNamingTheFile) {
  Project p;
  p.write("noout.yaml", R"(dag: noout
tasks:
  - id: lazy
    site: localslurm
    retries: 2
    retry_delay: 1s
    outputs: [made.txt, forgotten.txt]
    run: echo made > made.txt
)");
  const std::string run = unique_run_id("noout");
  auto r = p.flow("run noout.yaml --run-id " + run);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const json st = staged_status_of(p, run);
  const json* t = staged_task(st, "lazy");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*t)["state"], "failed");
  EXPECT_EQ((*t)["try"], 1) << "a missing output is not retried";
  EXPECT_EQ((*t)["native_state"], "STAGE_OUT");
  const std::string msg = (*t)["message"];
  EXPECT_NE(msg.find("did not write its declared output"), std::string::npos) << msg;
  EXPECT_NE(msg.find("forgotten.txt"), std::string::npos) << msg;
  EXPECT_FALSE(std::filesystem::exists(p.home() / "runs" / run / "forgotten.txt"));
}

TEST(Staging, PermissionDeniedOnTheSiteFailsTheTaskWithItsWordsBeforeAnyJob) {
  Project p;
  // A workdir flowuser may not write into (root's, mode 0755).
  ASSERT_EQ(sh("mkdir -p /home/flowuser/locked && chown root:root /home/flowuser/locked && "
               "chmod 0755 /home/flowuser/locked")
                .code,
            0);
  p.write("sites/locked.yaml", flow::test::ssh_site("locked", "/home/flowuser/locked/flow"));
  p.write("in.txt", "hello\n");
  p.write("locked.yaml", R"(dag: locked
tasks:
  - id: use
    site: locked
    retries: 2
    inputs: [{path: in.txt, base: workdir}]
    run: cat in.txt
)");
  const std::string run = unique_run_id("locked");
  auto r = p.flow("run locked.yaml --run-id " + run,
                  "FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const json st = staged_status_of(p, run);
  const json* t = staged_task(st, "use");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*t)["try"], 1) << "not retried: the site would refuse again";
  EXPECT_EQ((*t)["native_state"], "STAGE_IN");
  const std::string msg = (*t)["message"];
  EXPECT_NE(msg.find("permission denied"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/home/flowuser/locked/flow"), std::string::npos) << msg;
  EXPECT_NE(msg.find("in.txt"), std::string::npos) << msg;
  EXPECT_EQ(jobs_of_run(run, 0).size(), 0u) << "no job was submitted";
}

// A site whose file system fills up during an upload: a 1 MiB tmpfs as the workdir and a
// 3 MiB input. The try fails before any job with the site's words (what ran out, and where),
// and nothing half-written is left: neither the input's name nor a part file, and the space
// is free again.
TEST(Staging, ARemoteDiskFullFailsTheTaskWithTheSitesWordsAndLeavesNothingHalfWritten) {
  Project p;
  const std::string small = "/home/flowuser/small";
  using flow::test::on_the_login_node;
  on_the_login_node("umount " + small + " 2>/dev/null; mkdir -p " + small);
  const auto mounted = on_the_login_node("mount -t tmpfs -o size=1m,mode=0755 flow-small " + small +
                                         " && chown flowuser: " + small);
  if (mounted.code != 0) GTEST_SKIP() << "cannot mount a 1 MiB tmpfs here: " << mounted.out;
  struct Unmount {
    std::string dir;
    ~Unmount() { on_the_login_node("umount " + dir); }
  } unmount{small};
  p.write("sites/small.yaml", flow::test::ssh_site("small", small + "/flow"));
  ASSERT_EQ(sh("head -c 3145728 /dev/urandom > '" + (p.dir() / "big.bin").string() + "'").code, 0);
  p.write("full.yaml", R"(dag: full
tasks:
  - id: use
    site: small
    retries: 0
    inputs: [{path: big.bin, base: workdir}]
    run: sha256sum big.bin
)");
  const std::string run = unique_run_id("full");
  auto r = p.flow("run full.yaml --run-id " + run,
                  "FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'");
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const json st = staged_status_of(p, run);
  const json* t = staged_task(st, "use");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*t)["state"], "failed");
  EXPECT_EQ((*t)["native_state"], "STAGE_IN");
  const std::string msg = (*t)["message"];
  EXPECT_NE(msg.find("no space left on device"), std::string::npos) << msg;
  EXPECT_NE(msg.find(small + "/flow/runs/" + run), std::string::npos) << msg;
  EXPECT_NE(msg.find("big.bin"), std::string::npos) << msg;
  EXPECT_EQ(jobs_of_run(run, 0).size(), 0u) << "no job was submitted";
  EXPECT_EQ(on_the_login_node("find " + small + " -type f").out, "")
      << "half-written files left on the site";
  // Nothing holds the space: a 900 KiB file fits again.
  EXPECT_EQ(
      on_the_login_node("head -c 921600 /dev/zero > " + small + "/probe && rm " + small + "/probe")
          .code,
      0);
  // The local file is untouched.
  EXPECT_EQ(std::filesystem::file_size(p.dir() / "big.bin"), 3145728u);
}

// The engine killed with SIGKILL in the middle of a large upload (a 256 MiB input), then
// `flow resume`: the copy continues from the part on the site, the file there has the local
// sha256, the job reads exactly those bytes, and the task ran as one Slurm job.
TEST(Staging, AnEngineKilledDuringALargeUploadResumesItAndSubmitsTheJobOnce) {
  Project p;
  ASSERT_EQ(sh("head -c 268435456 /dev/urandom > '" + (p.dir() / "big.bin").string() + "'").code,
            0);
  const std::string local_sha = sha256_of((p.dir() / "big.bin").string());
  p.write("big.yaml", R"(dag: big
tasks:
  - id: use
    site: localslurm
    retries: 1
    inputs: [{path: big.bin, base: workdir}]
    run: sha256sum big.bin
)");
  const std::string run = unique_run_id("bigup");
  const std::string site_dir = kSiteRuns + run;
  // The size of the part file being written on the site (0 while there is none).
  auto part_size = [&] {
    auto r = sh("find '" + site_dir + "' -maxdepth 1 -name '.flow-part.*' -printf '%s\\n' " +
                "2>/dev/null");
    return std::strtoull(r.out.c_str(), nullptr, 10);  // 0 when there is none
  };
  {
    flow::test::Background bg(p, "run big.yaml --run-id " + run);
    ASSERT_TRUE(flow::test::eventually([&] { return part_size() >= (16ull << 20); }, 300))
        << bg.err();
    ASSERT_LT(part_size(), 256ull << 20) << "the upload ended before the kill";
    bg.signal(SIGKILL);
    bg.wait();
  }
  const auto left = part_size();
  EXPECT_GT(left, 0u) << "the part stays on the site for the resume";
  EXPECT_EQ(jobs_of_run(run, 0).size(), 0u) << "no job before the input is complete";

  auto r = p.flow("resume " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(sha256_of(site_dir + "/big.bin"), local_sha);
  EXPECT_EQ(part_size(), 0u) << "no part file left";
  // The resumed copy continued the part: it sent less than the whole file.
  const json st = staged_status_of(p, run);
  const json* t = staged_task(st, "use");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ((*t)["state"], "succeeded") << st.dump();
  const json report = staging_report(p, run, "use", (*t)["try"].get<int>());
  EXPECT_LT(report["stage_in"]["inputs"]["bytes"].get<uint64_t>(), 256ull << 20) << report.dump();
  // The job read the uploaded bytes.
  auto log = p.flow("logs " + run + " use");
  EXPECT_NE(log.out.find(local_sha), std::string::npos) << log.out << log.err;
  const auto jobs = jobs_of_run(run, 1);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs.begin()->second, 1) << jobs.begin()->first << " was submitted twice";
}

// Artifacts a Slurm task registers (the "artifacts" key of its outputs file) are fetched
// from the site, checked by sha256 against the site's own hash, and registered from the
// local copy with their origin: site, host, path there and Slurm job id (docs/ARTIFACTS.md).
TEST(Staging, AnArtifactASlurmTaskRegistersIsFetchedVerifiedAndRegisteredWithItsOrigin) {
  Project p;
  const std::string run = unique_run_id("art");
  p.write("art.yaml", R"(dag: remote_art
tasks:
  - id: fit
    site: localslurm
    run: |
      head -c 200000 /dev/urandom > model.bin
      mkdir -p cards && echo '{"mae": 4.2}' > cards/card.json
      cat > "$FLOW_OUTPUTS_FILE" <<'JSON'
      {"artifacts": [{"path": "model.bin", "name": "remote-model", "metadata": {"epochs": 3}},
                     "cards/card.json"]}
      JSON
  - id: use
    after: [fit]
    run: cmp {{ run.dir }}/model.bin {{ run.dir }}/model.bin && wc -c < {{ run.dir }}/model.bin
)");
  auto r = p.flow("run art.yaml --run-id " + run);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(p.flow("logs " + run + " use").out, "200000\n") << "the copy is here for local tasks";

  const std::string site_model = kSiteRuns + run + "/model.bin";
  const json st = staged_status_of(p, run);
  const json* fit = staged_task(st, "fit");
  ASSERT_NE(fit, nullptr);
  const std::string job_id = (*fit)["job_id"];
  auto list = json::parse(p.flow("artifacts list --json --run " + run).out);
  ASSERT_EQ(list.size(), 2u) << list.dump(2);
  json model;
  for (const auto& a : list)
    if (a["name"] == "remote-model") model = a;
  ASSERT_TRUE(model.is_object()) << list.dump(2);
  EXPECT_EQ(model["path"], (p.home() / "runs" / run / "model.bin").string());
  EXPECT_EQ(model["sha256"], sha256_of(site_model)) << "the same bytes as on the site";
  EXPECT_EQ(model["site"], "localslurm");
  EXPECT_EQ(model["origin"]["site"], "localslurm") << model.dump(2);
  EXPECT_EQ(model["origin"]["host"], "127.0.0.1:2222");
  EXPECT_EQ(model["origin"]["path"], site_model);
  EXPECT_EQ(model["origin"]["job_id"], job_id);
  EXPECT_EQ(model["origin"]["sha256"], model["sha256"]);
  const json& ld = model["metadata"];
  EXPECT_EQ(ld["epochs"], 3);
  EXPECT_EQ(ld["prov:hadPrimarySource"]["@id"], "sftp://127.0.0.1:2222" + site_model);
  EXPECT_EQ(ld["prov:wasGeneratedBy"]["location"]["identifier"]["value"], "127.0.0.1:2222");
  bool names_job = false;
  for (const auto& id : ld["prov:wasGeneratedBy"]["identifier"])
    names_job |= id["propertyID"] == "slurm-job-id" && id["value"] == job_id;
  EXPECT_TRUE(names_job) << ld.dump(2);

  auto v = p.flow("artifacts verify " + model["id"].get<std::string>());
  EXPECT_EQ(v.code, 0) << v.out << v.err;
  auto rep = staging_report(p, run, "fit");
  EXPECT_EQ(rep["fetch_artifacts"]["artifacts"]["files"], 2) << rep;
  EXPECT_EQ(rep["fetch_artifacts"]["job_id"], job_id) << rep;
}

// A registered file the job did not write fails the try, naming the file; nothing is
// registered.
TEST(Staging, AnArtifactMissingOnTheSiteFailsTheTryNamingIt) {
  Project p;
  const std::string run = unique_run_id("artmiss");
  p.write("miss.yaml", R"(dag: remote_art_missing
tasks:
  - id: fit
    site: localslurm
    run: |
      echo '{"artifacts": ["never-written.onnx"]}' > "$FLOW_OUTPUTS_FILE"
)");
  auto r = p.flow("run miss.yaml --run-id " + run);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("site 'localslurm': job "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("never-written.onnx"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(p.flow("artifacts list --json --run " + run).out).size(), 0u);
}
