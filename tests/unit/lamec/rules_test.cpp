// The LAMEC rules (docs/REFERENCE.md §6): GPUs, tasks and CPUs per node, support matrix, launchers,
// module blocks from data.
#include <gtest/gtest.h>

#include "lamec_test_util.hpp"

using namespace lamec_test;
namespace lamec = flow::lamec;
using flow::InputError;

namespace {

flow::site::Site system_site(const std::string& system) {
  flow::site::Site s;
  s.name = system;
  s.system = system;
  return s;
}

std::string gen(const std::string& system, std::vector<std::string> software, int nodes = 1,
                const std::string& exe = "python3 train.py") {
  auto modules = builtin_modules();
  flow::dag::SlurmSpec spec;
  spec.nodes = nodes;
  spec.software = std::move(software);
  return lamec::render(lamec::make_request(system_site(system), spec, exe, modules), modules);
}

bool has_line(const std::string& script, const std::string& line) {
  return ("\n" + script).find("\n" + line + "\n") != std::string::npos;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.diagnostics().front().str();
  }
  return "";
}

}  // namespace

TEST(LamecRules, JurecaDdpOnTwoNodesUsesFourGpusOneTaskAndThirtyTwoCpus) {
  auto s = gen("jureca", {"ddp"}, 2);
  EXPECT_TRUE(has_line(s, "#SBATCH --nodes=2")) << s;
  EXPECT_TRUE(has_line(s, "#SBATCH --gpus-per-node=4")) << s;
  EXPECT_TRUE(has_line(s, "#SBATCH --ntasks-per-node=1")) << s;
  EXPECT_TRUE(has_line(s, "#SBATCH --cpus-per-task=32")) << s;
  EXPECT_TRUE(has_line(s, "#SBATCH --partition=dc-gpu")) << s;
  EXPECT_NE(s.find("torchrun"), std::string::npos);
  EXPECT_NE(s.find("--nproc_per_node=4"), std::string::npos);
  EXPECT_NE(s.find("scontrol show hostnames"), std::string::npos);
}

TEST(LamecRules, HorovodAndHeatRunOneTaskPerGpu) {
  EXPECT_TRUE(has_line(gen("jureca", {"horovod"}), "#SBATCH --ntasks-per-node=4"));
  EXPECT_TRUE(has_line(gen("jureca", {"heat"}), "#SBATCH --ntasks-per-node=4"));
  EXPECT_TRUE(has_line(gen("deep", {"horovod"}), "#SBATCH --ntasks-per-node=1"));
  EXPECT_TRUE(has_line(gen("jureca", {"horovod"}), "srun --cpu-bind=none python3 train.py"));
}

TEST(LamecRules, DdpDeepspeedRaytuneRunOneTaskPerNode) {
  for (const char* sw : {"ddp", "deepspeed", "raytune"})
    EXPECT_TRUE(has_line(gen("jureca", {sw}), "#SBATCH --ntasks-per-node=1")) << sw;
}

TEST(LamecRules, GpusPerNodeAndCpusFollowTheSystem) {
  auto booster = gen("juwels", {"ddp"});
  EXPECT_TRUE(has_line(booster, "#SBATCH --gpus-per-node=4"));
  EXPECT_TRUE(has_line(booster, "#SBATCH --cpus-per-task=12"));  // 48 cores / 4 GPUs
  EXPECT_TRUE(has_line(booster, "#SBATCH --partition=booster"));
  auto deep = gen("deep", {"ddp"});
  EXPECT_TRUE(has_line(deep, "#SBATCH --gpus-per-node=1"));
  EXPECT_TRUE(has_line(deep, "#SBATCH --partition=dp-esb"));
}

