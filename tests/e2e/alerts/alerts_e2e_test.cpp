// Alerts (docs/ALERTS.md) end to end: the real `flow` binary sends its notifications to a
// real HTTP server on 127.0.0.1 that the test starts (receiver.py, which logs each request
// as a JSON line), or runs a real command; `flow status --json` shows what was recorded.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <regex>

#include "../engine/cli.hpp"

using flow::test::Background;
using flow::test::eventually;
using flow::test::Project;
using flow::test::slurp;
using nlohmann::json;

namespace {

// receiver.py in the background, its own process group; killed when the test ends.
class Receiver {
 public:
  explicit Receiver(const Project& p, int status = 200)
      : portfile_(p.dir() / ".receiver.port"), log_(p.dir() / ".receiver.log") {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const std::string script = FLOW_SOURCE_DIR "/tests/e2e/alerts/receiver.py";
      const std::string st = std::to_string(status);
      ::execl("/usr/bin/python3", "python3", script.c_str(), portfile_.c_str(), log_.c_str(),
              st.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (!eventually([&] { return std::filesystem::exists(portfile_); }, 20))
      ADD_FAILURE() << "the receiver did not start";
    port_ = std::stoi(slurp(portfile_));
  }
  ~Receiver() {
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<json> requests() const {
    std::vector<json> out;
    std::istringstream in(slurp(log_));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }

 private:
  std::filesystem::path portfile_, log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A port on 127.0.0.1 that is bound but never listened on: a connection to it is refused
// at once, and no other process can take it while the test holds it.
class DeadPort {
 public:
  DeadPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &n);
    port_ = ntohs(a.sin_port);
  }
  ~DeadPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// The run id in `flow run --json`'s final document.
std::string run_id_of(const flow::test::CmdResult& r) {
  auto doc = json::parse(r.out, nullptr, false);
  return doc.is_discarded() ? "" : doc["run"]["id"].get<std::string>();
}

json status(const Project& p, const std::string& run) {
  return json::parse(p.flow("status " + run + " --json").out);
}

// dags/landcover_nightly.yaml and its scripts, as shipped, with retries off (its 30s retry
// delay would make a failing run take minutes) and `size` 0, which makes classify.py fail.
void copy_landcover(const Project& p) {
  const std::filesystem::path src = FLOW_SOURCE_DIR "/dags";
  std::filesystem::create_directories(p.dir() / "dags");
  std::filesystem::copy(src / "landcover", p.dir() / "dags" / "landcover",
                        std::filesystem::copy_options::recursive);
  std::string text = slurp(src / "landcover_nightly.yaml");
  const std::string defaults = "defaults: {retries: 2, retry_delay: 30s, timeout: 30m}";
  const auto at = text.find(defaults);
  ASSERT_NE(at, std::string::npos) << "the shipped DAG's defaults changed";
  text.replace(at, defaults.size(), "defaults: {retries: 0, timeout: 30m}");
  p.write("dags/landcover_nightly.yaml", text);
}

}  // namespace

TEST(AlertsE2E, AFailingLandcoverNightlyRunPostsItsFailureToTheWebhook) {
  Project p;
  copy_landcover(p);
  Receiver rx(p);
  auto r = p.flow("run dags/landcover_nightly.yaml -p size=0 -p alert_webhook=" +
                  rx.url("/hooks/T0K3N") + " --json");
  ASSERT_EQ(r.code, 1) << r.out << r.err;
  const std::string run = run_id_of(r);
  ASSERT_FALSE(run.empty()) << r.out;

  const auto got = rx.requests();
  ASSERT_EQ(got.size(), 1u) << "one failure alert for the run";
  EXPECT_EQ(got[0]["method"], "POST");
  EXPECT_EQ(got[0]["path"], "/hooks/T0K3N");
  EXPECT_EQ(got[0]["headers"]["content-type"], "application/json");
  const json body = json::parse(got[0]["body"].get<std::string>());
  EXPECT_EQ(body["event"], "failure");
  EXPECT_EQ(body["dag"], "landcover_nightly");
  EXPECT_EQ(body["run"], run);
  EXPECT_TRUE(body["task"].is_null());
  EXPECT_EQ(body["state"], "failed");
  EXPECT_NE(body["message"].get<std::string>().find("classify failed"), std::string::npos) << body;
  EXPECT_TRUE(body["logical_date"].is_string());
  EXPECT_EQ(body["text"].get<std::string>().rfind(
                "flow: run of landcover_nightly failed (run " + run + "): classify failed", 0),
            0u)
      << body["text"];

  const json st = status(p, run);
  ASSERT_EQ(st["deliveries"].size(), 1u) << st.dump(2);
  const json& d = st["deliveries"][0];
  EXPECT_EQ(d["event"], "failure");
  EXPECT_TRUE(d["task"].is_null());
  EXPECT_EQ(d["kind"], "webhook");
  EXPECT_EQ(d["target"], rx.origin()) << "scheme and host only: the path may hold a token";
  EXPECT_EQ(d["state"], "delivered");
  EXPECT_EQ(d["attempts"], 1);
  EXPECT_TRUE(d["error"].is_null());
}

TEST(AlertsE2E, TheShippedLandcoverDagSendsNothingWithoutAWebhook) {
  Project p;
  copy_landcover(p);
  auto r = p.flow("run dags/landcover_nightly.yaml -p size=0 --json");
  ASSERT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(status(p, run_id_of(r))["deliveries"].empty());
}

TEST(AlertsE2E, AnSlaMissIsDeliveredOnceForTheTaskAndOnceForTheRun) {
  Project p;
  Receiver rx(p);
  p.write("sla.yaml", "dag: sla\nsla: 1s\nnotify: {on: [sla_miss], webhook: '" + rx.url("/run") +
                          "'}\ntasks:\n  - id: slow\n    run: sleep 3\n    sla: 1s\n"
                          "    notify: {on: [sla_miss, failure], webhook: '" +
                          rx.url("/task") + "'}\n");
  auto r = p.flow("run sla.yaml --json");
  ASSERT_EQ(r.code, 0) << r.out << r.err;  // missing an SLA does not fail the run
  const std::string run = run_id_of(r);
  std::map<std::string, json> by_path;
  for (const auto& q : rx.requests())
    by_path[q["path"].get<std::string>()] = json::parse(q["body"].get<std::string>());
  ASSERT_EQ(rx.requests().size(), 2u);
  ASSERT_TRUE(by_path.count("/task") && by_path.count("/run"));
  EXPECT_EQ(by_path["/task"]["event"], "sla_miss");
  EXPECT_EQ(by_path["/task"]["task"], "slow");
  EXPECT_EQ(by_path["/task"]["state"], "running");
  EXPECT_EQ(by_path["/task"]["sla"], "1s");
  EXPECT_TRUE(by_path["/task"]["deadline"].is_string());
  EXPECT_EQ(by_path["/run"]["event"], "sla_miss");
  EXPECT_TRUE(by_path["/run"]["task"].is_null());

  const json st = status(p, run);
  ASSERT_EQ(st["deliveries"].size(), 2u) << st.dump(2);
  for (const auto& d : st["deliveries"]) {
    EXPECT_EQ(d["event"], "sla_miss");
    EXPECT_EQ(d["state"], "delivered");
  }
  EXPECT_EQ(st["run"]["state"], "succeeded");
}

TEST(AlertsE2E, AReceiverThatIsDownLeavesTheRunAsItWasAndTheFailedDeliveryIsRecorded) {
  Project p;
  DeadPort dead;
  const std::string url = "http://127.0.0.1:" + std::to_string(dead.port()) + "/hook";
  p.write("down.yaml", "dag: down\ntasks:\n  - id: a\n    run: exit 3\n    notify: {webhook: '" +
                           url +
                           "'}\n"
                           "  - id: b\n    run: echo b\n");
  auto r = p.flow("run down.yaml --json");
  EXPECT_EQ(r.code, 1) << r.out << r.err;  // what the failed task makes it, as without notify
  const std::string run = run_id_of(r);
  const json st = status(p, run);
  EXPECT_EQ(st["run"]["state"], "failed");
  std::map<std::string, json> tasks;
  for (const auto& t : st["tasks"])
    tasks[t["id"].get<std::string>()] = t;
  EXPECT_EQ(tasks["a"]["state"], "failed");
  EXPECT_EQ(tasks["a"]["exit_code"], 3);
  EXPECT_EQ(tasks["b"]["state"], "succeeded");

  ASSERT_EQ(st["deliveries"].size(), 1u) << st.dump(2);
  const json& d = st["deliveries"][0];
  EXPECT_EQ(d["event"], "failure");
  EXPECT_EQ(d["task"], "a");
  EXPECT_EQ(d["try"], 1);
  EXPECT_EQ(d["state"], "failed");
  EXPECT_EQ(d["attempts"], 3);
  EXPECT_TRUE(d["error"].is_string());
  EXPECT_EQ(d["error"].get<std::string>().find("/hook"), std::string::npos) << d["error"];
  // The run ended (and was recorded so) before the delivery gave up: it did not wait.
  EXPECT_LT(st["run"]["ended"].get<std::string>(), d["updated"].get<std::string>());

  auto text = p.flow("status " + run);
  EXPECT_NE(text.out.find("notification failure of task a (webhook http://127.0.0.1:" +
                          std::to_string(dead.port()) + "): failed after 3 attempt(s)"),
            std::string::npos)
      << text.out;
}

TEST(AlertsE2E, ACommandNotificationReadsThePayloadOnStdinWithQuotedValues) {
  Project p;
  // The parameter's value has a space, a quote and a `$(...)`: quoted, it is one file name.
  p.write("cmd.yaml", R"(dag: cmd
params: {out: "it's $(touch pwned) here.json"}
notify:
  on: [success]
  command: |
    cat > {{ params.out }}; echo "$FLOW_NOTIFY_EVENT $FLOW_RUN_ID $FLOW_DAG" > env.txt
tasks:
  - id: a
    run: echo a
)");
  auto r = p.flow("run cmd.yaml --json");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const std::string run = run_id_of(r);
  const auto out = p.dir() / "it's $(touch pwned) here.json";
  ASSERT_TRUE(std::filesystem::exists(out)) << r.err;
  EXPECT_FALSE(std::filesystem::exists(p.dir() / "pwned"));
  const json body = json::parse(slurp(out));
  EXPECT_EQ(body["event"], "success");
  EXPECT_EQ(body["run"], run);
  EXPECT_EQ(body["state"], "succeeded");
  EXPECT_EQ(slurp(p.dir() / "env.txt"), "success " + run + " cmd\n");
  const json st = status(p, run);
  ASSERT_EQ(st["deliveries"].size(), 1u);
  EXPECT_EQ(st["deliveries"][0]["kind"], "command");
  EXPECT_EQ(st["deliveries"][0]["state"], "delivered");
}

TEST(AlertsE2E, AResumeAbandonsTheNotificationsOfAKilledEngine) {
  Project p;
  // The first try fails (a retry notification starts, a command that takes 10s); the
  // engine is killed while it runs; the resumed run retries and succeeds.
  p.write("kill.yaml", R"(dag: kill
tasks:
  - id: a
    retries: 1
    retry_delay: 5s
    run: |
      test -e tried && exit 0
      touch tried; exit 1
    notify: {on: [retry], command: sleep 10}
)");
  Background bg(p, "run kill.yaml --run-id kill-1");
  ASSERT_TRUE(eventually(
      [&] {
        auto st = json::parse(p.flow("status kill-1 --json").out, nullptr, false);
        return !st.is_discarded() && st.contains("deliveries") && st["deliveries"].size() == 1 &&
               st["deliveries"][0]["state"] == "pending";
      },
      30));
  bg.signal(SIGKILL);
  bg.wait();
  auto r = p.flow("resume kill-1 --json");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const json st = status(p, "kill-1");
  EXPECT_EQ(st["run"]["state"], "succeeded");
  ASSERT_EQ(st["deliveries"].size(), 1u) << st.dump(2);
  EXPECT_EQ(st["deliveries"][0]["event"], "retry");
  EXPECT_EQ(st["deliveries"][0]["state"], "abandoned");
  EXPECT_EQ(st["deliveries"][0]["error"], "the engine delivering it stopped before it was done");
}
