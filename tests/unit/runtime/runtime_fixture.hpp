#pragma once
// A site catalogue with a batch site "cluster" whose executors are FakeExecutors, made
// through runtime::Services as the composition root makes Slurm executors.

#include <map>
#include <memory>

#include "engine/runtime/services.hpp"
#include "engine/site/site.hpp"
#include "tests/support/fake_executor.hpp"

namespace flow::test {

struct FakeSites {
  explicit FakeSites(int slot_count = -1) : slots(slot_count) {
    catalog = site::SiteCatalog::load({});
    site::Site s;
    s.name = "cluster";
    s.scheduler = "slurm";
    catalog.add(s);
  }
  runtime::Services services() {
    runtime::Services sv;
    sv.batch_executor = [this](boost::asio::io_context& io, const site::Site& s, runtime::Notice) {
      auto ex = std::make_unique<FakeExecutor>(io, s.name, slots);
      ex->auto_finish = auto_finish;
      made[s.name] = ex.get();
      return std::unique_ptr<run::Executor>(std::move(ex));
    };
    return sv;
  }
  site::SiteCatalog catalog;
  int slots;
  bool auto_finish = false;
  std::map<std::string, FakeExecutor*> made;  // by site, owned by the pool
};

}  // namespace flow::test