TEST(LamecRules, TaskSlurmBlockOverridesSiteWhichOverridesSystem) {
  auto modules = builtin_modules();
  flow::site::Site site = system_site("jureca");
  site.partition = "dc-gpu-devel";
  site.account = "siteacct";
  flow::dag::SlurmSpec spec;
  spec.software = {"horovod"};
  auto r = lamec::make_request(site, spec, "x", modules);
  EXPECT_EQ(r.partition, "dc-gpu-devel");
  EXPECT_EQ(r.account, "siteacct");
  spec.partition = "dc-gpu-large";
  spec.account = "taskacct";
  spec.gpus = 2;
  spec.ntasks = 3;
  spec.cpus_per_task = 7;
  spec.time = "02:00:00";
  spec.extra = {"--mem=4G", "#SBATCH --exclusive"};
  r = lamec::make_request(site, spec, "x", modules);
  EXPECT_EQ(r.partition, "dc-gpu-large");
  EXPECT_EQ(r.account, "taskacct");
  EXPECT_EQ(r.gpus_per_node, 2);
  EXPECT_EQ(r.ntasks_per_node, 3);
  EXPECT_EQ(r.cpus_per_task, 7);
  auto s = lamec::render(r, modules);
  EXPECT_TRUE(has_line(s, "#SBATCH --time=02:00:00"));
  EXPECT_TRUE(has_line(s, "#SBATCH --mem=4G"));
  EXPECT_TRUE(has_line(s, "#SBATCH --exclusive"));
  EXPECT_TRUE(has_line(s, "#SBATCH --account=taskacct"));
}

TEST(LamecRules, GpusFromTheSiteReplaceTheSystemDefault) {
  auto modules = builtin_modules();
  flow::site::Site site = system_site("jureca");
  site.gpus_per_node = 2;
  site.cores_per_node = 64;
  flow::dag::SlurmSpec spec;
  spec.software = {"heat"};
  auto r = lamec::make_request(site, spec, "x", modules);
  EXPECT_EQ(r.gpus_per_node, 2);
  EXPECT_EQ(r.ntasks_per_node, 2);
  EXPECT_EQ(r.cpus_per_task, 32);
}

TEST(LamecRules, UnsupportedPairIsAnErrorListingWhatIsSupported) {
  EXPECT_EQ(error_of([] { gen("juwels", {"horovod"}); }).substr(0, 76),
            "software 'horovod' is not supported on system 'juwels'; supported there: ddp");
  auto e = error_of([] { gen("deep", {"raytune"}); });
  EXPECT_NE(e.find("supported there: ddp, horovod, heat, deepspeed, tensorflow"), std::string::npos)
      << e;
  EXPECT_NE(error_of([] { gen("jureca", {"tensorflow"}); }).find("not supported"),
            std::string::npos);
}

TEST(LamecRules, UnknownSystemAndSoftwareListTheKnownNames) {
  auto e = error_of([] { gen("jurecca", {"ddp"}); });
  EXPECT_NE(e.find("unknown system 'jurecca' (did you mean 'jureca'?)"), std::string::npos) << e;
  EXPECT_NE(e.find("deep, jureca, juwels, local, localslurm"), std::string::npos) << e;
  e = error_of([] { gen("jureca", {"horovd"}); });
  EXPECT_NE(e.find("unknown software 'horovd' (did you mean 'horovod'?)"), std::string::npos) << e;
}

TEST(LamecRules, AliasesAreWrittenWithTheirCanonicalName) {
  EXPECT_TRUE(has_line(gen("jureca", {"pytorch-ddp"}), "# MODULES BEGIN jureca ddp"));
  EXPECT_TRUE(has_line(gen("jureca", {"Ray-Tune"}), "# MODULES BEGIN jureca raytune"));
}

TEST(LamecRules, ModuleBlockListsEverySoftwareItCoversAndDeduplicatesLines) {
  auto s = gen("deep", {"ddp", "heat"});
  EXPECT_TRUE(has_line(s, "# MODULES BEGIN deep ddp heat")) << s;
  EXPECT_TRUE(has_line(s, "# MODULES END"));
  EXPECT_TRUE(has_line(s, "module load Stages/2023"));
  auto first = s.find("module load PyTorch/1.12.0-CUDA-11.7 torchvision/0.13.1-CUDA-11.7");
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(s.find("module load PyTorch/1.12.0-CUDA-11.7 torchvision/0.13.1-CUDA-11.7", first + 1),
            std::string::npos);
}

