#pragma once
// One executor per site for this process, created on first use and shared by every run
// the process drives (one SSH session per site, one sacct poll per site). Events are
// routed to the controller of their run.

#include <boost/asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "engine/run/executor.hpp"
#include "engine/run/local_executor.hpp"
#include "engine/site/site.hpp"

namespace flow::cli {

class ExecutorPool {
 public:
  using Route = std::function<void(run::ExecEvent)>;

  // `home` holds run dirs and the python shims; `parallelism` bounds local processes.
  ExecutorPool(boost::asio::io_context& io, const site::SiteCatalog& sites,
               std::filesystem::path home, int parallelism);
  ~ExecutorPool();

  // The executor for a site; throws flow::Error naming the site if it cannot be used.
  run::Executor& get(const std::string& site_name);

  // Where every executor's events go.
  void set_route(Route route) { route_ = std::move(route); }

 private:
  boost::asio::io_context& io_;
  const site::SiteCatalog& sites_;
  std::filesystem::path home_;
  int parallelism_;
  Route route_;
  std::map<std::string, std::unique_ptr<run::Executor>> executors_;
};

}  // namespace flow::cli
