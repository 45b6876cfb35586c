// Alerts (docs/ALERTS.md) without a network: the `notify:`/`sla:` keys as the loader and
// validation read them, the payload, SLA deadlines and delivery retries on a ManualClock,
// with a fake WebhookSender standing in for libcurl.
#include "engine/run/alerts.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <deque>

#include "engine/core/error.hpp"
#include "engine/dag/loader.hpp"
#include "engine/dag/validate.hpp"
#include "engine/run/alert_payload.hpp"
#include "engine/run/delivery.hpp"
#include "engine/state/store.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/temp_dir.hpp"

using namespace flow;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string load_errors(const std::string& yaml) {
  try {
    auto dag = dag::load_dag_text(yaml, "x.yaml");
    dag::validate_or_throw(dag, {});
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

// Records every request; answers each with the next of `answers` ("" = delivered), or
// "" when they run out. Answers are posted, as the real sender's are.
struct FakeSender : run::WebhookSender {
  explicit FakeSender(boost::asio::io_context& i) : io(i) {}
  void send(run::WebhookRequest r, run::WebhookDone done) override {
    requests.push_back(r);
    std::string answer;
    if (!answers.empty()) {
      answer = answers.front();
      answers.pop_front();
    }
    boost::asio::post(io, [done = std::move(done), answer] { done(answer); });
  }
  boost::asio::io_context& io;
  std::deque<std::string> answers;
  std::vector<run::WebhookRequest> requests;
};

struct Bench {
  test::ManualTime time;
  test::TempDir dir{"flow-alerts"};
  std::unique_ptr<state::Store> store = state::Store::open(dir / "flow.db");
  boost::asio::io_context io;
  FakeSender sender{io};
  run::Deliveries deliveries{io, *store};

  // Runs the loop a few real milliseconds: timers look at the manual clock each ms.
  void settle() {
    for (int i = 0; i < 10; ++i) {
      io.restart();
      io.run_for(std::chrono::milliseconds(3));
    }
  }
  state::RunRecord run(const std::string& id = "d-20270101T000000-abcd") {
    state::RunRecord r;
    r.id = id;
    r.dag = "d";
    r.dag_yaml = "dag: d";
    r.dag_hash = "h";
    r.run_dir = (dir / "runs" / id).string();
    r.created = now_ms();
    r.logical_date = "2027-01-01T00:00:00Z";
    r.data_interval_start = "2026-12-31T00:00:00Z";
    r.data_interval_end = "2027-01-01T00:00:00Z";
    store->insert_run(r);
    return r;
  }
};

state::InstanceRecord instance(const std::string& id, state::TaskState s, int tries = 1) {
  state::InstanceRecord i;
  i.run_id = "d-20270101T000000-abcd";
  i.id = id;
  i.task_id = id.substr(0, id.find('['));
  if (id.find('[') != std::string::npos) i.parent = i.task_id;
  i.state = s;
  i.try_number = tries;
  return i;
}

}  // namespace

// --- the keys ------------------------------------------------------------------------

TEST(NotifyKeys, LoaderReadsRunAndTaskNotifyWithTheirEventsAndSla) {
  auto dag = dag::load_dag_text(R"(dag: d
sla: 2h
notify:
  - on: [failure, sla_miss]
    webhook: https://hooks.example.org/services/T0/B0/XYZ
  - command: ./page-me.sh
tasks:
  - id: a
    run: echo a
    sla: 90s
    notify: {on: retry, command: echo retried}
)",
                                "x.yaml");
  ASSERT_EQ(dag.notify.size(), 2u);
  EXPECT_EQ(dag.notify[0].on, (std::vector<dag::NotifyEvent>{dag::NotifyEvent::kFailure,
                                                             dag::NotifyEvent::kSlaMiss}));
  EXPECT_EQ(dag.notify[0].webhook, "https://hooks.example.org/services/T0/B0/XYZ");
  EXPECT_EQ(dag.notify[1].on, std::vector<dag::NotifyEvent>{dag::NotifyEvent::kFailure})
      << "`on:` defaults to failure";
  EXPECT_EQ(dag.sla, std::chrono::hours(2));
  ASSERT_EQ(dag.tasks[0].extras->notify.size(), 1u);
  EXPECT_EQ(dag.tasks[0].extras->notify[0].on,
            std::vector<dag::NotifyEvent>{dag::NotifyEvent::kRetry});
  EXPECT_EQ(dag.tasks[0].extras->notify[0].command, "echo retried");
  EXPECT_EQ(dag.tasks[0].extras->sla, std::chrono::seconds(90));
}

