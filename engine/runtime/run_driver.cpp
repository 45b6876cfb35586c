#include "engine/runtime/run_driver.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>

#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/dag/graph.hpp"
#include "engine/run/alerts.hpp"

namespace flow::runtime {

namespace {

// Shows the caller's observer every change, and the run's Alerts too.
class AlertingObserver : public run::RunObserver {
 public:
  AlertingObserver(run::RunObserver* next, run::Alerts& alerts) : next_(next), alerts_(alerts) {}
  void on_change(const state::InstanceRecord& instance, state::TaskState from,
                 const std::string& message) override {
    if (next_) next_->on_change(instance, from, message);
    alerts_.on_change(instance, from);
  }
  void on_tick(const std::map<state::TaskState, int>& counts) override {
    if (next_) next_->on_tick(counts);
  }

 private:
  run::RunObserver* next_;
  run::Alerts& alerts_;
};

}  // namespace

struct RunDriver::Entry {
  // Declared before the controller, which calls them until it is gone.
  std::unique_ptr<run::Alerts> alerts;
  std::unique_ptr<AlertingObserver> observer;
  std::unique_ptr<run::RunController> controller;
  OnFinished on_finished;
};

RunDriver::RunDriver(boost::asio::io_context& io, state::Store& store,
                     const site::SiteCatalog& sites, Services services, std::filesystem::path home,
                     int parallelism, Notice notice)
    : io_(io),
      store_(store),
      home_(home),
      webhooks_(services.webhook_sender ? services.webhook_sender(io) : nullptr),
      deliveries_(std::make_unique<run::Deliveries>(io, store)),
      pool_(io, sites, std::move(services), home, parallelism, std::move(notice)),
      watch_timer_(io),
      signals_(io) {
  pool_.set_route([this](run::ExecEvent e) {
    if (e.kind == run::ExecEvent::Kind::kCapacity) {
      for (auto& [id, entry] : runs_)
        entry->controller->poke();
      return;
    }
    const bool ended = e.kind == run::ExecEvent::Kind::kFinished;
    const std::string run_id = e.key.run_id;
    // Events of a run that already ended (a late report) have no one to go to.
    if (auto it = runs_.find(run_id); it != runs_.end()) {
      it->second->controller->on_event(std::move(e));
    }
    // The executors are shared: an attempt that ended may free a slot another run waits for.
    if (ended) {
      for (auto& [id, entry] : runs_)
        if (id != run_id) entry->controller->poke();
    }
  });
}

RunDriver::~RunDriver() {
  watch_timer_.cancel();
  signals_.cancel();
}

void RunDriver::preflight(const dag::Dag& dag) {
  pool_.preflight(dag);
}

void RunDriver::start(dag::Dag dag, const state::RunRecord& run, run::RunObserver* observer,
                      OnFinished on_finished) {
  auto entry = std::make_unique<Entry>();
  run::ControllerOptions opts;
  opts.home = home_;
  if (run::Alerts::wanted(dag)) {
    entry->alerts =
        std::make_unique<run::Alerts>(io_, store_, dag, run, *deliveries_, webhooks_.get());
    entry->observer = std::make_unique<AlertingObserver>(observer, *entry->alerts);
    observer = entry->observer.get();
  }
  entry->controller = std::make_unique<run::RunController>(
      io_, store_, std::move(dag), run,
      [this](const std::string& s) -> run::Executor& { return pool_.get(s); }, opts, observer);
  entry->on_finished = std::move(on_finished);
  run::RunController& controller = *entry->controller;
  runs_[run.id] = std::move(entry);
  try {
    controller.start();
  } catch (...) {
    runs_.erase(run.id);
    throw;
  }
  // The run is this engine's now: its SLA clocks start, and notifications an earlier
  // engine left undelivered are written off.
  if (auto& alerts = runs_.at(run.id)->alerts) alerts->start(controller.instances());
  watch();
}

std::vector<std::string> RunDriver::active_ids() const {
  std::vector<std::string> ids;
  for (const auto& [id, _] : runs_)
    ids.push_back(id);
  return ids;
}

void RunDriver::interrupt() {
  for (auto& [_, e] : runs_)
    e->controller->interrupt();
}

void RunDriver::watch() {
  if (watching_) return;
  watching_ = true;
  watch_timer_.expires_after(std::chrono::milliseconds(20));
  watch_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: the driver may be gone
    watching_ = false;
    std::vector<std::string> done;
    for (const auto& [id, e] : runs_) {
      if (e->controller->done()) done.push_back(id);
    }
    for (const auto& id : done) {
      auto it = runs_.find(id);
      std::shared_ptr<Entry> entry(std::move(it->second));
      runs_.erase(it);
      run::RunController& controller = *entry->controller;
      Finished f{controller.run(), controller.counts(), {}, controller.abandoned()};
      // Another engine that took the run over notifies from there.
      if (entry->alerts && f.abandoned.empty())
        entry->alerts->on_run_end(f.run,
                                  controller.instances_if([](const state::InstanceRecord& i) {
                                    return i.parent.empty() && state::is_failure(i.state);
                                  }));
      controller.drop_instances();
      // After the drop: ordering a DAG of 1,000,000 tasks builds a graph of it, which is
      // not to be held beside the run's instances.
      f.task_order = dag::reading_order(controller.dag());
      // The controller's cancelled timers may still have handlers queued that refer to
      // it: release it only after everything queued so far has run.
      boost::asio::post(io_, [entry] {});
      if (entry->on_finished) entry->on_finished(std::move(f));
    }
    if (!runs_.empty()) watch();
  });
}

void RunDriver::handle_signals(std::function<void(int)> on_first) {
  signals_.add(SIGINT);
  signals_.add(SIGTERM);
  on_signal_ = [this, on_first = std::move(on_first)](const boost::system::error_code& ec,
                                                      int sig) {
    if (ec) return;
    if (++interrupts_ == 1) {
      std::fprintf(stderr, "\nflow: %s: stopping running tasks (again to quit at once)\n",
                   sig == SIGINT ? "interrupted" : "terminated");
      interrupt();
      if (on_first) on_first(sig);
      signals_.async_wait(on_signal_);
      return;
    }
    std::string hint;
    for (const auto& id : active_ids())
      hint += (hint.empty() ? "" : "; ") + std::string("flow resume ") + id;
    std::fprintf(stderr, "flow: quitting; running tasks are left as they are%s\n",
                 hint.empty() ? "" : (" (" + hint + " re-attaches them)").c_str());
    std::_Exit(130);
  };
  signals_.async_wait(on_signal_);
}

size_t RunDriver::pending_deliveries() const {
  return deliveries_->pending();
}

void RunDriver::finish_deliveries() {
  if (deliveries_->pending() == 0) return;
  io_.restart();
  deliveries_->when_idle([this] { io_.stop(); });
  io_.run();
}

void RunDriver::stop_handling_signals() {
  boost::system::error_code ec;
  signals_.cancel(ec);
  signals_.clear(ec);
}

}  // namespace flow::runtime
