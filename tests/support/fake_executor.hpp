#pragma once
// An executor that runs nothing, for unit tests of what drives runs: it records every
// attempt it is given and ends them when the test says so, reporting the way a real
// executor does (events posted to the io_context). It counts preflights and cancels.

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <vector>

#include "engine/run/executor.hpp"

namespace flow::test {

class FakeExecutor : public run::Executor {
 public:
  FakeExecutor(boost::asio::io_context& io, std::string site, int slots = -1)
      : io_(io), site_(std::move(site)), slots_(slots) {}

  std::string run_dir(const std::string& run_id) const override {
    return "/fake/" + site_ + "/runs/" + run_id;
  }
  run::Plan plan(const run::LaunchSpec&) override { return {}; }
  void launch(const run::LaunchSpec& spec, const run::Plan&) override {
    launched.push_back(spec);
    in_flight.push_back(spec.key);
    post(spec.key, queue_first ? run::ExecEvent::Kind::kSubmitted : run::ExecEvent::Kind::kStarted);
    if (auto_finish) finish(spec.key);
  }
  void reattach(const run::LaunchSpec& spec, const run::AttemptHandle&) override {
    reattached.push_back(spec.key);
    in_flight.push_back(spec.key);
  }
  void cancel(const run::AttemptKey& key, run::CancelReason reason) override {
    cancels.push_back({key, reason});
    finish(key, reason == run::CancelReason::kTimeout ? run::Outcome::kTimedOut
                                                      : run::Outcome::kCancelled);
  }
  int free_slots() const override {
    return slots_ < 0 ? -1 : std::max(0, slots_ - static_cast<int>(in_flight.size()));
  }
  void preflight() override { ++preflights; }

  // Ends an attempt in flight with `outcome` (a failure exits 1).
  // `key` by value: finish_oldest() passes an element of in_flight, which erase() moves.
  void finish(run::AttemptKey key, run::Outcome outcome = run::Outcome::kSucceeded) {
    std::erase(in_flight, key);
    run::ExecEvent e;
    e.key = key;
    e.kind = run::ExecEvent::Kind::kFinished;
    e.outcome = outcome;
    e.exit_code = outcome == run::Outcome::kFailed ? 1 : 0;
    if (outcome == run::Outcome::kFailed) e.message = "exit code 1";
    boost::asio::post(io_, [this, e] { emit(e); });
  }
  // A queued attempt (queue_first) leaves the queue and runs, like a Slurm job starting.
  void start_running(const run::AttemptKey& key) { post(key, run::ExecEvent::Kind::kRunning); }
  // The scheduler put a running job back in its queue (a Slurm requeue).
  void requeue(const run::AttemptKey& key, const std::string& why) {
    post(key, run::ExecEvent::Kind::kSubmitted, "requeued by Slurm (" + why + ")");
  }

  // Ends the oldest attempt in flight.
  void finish_oldest(run::Outcome outcome = run::Outcome::kSucceeded) {
    finish(in_flight.front(), outcome);
  }

  std::vector<run::LaunchSpec> launched;
  std::vector<run::AttemptKey> in_flight;
  std::vector<run::AttemptKey> reattached;
  std::vector<std::pair<run::AttemptKey, run::CancelReason>> cancels;
  int preflights = 0;
  bool auto_finish = false;  // every attempt succeeds as soon as it is launched
  bool queue_first = false;  // attempts are submitted (queued) first, like Slurm jobs

 private:
  void post(const run::AttemptKey& key, run::ExecEvent::Kind kind, std::string message = "") {
    run::ExecEvent e;
    e.key = key;
    e.kind = kind;
    e.message = std::move(message);
    if (kind == run::ExecEvent::Kind::kStarted) e.handle.pid = 4242;
    if (kind != run::ExecEvent::Kind::kStarted) e.handle.job_id = "77";
    boost::asio::post(io_, [this, e] { emit(e); });
  }
  boost::asio::io_context& io_;
  std::string site_;
  int slots_;
};

}  // namespace flow::test