TEST(LamecRules, FirstSoftwareDecidesTheLauncher) {
  EXPECT_NE(gen("deep", {"ddp", "heat"}).find("torchrun"), std::string::npos);
  auto heat_first = gen("deep", {"heat", "ddp"});
  EXPECT_EQ(heat_first.find("torchrun"), std::string::npos);
  EXPECT_NE(heat_first.find("srun --cpu-bind=none python3 train.py"), std::string::npos);
}

TEST(LamecRules, SoftwareThatStartsItsOwnProcessesCannotBeCombined) {
  auto e = error_of([] { gen("jureca", {"ddp", "deepspeed"}); });
  EXPECT_NE(e.find("'deepspeed' starts its own processes and cannot be combined"),
            std::string::npos)
      << e;
  EXPECT_NE(error_of([] {
              gen("jureca", {"ddp", "ddp"});
            }).find("listed twice"),
            std::string::npos);
}

TEST(LamecRules, PlainScriptOnAGpuSiteStillGetsCoresPerGpu) {
  auto s = gen("jureca", {}, 1, "echo hello");
  EXPECT_TRUE(has_line(s, "#SBATCH --cpus-per-task=32")) << s;
}

TEST(LamecRules, PlainScriptHasHeaderAndCommandButNoModuleBlock) {
  auto s = gen("localslurm", {}, 1, "echo hello");
  EXPECT_EQ(s.find("MODULES"), std::string::npos) << s;
  EXPECT_EQ(s.rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_TRUE(has_line(s, "#SBATCH --partition=debug"));
  // A plain task on a CPU-only site takes Slurm's default (one CPU), not a whole node.
  EXPECT_EQ(s.find("--cpus-per-task"), std::string::npos) << s;
  EXPECT_EQ(s.find("--gpus-per-node"), std::string::npos);  // no GPUs: no line
  EXPECT_EQ(s.substr(s.size() - 11), "echo hello\n");
}

TEST(LamecRules, LaunchersMatchTheSoftware) {
  auto ds = gen("jureca", {"deepspeed"});
  EXPECT_NE(ds.find("deepspeed --hostfile=\"$HOSTFILE\""), std::string::npos) << ds;
  EXPECT_NE(ds.find("slots=4"), std::string::npos);
  auto ray = gen("jureca", {"raytune"}, 3);
  EXPECT_NE(ray.find("ray start --head"), std::string::npos) << ray;
  EXPECT_NE(ray.find("ray start --address="), std::string::npos);
  EXPECT_TRUE(has_line(ray, "python3 train.py"));
  EXPECT_TRUE(has_line(gen("deep", {"tensorflow"}), "srun python3 train.py"));
}

TEST(LamecRules, EnvironmentIsExportedShellQuoted) {
  auto modules = builtin_modules();
  flow::dag::SlurmSpec spec;
  auto r = lamec::make_request(system_site("localslurm"), spec, "true", modules);
  r.env = {{"FLOW_RUN_ID", "run 1; rm -rf /"}};
  auto s = lamec::render(r, modules);
  EXPECT_TRUE(has_line(s, "export FLOW_RUN_ID='run 1; rm -rf /'")) << s;
}

TEST(LamecRules, EnvironmentNamesMustBeShellIdentifiers) {
  auto modules = builtin_modules();
  flow::dag::SlurmSpec spec;
  auto r = lamec::make_request(system_site("localslurm"), spec, "true", modules);
  r.env = {{"A=B; rm -rf /", "x"}};
  EXPECT_THROW(lamec::render(r, modules), InputError);
}

TEST(LamecRules, HeaderValuesWithLineBreaksAreRejected) {
  auto modules = builtin_modules();
  flow::dag::SlurmSpec spec;
  auto r = lamec::make_request(system_site("jureca"), spec, "x", modules);
  r.job_name = "a\n#SBATCH --evil";
  EXPECT_THROW(lamec::render(r, modules), InputError);
}

TEST(ModuleData, NewSystemIsAYamlFileNotCode) {
  TempDir d;
  d.write("modules/mycluster.yaml",
          "# source: our wiki\nsystem: mycluster\nsource: https://example.org/wiki\n"
          "partition: gpu\ngpus_per_node: 8\ncores_per_node: 64\n"
          "common:\n  - module load Stages/2025\nsoftware:\n  pytorch-ddp:\n    modules:\n"
          "      - module load PyTorch/2.5\n  horovod:\n    modules: [module load Horovod/0.28]\n");
  auto modules = lamec::ModuleCatalog::load({kBuiltInModules, d.path() / "modules"});
  flow::dag::SlurmSpec spec;
  spec.software = {"horovod"};
  auto s =
      lamec::render(lamec::make_request(system_site("mycluster"), spec, "x", modules), modules);
  EXPECT_TRUE(has_line(s, "# MODULES BEGIN mycluster horovod")) << s;
  EXPECT_TRUE(has_line(s, "module load Stages/2025"));
  EXPECT_TRUE(has_line(s, "module load Horovod/0.28"));
  EXPECT_TRUE(has_line(s, "#SBATCH --gpus-per-node=8"));
  EXPECT_TRUE(has_line(s, "#SBATCH --ntasks-per-node=8"));
  EXPECT_TRUE(has_line(s, "#SBATCH --cpus-per-task=8"));
  EXPECT_TRUE(has_line(s, "#SBATCH --partition=gpu"));
  EXPECT_EQ(bash_syntax_errors(s), "");
}

TEST(ModuleData, LaterDirectoryReplacesASystem) {
  TempDir d;
  d.write("jureca.yaml",
          "system: jureca\npartition: dc-gpu\ngpus_per_node: 4\ncores_per_node: 128\n"
          "common: [module load Stages/2025]\nsoftware:\n  ddp: {modules: [module load "
          "PyTorch/2.6]}\n");
  auto modules = lamec::ModuleCatalog::load({kBuiltInModules, d.path()});
  EXPECT_EQ(modules.get("jureca").supported(), std::vector<std::string>{"ddp"});
  EXPECT_EQ(modules.get("jureca").common, std::vector<std::string>{"module load Stages/2025"});
}

TEST(ModuleData, BadModuleFileIsReportedWithLineCol) {
  TempDir d;
  auto f = d.write("x.yaml",
                   "system: x\ncommon: []\nsoftware:\n  ddp:\n    modules: []\n  pytorch:\n"
                   "    modules: []\nstages: 1\n");
  try {
    lamec::ModuleCatalog::load_file(f);
    FAIL() << "expected an error";
  } catch (const InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 2u);
    EXPECT_EQ(e.diagnostics()[0].where.line, 6);
    EXPECT_EQ(e.diagnostics()[0].where.col, 3);
    EXPECT_NE(e.diagnostics()[0].message.find("unknown software 'pytorch'"), std::string::npos);
    EXPECT_EQ(e.diagnostics()[1].str(),
              f.string() + ":8:1: unknown key 'stages' (did you mean 'stage'?)");
  }
}

