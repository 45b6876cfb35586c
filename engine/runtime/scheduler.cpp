#include "engine/runtime/scheduler.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "engine/core/clock.hpp"
#include "engine/core/duration.hpp"
#include "engine/dag/loader.hpp"
#include "engine/run/ownership.hpp"
#include "engine/run/resume.hpp"
#include "engine/runtime/new_run.hpp"
#include "engine/schedule/catchup.hpp"
#include "engine/schedule/clock.hpp"
#include "engine/schedule/time_text.hpp"

namespace flow::runtime {

namespace {

using schedule::Instant;

EpochMs to_ms(Instant t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Instant from_ms(EpochMs ms) {
  return Instant(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::milliseconds(ms)));
}

}  // namespace

Scheduler::Scheduler(state::Store& store, const site::SiteCatalog& sites, Services services,
                     std::filesystem::path home, Options options)
    : store_(store),
      home_(std::move(home)),
      options_(std::move(options)),
      services_(std::move(services)),
      folder_(options_.dags_dir, &sites, &services_),
      driver_(io_, store, sites, services_, home_, options_.parallelism,
              [](const std::string& text) { std::fprintf(stderr, "flow: %s\n", text.c_str()); }),
      timer_(io_) {}

int Scheduler::run() {
  report_folder_changes(folder_.refresh());  // a missing folder is an error right away
  driver_.handle_signals([this](int) {
    stopping_ = true;
    timer_.cancel();
    if (driver_.active() == 0) io_.stop();
  });
  if (!options_.once) {
    size_t scheduled = 0;
    for (const auto& [_, f] : folder_.files())
      scheduled += folder_.usable(f) && f.dag->schedule ? 1 : 0;
    std::fprintf(stderr, "flow scheduler: %zu scheduled DAG%s in %s; Ctrl-C stops\n", scheduled,
                 scheduled == 1 ? "" : "s", options_.dags_dir.c_str());
  }
  tick();
  if (!(options_.once && driver_.active() == 0)) io_.run();
  driver_.stop_handling_signals();
  driver_.finish_deliveries();  // notifications of runs that ended (docs/ALERTS.md)
  if (interrupted_) return 130;
  if (failed_) return 1;
  if (env_error_) return 3;
  return 0;
}

void Scheduler::arm(std::chrono::milliseconds delay) {
  timer_.expires_after(delay);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

void Scheduler::tick() {
  if (stopping_) return;
  try {
    report_folder_changes(folder_.refresh());
  } catch (const InputError& e) {  // the folder went away: keep what was read, try again
    for (const auto& d : e.diagnostics())
      std::fprintf(stderr, "%s\n", d.str().c_str());
  }
  const Instant now = schedule::now();
  std::optional<Instant> next;
  for (const auto& [_, f] : folder_.files()) {
    if (!folder_.usable(f) || !f.dag->schedule) continue;
    try {
      resume_orphans(*f.dag);
      schedule_dag(f, now);
      if (auto n = timetable_of(*f.dag)->next_fire(now); n && (!next || *n < *next)) next = n;
    } catch (const Error& e) {
      env_error_ = true;
      std::fprintf(stderr, "flow scheduler: dag %s: %s\n", f.dag->name.c_str(), e.what());
    }
  }
  first_tick_ = false;
  std::fflush(stdout);
  if (options_.once) return;
  auto delay = options_.poll;
  if (next) {
    // `now` is whole seconds, at or before the real now: waking this much later is never
    // early.
    delay = std::min<std::chrono::milliseconds>(delay, *next - now);
  }
  arm(delay);
}

void Scheduler::schedule_dag(const DagFile& file, Instant now) {
  const dag::Dag& dag = *file.dag;
  const schedule::Timetable tt = *timetable_of(dag);
  auto fresh = [&](const std::optional<state::ScheduleRecord>& s) {
    return !s || s->schedule != *dag.schedule || s->timezone != dag.timezone;
  };
  auto due = [&](const std::optional<state::ScheduleRecord>& s) {
    const Instant first_seen = fresh(s) ? now : from_ms(s->first_seen);
    std::optional<Instant> last;
    if (s && s->last_fire) last = from_ms(s->last_fire);
    const int free = dag.max_active_runs - count_executing_runs(store_, dag.name);
    return schedule::due_intervals(tt, first_seen, last, now, dag.catchup,
                                   static_cast<size_t>(std::max(0, free)));
  };

  // A first look without the write lock: most ticks find nothing to do.
  auto seen = store_.get_schedule(dag.name);
  const bool any_due = !due(seen).empty();
  if (!fresh(seen) && !any_due) return;
  if (any_due) driver_.preflight(dag);  // before any run is recorded

  std::vector<std::pair<schedule::DataInterval, state::RunRecord>> started;
  std::vector<std::pair<schedule::DataInterval, state::RunRecord>> skipped;
  {
    state::Store::Transaction tx(store_);
    auto st = store_.get_schedule(dag.name);  // again: another scheduler may have moved on
    state::ScheduleRecord rec;
    if (fresh(st)) {
      if (st) {
        std::fprintf(stderr,
                     "flow scheduler: dag %s: schedule changed to '%s' (%s); it starts afresh "
                     "from now, intervals already run are not repeated\n",
                     dag.name.c_str(), dag.schedule->c_str(), dag.timezone.c_str());
      }
      rec.dag = dag.name;
      rec.schedule = *dag.schedule;
      rec.timezone = dag.timezone;
      rec.first_seen = to_ms(now);
      rec.last_fire = st ? st->last_fire : 0;
    } else {
      rec = *st;
    }
    for (const auto& iv : due(st)) {
      rec.last_fire = std::max(rec.last_fire, to_ms(iv.end));
      // Someone got there first: a backfill, or a run of this interval that succeeded.
      std::optional<state::RunRecord> other;
      for (auto& r : store_.runs_for_interval(dag.name, schedule::format_utc(iv.start))) {
        if (r.state == state::RunState::kSucceeded || is_executing(r)) other = std::move(r);
      }
      const std::string id = scheduled_run_id(dag.name, iv.start);
      if (!other) other = store_.get_run(id);
      if (other) {
        skipped.emplace_back(iv, std::move(*other));
        continue;
      }
      state::RunRecord r = new_run_record(dag, id, home_, 0);
      set_interval(r, iv);
      // Owned from the start, so another scheduler counts it against max_active_runs.
      run::EngineIdentity::self().stamp(r, now_ms());
      store_.insert_run(r);
      started.emplace_back(iv, std::move(r));
    }
    rec.dag_file = file.path.string();
    rec.updated = now_ms();
    store_.put_schedule(rec);
    tx.commit();
  }

  for (const auto& [iv, other] : skipped) {
    const std::string why = "run " + other.id + " is " + std::string(state::to_string(other.state));
    emit({{"event", "skipped"},
          {"dag", dag.name},
          {"data_interval_start", schedule::format_utc(iv.start)},
          {"data_interval_end", schedule::format_utc(iv.end)},
          {"reason", why}},
         "skipped   " + dag.name + "  interval " + schedule::format_local(iv.start, tt.zone()) +
             " .. " + schedule::format_local(iv.end, tt.zone()) + ": " + why);
  }
  for (auto& [iv, r] : started) {
    emit({{"event", "started"},
          {"run", r.id},
          {"dag", dag.name},
          {"logical_date", r.logical_date},
          {"data_interval_start", r.data_interval_start},
          {"data_interval_end", r.data_interval_end}},
         "started   " + r.id + "  interval " + schedule::format_local(iv.start, tt.zone()) +
             " .. " + schedule::format_local(iv.end, tt.zone()));
    try {
      driver_.start(dag, r, nullptr, [this](const RunDriver::Finished& f) { on_finished(f); });
    } catch (const Error& e) {
      failed_ = true;
      r.state = state::RunState::kFailed;
      r.ended = now_ms();
      r.owner_pid = 0;
      r.owner_token.clear();
      std::fprintf(stderr, "flow scheduler: run %s could not start: %s\n", r.id.c_str(), e.what());
      try {
        store_.update_run(r);
      } catch (const Error&) {
      }
    }
  }
}

void Scheduler::resume_orphans(const dag::Dag& dag) {
  std::vector<state::RunRecord> candidates =
      store_.runs_in_state(dag.name, state::RunState::kRunning);
  if (first_tick_) {
    for (auto& r : store_.runs_in_state(dag.name, state::RunState::kInterrupted))
      candidates.push_back(std::move(r));
  }
  const auto active = driver_.active_ids();
  const run::EngineIdentity& me = run::EngineIdentity::self();
  for (const auto& r : candidates) {
    if (r.id.rfind(dag.name + "-scheduled-", 0) != 0) continue;  // not a scheduled run
    if (std::find(active.begin(), active.end(), r.id) != active.end()) continue;
    const auto owner = run::owner_of(r, me, now_ms(), run::default_stale_after());
    if (owner.state == run::OwnerState::kLive || owner.state == run::OwnerState::kThisEngine)
      continue;
    run::Takeover t;
    try {
      t = run::take_run(store_, r.id, me, {},
                        [&](state::RunRecord&) { run::prepare_resume(store_, r.id); });
    } catch (const run::RunOwnedElsewhere&) {
      continue;  // another scheduler got there first
    }
    dag::Dag stored = dag::load_dag_text(t.run.dag_yaml, t.run.dag_file);
    stored.params = t.run.params;
    const std::string was = owner.state == run::OwnerState::kGone
                                ? "its engine is gone: " + owner.who
                                : std::string("it was interrupted");
    emit({{"event", "resumed"}, {"run", r.id}, {"dag", dag.name}, {"reason", was}},
         "resumed   " + r.id + "  (" + was + ")");
    try {
      driver_.start(stored, t.run, nullptr,
                    [this](const RunDriver::Finished& f) { on_finished(f); });
    } catch (const Error& e) {
      failed_ = true;
      std::fprintf(stderr, "flow scheduler: run %s could not be resumed: %s\n", r.id.c_str(),
                   e.what());
    }
  }
}

void Scheduler::on_finished(const RunDriver::Finished& f) {
  if (!f.abandoned.empty()) {
    emit({{"event", "abandoned"}, {"run", f.run.id}, {"dag", f.run.dag}, {"reason", f.abandoned}},
         "abandoned " + f.run.id + "  " + f.abandoned);
    return;
  }
  std::map<std::string, int> counts;
  for (const auto& [s, n] : f.counts)
    if (n > 0) counts[std::string(state::to_string(s))] += n;
  std::string parts;
  for (const auto& [k, v] : counts)
    parts += (parts.empty() ? "" : ", ") + std::to_string(v) + " " + k;
  const EpochMs took = (f.run.ended ? f.run.ended : now_ms()) - f.run.started;
  const std::string state(state::to_string(f.run.state));
  emit({{"event", "finished"},
        {"run", f.run.id},
        {"dag", f.run.dag},
        {"state", state},
        {"counts", counts},
        {"duration_s", static_cast<double>(took) / 1000.0}},
       "finished  " + f.run.id + "  " + state + " in " + human_duration(Millis(took)) + " (" +
           parts + ")" +
           (f.run.state == state::RunState::kSucceeded ? "" : "; flow status " + f.run.id));
  std::fflush(stdout);
  if (f.run.state == state::RunState::kInterrupted) {
    interrupted_ = true;
  } else if (f.run.state != state::RunState::kSucceeded) {
    failed_ = true;
  }
  if (driver_.active() == 0 && (options_.once || stopping_)) {
    io_.stop();
  } else if (!stopping_ && !options_.once) {
    arm(std::chrono::milliseconds(0));  // a max_active_runs slot may have freed
  }
}

void Scheduler::report_folder_changes(const std::vector<std::filesystem::path>& changed) {
  for (const auto& path : changed) {
    const DagFile& f = folder_.files().at(path);
    for (const auto& d : folder_.problems(f))
      std::fprintf(stderr, "%s\n", d.str().c_str());
    if (!folder_.problems(f).empty()) {
      std::fprintf(stderr, "flow scheduler: skipping %s until it is fixed\n", path.c_str());
    }
  }
}

void Scheduler::emit(nlohmann::json event, const std::string& text) {
  const std::string when = schedule::format_utc(schedule::now());
  if (options_.json) {
    event["time"] = when;
    std::printf("%s\n", event.dump().c_str());
  } else {
    std::printf("%s  %s\n", when.c_str(), text.c_str());
  }
}

}  // namespace flow::runtime
