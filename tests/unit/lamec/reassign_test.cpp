// `lamec eval`: only the module block (and, for a new system, the partition/GPU/CPU lines)
// change; every other byte of the script is kept.
#include <gtest/gtest.h>

#include "lamec_test_util.hpp"

using namespace lamec_test;
namespace lamec = flow::lamec;
using flow::InputError;

namespace {

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

// Lines outside the module block, in order, without the ones the system decides.
std::vector<std::string> outside_block(const std::string& s, bool drop_system_lines) {
  std::vector<std::string> out;
  bool in_block = false;
  for (const auto& l : lines_of(s)) {
    if (l.rfind("# MODULES BEGIN", 0) == 0) in_block = true;
    bool system_line = l.rfind("#SBATCH --partition=", 0) == 0 ||
                       l.rfind("#SBATCH --gpus-per-node=", 0) == 0 ||
                       l.rfind("#SBATCH --cpus-per-task=", 0) == 0;
    if (!in_block && !(drop_system_lines && system_line)) out.push_back(l);
    if (l == "# MODULES END") in_block = false;
  }
  return out;
}

std::string block_of(const std::string& s) {
  auto b = s.find("# MODULES BEGIN");
  auto e = s.find("# MODULES END\n");
  return s.substr(b, e + 14 - b);
}

std::string deep_script(const lamec::ModuleCatalog& modules, std::vector<std::string> software) {
  flow::site::Site site;
  site.name = site.system = "deep";
  flow::dag::SlurmSpec spec;
  spec.nodes = 2;
  spec.account = "proj";
  spec.software = std::move(software);
  auto r = lamec::make_request(site, spec, "python3 train.py --lr 0.1", modules);
  // A user's hand edits around the generated parts must survive.
  return lamec::render(r, modules) + "\n# my own epilogue\necho done   \n";
}

}  // namespace

TEST(LamecEval, MovingDeepToJurecaChangesOnlyModuleBlockAndSystemLines) {
  auto modules = builtin_modules();
  std::string before = deep_script(modules, {"ddp"});
  lamec::Reassignment change;
  change.system = "jureca";
  auto r = lamec::reassign(before, change, modules);
  const std::string& after = r.script;

  EXPECT_EQ(outside_block(before, true), outside_block(after, true));
  EXPECT_EQ(block_of(after), lamec::render_module_block("jureca", {"ddp"}, modules));
  EXPECT_NE(after.find("#SBATCH --partition=dc-gpu\n"), std::string::npos);
  EXPECT_NE(after.find("#SBATCH --gpus-per-node=4\n"), std::string::npos);
  EXPECT_NE(after.find("#SBATCH --cpus-per-task=32\n"), std::string::npos);
  EXPECT_NE(after.find("#SBATCH --ntasks-per-node=1\n"), std::string::npos);
  // Same line count, the system lines in the same places.
  auto b = lines_of(before), a = lines_of(after);
  ASSERT_EQ(a.size() - lines_of(block_of(after)).size(),
            b.size() - lines_of(block_of(before)).size());
  EXPECT_EQ(after.substr(after.find("# MODULES END\n")),
            before.substr(before.find("# MODULES END\n")));
  EXPECT_EQ(r.changes.size(), 4u);  // block, partition, cpus, gpus
}

TEST(LamecEval, DiffOfMovedScriptTouchesOnlyExpectedLines) {
  auto modules = builtin_modules();
  TempDir d;
  std::string before = deep_script(modules, {"ddp"});
  lamec::Reassignment change;
  change.system = "jureca";
  auto a = d.write("a.sh", before);
  auto b = d.write("b.sh", lamec::reassign(before, change, modules).script);
  // Lines diff(1) reports as changed, without the diff markers.
  auto r = run("diff '" + a.string() + "' '" + b.string() + "' | grep '^[<>]' | cut -c3-");
  for (const auto& l : lines_of(r.out)) {
    bool expected = l.rfind("#SBATCH --partition=", 0) == 0 ||
                    l.rfind("#SBATCH --gpus-per-node=", 0) == 0 ||
                    l.rfind("#SBATCH --cpus-per-task=", 0) == 0 ||
                    l.rfind("# MODULES BEGIN", 0) == 0 || l.rfind("module ", 0) == 0;
    EXPECT_TRUE(expected) << "unexpected change: " << l;
  }
  EXPECT_FALSE(r.out.empty());
}

TEST(LamecEval, AddAndRemoveSoftwareRewriteOnlyTheBlock) {
  auto modules = builtin_modules();
  std::string before = deep_script(modules, {"ddp"});
  lamec::Reassignment change;
  change.add = {"heat"};
  change.remove = {"pytorch-ddp"};
  auto r = lamec::reassign(before, change, modules);
  EXPECT_EQ(block_of(r.script), lamec::render_module_block("deep", {"heat"}, modules));
  EXPECT_EQ(outside_block(before, false), outside_block(r.script, false));
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_EQ(r.changes[0], "module block: deep ddp -> deep heat");
}

TEST(LamecEval, SameSystemAndSoftwareIsANoOp) {
  auto modules = builtin_modules();
  std::string before = deep_script(modules, {"ddp", "heat"});
  lamec::Reassignment change;
  change.system = "deep";
  auto r = lamec::reassign(before, change, modules);
  EXPECT_EQ(r.script, before);
  EXPECT_TRUE(r.changes.empty());
}

TEST(LamecEval, UnsupportedTargetIsAnErrorListingSupportedSoftware) {
  auto modules = builtin_modules();
  lamec::Reassignment change;
  change.system = "juwels";
  try {
    lamec::reassign(deep_script(modules, {"heat"}), change, modules);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(e.diagnostics()[0].message.find("supported there: ddp"), std::string::npos);
  }
}

TEST(LamecEval, RemovingSoftwareNotInTheBlockIsAnError) {
  auto modules = builtin_modules();
  lamec::Reassignment change;
  change.remove = {"horovod"};
  EXPECT_THROW(lamec::reassign(deep_script(modules, {"ddp"}), change, modules), InputError);
}

TEST(LamecEval, ScriptWithoutBlockNeedsASystemAndGetsABlockAfterTheHeader) {
  auto modules = builtin_modules();
  std::string plain =
      "#!/bin/bash\n#SBATCH --nodes=1\n#SBATCH --cpus-per-task=4\n\nsrun hostname\n";
  lamec::Reassignment none;
  none.add = {"ddp"};
  EXPECT_THROW(lamec::reassign(plain, none, modules), InputError);
  lamec::Reassignment to_jureca;
  to_jureca.system = "jureca";
  to_jureca.add = {"ddp"};
  auto r = lamec::reassign(plain, to_jureca, modules);
  EXPECT_EQ(r.script.rfind("#!/bin/bash\n#SBATCH --nodes=1\n", 0), 0u) << r.script;
  EXPECT_NE(r.script.find("#SBATCH --gpus-per-node=4\n"), std::string::npos) << r.script;
  EXPECT_NE(r.script.find("# MODULES BEGIN jureca ddp\n"), std::string::npos);
  EXPECT_LT(r.script.find("# MODULES END"), r.script.find("srun hostname"));
  EXPECT_EQ(bash_syntax_errors(r.script), "");
}

TEST(LamecEval, UnterminatedBlockIsAnError) {
  auto modules = builtin_modules();
  lamec::Reassignment change;
  change.system = "jureca";
  EXPECT_THROW(
      lamec::reassign("#!/bin/bash\n# MODULES BEGIN deep ddp\nmodule load x\n", change, modules),
      InputError);
}
