#include "engine/run/delivery.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <map>
#include <optional>

#include "engine/core/clock.hpp"
#include "engine/core/engine_timer.hpp"
#include "engine/core/log.hpp"
#include "engine/state/store.hpp"

namespace flow::run {

std::chrono::milliseconds DeliveryPolicy::wait_before(int attempt) const {
  if (attempt <= 1 || waits.empty()) return std::chrono::milliseconds(0);
  const size_t i = std::min(static_cast<size_t>(attempt - 2), waits.size() - 1);
  return waits[i];
}

struct Deliveries::One {
  state::DeliveryRecord record;
  DeliveryAttempt attempt;
  std::unique_ptr<EngineTimer> timer;
};

struct Deliveries::State {
  boost::asio::io_context& io;
  state::Store& store;
  DeliveryPolicy policy;
  bool closed = false;
  std::map<int64_t, std::shared_ptr<One>> pending;
  std::vector<std::function<void()>> idle;
  // Held while anything is pending: an attempt on another thread (a webhook) is no work
  // the io_context knows of, and its run() must not return before the attempt reports.
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> busy;
};

namespace {

std::string describe(const state::DeliveryRecord& d) {
  return "notification " + std::to_string(d.id) + " (" + d.event + " of " +
         (d.instance_id.empty() ? "run " + d.run_id : "task " + d.instance_id) + ", " + d.kind +
         " " + d.target + ")";
}

}  // namespace

Deliveries::Deliveries(boost::asio::io_context& io, state::Store& store, DeliveryPolicy policy)
    : state_(std::make_shared<State>(State{io, store, std::move(policy), false, {}, {}, {}})) {}

Deliveries::~Deliveries() {
  state_->closed = true;
  for (auto& [_, one] : state_->pending) {
    if (one->timer) one->timer->cancel();
  }
  state_->pending.clear();
  state_->idle.clear();
  state_->busy.reset();
}

int64_t Deliveries::deliver(state::DeliveryRecord d, DeliveryAttempt how) {
  d.state = "pending";
  d.attempts = 0;
  d.created = d.updated = now_ms();
  d.id = state_->store.add_delivery(d);
  auto one = std::make_shared<One>(One{std::move(d), std::move(how), nullptr});
  state_->pending[one->record.id] = one;
  if (!state_->busy) state_->busy.emplace(state_->io.get_executor());
  log::info(describe(one->record) + ": sending", one->record.run_id);
  // The first attempt starts after the caller's handler returned: after the transaction
  // that recorded the row (and, for an SLA miss, the miss) has committed.
  std::weak_ptr<State> weak = state_;
  boost::asio::post(state_->io, [weak, one] {
    auto live = weak.lock();
    if (live && !live->closed) attempt(live, one);
  });
  return one->record.id;
}

void Deliveries::refuse(state::DeliveryRecord d, const std::string& error) {
  d.state = "failed";
  d.attempts = 0;
  d.error = error;
  d.created = d.updated = now_ms();
  d.id = state_->store.add_delivery(d);
  log::warn(describe(d) + ": not sent: " + error, d.run_id);
}

size_t Deliveries::pending() const {
  return state_->pending.size();
}

void Deliveries::when_idle(std::function<void()> cb) {
  if (state_->pending.empty()) {
    cb();
    return;
  }
  state_->idle.push_back(std::move(cb));
}

void Deliveries::attempt(const std::shared_ptr<State>& s, const std::shared_ptr<One>& one) {
  one->record.attempts += 1;
  std::weak_ptr<State> weak = s;
  // The attempt reports on the loop; a Deliveries destroyed meanwhile hears nothing.
  one->attempt([weak, one](const std::string& error) {
    auto live = weak.lock();
    if (!live || live->closed) return;
    finish_attempt(live, one, error);
  });
}

void Deliveries::finish_attempt(const std::shared_ptr<State>& s, const std::shared_ptr<One>& one,
                                const std::string& error) {
  auto& d = one->record;
  d.updated = now_ms();
  d.error = error;
  const bool again = !error.empty() && d.attempts < s->policy.attempts;
  if (error.empty()) {
    d.state = "delivered";
    log::info(describe(d) + ": delivered (attempt " + std::to_string(d.attempts) + ")", d.run_id);
  } else if (again) {
    log::warn(describe(d) + ": attempt " + std::to_string(d.attempts) + " of " +
                  std::to_string(s->policy.attempts) + " failed: " + error + "; trying again in " +
                  std::to_string(s->policy.wait_before(d.attempts + 1).count()) + " ms",
              d.run_id);
  } else {
    d.state = "failed";
    log::warn(
        describe(d) + ": not delivered after " + std::to_string(d.attempts) + " attempts: " + error,
        d.run_id);
  }
  try {
    s->store.update_delivery(d);
  } catch (const std::exception& e) {
    // Recording is best effort: a locked database must not stop the run or the others.
    log::warn(describe(d) + ": could not record its state: " + e.what(), d.run_id);
  }
  if (again) {
    one->timer = std::make_unique<EngineTimer>(s->io);
    one->timer->expires_after(s->policy.wait_before(d.attempts + 1));
    std::weak_ptr<State> weak = s;
    one->timer->async_wait([weak, one](const boost::system::error_code& ec) {
      auto live = weak.lock();
      if (ec || !live || live->closed) return;
      attempt(live, one);
    });
    return;
  }
  s->pending.erase(d.id);
  if (s->pending.empty()) {
    s->busy.reset();
    auto idle = std::move(s->idle);
    s->idle.clear();
    for (auto& cb : idle)
      cb();
  }
}

}  // namespace flow::run
