#include "engine/cli/executor_pool.hpp"

#include <boost/asio/post.hpp>
#include <set>

#include "engine/cli/site_transport.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/run/python_env.hpp"
#include "operators/lamec/lamec.hpp"
#include "operators/slurm/slurm_executor.hpp"

namespace flow::cli {

ExecutorPool::ExecutorPool(boost::asio::io_context& io, const site::SiteCatalog& sites,
                           std::filesystem::path home, int parallelism, Notice notice)
    : io_(io),
      sites_(sites),
      home_(std::filesystem::absolute(home)),
      parallelism_(parallelism),
      notice_(std::move(notice)) {}

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
    slurm::SlurmExecutorOptions o;
    o.interval = s->poll_interval;
    o.notice = notice_;
    ex = std::make_unique<slurm::SlurmExecutor>(
        io_, *s,
        // Reconnect news comes from the executor's worker thread: hand it to the io thread.
        open_transport(*s,
                       [this](const std::string& text) {
                         boost::asio::post(io_, [this, text] {
                           if (notice_) notice_(text);
                         });
                       }),
        lamec::ModuleCatalog::load(lamec::ModuleCatalog::default_dirs()), std::move(o));
  }
  ex->set_sink([this](run::ExecEvent e) {
    if (route_) route_(std::move(e));
  });
  auto& ref = *ex;
  executors_.emplace(site_name, std::move(ex));
  return ref;
}

void ExecutorPool::preflight(const dag::Dag& dag) {
  std::set<std::string> names;
  for (const auto& t : dag.tasks)
    names.insert(dag.site_of(t));
  for (const auto& name : names) {
    const site::Site* s = sites_.find(name);
    if (!s || !s->is_slurm()) continue;
    auto* slurm = dynamic_cast<slurm::SlurmExecutor*>(&get(name));
    if (slurm) slurm->preflight();
  }
}

}  // namespace flow::cli
