#pragma once
// What the engine's runtime reaches only through interfaces. The runtime (run driver,
// executor pool, scheduler, backfill) knows local processes; everything that needs a
// batch scheduler, SSH or LAMEC job scripts is made by the composition root
// (engine/cli/wiring.hpp registers the Slurm operators) and handed in here, so nothing
// under engine/ outside engine/cli includes operators/ (scripts/check-layers.sh).

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "engine/dag/dag.hpp"
#include "engine/run/executor.hpp"
#include "engine/run/notifier.hpp"
#include "engine/site/site.hpp"

namespace flow::runtime {

// Site-level news for the user (connection lost, accounting down), on the io thread.
using Notice = std::function<void(const std::string&)>;

struct Services {
  // The executor of a site with a batch scheduler (`scheduler: slurm`): its events are
  // posted to `io`, its news goes to `notice`. Throws flow::Error naming the site when it
  // cannot be made. Empty: such sites are refused ("no executor for scheduler slurm").
  std::function<std::unique_ptr<run::Executor>(boost::asio::io_context& io, const site::Site& site,
                                               Notice notice)>
      batch_executor;
  // Checks, at validation, that task `task` of `dag` yields a job script on batch site
  // `site` (software the site's system has, ...). Throws InputError located at the task.
  // Empty: not checked.
  std::function<void(const dag::Dag& dag, const dag::Task& task, const site::Site& site)>
      check_job_script;
  // Sends webhooks of `notify:` (docs/ALERTS.md); completions are posted to `io`. Empty:
  // every webhook delivery fails with "webhooks are not available in this build".
  std::function<std::unique_ptr<run::WebhookSender>(boost::asio::io_context& io)> webhook_sender;
  // The program that serves local sites as process keeper when run as `PROGRAM __keeper`
  // (engine/run/process_keeper.hpp; the flow binary). Empty: each local task runs under a
  // shell wrapper of its own.
  std::filesystem::path process_keeper;
};

}  // namespace flow::runtime