// Found by the `modules` fuzz target: a list or mapping used as a key made yaml-cpp throw
// BadConversion, which reached the CLI as an "internal error".
TEST(ModuleData, KeysThatAreNotNamesAreReportedWithLineCol) {
  const std::string text =
      "system: x\n[a, b]: 1\nsoftware:\n  ? [ddp]\n  : {modules: []}\n  heat:\n    {k: 1}: [a]\n";
  try {
    lamec::ModuleCatalog::load_text(text, "/m/x.yaml");
    FAIL() << "loaded";
  } catch (const InputError& e) {
    std::string all;
    for (const auto& d : e.diagnostics())
      all += d.str() + "\n";
    EXPECT_NE(all.find("/m/x.yaml:2:1: a key must be a plain name"), std::string::npos) << all;
    EXPECT_NE(all.find("/m/x.yaml:4:5: a key must be a plain name"), std::string::npos) << all;
    EXPECT_NE(all.find("/m/x.yaml:7:5: a key must be a plain name"), std::string::npos) << all;
  }
}

TEST(ModuleData, LoadTextReadsAModuleFileLikeLoadFile) {
  auto s = lamec::ModuleCatalog::load_text(
      "common: [module purge]\nsoftware:\n  ddp: {modules: [module load PyTorch]}\n",
      "/m/tiny.yaml");
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.supported(), std::vector<std::string>{"ddp"});
}

