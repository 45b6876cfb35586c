#include "engine/site/site_schema.hpp"

#include <string>
#include <vector>

#include "engine/core/json_schema.hpp"

namespace flow::site {

namespace {

using schema::any_of;
using schema::json;
using schema::types;
using schema::with;

// A single value (SiteParser::text): a scalar or null (= not set).
json text() {
  return types({"string", "number", "boolean", "null"});
}

// `s`, or text with a `${VAR}` in it (checked after expansion), or null.
json expandable(const json& s) {
  return any_of({s, {{"type", "string"}, {"pattern", "\\$\\{"}}, {{"type", "null"}}});
}

// A whole number from lo to hi, also written as a quoted string of digits.
json integer(long long lo, long long hi) {
  return expandable(
      any_of({schema::integer(lo, hi), {{"type", "string"}, {"pattern", "^[+-]?[0-9]+$"}}}));
}

}  // namespace

json site_schema() {
  json p = json::object();
  p["site"] = with(expandable(any_of({{{"type", "string"}, {"pattern", "^[A-Za-z0-9_.-]{1,200}$"}},
                                      types({"number", "boolean"})})),
                   "the name tasks use: letters, digits, '_', '.', '-' (default: the file name "
                   "without extension)");
  p["description"] = with(text(), "shown by flow sites list");
  p["transport"] = with(expandable(schema::one_of_values({"none", "local", "ssh"})),
                        "none: plain local processes (default); local: Slurm commands on this "
                        "machine; ssh: Slurm commands over SSH");
  p["host"] = with(text(), "SSH host (required for transport ssh unless ssh_config names it)");
  p["port"] = with(integer(1, 65535), "SSH port (default 22)");
  p["user"] = with(text(), "SSH user (default: libssh's, the local user)");
  p["identity"] = with(text(), "private key file (default: ssh-agent, SSH_AUTH_SOCK)");
  p["known_hosts"] = with(text(),
                          "the host key must match an entry here (default ~/.ssh/known_hosts); "
                          "flow sites trust records one");
  p["scheduler"] = with(expandable(schema::one_of_values({"slurm", ""})),
                        "slurm (the default unless transport: none)");
  p["partition"] = with(text(), "Slurm default partition for the site's tasks");
  p["account"] = with(text(), "Slurm default account for the site's tasks");
  p["gpus_per_node"] = with(integer(0, 1024), "LAMEC rules (default 0 = the system's)");
  p["cores_per_node"] = with(integer(0, 1 << 20), "LAMEC rules (default 0 = the system's)");
  p["workdir"] =
      with(text(), "Slurm sites: where scripts, logs and run directories live on the site");
  p["poll_interval"] =
      with(expandable(schema::duration()),
           "Slurm sites: one batched sacct per site per interval, a duration > 0 (default 30s)");
  p["max_jobs"] =
      with(integer(1, 1 << 30), "Slurm sites: submitted-or-running jobs at once (default 100)");
  p["transfer_streams"] = with(integer(1, 16),
                               "Slurm sites: connections one staging step spreads its files "
                               "over (default 4)");
  p["job_arrays"] = with(types({"boolean"}),
                         "Slurm sites: foreach elements launched together go to Slurm as one "
                         "sbatch --array (default true)");
  json allocation_map = {{"type", "object"},
                         {"properties",
                          {{"nodes", integer(1, 100000)},
                           {"time", expandable(schema::duration())},
                           {"max", integer(1, 1000)},
                           {"idle_timeout", expandable(schema::duration())},
                           {"prefetch", integer(0, 100000)}}},
                         {"additionalProperties", false}};
  p["allocation"] = with(any_of({types({"boolean", "null"}), allocation_map}),
                         "Slurm sites: run tasks inside allocations flow submits (nodes, time, "
                         "max, idle_timeout, prefetch; true = 1 node, 1h, 1 at a time, 5m "
                         "idle, each node's cores prefetched)");
  p["system"] = with(text(), "LAMEC system, sites/modules/SYSTEM.yaml (default: the site name)");
  p["python"] = with(
      text(), "sites without a scheduler: the interpreter tasks get as python3 (default auto)");
  json jump_map = {
      {"type", "object"},
      {"properties",
       {{"host", text()}, {"port", integer(1, 65535)}, {"user", text()}, {"identity", text()}}},
      {"additionalProperties", false}};
  p["jump"] = with(any_of({text(), jump_map}),
                   "ssh sites: reach host:port through this gateway: [user@]host[:port] or a "
                   "mapping with host, port, user, identity");
  p["ssh_config"] = with(text(),
                         "ssh sites: true, false or a Host alias of ~/.ssh/config to take "
                         "HostName, Port, User, IdentityFile and ProxyJump from");

  json ssh = schema::required({"transport"});
  ssh["properties"] = {{"transport", {{"const", "ssh"}}}};
  json ssh_or_expanded = schema::required({"transport"});
  ssh_or_expanded["properties"] = {
      {"transport", {{"type", "string"}, {"pattern", "^ssh$|\\$\\{"}}}};
  json no_ssh_keys = {
      {"properties", {{"jump", {{"type", "null"}}}, {"ssh_config", {{"type", "null"}}}}}};
  return {
      {"$schema", "http://json-schema.org/draft-07/schema#"},
      {"title", "flow site file"},
      {"description",
       "A flow site file, sites/NAME.yaml (docs/REFERENCE.md §5); printed by `flow schema "
       "site`. Values may use ${VAR} and ${VAR:-default}."},
      {"type", "object"},
      {"properties", p},
      {"additionalProperties", false},
      {"allOf",
       json::array(
           {json{{"if", ssh},
                 {"then", any_of({schema::required({"host"}), schema::required({"ssh_config"})})}},
            json{{"if", {{"not", ssh_or_expanded}}}, {"then", no_ssh_keys}}})}};
}

}  // namespace flow::site
