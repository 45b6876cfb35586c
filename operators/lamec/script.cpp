// make_request() (the LAMEC rules) and render() (the script text).
#include <algorithm>
#include <cctype>

#include "engine/core/shell.hpp"
#include "engine/core/suggest.hpp"
#include "operators/lamec/lamec.hpp"

namespace flow::lamec {

namespace {

// Software whose launcher starts the whole process tree itself cannot share a script
// with any other software: the script has exactly one launcher.
bool owns_process_tree(const std::string& sw) {
  return sw == "deepspeed" || sw == "raytune" || sw == "tensorflow";
}

void check_software(const SystemModules& sys, const std::vector<std::string>& software) {
  for (const auto& sw : software) {
    if (!sys.supports(sw)) {
      auto supported = sys.supported();
      throw InputError(
          SourceLocation{},
          "software '" + sw + "' is not supported on system '" + sys.name +
              "'; supported there: " + (supported.empty() ? std::string("none") : join(supported)) +
              (sys.where.file.empty() ? "" : " (see " + sys.where.file + ")"));
    }
  }
  for (size_t i = 0; i < software.size(); ++i) {
    for (size_t j = i + 1; j < software.size(); ++j) {
      if (software[i] == software[j])
        throw InputError(SourceLocation{}, "software '" + software[i] + "' is listed twice");
    }
    if (software.size() > 1 && owns_process_tree(software[i]))
      throw InputError(SourceLocation{},
                       "'" + software[i] +
                           "' starts its own processes and cannot be combined with other "
                           "software in one script (got " +
                           join(software) + "); only ddp, horovod and heat combine");
  }
}

void check_header_value(const std::string& what, const std::string& value) {
  if (value.find('\n') != std::string::npos || value.find('\r') != std::string::npos)
    throw InputError(SourceLocation{}, what + " must be one line, got '" + value + "'");
}

std::string sbatch(const std::string& option, const std::string& value) {
  return "#SBATCH --" + option + "=" + value + "\n";
}

std::string launcher_text(const ScriptRequest& r) {
  const std::string& exe = r.executable.empty() ? std::string("python3 train.py") : r.executable;
  const int per_node = std::max(r.gpus_per_node, 1);
  const std::string n = std::to_string(per_node);
  std::string s;
  if (r.software.empty()) return exe + "\n";
  switch (launcher_of(r.software.front())) {
    case Launcher::kTorchrun:
      s += "# Launch: one torchrun per node (srun), rendezvous on the first node.\n";
      s += "MASTER_ADDR=\"$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\"\n";
      s += "export MASTER_ADDR\n";
      s += "export MASTER_PORT=\"${MASTER_PORT:-29500}\"\n";
      s += "srun --ntasks-per-node=1 torchrun \\\n";
      s += "  --nnodes=\"$SLURM_NNODES\" \\\n";
      s += "  --nproc_per_node=" + n + " \\\n";
      s += "  --rdzv_id=\"$SLURM_JOB_ID\" \\\n";
      s += "  --rdzv_backend=c10d \\\n";
      s += "  --rdzv_endpoint=\"$MASTER_ADDR:$MASTER_PORT\" \\\n";
      s += "  --no_python \\\n";
      s += "  " + exe + "\n";
      break;
    case Launcher::kSrunPerGpu:
      s += "# Launch: one rank per GPU (srun starts ntasks-per-node ranks on every node).\n";
      if (r.gpus_per_node > 0) {
        std::string devices;
        for (int i = 0; i < r.gpus_per_node; ++i)
          devices += (i ? "," : "") + std::to_string(i);
        s += "export CUDA_VISIBLE_DEVICES=" + devices + "\n";
      }
      s += "srun --cpu-bind=none " + exe + "\n";
      break;
    case Launcher::kDeepspeed:
      s += "# Launch: the deepspeed launcher over a hostfile of the allocated nodes.\n";
      s += "MASTER_ADDR=\"$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\"\n";
      s += "export MASTER_ADDR\n";
      s += "export MASTER_PORT=\"${MASTER_PORT:-29500}\"\n";
      s += "HOSTFILE=\"hostfile.$SLURM_JOB_ID\"\n";
      s += "scontrol show hostnames \"$SLURM_JOB_NODELIST\" | sed 's/$/ slots=" + n +
           "/' >\"$HOSTFILE\"\n";
      s += "deepspeed --hostfile=\"$HOSTFILE\" --master_addr=\"$MASTER_ADDR\" "
           "--master_port=\"$MASTER_PORT\" --num_gpus=" +
           n + " --no_python \\\n";
      s += "  " + exe + "\n";
      break;
    case Launcher::kRay:
      s += "# Launch: ray head on the first node, one worker per other node, then the tuner.\n";
      s += "mapfile -t RAY_NODES < <(scontrol show hostnames \"$SLURM_JOB_NODELIST\")\n";
      s += "RAY_HEAD=\"${RAY_NODES[0]}\"\n";
      s += "RAY_PORT=\"${RAY_PORT:-6379}\"\n";
      s += "RAY_HEAD_IP=\"$(srun --nodes=1 --ntasks=1 -w \"$RAY_HEAD\" hostname "
           "--ip-address | awk '{print $1}')\"\n";
      s += "export RAY_ADDRESS=\"$RAY_HEAD_IP:$RAY_PORT\"\n";
      s += "srun --nodes=1 --ntasks=1 -w \"$RAY_HEAD\" ray start --head "
           "--node-ip-address=\"$RAY_HEAD_IP\" --port=\"$RAY_PORT\" \\\n";
      s += "  --num-cpus=\"${SLURM_CPUS_PER_TASK:-1}\" --num-gpus=" +
           std::to_string(r.gpus_per_node) + " --block &\n";
      s += "sleep 10\n";
      s += "for ((i = 1; i < ${#RAY_NODES[@]}; i++)); do\n";
      s += "  srun --nodes=1 --ntasks=1 -w \"${RAY_NODES[i]}\" ray start "
           "--address=\"$RAY_ADDRESS\" \\\n";
      s += "    --num-cpus=\"${SLURM_CPUS_PER_TASK:-1}\" --num-gpus=" +
           std::to_string(r.gpus_per_node) + " --block &\n";
      s += "  sleep 5\n";
      s += "done\n";
      s += exe + "\n";
      break;
    case Launcher::kSrun:
      s += "# Launch: plain srun.\n";
      s += "srun " + exe + "\n";
      break;
  }
  return s;
}

}  // namespace

std::string resources_problem(const site::Site& site, const dag::Resources& resources,
                              const ModuleCatalog& modules) {
  if (!resources.declared) return "";
  const SystemModules* sys = modules.find(site.lamec_system());
  auto known = [&](int of_site, int of_system, const char* key) -> std::pair<int, std::string> {
    if (of_site > 0) return {of_site, std::string(key) + " of " + site.where.file};
    if (sys && of_system > 0)
      return {of_system,
              std::string(key) + " of system " + sys->name + " (" + sys->where.file + ")"};
    return {0, ""};
  };
  std::string out;
  auto add = [&](const std::string& p) { out += (out.empty() ? "" : "; ") + p; };
  const auto [cores, cores_from] =
      known(site.cores_per_node, sys ? sys->cores_per_node : 0, "cores_per_node");
  if (cores > 0 && resources.cpus > cores)
    add("resources: " + std::to_string(resources.cpus) + " cores asked but a node of site '" +
        site.name + "' has " + std::to_string(cores) + " (" + cores_from + ")");
  const auto [gpus, gpus_from] =
      known(site.gpus_per_node, sys ? sys->gpus_per_node : 0, "gpus_per_node");
  if (gpus > 0 && resources.gpus > gpus)
    add("resources: " + std::to_string(resources.gpus) + " GPUs asked but a node of site '" +
        site.name + "' has " + std::to_string(gpus) + " (" + gpus_from + ")");
  return out;
}

ScriptRequest make_request(const site::Site& site, const dag::SlurmSpec& spec,
                           const std::string& command, const ModuleCatalog& modules,
                           const dag::Resources& resources) {
  const SystemModules& sys = modules.get(site.lamec_system());
  ScriptRequest r;
  r.system = sys.name;
  for (const auto& sw : spec.software)
    r.software.push_back(canonical_software(sw));
  check_software(sys, r.software);

  const int cores = site.cores_per_node > 0 ? site.cores_per_node : sys.cores_per_node;
  r.gpus_per_node = spec.gpus > 0            ? spec.gpus
                    : resources.declared     ? resources.gpus
                    : site.gpus_per_node > 0 ? site.gpus_per_node
                                             : sys.gpus_per_node;
  const bool rank_per_gpu =
      !r.software.empty() && launcher_of(r.software.front()) == Launcher::kSrunPerGpu;
  r.ntasks_per_node = spec.ntasks > 0 ? spec.ntasks
                      : rank_per_gpu  ? std::max(r.gpus_per_node, 1)
                                      : 1;
  if (spec.cpus_per_task > 0)
    r.cpus_per_task = spec.cpus_per_task;
  else if (resources.declared)
    r.cpus_per_task = resources.cpus;
  else if (cores > 0 && (!r.software.empty() || r.gpus_per_node > 0))
    // A plain task on a CPU-only site asks for no CPU count (Slurm's default, one per task)
    // rather than a whole node: many small jobs should share a node.
    r.cpus_per_task =
        std::max(1, cores / (r.gpus_per_node > 0 ? r.gpus_per_node : r.ntasks_per_node));
  r.nodes = spec.nodes > 0 ? spec.nodes : 1;
  if (!spec.time.empty()) r.time = spec.time;
  r.partition = !spec.partition.empty()   ? spec.partition
                : !site.partition.empty() ? site.partition
                                          : sys.partition;
  r.account = !spec.account.empty() ? spec.account : site.account;
  r.extra_sbatch = spec.extra;
  if (resources.memory_mb > 0 &&
      std::none_of(spec.extra.begin(), spec.extra.end(),
                   [](const std::string& e) { return e.find("--mem") != std::string::npos; }))
    r.extra_sbatch.push_back("--mem=" + std::to_string(resources.memory_mb) + "M");
  r.executable = command;
  return r;
}

std::string render_module_block(const std::string& system, const std::vector<std::string>& software,
                                const ModuleCatalog& modules) {
  const SystemModules& sys = modules.get(system);
  check_software(sys, software);
  std::string s = "# MODULES BEGIN " + sys.name;
  for (const auto& sw : software)
    s += " " + sw;
  s += "\n";
  std::vector<std::string> written;
  auto emit = [&](const std::string& line) {
    if (std::find(written.begin(), written.end(), line) != written.end()) return;
    written.push_back(line);
    s += line + "\n";
  };
  for (const auto& l : sys.common)
    emit(l);
  for (const auto& sw : software)
    for (const auto& l : sys.software.at(sw))
      emit(l);
  s += "# MODULES END\n";
  return s;
}

std::string render(const ScriptRequest& r, const ModuleCatalog& modules) {
  const SystemModules& sys = modules.get(r.system);
  check_software(sys, r.software);
  for (const auto& [what, value] :
       std::vector<std::pair<std::string, std::string>>{{"job-name", r.job_name},
                                                        {"account", r.account},
                                                        {"partition", r.partition},
                                                        {"time", r.time},
                                                        {"output", r.output},
                                                        {"error", r.error},
                                                        {"workdir", r.workdir}})
    check_header_value(what, value);
  for (const auto& e : r.extra_sbatch)
    check_header_value("extra sbatch line", e);
  for (const auto& [k, v] : r.env) {
    bool ok = !k.empty() && !std::isdigit(static_cast<unsigned char>(k[0])) &&
              std::all_of(k.begin(), k.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
              });
    if (!ok)
      throw InputError(SourceLocation{}, "environment variable name '" + k +
                                             "' may only use letters, digits and '_'");
  }
  if (r.nodes < 1) throw InputError(SourceLocation{}, "nodes must be at least 1");