namespace {
flow::dag::Resources resources(int cpus, int gpus, int memory_mb = 0) {
  flow::dag::Resources r;
  r.declared = true;
  r.cpus = cpus;
  r.gpus = gpus;
  r.memory_mb = memory_mb;
  return r;
}
}  // namespace

TEST(LamecRules, DeclaredResourcesBecomeExactlyTheirSbatchLines) {
  auto modules = builtin_modules();
  flow::dag::SlurmSpec spec;
  auto s = lamec::render(lamec::make_request(system_site("jureca"), spec, "python3 train.py",
                                             modules, resources(16, 2, 32 * 1024)),
                         modules);
  EXPECT_TRUE(has_line(s, "#SBATCH --gpus-per-node=2")) << s;
  EXPECT_TRUE(has_line(s, "#SBATCH --cpus-per-task=16")) << s;
  EXPECT_TRUE(has_line(s, "#SBATCH --mem=32768M")) << s;
  // gpus: 0 is exact too: no GPU line on a GPU system, and the CPU count asked, not a share.
  s = lamec::render(
      lamec::make_request(system_site("jureca"), spec, "python3 prep.py", modules, resources(4, 0)),
      modules);
  EXPECT_EQ(s.find("--gpus-per-node"), std::string::npos) << s;
  EXPECT_TRUE(has_line(s, "#SBATCH --cpus-per-task=4")) << s;
  EXPECT_EQ(s.find("--mem"), std::string::npos) << s;
}

TEST(LamecRules, TheSlurmBlockAndAnExtraMemLineWinOverResources) {
  auto modules = builtin_modules();
  flow::dag::SlurmSpec spec;
  spec.gpus = 4;
  spec.extra = {"--mem=0"};
  auto s = lamec::render(
      lamec::make_request(system_site("jureca"), spec, "x", modules, resources(2, 1, 1024)),
      modules);
  EXPECT_TRUE(has_line(s, "#SBATCH --gpus-per-node=4")) << s;
  EXPECT_TRUE(has_line(s, "#SBATCH --mem=0")) << s;
  EXPECT_EQ(s.find("--mem=1024M"), std::string::npos) << s;
}

TEST(LamecRules, ResourcesBeyondANodeOfTheSystemAreNamedWithTheirSource) {
  auto modules = builtin_modules();
  auto site = system_site("jureca");
  site.where.file = "sites/jureca-dc-gpu.yaml";
  std::string p = lamec::resources_problem(site, resources(1, 8), modules);
  EXPECT_NE(p.find("resources: 8 GPUs asked but a node of site 'jureca' has 4 (gpus_per_node of "
                   "system jureca"),
            std::string::npos)
      << p;
  site.cores_per_node = 64;
  p = lamec::resources_problem(site, resources(65, 1), modules);
  EXPECT_NE(p.find("65 cores asked but a node of site 'jureca' has 64 (cores_per_node of "
                   "sites/jureca-dc-gpu.yaml)"),
            std::string::npos)
      << p;
  EXPECT_EQ(lamec::resources_problem(site, resources(64, 4), modules), "");
  // A system whose nodes are not known (the test cluster declares no GPUs): Slurm decides.
  EXPECT_EQ(lamec::resources_problem(system_site("localslurm"), resources(1, 4), modules), "");
}
