#pragma once
// `flow sites check NAME`: can flow use this site? Runs what a user would try by hand and
// reports each step with what it found, in this order:
//   ssh sites only:  connection (host:port answers SSH), host key (matches known_hosts),
//                    authentication (identity file or ssh-agent)
//   Slurm sites:     sbatch (`sbatch --version`), sacct (accounting answers), partition
//                    (exists, when the site names one), account (an association for the
//                    user, when the site names one)
// over SSH for ssh sites and on this machine for `transport: local` sites. When a step
// fails, the steps that need it are reported as failed with "not run: ...". Credentials
// are never offered to a host whose key did not match. `transport: none` sites have
// nothing to check (empty result).

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "engine/site/site.hpp"
#include "operators/ssh/ssh_session.hpp"
#include "operators/transport/transport.hpp"

namespace flow::ssh {

struct CheckResult {
  std::string name;  // "connection", "host key", "authentication", "sbatch", ...
  bool ok = false;
  std::string detail;  // what was found, or what is wrong and what to do
};

struct SiteCheckOptions {
  SessionOptions session;
  std::chrono::milliseconds command_timeout{std::chrono::seconds(30)};
};

std::vector<CheckResult> check_site(const site::Site& site, const SiteCheckOptions& options = {});

// The Slurm steps alone, through any way of running a command (tests use a fake). Commands
// may throw flow::Error; that step then fails with the error's message.
using CommandRunner = std::function<transport::CommandResult(const std::string& command)>;
std::vector<CheckResult> check_slurm(const site::Site& site, const CommandRunner& run);

}  // namespace flow::ssh