  std::string s = "#!/bin/bash\n";
  s += sbatch("job-name", r.job_name.empty() ? "flow" : r.job_name);
  if (!r.account.empty()) s += sbatch("account", r.account);
  if (!r.partition.empty()) s += sbatch("partition", r.partition);
  s += sbatch("nodes", std::to_string(r.nodes));
  if (r.ntasks_per_node > 0) s += sbatch("ntasks-per-node", std::to_string(r.ntasks_per_node));
  if (r.cpus_per_task > 0) s += sbatch("cpus-per-task", std::to_string(r.cpus_per_task));
  if (r.gpus_per_node > 0) s += sbatch("gpus-per-node", std::to_string(r.gpus_per_node));
  if (!r.time.empty()) s += sbatch("time", r.time);
  if (!r.output.empty()) s += sbatch("output", r.output);
  if (!r.error.empty()) s += sbatch("error", r.error);
  if (!r.workdir.empty()) s += sbatch("chdir", r.workdir);
  for (const auto& e : r.extra_sbatch) {
    if (e.rfind("#SBATCH", 0) == 0)
      s += e + "\n";
    else
      s += "#SBATCH " + e + "\n";
  }
  s += "\n";
  if (!r.software.empty()) s += render_module_block(r.system, r.software, modules) + "\n";
  if (r.cpus_per_task > 0) {
    // srun no longer inherits --cpus-per-task from sbatch (Slurm >= 22.05).
    s += "export SRUN_CPUS_PER_TASK=\"$SLURM_CPUS_PER_TASK\"\n";
    s += "export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n";
  }
  for (const auto& [k, v] : r.env)
    s += "export " + k + "=" + shell_quote(v) + "\n";
  if (!r.env_file.empty()) s += ". " + shell_quote(r.env_file) + "\n";
  s += "\n" + launcher_text(r);
  return s;
}

}  // namespace flow::lamec
