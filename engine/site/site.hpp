#pragma once
// A site is where tasks run: this machine (transport none), a Slurm cluster reached by
// calling sbatch here (transport local) or over SSH (transport ssh). Sites are data:
// sites/NAME.yaml in the source tree, overridden by ~/.config/flow/sites/ and by the
// directories in $FLOW_SITES_PATH (docs/REFERENCE.md §5). This header is the model and the
// catalogue; it knows nothing about SSH or Slurm, which live in operators/.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/error.hpp"

namespace flow::site {

enum class Transport { kNone, kLocal, kSsh };

std::string_view to_string(Transport t);

// A gateway (jump host) an ssh site is reached through: flow logs in to it and asks it to
// forward one TCP connection to the site's host:port (docs/SSH.md).
struct JumpHost {
  std::string host;
  int port = 22;
  std::string user;      // "": the site's user
  std::string identity;  // "": the site's identity (or ssh-agent)

  // "user@host:port", the user and a port of 22 left out when not set.
  std::string spec() const;
};

// Parses `[user@]host[:port]` (also `[v6addr]:port` and an `ssh://` prefix, as OpenSSH's
// ProxyJump accepts). Returns nullopt and sets `error` to what is wrong (no location)
// for anything else, including a list of several hops ("a,b"): flow goes through one.
std::optional<JumpHost> parse_jump(std::string_view spec, std::string& error);

// `allocation:` of a Slurm site (docs/REFERENCE.md §5.1): its tasks run inside allocations
// flow submits and feeds through a worker on each node (operators/slurm/allocation_pool.hpp)
// instead of one sbatch per try.
struct AllocationSpec {
  int nodes = 1;                                     // nodes of each allocation
  std::chrono::seconds time{std::chrono::hours(1)};  // walltime of each allocation
  int max = 1;                                       // allocations alive at once, at most
  // An allocation that has run nothing for this long ends (so does one whose engine went
  // away: nothing new reaches it).
  std::chrono::seconds idle_timeout{std::chrono::minutes(5)};
  // Cores' worth of tries each node may hold waiting in its inbox beyond its free cores,
  // so that the worker starts the next the moment one ends, without waiting for the
  // engine's next look. -1: as many as the node has cores; 0: none (a try is placed only
  // on free cores). Tries that ask for GPUs never wait there.
  int prefetch = -1;
};

struct Site {
  std::string name;
  Transport transport = Transport::kNone;
  std::string host;
  int port = 22;
  std::string user;
  std::string identity;     // private key file; empty: ssh-agent
  std::string known_hosts;  // host key must match an entry here
  std::string scheduler;    // "" (plain processes) or "slurm"
  std::string partition;
  std::string account;
  int gpus_per_node = 0;
  int cores_per_node = 0;
  std::string workdir;  // where job scripts, logs and run dirs live on the site
  std::chrono::milliseconds poll_interval{std::chrono::seconds(30)};
  int max_jobs = 100;                        // submitted-or-running cap
  int transfer_streams = 4;                  // staging: connections a large transfer spreads over
  std::string system;                        // LAMEC system name for module blocks ("" = site name)
  std::string python;                        // interpreter that runs `python3` in tasks ("" = auto)
  std::string description;                   // one line for `flow sites list`
  SourceLocation where;                      // the file the site came from
  std::optional<JumpHost> jump;              // reached through this gateway (ssh sites only)
  std::optional<AllocationSpec> allocation;  // Slurm sites: tasks run in flow's allocations
  bool job_arrays = true;                    // Slurm sites: foreach elements share sbatch --array
  // The `Host` alias of ~/.ssh/config the connection settings were taken from ("": none).
  std::string ssh_config;
  // Where each connection setting (host, port, user, identity, jump) came from: "site
  // file", "default", or "<config file>:<line> (Host <alias>)". For `flow sites show`.
  std::map<std::string, std::string> origin;
  // Set on the Site operators/ssh/ makes for the gateway of a site: messages then name
  // "the gateway (jump host)" of the site `name` rather than the site itself.
  bool is_gateway = false;

  // The LAMEC system whose module stacks this site uses: `system`, else the site name.
  const std::string& lamec_system() const { return system.empty() ? name : system; }

  bool is_slurm() const { return scheduler == "slurm"; }
};

// All known sites, by name. "local" always exists (plain local processes) even when no
// file defines it.
class SiteCatalog {
 public:
  // Loads every *.yaml in each directory in order; a later definition of a name replaces
  // an earlier one. Missing directories are skipped. Throws InputError (file:line:col) on
  // a malformed site.
  static SiteCatalog load(const std::vector<std::filesystem::path>& dirs);

  // The search path: the built-in sites/ of flow's data directory (engine/core/data_dir.hpp:
  // <prefix>/share/flow/sites installed, the source tree's sites/ in a build tree), then
  // ~/.config/flow/sites ($XDG_CONFIG_HOME if set), then each entry of $FLOW_SITES_PATH
  // (colon-separated, later entries win).
  static std::vector<std::filesystem::path> default_dirs();

  // Parses one site file. `${VAR}` / `${VAR:-default}` are expanded from the environment
  // and `~` in identity/known_hosts (and workdir of non-ssh sites) becomes $HOME. Throws
  // InputError with every problem found, each as file:line:col.
  static Site load_file(const std::filesystem::path& file);
  // Parses the text of a site file; `file` names it in messages and gives the default
  // site name (its stem). Same rules and errors as load_file().
  static Site load_text(const std::string& text, const std::filesystem::path& file);

  const Site* find(std::string_view name) const;
  std::vector<std::string> names() const;
  void add(Site site);

 private:
  std::map<std::string, Site, std::less<>> sites_;
};

// Expands `${VAR}` and `${VAR:-default}` in `text` from the environment. An unset variable
// without a default is reported as a Diagnostic at `where` plus the offset of the `${`.
// Returns nullopt (and appends to `problems`) when something could not be expanded.
std::optional<std::string> expand_env(std::string_view text, const SourceLocation& where,
                                      std::vector<Diagnostic>& problems);

}  // namespace flow::site
