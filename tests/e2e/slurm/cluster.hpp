#pragma once
// Helpers for tests against the real test cluster of scripts/test-cluster.sh (Slurm with
// slurmdbd, and an sshd on 127.0.0.1:2222 as flowuser). The CTest fixture `cluster`
// starts it before these tests run.

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <stdexcept>
#include <string>

namespace flow::test {

struct Shell {
  int code = -1;
  std::string out;
};

inline Shell sh(const std::string& cmd) {
  Shell r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// scripts/test-cluster.sh VERB
inline Shell cluster(const std::string& verb) {
  return sh(std::string(FLOW_SOURCE_DIR) + "/scripts/test-cluster.sh " + verb);
}

// A directory the engine and the cluster's jobs both see, for `transport: local` sites (flow
// on the login node, sbatch run here): the cluster's daemons and jobs run in a mount
// namespace without /tmp (scripts/test-cluster.sh "isolated"), where every other TempDir
// lies. The directory is open to every user, since jobs may run as flowuser.
class SharedWithTheCluster {
 public:
  explicit SharedWithTheCluster(const std::string& prefix) {
    std::string tmpl = "/var/tmp/flow-test-shared/" + prefix + "-XXXXXX";
    if (!::mkdtemp(tmpl.data()))
      throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno) +
                               " (scripts/test-cluster.sh start makes /var/tmp/flow-test-shared)");
    path_ = tmpl;
    std::filesystem::permissions(path_, std::filesystem::perms::all);
  }
  ~SharedWithTheCluster() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  SharedWithTheCluster(const SharedWithTheCluster&) = delete;
  SharedWithTheCluster& operator=(const SharedWithTheCluster&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `cmd` (no single quotes) in the mount namespace of the cluster's sshd, where logins and
// SFTP sessions live (scripts/test-cluster.sh "isolated"): a file system mounted there is one
// the site sees; one mounted by the test itself is not.
inline Shell on_the_login_node(const std::string& cmd) {
  return sh("nsenter --mount --target \"$(cat /run/flow-test-cluster/sshd.pid)\" -- sh -c '" + cmd +
            "'");
}

// The text of a site file for the test cluster, saved as `sites/NAME.yaml` of a project and
// found through FLOW_SITES_PATH: over SSH as flowuser (the built-in localslurm with its own
// `workdir` and `port`), or with sbatch on this host (`transport: local`).
inline std::string ssh_site(const std::string& name, const std::string& workdir, int port = 2222) {
  return "site: " + name + "\ntransport: ssh\nhost: 127.0.0.1\nport: " + std::to_string(port) +
         "\nuser: flowuser\nidentity: /var/lib/flow-test-cluster/id_ed25519\n"
         "known_hosts: /var/lib/flow-test-cluster/known_hosts\nscheduler: slurm\n"
         "partition: debug\nworkdir: " +
         workdir + "\npoll_interval: 1s\nsystem: localslurm\n";
}
inline std::string local_sbatch_site(const std::string& name, const std::string& workdir) {
  return "site: " + name +
         "\ntransport: local\nscheduler: slurm\npartition: debug\nworkdir: " + workdir +
         "\npoll_interval: 1s\nsystem: localslurm\n";
}

// FLOW_SITES_PATH naming the sites/ folder of a test's project (flow::test::Project), for
// tests that write site files of their own.
template <typename Project>
std::string sites_env(const Project& p) {
  return "FLOW_SITES_PATH='" + (p.dir() / "sites").string() + "'";
}

// "[0, 1, ..., n-1]": a foreach list of n items.
inline std::string foreach_list(int n) {
  std::string s = "[";
  for (int i = 0; i < n; ++i)
    s += (i ? ", " : "") + std::to_string(i);
  return s + "]";
}

// How many times each line occurs in `text` (a ledger that tasks append to).
inline std::map<std::string, int> count_lines(const std::string& text) {
  std::map<std::string, int> n;
  for (size_t pos = 0; pos < text.size();) {
    auto nl = text.find('\n', pos);
    n[text.substr(pos, nl == std::string::npos ? nl : nl - pos)]++;
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return n;
}

// A run id no other test (or earlier test run) uses, so sacct can be asked about its jobs.
inline std::string unique_run_id(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 100000);
}

// How many Slurm jobs (any user, last day) carry each job name of run `run_id`. sacct's
// time-window queries see a job a few seconds after it ended (slurmctld sends accounting
// records to slurmdbd asynchronously), so this waits (bounded) until at least `names`
// distinct names are visible. It can only under-count, never invent a duplicate.
inline std::map<std::string, int> jobs_of_run(const std::string& run_id, size_t names_expected) {
  std::map<std::string, int> names;
  const std::string prefix = "flow." + run_id + ".";
  for (int attempt = 0; attempt < 60; ++attempt) {
    names.clear();
    auto r = sh("sacct -a -X -n -P --format=JobName%200 --starttime=now-1days");
    size_t pos = 0;
    while (pos < r.out.size()) {
      auto nl = r.out.find('\n', pos);
      std::string line = r.out.substr(pos, nl == std::string::npos ? nl : nl - pos);
      pos = nl == std::string::npos ? r.out.size() : nl + 1;
      if (line.rfind(prefix, 0) == 0) names[line]++;
    }
    if (names.size() >= names_expected) break;
    ::usleep(500'000);
  }
  return names;
}

// The end state sacct reports for one job name (waits, bounded, until sacct has one).
inline std::string sacct_state(const std::string& job_name) {
  std::string out;
  for (int attempt = 0; attempt < 60; ++attempt) {
    out = sh("sacct -a -X -n -P --format=State --name=" + job_name + " --starttime=now-1days").out;
    if (!out.empty() && out.find("RUNNING") == std::string::npos &&
        out.find("PENDING") == std::string::npos)
      break;
    ::usleep(500'000);
  }
  return out;
}

// Cancels, when the scope ends, every live job whose working directory lies under
// `workdir` (a test's allocations, which would otherwise hold their nodes until their idle
// timeout and make the next test wait), and waits (bounded) until Slurm let them go.
class CancelJobsUnder {
 public:
  explicit CancelJobsUnder(std::string workdir) : workdir_(std::move(workdir)) {}
  ~CancelJobsUnder() {
    const std::string list =
        "squeue -h -o '%i %Z' | awk -v d='" + workdir_ + "/' 'index($2, d) == 1 {print $1}'";
    sh(list + " | xargs -r scancel");
    for (int i = 0; i < 60 && !sh(list).out.empty(); ++i)
      ::usleep(500'000);
  }
  CancelJobsUnder(const CancelJobsUnder&) = delete;
  CancelJobsUnder& operator=(const CancelJobsUnder&) = delete;

 private:
  std::string workdir_;
};

// Runs `undo` when the scope ends, even when an assertion failed: the cluster is shared by
// every test after this one.
class Restore {
 public:
  explicit Restore(std::string verb) : verb_(std::move(verb)) {}
  ~Restore() { cluster(verb_); }

 private:
  std::string verb_;
};

}  // namespace flow::test
