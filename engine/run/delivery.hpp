#pragma once
// Delivering notifications (docs/ALERTS.md): each one is a row of `deliveries`, written
// `pending` before the first attempt, then tried up to DeliveryPolicy::attempts times with
// the policy's waits in between, every attempt logged and recorded, and ended `delivered`
// or `failed`. Nothing here blocks the io_context: an attempt is asynchronous (a webhook
// on the sender's thread, a command as a child process) and reports back on the loop,
// which is the only thread that touches the Store. Waits use the engine clock
// (EngineTimer), so tests drive them with a ManualClock.
//
// A delivery never fails or delays a run: errors end up in its row and the log, nowhere
// else.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/state/delivery_record.hpp"

namespace flow::state {
class Store;
}

namespace flow::run {

struct DeliveryPolicy {
  int attempts = 3;
  // Waits before the 2nd, 3rd, ... attempt (the last one repeats).
  std::vector<std::chrono::milliseconds> waits{std::chrono::seconds(1), std::chrono::seconds(4)};
  std::chrono::milliseconds wait_before(int attempt) const;  // attempt 2 = first retry
};

// One attempt: calls `done` on the io_context, once, with "" (delivered) or why not.
using DeliveryAttempt = std::function<void(std::function<void(const std::string& error)> done)>;

class Deliveries {
 public:
  Deliveries(boost::asio::io_context& io, state::Store& store, DeliveryPolicy policy = {});
  // Pending deliveries stop here (their rows stay `pending`: the next engine that takes
  // the run marks them `abandoned`); an attempt in flight reports to no one.
  ~Deliveries();
  Deliveries(const Deliveries&) = delete;
  Deliveries& operator=(const Deliveries&) = delete;

  // Records `d` (state pending, attempts 0; created now) and starts its first attempt.
  // Returns the row's id.
  int64_t deliver(state::DeliveryRecord d, DeliveryAttempt how);
  // Records `d` as failed at once, without an attempt (a URL that is not http(s), a
  // secret that could not be read): `error` says why.
  void refuse(state::DeliveryRecord d, const std::string& error);

  // Deliveries not yet delivered or failed.
  size_t pending() const;
  // Calls `cb` once nothing is pending (at once if nothing is).
  void when_idle(std::function<void()> cb);

 private:
  struct State;
  struct One;
  static void attempt(const std::shared_ptr<State>& s, const std::shared_ptr<One>& one);
  static void finish_attempt(const std::shared_ptr<State>& s, const std::shared_ptr<One>& one,
                             const std::string& error);
  std::shared_ptr<State> state_;
};

}  // namespace flow::run
