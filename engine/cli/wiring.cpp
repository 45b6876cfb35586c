#include "engine/cli/wiring.hpp"

#include <cstdlib>
#include <string_view>

#include "engine/cli/site_transport.hpp"
#include "operators/lamec/lamec.hpp"
#include "operators/notify/webhook.hpp"
#include "operators/slurm/slurm_executor.hpp"

namespace flow::cli {

namespace {

std::unique_ptr<run::Executor> slurm_executor(boost::asio::io_context& io, const site::Site& s,
                                              runtime::Notice notice) {
  slurm::SlurmExecutorOptions o;
  o.interval = s.poll_interval;
  o.notice = notice;
  return std::make_unique<slurm::SlurmExecutor>(
      io, s, open_transport(s, notice),
      lamec::ModuleCatalog::load(lamec::ModuleCatalog::default_dirs()), std::move(o));
}

// Every task on a Slurm site must yield a job script (LAMEC rules: software the site's
// system has, combinations that share one launcher): found at validation, with the
// task's line, rather than when the task is about to be submitted.
void check_job_script(const dag::Dag&, const dag::Task& t, const site::Site& s) {
  // Without a workdir, job scripts, logs and run directories would go to /runs and /logs
  // at the root of the cluster's file system.
  if (s.workdir.empty()) {
    throw InputError(t.loc("site"),
                     "task '" + t.id + "' on site '" + s.name +
                         "': the site has no workdir: " + "add one to " + s.where.file +
                         " (a directory on the cluster's shared file system where flow keeps "
                         "job scripts, logs and run directories, e.g. /p/scratch/PROJECT/$USER/"
                         "flow)");
  }
  static const lamec::ModuleCatalog modules =
      lamec::ModuleCatalog::load(lamec::ModuleCatalog::default_dirs());
  if (auto problem = lamec::resources_problem(s, t.resources, modules); !problem.empty())
    throw InputError(t.loc("resources"),
                     "task '" + t.id + "' on site '" + s.name + "': " + problem);
  try {
    lamec::make_request(s, *t.slurm, t.run, modules, t.resources);
  } catch (const InputError& e) {
    std::vector<Diagnostic> problems;
    for (const auto& d : e.diagnostics()) {
      problems.push_back({d.where.line ? d.where : t.loc(t.slurm->empty() ? "run" : "slurm"),
                          "task '" + t.id + "' on site '" + s.name + "': " + d.message});
    }
    throw InputError(std::move(problems));
  }
}

}  // namespace

runtime::Services services() {
  runtime::Services s;
  s.batch_executor = slurm_executor;
  s.check_job_script = check_job_script;
  s.webhook_sender = [](boost::asio::io_context& io) -> std::unique_ptr<run::WebhookSender> {
    return std::make_unique<notify::CurlWebhookSender>(io);
  };
  // This very binary (whatever replaces the file meanwhile). FLOW_NO_KEEPER=1 runs each task
  // under a shell wrapper instead (docs/ENGINE.md "How a task is run").
  const char* no_keeper = std::getenv("FLOW_NO_KEEPER");
  if (!no_keeper || std::string_view(no_keeper).empty() || std::string_view(no_keeper) == "0")
    s.process_keeper = "/proc/self/exe";
  return s;
}

}  // namespace flow::cli