TEST(NotifyKeys, AnUnknownEventIsReportedAtItsLineWithADidYouMean) {
  const auto e = load_errors(
      "dag: d\nnotify:\n  on: [failure, sla_mis]\n  command: x\n"
      "tasks:\n  - {id: a, run: echo}\n");
  EXPECT_NE(e.find("x.yaml:3:7: notify.on: 'sla_mis' is not an event (did you mean 'sla_miss'?)"),
            std::string::npos)
      << e;
  EXPECT_EQ(e.find("is empty"), std::string::npos) << "one mistake, one message: " << e;
  EXPECT_NE(load_errors("dag: d\nnotify: {on: [], command: x}\ntasks:\n  - {id: a, run: echo}\n")
                .find("x.yaml:2:14: notify.on is empty: name an event"),
            std::string::npos);
}

TEST(NotifyKeys, AnUnknownKeyInAnEntrySuggestsTheNearMiss) {
  const auto e = load_errors(
      "dag: d\ntasks:\n  - id: a\n    run: echo\n    notify:\n      webhok: http://x\n");
  EXPECT_NE(e.find("x.yaml:6:7: unknown key 'webhok' in notify of task 'a' (did you mean "
                   "'webhook'?)"),
            std::string::npos)
      << e;
}

TEST(NotifyKeys, AnEntryMustSayWhereToSend) {
  const auto e = load_errors("dag: d\nnotify: {on: success}\ntasks:\n  - {id: a, run: echo}\n");
  EXPECT_NE(e.find("x.yaml:2:9: notify says where to send it: add 'webhook: URL' and/or "
                   "'command: CMD'"),
            std::string::npos)
      << e;
}

TEST(NotifyKeys, AWebhookMustBeHttpOrATemplate) {
  auto e = load_errors("dag: d\nnotify: {webhook: ftp://x/y}\ntasks:\n  - {id: a, run: echo}\n");
  EXPECT_NE(e.find("x.yaml:2:19: notify.webhook must be an http:// or https:// URL"),
            std::string::npos)
      << e;
  EXPECT_EQ(load_errors("dag: d\nparams: {hook: ''}\nnotify: {webhook: '{{ params.hook }}'}\n"
                        "tasks:\n  - {id: a, run: echo}\n"),
            "");
}

TEST(NotifyKeys, AnSlaMustBeAPositiveDuration) {
  auto e = load_errors("dag: d\nsla: soon\ntasks:\n  - {id: a, run: echo}\n");
  EXPECT_NE(e.find("x.yaml:2:6: sla: 'soon' is not a duration"), std::string::npos) << e;
  e = load_errors("dag: d\ntasks:\n  - {id: a, run: echo, sla: 0s}\n");
  EXPECT_NE(e.find("sla of task 'a' must be longer than 0s"), std::string::npos) << e;
}

TEST(NotifyKeys, ASecretMayNameTheWebhookButNotACommand) {
  const std::string head = "dag: d\nsecrets: {hook: {env: HOOK}}\n";
  EXPECT_EQ(load_errors(head + "notify: {webhook: '{{ secrets.hook }}'}\n"
                               "tasks:\n  - {id: a, run: echo}\n"),
            "");
  auto e = load_errors(head +
                       "notify: {command: 'curl {{ secrets.hook }}'}\n"
                       "tasks:\n  - {id: a, run: echo}\n");
  EXPECT_NE(e.find("x.yaml:3:9: DAG notify command: {{ secrets.hook }}: a secret may only be "
                   "used in a webhook URL"),
            std::string::npos)
      << e;
  e = load_errors(head +
                  "notify: {webhook: '{{ secrets.hok }}'}\ntasks:\n  - {id: a, run: echo}\n");
  EXPECT_NE(e.find("unknown secret 'hok' (did you mean 'hook'?)"), std::string::npos) << e;
  e = load_errors(
      "dag: d\nnotify: {command: 'echo {{ tasks.a.outputs.x }}'}\n"
      "tasks:\n  - {id: a, run: echo}\n");
  EXPECT_NE(e.find("notify: may use params.X, run.* and (in a webhook) secrets.X"),
            std::string::npos)
      << e;
}

