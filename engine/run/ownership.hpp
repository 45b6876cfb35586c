#pragma once
// Who drives a run. Exactly one engine process executes a run at a time: it is recorded
// in the run's row (pid, process start time, host, a random token) and beats a heartbeat
// into it every control interval. Every other process that wants to drive the run — a
// `flow resume`, `retry` or `cancel`, the scheduler, the TUI's actions — must take it
// over first, and taking over is ONE write transaction (take_run): the check that the
// owner is gone and the write of the new owner cannot be split by another engine, so of
// several racing engines exactly one succeeds.
//
// The token fences a displaced owner: the run controller checks it inside every commit
// (Store::owner_token), so an engine whose run was taken over (`--force`, or a heartbeat
// that went stale while the engine was suspended) cannot commit, and therefore cannot
// launch, anything more.
//
// When is an owner gone? On this host: its process is dead (pid and start time). On
// another host (round-robin login nodes share one database): it has not beaten its
// heartbeat for `stale_after` (default 60 s, FLOW_TAKEOVER_AFTER). The host name is
// gethostname(), or FLOW_HOSTNAME when set (tests simulate two login nodes with it).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/core/error.hpp"
#include "engine/state/records.hpp"
#include "engine/state/store.hpp"

namespace flow::run {

// This engine process, as recorded in a run it owns.
struct EngineIdentity {
  int pid = 0;
  uint64_t start = 0;  // process start time, clock ticks since boot
  std::string host;
  std::string token;  // random, unique per engine process

  // The identity of the calling process (computed once).
  static const EngineIdentity& self();
  // Writes this identity as the owner of `run`, with a heartbeat at `now`.
  void stamp(state::RunRecord& run, EpochMs now) const;
};

// gethostname(), or $FLOW_HOSTNAME when set and not empty.
std::string this_host();

// How long an owner on another host may go without a heartbeat before it counts as gone:
// $FLOW_TAKEOVER_AFTER (a duration such as "90s") or 60 s.
std::chrono::milliseconds default_stale_after();

enum class OwnerState {
  kNone,        // nobody owns the run (it ended, or was never started)
  kThisEngine,  // the calling engine (same token)
  kGone,        // the owner's process is dead (same host) or its heartbeat is stale
  kLive,        // another engine that is alive (or, on another host, still beating)
};

struct OwnerView {
  OwnerState state = OwnerState::kNone;
  // "flow process 123 on login01, last heartbeat 4 s ago" (empty for kNone).
  std::string who;
};

OwnerView owner_of(const state::RunRecord& run, const EngineIdentity& me, EpochMs now,
                   std::chrono::milliseconds stale_after);

struct TakeoverPolicy {
  bool force = false;  // take it even from a live owner (it is fenced out, see above)
  std::chrono::milliseconds stale_after = default_stale_after();
};

// take_run's refusal: another live engine owns the run (exit 3).
class RunOwnedElsewhere : public EnvironmentError {
 public:
  using EnvironmentError::EnvironmentError;
};

struct Takeover {
  state::RunRecord run;  // as stored after the takeover
  OwnerView previous;    // whose it was
};

// In one write transaction: reads the run, refuses with RunOwnedElsewhere (exit 3) naming
// the owner if another live engine owns it (unless policy.force), records `me` as the
// owner, and calls `prepare(run)` inside the same transaction (e.g. prepare_resume; it may
// change and write rows, and sees the run with `me` already stamped). Throws InputError if
// the run does not exist. Exactly one of several engines racing for one run succeeds.
Takeover take_run(state::Store& store, const std::string& run_id, const EngineIdentity& me,
                  const TakeoverPolicy& policy,
                  const std::function<void(state::RunRecord&)>& prepare = {});

// Gives a run that `me` took over without executing it (`flow clean`) back: in one write
// transaction, clears the owner if it is still `me` (a --force takeover since is left alone).
void release_run(state::Store& store, const std::string& run_id, const EngineIdentity& me);

}  // namespace flow::run
