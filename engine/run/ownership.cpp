#include "engine/run/ownership.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/run/process.hpp"

namespace flow::run {

namespace {

std::string random_token() {
  std::random_device rd;
  char buf[33];
  for (int i = 0; i < 4; ++i)
    std::snprintf(buf + 8 * i, 9, "%08x", static_cast<unsigned>(rd()));
  return std::string(buf, 32);
}

std::string ago(EpochMs now, EpochMs then) {
  if (then <= 0) return "never";
  return human_duration(Millis(std::max<EpochMs>(0, now - then))) + " ago";
}

}  // namespace

std::string this_host() {
  if (const char* h = std::getenv("FLOW_HOSTNAME"); h && *h) return h;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

std::chrono::milliseconds default_stale_after() {
  if (const char* v = std::getenv("FLOW_TAKEOVER_AFTER"); v && *v) {
    if (auto d = parse_duration(v); d && d->count() > 0) return *d;
    throw InputError(SourceLocation{}, std::string("FLOW_TAKEOVER_AFTER='") + v +
                                           "' is not a duration (e.g. 90s, 5m)");
  }
  return std::chrono::seconds(60);
}

const EngineIdentity& EngineIdentity::self() {
  static const EngineIdentity me = [] {
    EngineIdentity e;
    e.pid = static_cast<int>(::getpid());
    e.start = process_start_ticks(e.pid);
    e.host = this_host();
    e.token = random_token();
    return e;
  }();
  return me;
}

void EngineIdentity::stamp(state::RunRecord& run, EpochMs now) const {
  run.owner_pid = pid;
  run.owner_start = start;
  run.owner_host = host;
  run.owner_token = token;
  run.heartbeat = now;
}

OwnerView owner_of(const state::RunRecord& run, const EngineIdentity& me, EpochMs now,
                   std::chrono::milliseconds stale_after) {
  if (run.owner_pid <= 0) return {OwnerState::kNone, ""};
  OwnerView v;
  v.who = "flow process " + std::to_string(run.owner_pid) + " on " + run.owner_host +
          ", last heartbeat " + ago(now, run.heartbeat);
  if (!run.owner_token.empty() && run.owner_token == me.token) {
    v.state = OwnerState::kThisEngine;
  } else if (run.owner_host == me.host) {
    v.state = process_alive(run.owner_pid, run.owner_start) ? OwnerState::kLive : OwnerState::kGone;
  } else {
    // Another host: its process table is out of reach, the heartbeat is all there is.
    v.state = now - run.heartbeat > stale_after.count() ? OwnerState::kGone : OwnerState::kLive;
  }
  return v;
}

Takeover take_run(state::Store& store, const std::string& run_id, const EngineIdentity& me,
                  const TakeoverPolicy& policy,
                  const std::function<void(state::RunRecord&)>& prepare) {
  state::Store::Transaction tx(store);  // BEGIN IMMEDIATE: one engine at a time from here
  auto run = store.get_run(run_id);
  if (!run) throw InputError(SourceLocation{}, "no run '" + run_id + "' (see: flow runs)");
  const EpochMs now = now_ms();
  Takeover result;
  result.previous = owner_of(*run, me, now, policy.stale_after);
  if (result.previous.state == OwnerState::kLive && !policy.force) {
    std::string hint = "wait for it, or stop it with: flow cancel " + run_id;
    if (run->owner_host != me.host) {
      hint += "; if that host is down, the run can be taken over once its heartbeat is " +
              human_duration(policy.stale_after) + " old, or now with --force";
    }
    throw RunOwnedElsewhere("run " + run_id + " is being executed by " + result.previous.who +
                            "; " + hint);
  }
  me.stamp(*run, now);
  store.update_run(*run);
  if (prepare) prepare(*run);
  tx.commit();
  result.run = store.get_run(run_id).value();
  return result;
}

void release_run(state::Store& store, const std::string& run_id, const EngineIdentity& me) {
  state::Store::Transaction tx(store);
  auto run = store.get_run(run_id);
  if (!run || run->owner_token != me.token) return;
  run->owner_pid = 0;
  run->owner_start = 0;
  run->owner_host.clear();
  run->owner_token.clear();
  store.update_run(*run);
  tx.commit();
}

}  // namespace flow::run