// --- what a notification says ---------------------------------------------------------

TEST(AlertPayload, ATaskFailureHasEveryDocumentedKeyAndASlackText) {
  Bench b;
  const auto r = b.run();
  run::AlertFacts f;
  f.event = dag::NotifyEvent::kFailure;
  f.instance_id = f.task_id = "merge";
  f.try_number = 2;
  f.state = "failed";
  f.message = "exit 1\nTraceback: boom";
  f.at = 1'800'000'000'000;
  const json p = run::alert_payload(r, f);
  for (const char* k :
       {"event", "dag", "run", "task", "instance", "try", "state", "message", "logical_date",
        "data_interval_start", "data_interval_end", "time", "sla", "deadline", "text"})
    EXPECT_TRUE(p.contains(k)) << k;
  EXPECT_EQ(p["event"], "failure");
  EXPECT_EQ(p["task"], "merge");
  EXPECT_EQ(p["try"], 2);
  EXPECT_EQ(p["message"], "exit 1\nTraceback: boom");
  EXPECT_EQ(p["time"], "2027-01-15T08:00:00.000Z");
  EXPECT_TRUE(p["sla"].is_null());
  EXPECT_EQ(p["text"],
            "flow: task merge of d failed (run " + r.id + ", try 2): exit 1 Traceback: boom");
}

TEST(AlertPayload, ARunEventHasNoTaskAndAnSlaMissSaysItsDeadline) {
  Bench b;
  const auto r = b.run();
  run::AlertFacts f;
  f.event = dag::NotifyEvent::kSlaMiss;
  f.state = "running";
  f.sla = 2s;
  f.deadline = 1'800'000'002'000;
  const json p = run::alert_payload(r, f);
  EXPECT_TRUE(p["task"].is_null());
  EXPECT_TRUE(p["try"].is_null());
  EXPECT_EQ(p["sla"], "2s");
  EXPECT_EQ(p["deadline"], "2027-01-15T08:00:02.000Z");
  EXPECT_EQ(p["text"],
            "flow: run of d missed its SLA of 2s (deadline 2027-01-15T08:00:02.000Z, "
            "running) (run " +
                r.id + ")");
}

TEST(AlertPayload, ScheduledRunsCountTheirSlaFromTheIntervalEndOthersFromCreation) {
  state::RunRecord r;
  r.dag = "d";
  r.id = "d-scheduled-20261231T000000Z";
  r.data_interval_end = "2027-01-01T00:00:00Z";
  r.created = 1'900'000'000'000;
  EXPECT_EQ(run::sla_start(r), 1'798'761'600'000);  // 2027-01-01T00:00:00Z
  r.id = "d-20270101T000000-abcd";
  EXPECT_EQ(run::sla_start(r), 1'900'000'000'000);
  r.id = "d-backfill-20261231T000000Z-abcd";
  EXPECT_EQ(run::sla_start(r), 1'900'000'000'000);
}

TEST(AlertPayload, AWebhookIsNamedByItsSchemeAndHostOnly) {
  EXPECT_EQ(run::webhook_origin("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com");
  EXPECT_EQ(run::webhook_origin("http://user:pw@127.0.0.1:8080/hook?token=x"),
            "http://127.0.0.1:8080");
  EXPECT_EQ(run::webhook_origin("ftp://x/y"), "");
  EXPECT_EQ(run::webhook_origin("https:///path"), "");
}

// --- delivering -----------------------------------------------------------------------

TEST(Deliveries, AFailedAttemptIsRetriedAfter1sThen4sOnTheEngineClock) {
  Bench b;
  b.sender.answers = {"HTTP 500", "HTTP 502", ""};
  state::DeliveryRecord d{0, "r", "", "failure", 0, "webhook", "http://h", "", 0, "", 0, 0};
  const auto id = b.deliveries.deliver(d, [&](auto done) { b.sender.send({}, std::move(done)); });
  b.settle();
  ASSERT_EQ(b.sender.requests.size(), 1u);
  auto rows = b.store->deliveries("r");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, id);
  EXPECT_EQ(rows[0].state, "pending");
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(rows[0].error, "HTTP 500");
  b.time.advance(999ms);
  b.settle();
  EXPECT_EQ(b.sender.requests.size(), 1u) << "retried before its wait";
  b.time.advance(1ms);
  b.settle();
  EXPECT_EQ(b.sender.requests.size(), 2u);
  b.time.advance(3999ms);
  b.settle();
  EXPECT_EQ(b.sender.requests.size(), 2u);
  b.time.advance(1ms);
  b.settle();
  EXPECT_EQ(b.sender.requests.size(), 3u);
  rows = b.store->deliveries("r");
  EXPECT_EQ(rows[0].state, "delivered");
  EXPECT_EQ(rows[0].attempts, 3);
  EXPECT_EQ(rows[0].error, "");
  EXPECT_EQ(b.deliveries.pending(), 0u);
}

