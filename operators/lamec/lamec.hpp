#pragma once
// LAMEC-style Slurm job scripts (docs/REFERENCE.md §6). A script is an `#SBATCH` header
// computed from a site, a task's `slurm:` block and the LAMEC rules, a module block read
// from sites/modules/<system>.yaml (data, so admins update stacks without a rebuild), and
// the launcher of the software (torchrun, srun per GPU, deepspeed, ray). The Slurm operator
// calls make_request() + render() for every Slurm task; `flow lamec gen|eval` wrap the same
// functions.
//
// Typical use:
//   auto modules = lamec::ModuleCatalog::load(lamec::ModuleCatalog::default_dirs());
//   auto req = lamec::make_request(site, task.slurm, command, modules);
//   req.job_name = "run-task"; req.output = ".../%j.out"; req.env = {...};
//   std::string script = lamec::render(req, modules);

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/error.hpp"
#include "engine/dag/dag.hpp"
#include "engine/site/site.hpp"

namespace flow::lamec {

// How a software's processes are started inside the allocation.
enum class Launcher {
  kTorchrun,    // ddp: one srun task per node runs torchrun, which starts one rank per GPU
  kSrunPerGpu,  // horovod, heat: srun starts one rank per GPU (ntasks-per-node = GPUs)
  kDeepspeed,   // deepspeed launcher over a hostfile built from SLURM_JOB_NODELIST
  kRay,         // ray head on the first node, workers on the others, then the executable
  kSrun,        // tensorflow: plain srun
};

// The canonical software names: ddp, horovod, heat, deepspeed, raytune, tensorflow.
const std::vector<std::string>& software_names();

// "pytorch-ddp" -> "ddp", "ray-tune" -> "raytune", case-insensitive. Throws InputError
// listing the known names when `name` is none of them.
std::string canonical_software(std::string_view name);

Launcher launcher_of(const std::string& canonical_software);

// The module stacks of one system: sites/modules/<system>.yaml.
struct SystemModules {
  std::string name;  // "jureca"
  std::string description;
  std::string source;  // where the module names come from (URL, stage)
  std::string stage;   // "Stages/2024"; informational
  std::string partition;
  int gpus_per_node = 0;
  int cores_per_node = 0;
  std::vector<std::string> common;                           // lines before any software
  std::map<std::string, std::vector<std::string>> software;  // canonical name -> lines
  SourceLocation where;

  bool supports(const std::string& canonical_software) const;
  std::vector<std::string> supported() const;
};

// Every known system. Later directories replace systems of the same name.
class ModuleCatalog {
 public:
  static ModuleCatalog load(const std::vector<std::filesystem::path>& dirs);
  // <dir>/modules for each directory of site::SiteCatalog::default_dirs(), so user
  // overrides sit beside user sites (~/.config/flow/sites/modules, $FLOW_SITES_PATH/modules).
  static std::vector<std::filesystem::path> default_dirs();
  // Parses one file; throws InputError (file:line:col) on unknown keys or software names.
  static SystemModules load_file(const std::filesystem::path& file);
  // Parses the text of a module file; `file` names it in messages and gives the default
  // system name (its stem). Same rules and errors as load_file().
  static SystemModules load_text(const std::string& text, const std::filesystem::path& file);

  const SystemModules* find(std::string_view system) const;
  // Like find() but throws InputError listing the known systems.
  const SystemModules& get(std::string_view system) const;
  std::vector<std::string> names() const;
  void add(SystemModules system);

 private:
  std::map<std::string, SystemModules, std::less<>> systems_;
};

// Everything a job script says. make_request() fills it from the LAMEC rules; callers may
// then set the fields the rules do not know (job_name, output, error, workdir, env).
// Numbers <= 0 leave the corresponding #SBATCH line out.
struct ScriptRequest {
  std::string system;                 // key into ModuleCatalog
  std::vector<std::string> software;  // canonical names; the first decides the launcher
  int nodes = 1;
  int ntasks_per_node = 1;
  int gpus_per_node = 0;  // written as --gpus-per-node=N
  int cpus_per_task = 0;
  std::string time = "01:00:00";
  std::string account;
  std::string partition;
  std::string job_name = "flow";
  std::string executable;            // the task's shell command, used verbatim
  std::string output = "%x-%j.out";  // Slurm filename patterns
  std::string error = "%x-%j.err";
  std::vector<std::string> extra_sbatch;  // "--mem=4G" or "#SBATCH --mem=4G"
  std::string workdir;                    // --chdir; empty: sbatch's working directory
  std::vector<std::pair<std::string, std::string>> env;  // exported before the launcher
  // A file of `export NAME=value` lines the script sources after `env` (flow's secrets:
  // their values stay out of the script); empty: none.
  std::string env_file;
};

// Applies the LAMEC defaults. Precedence for each value: the task's `slurm:` block, then
// the site, then the system's module file, then the rules:
//   gpus-per-node   = system GPUs (4 JURECA-DC GPU / JUWELS Booster, 1 DEEP)
//   ntasks-per-node = gpus-per-node for horovod/heat, 1 for ddp/deepspeed/raytune/tensorflow
//   cpus-per-task   = cores per node / gpus-per-node (cores / ntasks-per-node without GPUs;
//                     not set for a plain task, no software and no GPUs: Slurm's default)
// The system is site.lamec_system(). Throws InputError for an unknown system, software it
// does not support (listing what it does), or software that cannot share one script.
// A task's declared `resources:` (docs/REFERENCE.md §3.15) come before the rules, after
// its `slurm:` block: gpus-per-node = resources.gpus exactly (0: no line, whatever the
// system has), cpus-per-task = resources.cpus, and --mem=<MiB>M unless an extra line
// already says --mem.
ScriptRequest make_request(const site::Site& site, const dag::SlurmSpec& spec,
                           const std::string& command, const ModuleCatalog& modules,
                           const dag::Resources& resources = {});

// What is wrong with `resources` on `site`: more cores or GPUs than a node of the site has
// (cores_per_node / gpus_per_node of the site, else of its system); "" when they fit or the
// site's nodes are not known.
std::string resources_problem(const site::Site& site, const dag::Resources& resources,
                              const ModuleCatalog& modules);

// The complete script: shebang, #SBATCH header, module block (none when software is
// empty), environment, launcher. Throws InputError on invalid requests (unsupported pair,
// newline in a header value).
std::string render(const ScriptRequest& request, const ModuleCatalog& modules);

// Just the block from "# MODULES BEGIN <system> <sw>..." to "# MODULES END\n".
std::string render_module_block(const std::string& system, const std::vector<std::string>& software,
                                const ModuleCatalog& modules);

// `flow lamec eval`: what to change in an existing script.
struct Reassignment {
  std::optional<std::string> system;  // move to another system
  std::vector<std::string> add;       // software to add to the block
  std::vector<std::string> remove;    // software to drop from the block
};

struct ReassignResult {
  std::string script;
  std::vector<std::string> changes;  // human-readable, one per change ("partition: a -> b")
};

// Re-renders the module block of `script` (and, when the system changes, its partition,
// gpus-per-node, ntasks-per-node and cpus-per-task lines, recomputed by the rules); every
// other byte is kept. A script without a block gets one after its last #SBATCH line.
ReassignResult reassign(std::string_view script, const Reassignment& change,
                        const ModuleCatalog& modules);

}  // namespace flow::lamec
