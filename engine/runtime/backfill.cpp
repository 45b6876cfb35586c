#include "engine/runtime/backfill.hpp"

#include <cstdio>
#include <deque>
#include <iostream>

#include "engine/core/clock.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/engine_timer.hpp"
#include "engine/run/ownership.hpp"
#include "engine/runtime/new_run.hpp"
#include "engine/runtime/run_driver.hpp"
#include "engine/schedule/time_text.hpp"

namespace flow::runtime {

namespace {

// Drives the backfill's runs on one io_context.
class Backfill {
 public:
  Backfill(const BackfillOptions& o, state::Store& store, const site::SiteCatalog& sites,
           Services services, const dag::Dag& dag)
      : o_(o),
        store_(store),
        dag_(dag),
        tt_(*timetable_of(dag)),
        out_(o.json ? stderr : stdout),
        driver_(io_, store, sites, std::move(services), o.home, o.parallelism,
                [](const std::string& text) { std::fprintf(stderr, "flow: %s\n", text.c_str()); }),
        retry_(io_) {}

  int run(const std::vector<schedule::DataInterval>& intervals) {
    for (const auto& iv : intervals) {
      std::optional<state::RunRecord> done;
      for (auto& r : store_.runs_for_interval(dag_.name, schedule::format_utc(iv.start))) {
        if (r.state == state::RunState::kSucceeded || is_executing(r)) done = std::move(r);
      }
      if (done) {
        line("skipped   " + span(iv) + ": run " + done->id + " is " +
             std::string(state::to_string(done->state)));
        skipped_.push_back({{"data_interval_start", schedule::format_utc(iv.start)},
                            {"data_interval_end", schedule::format_utc(iv.end)},
                            {"run", done->id},
                            {"state", state::to_string(done->state)}});
      } else {
        pending_.push_back(iv);
      }
    }
    if (!pending_.empty()) {
      driver_.preflight(dag_);  // before any run is recorded
      driver_.handle_signals([this](int) {
        stopping_ = true;
        retry_.cancel();
        if (driver_.active() == 0) io_.stop();
      });
      fill();
      if (driver_.active() > 0 || !pending_.empty()) io_.run();
      driver_.stop_handling_signals();
      driver_.finish_deliveries();  // notifications of runs that ended (docs/ALERTS.md)
    }
    return report();
  }

 private:
  std::string span(const schedule::DataInterval& iv) const {
    return schedule::format_local(iv.start, tt_.zone()) + " .. " +
           schedule::format_local(iv.end, tt_.zone());
  }

  void line(const std::string& text) {
    std::fprintf(out_, "%s\n", text.c_str());
    std::fflush(out_);
  }

  // Starts pending intervals while the DAG has free max_active_runs slots.
  void fill() {
    while (!stopping_ && !pending_.empty() &&
           count_executing_runs(store_, dag_.name) < dag_.max_active_runs) {
      const auto iv = pending_.front();
      pending_.pop_front();
      state::RunRecord r = new_run_record(dag_, backfill_run_id(dag_.name, iv.start), o_.home, 0);
      set_interval(r, iv);
      // Owned from the start, so another scheduler counts it against max_active_runs.
      run::EngineIdentity::self().stamp(r, now_ms());
      store_.insert_run(r);
      line("started   " + r.id + "  " + span(iv));
      driver_.start(dag_, r, nullptr, [this](const RunDriver::Finished& f) { finished(f); });
    }
    if (!stopping_ && !pending_.empty() && driver_.active() == 0) {
      // Every slot is held by other engines' runs: look again in a second.
      retry_.expires_after(std::chrono::seconds(1));
      retry_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) fill();
      });
    }
  }

  void finished(const RunDriver::Finished& f) {
    const EpochMs took = (f.run.ended ? f.run.ended : now_ms()) - f.run.started;
    line("finished  " + f.run.id + "  " + std::string(state::to_string(f.run.state)) + " in " +
         human_duration(Millis(took)));
    runs_.push_back(f.run);
    if (stopping_ || pending_.empty()) {
      if (driver_.active() == 0) io_.stop();
      return;
    }
    fill();
  }

  int report() {
    int ok = 0;
    bool interrupted = false;
    auto runs = nlohmann::json::array();
    for (const auto& r : runs_) {
      ok += r.state == state::RunState::kSucceeded ? 1 : 0;
      interrupted = interrupted || r.state == state::RunState::kInterrupted;
      runs.push_back({{"id", r.id},
                      {"state", state::to_string(r.state)},
                      {"logical_date", r.logical_date},
                      {"data_interval_start", r.data_interval_start},
                      {"data_interval_end", r.data_interval_end}});
    }
    const size_t bad = runs_.size() - static_cast<size_t>(ok);
    std::string summary = "backfill of " + dag_.name + ": " + std::to_string(runs_.size()) +
                          " run" + (runs_.size() == 1 ? "" : "s") + ", " + std::to_string(ok) +
                          " succeeded";
    if (bad) summary += ", " + std::to_string(bad) + " did not";
    if (!skipped_.empty()) summary += "; " + std::to_string(skipped_.size()) + " skipped";
    if (!pending_.empty()) summary += "; " + std::to_string(pending_.size()) + " not started";
    line(summary);
    for (const auto& r : runs_) {
      if (r.state != state::RunState::kSucceeded)
        line("  " + r.id + " " + std::string(state::to_string(r.state)) + ": flow status " + r.id +
             ", flow resume " + r.id);
    }
    if (o_.json) {
      std::cout << nlohmann::json{{"dag", dag_.name}, {"runs", runs}, {"skipped", skipped_}}.dump(2)
                << "\n";
    }
    if (interrupted || stopping_) return 130;
    return bad || !pending_.empty() ? 1 : 0;
  }

  const BackfillOptions& o_;
  state::Store& store_;
  const dag::Dag& dag_;
  schedule::Timetable tt_;
  std::FILE* out_;
  boost::asio::io_context io_;
  RunDriver driver_;
  EngineTimer retry_;
  std::deque<schedule::DataInterval> pending_;
  std::vector<state::RunRecord> runs_;
  nlohmann::json skipped_ = nlohmann::json::array();
  bool stopping_ = false;
};

}  // namespace

int run_backfill(const BackfillOptions& options, state::Store& store,
                 const site::SiteCatalog& sites, Services services, const dag::Dag& dag,
                 const std::vector<schedule::DataInterval>& intervals) {
  Backfill b(options, store, sites, std::move(services), dag);
  return b.run(intervals);
}

}  // namespace flow::runtime