TEST(Deliveries, AfterThreeFailedAttemptsItIsRecordedFailedWithTheLastError) {
  Bench b;
  b.sender.answers = {"refused", "refused", "Connection refused"};
  bool idle = false;
  state::DeliveryRecord d{0, "r", "a", "retry", 1, "webhook", "http://h", "", 0, "", 0, 0};
  b.deliveries.deliver(d, [&](auto done) { b.sender.send({}, std::move(done)); });
  b.deliveries.when_idle([&] { idle = true; });
  b.settle();
  b.time.advance(1s);
  b.settle();
  EXPECT_FALSE(idle);
  b.time.advance(4s);
  b.settle();
  EXPECT_TRUE(idle);
  const auto rows = b.store->deliveries("r");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "failed");
  EXPECT_EQ(rows[0].attempts, 3);
  EXPECT_EQ(rows[0].error, "Connection refused");
  b.time.advance(1h);
  b.settle();
  EXPECT_EQ(b.sender.requests.size(), 3u) << "no fourth attempt";
}

// --- events and SLAs ------------------------------------------------------------------

TEST(Alerts, ATaskSlaMissFiresOnceAtItsDeadlineAndIsRecordedAsAnEvent) {
  Bench b;
  auto dag = dag::load_dag_text(R"(dag: d
tasks:
  - id: slow
    run: sleep 60
    sla: 2s
    notify: {on: sla_miss, webhook: "http://127.0.0.1:9/hook/TOKEN"}
)",
                                "x.yaml");
  const auto r = b.run();
  run::Alerts alerts(b.io, *b.store, dag, r, b.deliveries, &b.sender);
  alerts.start({instance("slow", state::TaskState::kRunning)});
  b.time.advance(1999ms);
  b.settle();
  EXPECT_TRUE(b.sender.requests.empty());
  b.time.advance(1ms);
  b.settle();
  ASSERT_EQ(b.sender.requests.size(), 1u);
  const json body = json::parse(b.sender.requests[0].body);
  EXPECT_EQ(body["event"], "sla_miss");
  EXPECT_EQ(body["task"], "slow");
  EXPECT_EQ(body["state"], "running");
  EXPECT_EQ(b.sender.requests[0].url, "http://127.0.0.1:9/hook/TOKEN");
  b.time.advance(1h);
  b.settle();
  EXPECT_EQ(b.sender.requests.size(), 1u) << "once per task and run";
  const auto rows = b.store->deliveries(r.id);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].target, "http://127.0.0.1:9") << "never the path: it may hold a token";
  EXPECT_EQ(rows[0].state, "delivered");
  int misses = 0;
  for (const auto& e : b.store->events(r.id))
    misses += e.state == "sla_miss" && e.instance_id == "slow";
  EXPECT_EQ(misses, 1);
}

TEST(Alerts, ATaskThatEndedBeforeItsDeadlineMissesNoSla) {
  Bench b;
  auto dag = dag::load_dag_text(
      "dag: d\ntasks:\n  - id: a\n    run: x\n    sla: 2s\n"
      "    notify: {on: [sla_miss], webhook: 'http://127.0.0.1:9/'}\n",
      "x.yaml");
  const auto r = b.run();
  run::Alerts alerts(b.io, *b.store, dag, r, b.deliveries, &b.sender);
  alerts.start({instance("a", state::TaskState::kRunning)});
  alerts.on_change(instance("a", state::TaskState::kSucceeded), state::TaskState::kRunning);
  b.time.advance(3s);
  b.settle();
  EXPECT_TRUE(b.sender.requests.empty());
  EXPECT_TRUE(b.store->deliveries(r.id).empty());
}

