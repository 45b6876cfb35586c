// flow lamec gen | eval — LAMEC-style job scripts (docs/REFERENCE.md §6). Thin: resolve the
// system (a LAMEC system name or a site name), call operators/lamec, print.
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/cli/app.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/core/text_file.hpp"
#include "operators/lamec/lamec.hpp"

namespace flow::cli {

namespace {

// `name` as a site: a site of that name if one exists, else a bare site whose system is
// `name` (so `flow lamec gen jureca ddp` uses only the module file's defaults).
site::Site resolve_site(const std::string& name, const lamec::ModuleCatalog& modules) {
  if (modules.find(name) == nullptr) {
    auto sites = site::SiteCatalog::load(site::SiteCatalog::default_dirs());
    if (const site::Site* s = sites.find(name)) {
      if (modules.find(s->lamec_system()) == nullptr)
        throw InputError(s->where, "site '" + name + "' uses LAMEC system '" + s->lamec_system() +
                                       "', which has no module file; known "
                                       "systems: " +
                                       join(modules.names()));
      return *s;
    }
    std::vector<std::string> all = modules.names();
    for (const auto& n : sites.names())
      all.push_back(n);
    throw InputError(SourceLocation{}, "unknown system '" + name + "'" + did_you_mean(name, all) +
                                           "; known systems: " + join(modules.names()) +
                                           "; sites: " + join(sites.names()));
  }
  site::Site s;
  s.name = name;
  s.system = name;
  return s;
}

void emit(const std::string& text, const std::string& out_file) {
  if (out_file.empty()) {
    std::cout << text;
    return;
  }
  write_file_atomic(out_file, text);
}

}  // namespace

void register_lamec_commands(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* lamec = app.add_subcommand("lamec", "LAMEC-style Slurm job scripts");
  lamec->require_subcommand(1);

  // flow lamec gen SYSTEM SOFTWARE...
  {
    auto* cmd = lamec->add_subcommand("gen", "Print a complete job script for SYSTEM");
    add_global_options(*cmd, g);
    auto& system = ov.add<std::string>();
    auto& time = ov.add<std::string>();
    auto& account = ov.add<std::string>();
    auto& partition = ov.add<std::string>();
    auto& job_name = ov.add<std::string>();
    auto& executable = ov.add<std::string>();
    auto& out_file = ov.add<std::string>();
    auto& software = ov.add<std::vector<std::string>>();
    auto& extra = ov.add<std::vector<std::string>>();
    auto& nodes = ov.add<int>(1);
    auto& ntasks = ov.add<int>(0);
    auto& gpus = ov.add<int>(0);
    auto& cpus = ov.add<int>(0);
    cmd->add_option("system", system, "LAMEC system (juwels, jureca, deep, ...) or site name")
        ->required();
    cmd->add_option("software", software,
                    "Software: ddp (pytorch-ddp), horovod, heat, deepspeed, raytune (ray-tune), "
                    "tensorflow; none for a plain script");
    cmd->add_option("--nodes", nodes, "Nodes")->check(CLI::PositiveNumber);
    cmd->add_option("--ntasks-per-node", ntasks, "Override the rule")->check(CLI::PositiveNumber);
    cmd->add_option("--gpus-per-node", gpus, "Override the system's GPUs per node")
        ->check(CLI::PositiveNumber);
    cmd->add_option("--cpus-per-task", cpus, "Override the rule")->check(CLI::PositiveNumber);
    cmd->add_option("--time", time, "Wall time HH:MM:SS (default 01:00:00)");
    cmd->add_option("--account", account, "Slurm account (budget)");
    cmd->add_option("--partition", partition, "Slurm partition (default: the system's)");
    cmd->add_option("--job-name", job_name, "Job name (default flow)");
    cmd->add_option("--executable", executable, "The command to launch (default python3 train.py)");
    cmd->add_option("--sbatch", extra, "Extra #SBATCH option, e.g. --sbatch=--mem=4G (repeatable)")
        ->allow_extra_args(false);
    cmd->add_option("-o,--output", out_file, "Write the script here instead of stdout");
    cmd->callback([&] {
      action = [&]() -> int {
        auto modules = lamec::ModuleCatalog::load(lamec::ModuleCatalog::default_dirs());
        site::Site s = resolve_site(system, modules);
        dag::SlurmSpec spec;
        spec.nodes = nodes;
        spec.ntasks = ntasks;
        spec.gpus = gpus;
        spec.cpus_per_task = cpus;
        spec.time = time;
        spec.account = account;
        spec.partition = partition;
        spec.software = software;
        spec.extra = extra;
        auto req = lamec::make_request(s, spec, executable, modules);
        if (!job_name.empty()) req.job_name = job_name;
        std::string script = lamec::render(req, modules);
        if (g.json && out_file.empty()) {
          std::cout << nlohmann::json{{"system", req.system},
                                      {"software", req.software},
                                      {"nodes", req.nodes},
                                      {"script", script}}
                           .dump(2)
                    << "\n";
          return 0;
        }
        emit(script, out_file);
        if (!out_file.empty() && g.json)
          std::cout << nlohmann::json{{"system", req.system},
                                      {"software", req.software},
                                      {"nodes", req.nodes},
                                      {"written", out_file}}
                           .dump(2)
                    << "\n";
        if (!out_file.empty() && g.verbose) std::cerr << "wrote " << out_file << "\n";
        return 0;
      };
    });
  }

  // flow lamec eval SCRIPT [--system S] [--add SW] [--remove SW]
  {
    auto* cmd = lamec->add_subcommand(
        "eval", "Re-render a script's module block (and system lines) for another system/software");
    add_global_options(*cmd, g);
    auto& script_file = ov.add<std::string>();
    auto& system = ov.add<std::string>();
    auto& out_file = ov.add<std::string>();
    auto& add = ov.add<std::vector<std::string>>();
    auto& remove = ov.add<std::vector<std::string>>();
    cmd->add_option("script", script_file, "The job script")->required();
    cmd->add_option("--system", system, "Move the script to this system (or site)");
    cmd->add_option("--add", add, "Add software to the module block")->allow_extra_args(false);
    cmd->add_option("--remove", remove, "Remove software from the module block")
        ->allow_extra_args(false);
    cmd->add_option("-o,--output", out_file, "Write the new script here instead of stdout");
    cmd->callback([&] {
      action = [&]() -> int {
        auto text = read_file(script_file);
        if (!text) throw InputError(SourceLocation{script_file}, "cannot read the script");
        auto modules = lamec::ModuleCatalog::load(lamec::ModuleCatalog::default_dirs());
        lamec::Reassignment change;
        if (!system.empty()) change.system = resolve_site(system, modules).lamec_system();
        change.add = add;
        change.remove = remove;
        lamec::ReassignResult r;
        try {
          r = lamec::reassign(*text, change, modules);
        } catch (const InputError& e) {
          // Name the script file in locations the generator could not know.
          std::vector<Diagnostic> ds = e.diagnostics();
          for (auto& d : ds) {
            if (d.where.file.empty() || d.where.file == "script") d.where.file = script_file;
          }
          throw InputError(ds);
        }
        if (g.json) {
          nlohmann::json j{{"changes", r.changes}};
          if (out_file.empty())
            j["script"] = r.script;
          else
            j["written"] = out_file;
          if (!out_file.empty()) emit(r.script, out_file);
          std::cout << j.dump(2) << "\n";
          return 0;
        }
        emit(r.script, out_file);
        if (r.changes.empty()) std::cerr << "no changes\n";
        for (const auto& c : r.changes)
          std::cerr << c << "\n";
        return 0;
      };
    });
  }
}

}  // namespace flow::cli
