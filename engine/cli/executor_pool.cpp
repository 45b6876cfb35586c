#include "engine/cli/executor_pool.hpp"

#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/run/python_env.hpp"

namespace flow::cli {

ExecutorPool::ExecutorPool(boost::asio::io_context& io, const site::SiteCatalog& sites,
                           std::filesystem::path home, int parallelism)
    : io_(io), sites_(sites), home_(std::filesystem::absolute(home)), parallelism_(parallelism) {}

ExecutorPool::~ExecutorPool() = default;

run::Executor& ExecutorPool::get(const std::string& site_name) {
  if (auto it = executors_.find(site_name); it != executors_.end()) return *it->second;
  const site::Site* s = sites_.find(site_name);
  if (!s) {
    throw Error(ErrorKind::kInvalidInput, "unknown site '" + site_name + "'" +
                                              did_you_mean(site_name, sites_.names()) +
                                              "; known sites: " + join(sites_.names()));
  }
  std::unique_ptr<run::Executor> ex;
  if (!s->is_slurm()) {
    run::LocalExecutorOptions o;
    o.slots = parallelism_;
    o.runs_root = home_ / "runs";
    std::string python = run::resolve_python(s->python);
    if (!python.empty()) o.path_prefix = run::make_python_shims(home_ / "bin", python);
    ex = std::make_unique<run::LocalExecutor>(io_, std::move(o));
  } else {
    throw Error(ErrorKind::kEnvironment,
                "site '" + site_name +
                    "' is a Slurm site, but this build of flow has no Slurm "
                    "operator");
  }
  ex->set_sink([this](run::ExecEvent e) {
    if (route_) route_(std::move(e));
  });
  auto& ref = *ex;
  executors_.emplace(site_name, std::move(ex));
  return ref;
}

}  // namespace flow::cli
