#include "operators/ssh/site_check.hpp"

#include "engine/core/error.hpp"
#include "engine/core/shell.hpp"
#include "operators/ssh/errors.hpp"

#ifdef FLOW_HAVE_LOCAL_TRANSPORT
#include "operators/transport/local_transport.hpp"
#endif

namespace flow::ssh {

namespace {

const char* const kSlurmSteps[] = {"sbatch", "sacct", "partition", "account"};

std::string first_line(const std::string& text) {
  size_t b = text.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = text.find('\n', b);
  std::string line = text.substr(b, e == std::string::npos ? std::string::npos : e - b);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r'))
    line.pop_back();
  return line;
}

// "exit 1: sacct: error: ..." for a failed command.
std::string failure(const transport::CommandResult& r) {
  std::string why = first_line(r.err);
  if (why.empty()) why = first_line(r.out);
  return "exit " + std::to_string(r.exit_status) + (why.empty() ? "" : ": " + why);
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = text.find_first_not_of(" \t\r\n", pos)) != std::string::npos) {
    size_t end = text.find_first_of(" \t\r\n", pos);
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// Runs one step; a thrown flow::Error fails the step with its message.
template <class F>
CheckResult step(const char* name, F&& body) {
  try {
    return body();
  } catch (const Error& e) {
    return {name, false, e.what()};
  }
}

void not_run(std::vector<CheckResult>& out, const std::string& why) {
  for (const char* name : kSlurmSteps)
    out.push_back({name, false, "not run: " + why});
}

}  // namespace

std::vector<CheckResult> check_slurm(const site::Site& site, const CommandRunner& run) {
  std::vector<CheckResult> out;
  out.push_back(step("sbatch", [&]() -> CheckResult {
    auto r = run("sbatch --version");
    if (r.exit_status == 0) return {"sbatch", true, first_line(r.out)};
    if (r.exit_status == 127)
      return {"sbatch", false,
              "sbatch not found on PATH (" + failure(r) +
                  "); commands run in a non-interactive shell, which reads ~/.bashrc but not "
                  "~/.profile: make Slurm's commands available there"};
    return {"sbatch", false, "`sbatch --version` failed: " + failure(r)};
  }));
  out.push_back(step("sacct", [&]() -> CheckResult {
    auto r = run("sacct -n -X --starttime now-1minutes -o JobID");
    if (r.exit_status == 0) return {"sacct", true, "accounting answers"};
    return {"sacct", false,
            "`sacct` failed: " + failure(r) +
                "; job states then come from squeue only, and finished jobs vanish from it "
                "quickly. Ask the site whether slurmdbd is up"};
  }));
  out.push_back(step("partition", [&]() -> CheckResult {
    if (site.partition.empty())
      return {"partition", true, "none set: jobs go to the cluster's default partition"};
    auto r = run("sinfo -h -p " + shell_quote(site.partition) + " -o '%P %a'");
    auto found = words(r.out);
    if (r.exit_status == 0 && found.size() >= 2) {
      std::string name = found[0];
      bool is_default = !name.empty() && name.back() == '*';
      return {"partition", true,
              site.partition + " exists (" + (is_default ? "default, " : "") + found[1] + ")"};
    }
    if (r.exit_status != 0) return {"partition", false, "`sinfo` failed: " + failure(r)};
    auto all = run("sinfo -h -o %P");
    std::string known;
    for (const auto& w : words(all.out))
      known += (known.empty() ? "" : ", ") + w;
    return {"partition", false,
            "partition '" + site.partition + "' not found" +
                (known.empty() ? "" : "; the cluster has: " + known) + ". Fix `partition:` in " +
                (site.where.file.empty() ? "the site file" : site.where.file)};
  }));
  out.push_back(step("account", [&]() -> CheckResult {
    if (site.account.empty()) return {"account", true, "none set (skipped)"};
    auto r = run("sacctmgr -n -P show assoc user=\"$USER\" account=" + shell_quote(site.account) +
                 " format=Account");
    if (r.exit_status != 0) return {"account", false, "`sacctmgr` failed: " + failure(r)};
    if (first_line(r.out).empty())
      return {"account", false,
              "no association of your user with account '" + site.account +
                  "'; check `account:` (or $FLOW_ACCOUNT) against `sacctmgr show assoc "
                  "user=$USER`"};
    return {"account", true, "'" + site.account + "' is usable"};
  }));
  return out;
}

namespace {

std::vector<CheckResult> check_ssh_site(const site::Site& site, const SiteCheckOptions& options) {
  std::vector<CheckResult> out;
  const std::string hp = site.host + ":" + std::to_string(site.port);
  SshSession session(site, options.session);
  if (site.jump) {
    // The gateway first: its host key and login, then the forward to the site.
    const std::string gw = site.jump->host + ":" + std::to_string(site.jump->port);
    try {
      session.connect_gateway();
      out.push_back({"gateway", true,
                     gw + " (jump host): host key matches " + known_hosts_file(site).string() +
                         ", logged in, forwarding to " + hp});
    } catch (const Error& e) {
      out.push_back({"gateway", false, e.what()});
      for (const char* name : {"connection", "host key", "authentication"})
        out.push_back({name, false, "not run: the gateway " + gw + " is not usable"});
      if (site.is_slurm()) not_run(out, "the gateway is not usable");
      return out;
    }
  }
  try {
    session.connect();
    std::string banner = session.server_banner();
    out.push_back({"connection", true,
                   hp + " answers" + (banner.empty() ? "" : " (" + banner + ")") +
                       (site.jump ? " through the gateway " + site.jump->host + ":" +
                                        std::to_string(site.jump->port)
                                  : "")});
  } catch (const ConnectionError& e) {
    out.push_back(
        {"connection", false, e.detail() + "; check the host name, port, VPN or firewall"});
    out.push_back({"host key", false, "not run: no connection"});
    out.push_back({"authentication", false, "not run: no connection"});
    if (site.is_slurm()) not_run(out, "no connection");
    return out;
  }
  HostKey offered = session.server_host_key();
  HostKeyVerdict verdict = session.check_host_key();
  if (verdict == HostKeyVerdict::kMatch) {
    out.push_back({"host key", true,
                   "matches " + known_hosts_file(site).string() + " (" + offered.type + " " +
                       offered.fingerprint + ")"});
  } else {
    out.push_back({"host key", false, host_key_refusal(site, verdict, offered)});
    out.push_back({"authentication", false, "not run: the host key is not trusted"});
    if (site.is_slurm()) not_run(out, "the host key is not trusted");
    return out;
  }
  try {
    session.authenticate();
    out.push_back({"authentication", true,
                   "as " + session.endpoint() +
                       (site.identity.empty() ? " via ssh-agent" : " with " + site.identity)});
  } catch (const Error& e) {
    out.push_back({"authentication", false, e.what()});
    if (site.is_slurm()) not_run(out, "not authenticated");
    return out;
  }
  if (site.is_slurm()) {
    auto slurm = check_slurm(site, [&](const std::string& command) {
      return session.exec(command, options.command_timeout);
    });
    out.insert(out.end(), slurm.begin(), slurm.end());
  }
  return out;
}

}  // namespace

std::vector<CheckResult> check_site(const site::Site& site, const SiteCheckOptions& options) {
  switch (site.transport) {
    case site::Transport::kNone:
      return {};
    case site::Transport::kSsh:
      return check_ssh_site(site, options);
    case site::Transport::kLocal:
      break;
  }
  if (!site.is_slurm()) return {};
#ifdef FLOW_HAVE_LOCAL_TRANSPORT
  transport::LocalTransport local;
  return check_slurm(site, [&](const std::string& command) {
    return local.run(command, options.command_timeout);
  });
#else
  return {{"local commands", false,
           "this build of flow has no local transport; checks of `transport: local` sites are "
           "not available"}};
#endif
}

}  // namespace flow::ssh
