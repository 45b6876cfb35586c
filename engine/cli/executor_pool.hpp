#pragma once
// One executor per site for this process, created on first use and shared by every run
// the process drives (one SSH session per site, one sacct poll per site). Events are
// routed to the controller of their run. This is where the engine meets the operators:
// `scheduler: slurm` sites get a SlurmExecutor over the site's transport (SSH or local),
// everything else a LocalExecutor.

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/dag/dag.hpp"
#include "engine/run/executor.hpp"
#include "engine/run/local_executor.hpp"
#include "engine/site/site.hpp"

namespace flow::cli {

class ExecutorPool {
 public:
  using Route = std::function<void(run::ExecEvent)>;
  using Notice = std::function<void(const std::string&)>;

  // `home` holds run dirs and the python shims; `parallelism` bounds local processes.
  // `notice` receives site-level messages (connection lost, accounting down) on the io
  // thread.
  ExecutorPool(boost::asio::io_context& io, const site::SiteCatalog& sites,
               std::filesystem::path home, int parallelism, Notice notice = {});
  ~ExecutorPool();

  // The executor for a site; throws flow::Error naming the site if it cannot be used.
  run::Executor& get(const std::string& site_name);

  // Connects to every Slurm site the DAG uses and runs `sbatch --version` there, so an
  // unreachable host or a refused host key stops `flow run` before anything starts.
  // Throws EnvironmentError naming the site.
  void preflight(const dag::Dag& dag);

  // Where every executor's events go.
  void set_route(Route route) { route_ = std::move(route); }

 private:
  boost::asio::io_context& io_;
  const site::SiteCatalog& sites_;
  std::filesystem::path home_;
  int parallelism_;
  Notice notice_;
  Route route_;
  std::map<std::string, std::unique_ptr<run::Executor>> executors_;
};

}  // namespace flow::cli
