#include "engine/run/alerts.hpp"

#include <algorithm>

#include "engine/core/duration.hpp"
#include "engine/core/log.hpp"
#include "engine/dag/template.hpp"
#include "engine/run/notify_command.hpp"
#include "engine/state/store.hpp"

namespace flow::run {

namespace {

bool uses_secrets(const dag::NotifySpec& n) {
  return n.webhook.find("secrets.") != std::string::npos;
}

// The failed tasks of a run, for its failure message: "classify failed: 2 of 6 instances
// failed: classify[1], classify[4]; merge upstream_failed".
std::string run_failure_message(const std::vector<state::InstanceRecord>& instances) {
  std::string out;
  int shown = 0, failed = 0;
  for (const auto& i : instances) {
    if (!i.parent.empty()) continue;
    if (i.state != state::TaskState::kFailed && i.state != state::TaskState::kTimedOut) continue;
    ++failed;
    if (shown++ >= 3) continue;
    out += (out.empty() ? "" : "; ") + i.id + " " + std::string(state::to_string(i.state));
    if (!i.message.empty()) out += ": " + i.message;
  }
  if (failed > 3) out += "; and " + std::to_string(failed - 3) + " more";
  return out;
}

}  // namespace

bool Alerts::wanted(const dag::Dag& dag) {
  if (!dag.notify.empty() || dag.sla) return true;
  return std::any_of(dag.tasks.begin(), dag.tasks.end(),
                     [](const dag::Task& t) { return !t.extras->notify.empty() || t.extras->sla; });
}

Alerts::Alerts(boost::asio::io_context& io, state::Store& store, const dag::Dag& dag,
               state::RunRecord run, Deliveries& deliveries, WebhookSender* webhooks,
               AlertOptions options)
    : io_(io),
      store_(store),
      run_(std::move(run)),
      deliveries_(deliveries),
      webhooks_(webhooks),
      options_(options),
      dag_file_(dag.source_file),
      run_notify_(dag.notify),
      run_sla_(dag.sla) {
  bool secrets = std::any_of(run_notify_.begin(), run_notify_.end(), uses_secrets);
  for (const auto& t : dag.tasks) {
    if (t.extras->notify.empty() && !t.extras->sla) continue;
    tasks_[t.id] = TaskAlerts{t.extras->notify, t.extras->sla};
    secrets =
        secrets || std::any_of(t.extras->notify.begin(), t.extras->notify.end(), uses_secrets);
  }
  if (secrets) {
    try {
      secrets_ = read_secrets(dag);
    } catch (const std::exception& e) {
      secrets_problem_ = e.what();
    }
  }
}

Alerts::~Alerts() {
  for (auto& [_, t] : sla_timers_)
    t->cancel();
}

void Alerts::start(const std::vector<state::InstanceRecord>& instances) {
  try {
    // Rows of this engine (made by changes its controller committed while taking the run)
    // have higher ids than any an earlier engine made.
    const int n = store_.abandon_deliveries(run_.id, kAbandonedDelivery, now_ms(), first_delivery_);
    if (n > 0)
      log::warn("run " + run_.id + ": " + std::to_string(n) +
                    " notification(s) an earlier engine had not delivered are abandoned",
                run_.id);
    for (const auto& e : store_.events(run_.id)) {
      if (e.state == "sla_miss") sla_fired_.insert(e.instance_id);
    }
  } catch (const std::exception& e) {
    log::warn("run " + run_.id + ": notifications: " + e.what(), run_.id);
  }
  for (const auto& i : instances) {
    if (i.parent.empty()) own_[i.task_id] = i;
  }
  if (run_sla_) arm_sla("", *run_sla_);
  for (const auto& [id, t] : tasks_) {
    if (t.sla) arm_sla(id, *t.sla);
  }
}

void Alerts::arm_sla(const std::string& task_id, dag::Duration sla) {
  if (sla_fired_.count(task_id)) return;
  const EpochMs deadline = sla_start(run_) + sla.count();
  auto timer = std::make_unique<EngineTimer>(io_);
  timer->expires_after(std::chrono::milliseconds(std::max<EpochMs>(0, deadline - now_ms())));
  timer->async_wait([this, task_id, sla, deadline](const boost::system::error_code& ec) {
    if (!ec) sla_passed(task_id, sla, deadline);
  });
  sla_timers_[task_id] = std::move(timer);
}

void Alerts::sla_passed(const std::string& task_id, dag::Duration sla, EpochMs deadline) {
  if (ended_ || sla_fired_.count(task_id)) return;
  AlertFacts f;
  f.event = dag::NotifyEvent::kSlaMiss;
  f.at = now_ms();
  f.sla = sla;
  f.deadline = deadline;
  if (task_id.empty()) {
    f.state = "running";
    f.message =
        "the run had not ended " + format_duration(sla) + " after " + iso_utc(sla_start(run_));
  } else {
    auto it = own_.find(task_id);
    const state::TaskState st = it == own_.end() ? state::TaskState::kQueued : it->second.state;
    if (state::is_terminal(st)) return;  // it ended in time (its own event said how)
    f.instance_id = f.task_id = task_id;
    f.try_number = it == own_.end() ? 0 : it->second.try_number;
    f.state = std::string(state::to_string(st));
    f.message = "task " + task_id + " had not ended " + format_duration(sla) + " after " +
                iso_utc(sla_start(run_)) + "; it is " + f.state;
  }
  sla_fired_.insert(task_id);
  log::warn("run " + run_.id + ": " + (task_id.empty() ? "the run" : "task " + task_id) +
                " missed its SLA of " + format_duration(sla),
            run_.id);
  try {
    // The miss and the notifications it makes are one commit: a later engine neither
    // fires it again nor finds notifications without it.
    state::Store::Transaction tx(store_);
    store_.add_event({0, run_.id, task_id, f.try_number, f.at, "sla_miss", f.message});
    notify(task_id.empty() ? run_notify_ : tasks_[task_id].notify, f);
    tx.commit();
  } catch (const std::exception& e) {
    log::warn("run " + run_.id + ": could not record the SLA miss: " + e.what(), run_.id);
  }
}

void Alerts::on_change(const state::InstanceRecord& inst, state::TaskState from) {
  (void)from;
  if (ended_) return;
  if (inst.parent.empty()) own_[inst.task_id] = inst;
  AlertFacts f;
  f.instance_id = inst.id;
  f.task_id = inst.task_id;
  f.try_number = inst.try_number;
  f.state = std::string(state::to_string(inst.state));
  f.message = inst.message;
  f.at = now_ms();
  using S = state::TaskState;
  if (inst.state == S::kUpForRetry) {
    f.event = dag::NotifyEvent::kRetry;
  } else if (!inst.parent.empty()) {
    return;  // a foreach item or trial: its task's own instance says how the task ended
  } else if (inst.state == S::kFailed || inst.state == S::kTimedOut) {
    f.event = dag::NotifyEvent::kFailure;
  } else if (inst.state == S::kSucceeded) {
    f.event = dag::NotifyEvent::kSuccess;
  } else {
    return;
  }
  auto it = tasks_.find(inst.task_id);
  if (it != tasks_.end()) notify(it->second.notify, f);
  if (f.event == dag::NotifyEvent::kRetry) {
    // The run's own `notify:` hears of every retry in the run (failure and success it
    // hears as the run's end).
    notify(run_notify_, f);
  }
}

void Alerts::on_run_end(const state::RunRecord& run,
                        const std::vector<state::InstanceRecord>& instances) {
  if (ended_) return;
  ended_ = true;
  for (auto& [_, t] : sla_timers_)
    t->cancel();
  run_ = run;
  AlertFacts f;
  f.at = now_ms();
  f.state = std::string(state::to_string(run.state));
  if (run.state == state::RunState::kFailed) {
    f.event = dag::NotifyEvent::kFailure;
    f.message = run_failure_message(instances);
  } else if (run.state == state::RunState::kSucceeded) {
    f.event = dag::NotifyEvent::kSuccess;
  } else {
    return;  // interrupted or cancelled: someone stopped it on purpose
  }
  notify(run_notify_, f);
}

std::string Alerts::render(const std::string& text, bool shell, std::string* problem) const {
  try {
    const auto t = dag::Template::parse(text);
    return dag::render(
        t,
        [this](const dag::TemplateRef& r) -> nlohmann::json {
          const auto& p = r.path;
          if (p.size() == 2 && p[0] == "params") {
            if (run_.params.contains(p[1])) return run_.params[p[1]];
            throw std::runtime_error("no parameter '" + p[1] + "'");
          }
          if (p.size() == 2 && p[0] == "secrets") {
            auto it = secrets_.find(p[1]);
            if (it != secrets_.end()) return it->second;
            throw std::runtime_error("secret '" + p[1] + "' could not be read" +
                                     (secrets_problem_.empty() ? "" : ": " + secrets_problem_));
          }
          if (p.size() == 2 && p[0] == "run") {
            if (p[1] == "id") return run_.id;
            if (p[1] == "dag") return run_.dag;
            if (p[1] == "dir") return run_.run_dir;
            if (p[1] == "logical_date") return run_.logical_date;
            if (p[1] == "data_interval_start") return run_.data_interval_start;
            if (p[1] == "data_interval_end") return run_.data_interval_end;
          }
          throw std::runtime_error("{{ " + r.dotted() + " }} is not available in notify:");
        },
        shell);
  } catch (const std::exception& e) {
    *problem = e.what();
    return "";
  }
}

void Alerts::notify(const std::vector<dag::NotifySpec>& specs, const AlertFacts& facts) {
  auto mine = [this](int64_t id) { first_delivery_ = std::min(first_delivery_, id); };
  for (const auto& spec : specs) {
    if (!spec.wants(facts.event)) continue;
    const std::string payload = alert_payload(run_, facts).dump();
    state::DeliveryRecord d;
    d.run_id = run_.id;
    d.instance_id = facts.instance_id;
    d.event = std::string(dag::to_string(facts.event));
    d.try_number = facts.try_number;
    try {
      if (!spec.webhook.empty()) {
        d.kind = "webhook";
        std::string problem;
        const std::string url = render(spec.webhook, false, &problem);
        const auto tpl = dag::Template::parse(spec.webhook);
        const dag::TemplateRef* sole = tpl.sole_ref();
        const bool from_secret = sole && sole->path.size() == 2 && sole->path[0] == "secrets";
        const std::string origin = webhook_origin(url);
        d.target = from_secret ? "secret " + sole->path[1] : origin;
        if (problem.empty() && url.empty()) {
          // An empty URL (an unset parameter) switches the webhook off.
          log::info("run " + run_.id + ": notify at " + spec.where.str() +
                        ": the webhook URL is empty; not sent",
                    run_.id);
        } else if (!problem.empty()) {
          if (d.target.empty()) d.target = "(not rendered)";
          deliveries_.refuse(d, problem);
        } else if (origin.empty()) {
          if (d.target.empty()) d.target = "(not an URL)";
          deliveries_.refuse(d, "the webhook is not an http:// or https:// URL with a host");
        } else if (!webhooks_) {
          deliveries_.refuse(d, "webhooks are not available in this build");
        } else {
          WebhookRequest req{url, payload, options_.connect_timeout, options_.total_timeout};
          WebhookSender* sender = webhooks_;
          mine(deliveries_.deliver(d, [sender, req](std::function<void(const std::string&)> done) {
            sender->send(req, std::move(done));
          }));
        }
      }
      if (!spec.command.empty()) {
        d.kind = "command";
        d.target = spec.command;
        std::string problem;
        const std::string cmd = render(spec.command, true, &problem);
        if (!problem.empty()) {
          deliveries_.refuse(d, problem);
        } else {
          NotifyCommand c;
          c.command = cmd;
          c.payload = payload;
          c.env = {{"FLOW_NOTIFY_EVENT", d.event},
                   {"FLOW_RUN_ID", run_.id},
                   {"FLOW_DAG", run_.dag},
                   {"FLOW_TASK_ID", facts.instance_id}};
          c.workdir = run_.workdir;
          if (!run_.run_dir.empty()) c.log = std::filesystem::path(run_.run_dir) / "notify.log";
          c.timeout = options_.command_timeout;
          boost::asio::io_context* io = &io_;
          mine(deliveries_.deliver(d, [io, c](std::function<void(const std::string&)> done) {
            run_notify_command(*io, c, std::move(done));
          }));
        }
      }
    } catch (const std::exception& e) {
      log::warn("run " + run_.id + ": notify at " + spec.where.str() + ": " + e.what(), run_.id);
    }
  }
}

}  // namespace flow::run