TEST(Alerts, FailureRetryAndSuccessReachTheEntriesThatAskForThem) {
  Bench b;
  auto dag = dag::load_dag_text(R"(dag: d
notify: {on: [failure, retry], webhook: "http://run.example/h"}
tasks:
  - id: a
    run: x
    notify: {on: [success], webhook: "http://task.example/h"}
  - id: tiles
    run: x
    foreach: [1, 2]
    notify: {on: [failure, retry], webhook: "http://tiles.example/h"}
)",
                                "x.yaml");
  const auto r = b.run();
  run::Alerts alerts(b.io, *b.store, dag, r, b.deliveries, &b.sender);
  alerts.start({});
  alerts.on_change(instance("a", state::TaskState::kSucceeded), state::TaskState::kRunning);
  alerts.on_change(instance("tiles[1]", state::TaskState::kUpForRetry), state::TaskState::kRunning);
  alerts.on_change(instance("tiles[1]", state::TaskState::kFailed, 2), state::TaskState::kRunning);
  alerts.on_change(instance("tiles", state::TaskState::kFailed), state::TaskState::kRunning);
  auto ended = r;
  ended.state = state::RunState::kFailed;
  auto failed = instance("tiles", state::TaskState::kFailed);
  failed.message = "1 of 2 instances failed: tiles[1]";
  alerts.on_run_end(ended, {instance("a", state::TaskState::kSucceeded), failed});
  b.settle();
  std::vector<std::string> got;
  for (const auto& q : b.sender.requests) {
    const json p = json::parse(q.body);
    got.push_back(q.url + " " + p["event"].get<std::string>() + " " +
                  (p["instance"].is_null() ? "-" : p["instance"].get<std::string>()));
  }
  EXPECT_EQ(got, (std::vector<std::string>{
                     "http://task.example/h success a",
                     "http://tiles.example/h retry tiles[1]",
                     "http://run.example/h retry tiles[1]",
                     "http://tiles.example/h failure tiles",
                     "http://run.example/h failure -",
                 }));
  EXPECT_EQ(json::parse(b.sender.requests.back().body)["message"],
            "tiles failed: 1 of 2 instances failed: tiles[1]");
}

TEST(Alerts, AnEmptyWebhookUrlSendsNothingAndRecordsNothing) {
  Bench b;
  auto dag = dag::load_dag_text(
      "dag: d\nparams: {hook: ''}\nnotify: {webhook: '{{ params.hook }}'}\n"
      "tasks:\n  - {id: a, run: x}\n",
      "x.yaml");
  auto r = b.run();
  r.params = dag.params;
  run::Alerts alerts(b.io, *b.store, dag, r, b.deliveries, &b.sender);
  alerts.start({});
  r.state = state::RunState::kFailed;
  alerts.on_run_end(r, {});
  b.settle();
  EXPECT_TRUE(b.sender.requests.empty());
  EXPECT_TRUE(b.store->deliveries(r.id).empty());
}

TEST(Alerts, ATakeOverAbandonsWhatTheEarlierEngineLeftPendingAndKeepsItsSlaMiss) {
  Bench b;
  auto dag = dag::load_dag_text(
      "dag: d\nsla: 1s\nnotify: {on: sla_miss, webhook: 'http://h.example/x'}\n"
      "tasks:\n  - {id: a, run: x}\n",
      "x.yaml");
  const auto r = b.run();
  // What a killed engine leaves: the miss recorded, its notification still pending.
  b.store->add_event({0, r.id, "", 0, now_ms(), "sla_miss", "the run had not ended"});
  b.store->add_delivery({0, r.id, "", "sla_miss", 0, "webhook", "http://h.example", "pending", 1,
                         "", now_ms(), now_ms()});
  run::Alerts alerts(b.io, *b.store, dag, r, b.deliveries, &b.sender);
  alerts.start({});
  b.time.advance(1h);
  b.settle();
  EXPECT_TRUE(b.sender.requests.empty()) << "the miss was recorded: it is not fired again";
  const auto rows = b.store->deliveries(r.id);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "abandoned");
  EXPECT_EQ(rows[0].error, "the engine delivering it stopped before it was done");
}
