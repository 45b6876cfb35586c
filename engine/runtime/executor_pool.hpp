#pragma once
// One executor per site for this process, created on first use and shared by every run
// the process drives (one SSH session per site, one sacct poll per site). Events are
// routed to the controller of their run. Sites without a scheduler get a LocalExecutor;
// batch sites (`scheduler: slurm`) get what Services::batch_executor makes (the Slurm
// operators, registered by the composition root).

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/dag/dag.hpp"
#include "engine/run/executor.hpp"
#include "engine/runtime/services.hpp"
#include "engine/site/site.hpp"

namespace flow::runtime {

class ExecutorPool {
 public:
  using Route = std::function<void(run::ExecEvent)>;

  // `home` holds run dirs and the python shims; `parallelism` (-j) caps the cores local
  // tasks share (0: the site's cores_per_node, else the machine's hardware threads).
  // `notice` receives site-level messages (connection lost, accounting down) on the io
  // thread.
  ExecutorPool(boost::asio::io_context& io, const site::SiteCatalog& sites, Services services,
               std::filesystem::path home, int parallelism, Notice notice = {});
  ~ExecutorPool();

  // The executor for a site; throws flow::Error naming the site if it cannot be used.
  run::Executor& get(const std::string& site_name);

  // Prepares the executor of every site the DAG uses (Executor::preflight: a batch site
  // connects and checks its tools), so an unreachable host or a refused host key stops
  // `flow run` before anything starts. Throws EnvironmentError naming the site.
  void preflight(const dag::Dag& dag);

  // Where every executor's events go.
  void set_route(Route route) { route_ = std::move(route); }

 private:
  std::unique_ptr<run::Executor> make(const site::Site& site);

  boost::asio::io_context& io_;
  const site::SiteCatalog& sites_;
  Services services_;
  std::filesystem::path home_;
  int parallelism_;
  Notice notice_;
  Route route_;
  std::map<std::string, std::unique_ptr<run::Executor>> executors_;
};

}  // namespace flow::runtime
