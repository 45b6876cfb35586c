#include "engine/runtime/executor_pool.hpp"

#include <boost/asio/post.hpp>
#include <set>

#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/run/local_executor.hpp"
#include "engine/run/python_env.hpp"
#include "engine/site/local_node.hpp"

namespace flow::runtime {

ExecutorPool::ExecutorPool(boost::asio::io_context& io, const site::SiteCatalog& sites,
                           Services services, std::filesystem::path home, int parallelism,
                           Notice notice)
    : io_(io),
      sites_(sites),
      services_(std::move(services)),
      home_(std::filesystem::absolute(home)),
      parallelism_(parallelism),
      notice_(std::move(notice)) {}

ExecutorPool::~ExecutorPool() = default;

std::unique_ptr<run::Executor> ExecutorPool::make(const site::Site& s) {
  if (!s.is_slurm()) {
    run::LocalExecutorOptions o;
    // -j caps the cores tasks share; without it, the site's cores_per_node or the machine's.
    site::LocalNode node = site::local_node(s);
    o.slots = parallelism_ > 0 ? parallelism_ : node.cores;
    o.gpus = std::move(node.gpus);
    o.runs_root = home_ / "runs";
    std::string python = run::resolve_python(s.python);
    if (!python.empty()) o.path_prefix = run::make_python_shims(home_ / "bin", python);
    auto local = std::make_unique<run::LocalExecutor>(io_, std::move(o));
    local->use_keeper(services_.process_keeper);
    return local;
  }
  if (!services_.batch_executor) {
    throw EnvironmentError("site '" + s.name + "': no executor for scheduler " + s.scheduler +
                           " in this build");
  }
  // Site news may come from an executor's worker thread: hand it to the io thread.
  return services_.batch_executor(io_, s, [this](const std::string& text) {
    boost::asio::post(io_, [this, text] {
      if (notice_) notice_(text);
    });
  });
}

run::Executor& ExecutorPool::get(const std::string& site_name) {
  if (auto it = executors_.find(site_name); it != executors_.end()) return *it->second;
  const site::Site* s = sites_.find(site_name);
  if (!s) {
    throw Error(ErrorKind::kInvalidInput, "unknown site '" + site_name + "'" +
                                              did_you_mean(site_name, sites_.names()) +
                                              "; known sites: " + join(sites_.names()));
  }
  auto ex = make(*s);
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
    // An unknown site fails its tasks when they are launched, with the catalogue's names.
    if (sites_.find(name)) get(name).preflight();
  }
}

}  // namespace flow::runtime
