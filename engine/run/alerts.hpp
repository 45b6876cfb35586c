#pragma once
// The `notify:` and `sla:` of a run (docs/ALERTS.md). The run driver gives it every state
// change the controller has committed (it sits next to the RunObserver) and the end of
// the run; it decides which notifications that makes, renders their targets, and hands
// them to Deliveries, which records and delivers them. It never acts on the run: a
// notification that cannot be made or delivered is logged and recorded, nothing else.
//
// Events (task level: the task's own `notify:`; run level: the top-level one):
//  - failure: the task's own instance ends failed or timed_out / the run ends failed;
//  - retry:   an instance of the task (a foreach item or trial too) goes up_for_retry /
//             any instance of the run does;
//  - success: the task's own instance succeeds / the run ends succeeded;
//  - sla_miss: the task's (run's) `sla:` passed, counted from sla_start(run), while the
//             task (run) had not ended. Once per task and run: recorded as an event row
//             (state `sla_miss`) in the same transaction as its deliveries, and never
//             fired again for that run, also not by a later engine that resumes it.
//
// SLA deadlines wait on EngineTimers (the engine clock): tests drive them with a
// ManualClock.

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/core/engine_timer.hpp"
#include "engine/dag/dag.hpp"
#include "engine/run/alert_payload.hpp"
#include "engine/run/delivery.hpp"
#include "engine/run/notifier.hpp"
#include "engine/run/secrets.hpp"
#include "engine/state/records.hpp"

namespace flow::state {
class Store;
}

namespace flow::run {

// The error of a notification a killed engine left `pending`, once a later engine marked
// it `abandoned` (docs/ALERTS.md).
inline constexpr const char* kAbandonedDelivery =
    "the engine delivering it stopped before it was done";

struct AlertOptions {
  std::chrono::milliseconds command_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds total_timeout{std::chrono::seconds(10)};
};

class Alerts {
 public:
  // Does `dag` declare any `notify:` or `sla:`? (Without, a run needs no Alerts.)
  static bool wanted(const dag::Dag& dag);

  // `webhooks` may be null (every webhook delivery is then recorded failed); it and
  // `deliveries` must outlive this object. Secrets a webhook uses are read here.
  Alerts(boost::asio::io_context& io, state::Store& store, const dag::Dag& dag,
         state::RunRecord run, Deliveries& deliveries, WebhookSender* webhooks,
         AlertOptions options = {});
  ~Alerts();
  Alerts(const Alerts&) = delete;
  Alerts& operator=(const Alerts&) = delete;

  // This engine has taken the run: notifications an earlier engine left `pending` are
  // marked `abandoned`, and SLA timers are armed (a deadline already past fires now, if
  // the run has not recorded its miss yet). `instances`: the run's instances now.
  void start(const std::vector<state::InstanceRecord>& instances);
  // A state change the controller committed.
  void on_change(const state::InstanceRecord& inst, state::TaskState from);
  // The run ended (its final state is committed), or this engine stopped driving it.
  // Stops the SLA timers; a run that ended failed or succeeded notifies.
  void on_run_end(const state::RunRecord& run, const std::vector<state::InstanceRecord>& instances);

 private:
  struct TaskAlerts {
    std::vector<dag::NotifySpec> notify;
    std::optional<dag::Duration> sla;
  };
  void notify(const std::vector<dag::NotifySpec>& specs, const AlertFacts& facts);
  void arm_sla(const std::string& task_id, dag::Duration sla);
  void sla_passed(const std::string& task_id, dag::Duration sla, EpochMs deadline);
  std::string render(const std::string& text, bool shell, std::string* problem) const;

  boost::asio::io_context& io_;
  state::Store& store_;
  state::RunRecord run_;
  Deliveries& deliveries_;
  WebhookSender* webhooks_;
  AlertOptions options_;
  std::string dag_file_;
  std::vector<dag::NotifySpec> run_notify_;
  std::optional<dag::Duration> run_sla_;
  std::map<std::string, TaskAlerts> tasks_;  // tasks with notify or sla
  SecretValues secrets_;
  std::string secrets_problem_;  // why secrets could not be read ("" if they could)
  std::map<std::string, state::InstanceRecord> own_;  // each task's own instance, as last seen
  std::set<std::string> sla_fired_;                   // task ids ("" = the run)
  std::map<std::string, std::unique_ptr<EngineTimer>> sla_timers_;
  int64_t first_delivery_ = INT64_MAX;  // the first row this object made
  bool ended_ = false;
};

}  // namespace flow::run
