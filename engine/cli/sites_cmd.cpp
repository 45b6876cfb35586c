// flow sites list | show NAME — the site catalogue (docs/REFERENCE.md §5); flow sites check
// NAME | trust NAME — whether flow can use a site, and recording its SSH host key
// (operators/ssh/).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/cli/app.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/site/site.hpp"
#include "operators/ssh/host_key.hpp"
#include "operators/ssh/site_check.hpp"

namespace flow::cli {

namespace {

nlohmann::json site_json(const site::Site& s) {
  return {
      {"name", s.name},
      {"description", s.description},
      {"transport", std::string(site::to_string(s.transport))},
      {"host", s.host},
      {"port", s.port},
      {"user", s.user},
      {"identity", s.identity},
      {"known_hosts", s.known_hosts},
      {"scheduler", s.scheduler},
      {"partition", s.partition},
      {"account", s.account},
      {"gpus_per_node", s.gpus_per_node},
      {"cores_per_node", s.cores_per_node},
      {"workdir", s.workdir},
      {"poll_interval", format_duration(s.poll_interval)},
      {"poll_interval_ms", s.poll_interval.count()},
      {"max_jobs", s.max_jobs},
      {"transfer_streams", s.transfer_streams},
      {"job_arrays", s.job_arrays},
      {"allocation",
       s.allocation ? nlohmann::json{{"nodes", s.allocation->nodes},
                                     {"time", format_duration(s.allocation->time)},
                                     {"max", s.allocation->max},
                                     {"idle_timeout", format_duration(s.allocation->idle_timeout)},
                                     // null: as many as each node has cores
                                     {"prefetch", s.allocation->prefetch < 0
                                                      ? nlohmann::json()
                                                      : nlohmann::json(s.allocation->prefetch)}}
                    : nlohmann::json()},
      {"system", s.lamec_system()},
      {"python", s.python},
      {"jump", s.jump ? s.jump->spec() : ""},
      {"jump_identity", s.jump ? s.jump->identity : ""},
      {"ssh_config", s.ssh_config},
      {"origin", s.origin},
      {"file", s.where.file}};
}

std::string endpoint(const site::Site& s) {
  switch (s.transport) {
    case site::Transport::kNone:
      return "this machine";
    case site::Transport::kLocal:
      return "sbatch on this machine";
    case site::Transport::kSsh:
      return (s.user.empty() ? "" : s.user + "@") + s.host + ":" + std::to_string(s.port) +
             (s.jump ? " via " + s.jump->spec() : "");
  }
  return "";
}

const site::Site& lookup_site(const site::SiteCatalog& catalog, const std::string& name) {
  const site::Site* s = catalog.find(name);
  if (!s)
    throw InputError(SourceLocation{}, "unknown site '" + name + "'" +
                                           did_you_mean(name, catalog.names()) +
                                           "; known sites: " + join(catalog.names()));
  return *s;
}

// Prints `detail` after a column of width `indent`, continuation lines aligned under it.
void print_detail(const std::string& detail, size_t indent) {
  size_t pos = 0;
  bool first = true;
  while (pos <= detail.size()) {
    size_t end = detail.find('\n', pos);
    std::string line = detail.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    std::printf("%s%s\n", first ? "" : std::string(indent, ' ').c_str(), line.c_str());
    first = false;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
}

int sites_check(const GlobalOptions& g, const std::string& name) {
  auto catalog = site::SiteCatalog::load(site::SiteCatalog::default_dirs());
  const site::Site& s = lookup_site(catalog, name);
  auto checks = ssh::check_site(s);
  bool all_ok = true;
  for (const auto& c : checks)
    all_ok = all_ok && c.ok;
  std::string note;
  if (checks.empty())
    note = "site '" + s.name + "' runs plain processes on this machine: nothing to check";
  if (g.json) {
    nlohmann::json j = {{"site", s.name},
                        {"transport", std::string(site::to_string(s.transport))},
                        {"ok", all_ok},
                        {"checks", nlohmann::json::array()}};
    for (const auto& c : checks)
      j["checks"].push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    if (!note.empty()) j["note"] = note;
    std::cout << j.dump(2) << "\n";
  } else if (checks.empty()) {
    std::printf("%s\n", note.c_str());
  } else {
    std::printf("%s (%s)\n", s.name.c_str(), endpoint(s).c_str());
    for (const auto& c : checks) {
      std::printf("  %-4s  %-14s  ", c.ok ? "ok" : "FAIL", c.name.c_str());
      print_detail(c.detail, 24);
    }
    size_t failed = 0;
    for (const auto& c : checks)
      failed += c.ok ? 0 : 1;
    if (failed == 0)
      std::printf("all %zu checks passed\n", checks.size());
    else
      std::printf("%zu of %zu checks failed\n", failed, checks.size());
  }
  return all_ok ? 0 : static_cast<int>(ErrorKind::kEnvironment);
}

int sites_trust(const GlobalOptions& g, const std::string& name, bool replace) {
  auto catalog = site::SiteCatalog::load(site::SiteCatalog::default_dirs());
  const site::Site& s = lookup_site(catalog, name);
  // Every hop: the gateway (jump host) first when the site has one, then the site.
  auto outcomes = ssh::trust_all(s, replace);
  if (g.json) {
    auto hop_json = [](const ssh::TrustOutcome& t) {
      return nlohmann::json{{"host", t.host},
                            {"port", t.port},
                            {"gateway", t.gateway},
                            {"known_hosts", t.file.string()},
                            {"action", std::string(ssh::to_string(t.action))},
                            {"key_type", t.key.type},
                            {"fingerprint", t.key.fingerprint},
                            {"line", t.line},
                            {"removed", t.removed}};
    };
    // The site's own hop at the top level, as before jump hosts; every hop under "hops".
    nlohmann::json j = hop_json(outcomes.back());
    j.erase("gateway");
    j["site"] = s.name;
    j["hops"] = nlohmann::json::array();
    for (const auto& t : outcomes)
      j["hops"].push_back(hop_json(t));
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  for (const auto& t : outcomes) {
    const std::string who = ssh::known_hosts_name(t.host, t.port);
    const std::string what =
        (t.gateway ? "the host key of the gateway (jump host) " : "the host key of ") + who;
    switch (t.action) {
      case ssh::TrustOutcome::Action::kAlreadyTrusted:
        std::printf("%s: %s is already trusted in %s\n  %s %s\n", s.name.c_str(), what.c_str(),
                    t.file.string().c_str(), t.key.type.c_str(), t.key.fingerprint.c_str());
        continue;
      case ssh::TrustOutcome::Action::kReplaced:
        std::printf(
            "%s: replaced %d old entr%s for %s%s in %s with the key the server offers now\n",
            s.name.c_str(), t.removed, t.removed == 1 ? "y" : "ies",
            t.gateway ? "the gateway " : "", who.c_str(), t.file.string().c_str());
        break;
      case ssh::TrustOutcome::Action::kAdded:
        std::printf("%s: added %s to %s\n", s.name.c_str(), what.c_str(), t.file.string().c_str());
        break;
    }
    std::printf("  %s %s\n", t.key.type.c_str(), t.key.fingerprint.c_str());
    std::printf(
        "  Compare this fingerprint with the one your site publishes; if they differ, remove "
        "the line again (ssh-keygen -R '%s' -f %s).\n",
        who.c_str(), t.file.string().c_str());
  }
  return 0;
}

}  // namespace

void register_sites_commands(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* sites = app.add_subcommand("sites", "The site catalogue");
  sites->require_subcommand(1);

  {
    auto* cmd = sites->add_subcommand("list", "List known sites");
    add_global_options(*cmd, g);
    cmd->callback([&] {
      action = [&]() -> int {
        auto catalog = site::SiteCatalog::load(site::SiteCatalog::default_dirs());
        if (g.json) {
          auto out = nlohmann::json::array();
          for (const auto& n : catalog.names())
            out.push_back(site_json(*catalog.find(n)));
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        std::printf("%-18s  %-9s  %-12s  %-10s  %-30s  %s\n", "NAME", "TRANSPORT", "SYSTEM",
                    "PARTITION", "ENDPOINT", "DESCRIPTION");
        for (const auto& n : catalog.names()) {
          const site::Site& s = *catalog.find(n);
          std::printf("%-18s  %-9s  %-12s  %-10s  %-30s  %s\n", s.name.c_str(),
                      std::string(site::to_string(s.transport)).c_str(), s.lamec_system().c_str(),
                      s.partition.empty() ? "-" : s.partition.c_str(), endpoint(s).c_str(),
                      s.description.c_str());
        }
        return 0;
      };
    });
  }

  {
    auto* cmd = sites->add_subcommand("show", "Show one site, after ${VAR} expansion");
    add_global_options(*cmd, g);
    auto& name = ov.add<std::string>();
    cmd->add_option("name", name, "Site name")->required();
    cmd->callback([&] {
      action = [&]() -> int {
        auto catalog = site::SiteCatalog::load(site::SiteCatalog::default_dirs());
        const site::Site* s = catalog.find(name);
        if (!s)
          throw InputError(SourceLocation{}, "unknown site '" + name + "'" +
                                                 did_you_mean(name, catalog.names()) +
                                                 "; known sites: " + join(catalog.names()));
        auto j = site_json(*s);
        if (g.json) {
          std::cout << j.dump(2) << "\n";
          return 0;
        }
        // Connection settings say where their value came from (site file, default, or
        // the line of ~/.ssh/config).
        auto shown = [](const std::string& k, const nlohmann::json& v) {
          if (k == "poll_interval_ms" || k == "origin") return false;
          return !(k == "jump_identity" && v.get<std::string>().empty());
        };
        int width = 0;  // the longest key and its colon: the values start in one column
        for (const auto& [k, v] : j.items())
          if (shown(k, v)) width = std::max(width, static_cast<int>(k.size()) + 1);
        for (const auto& [k, v] : j.items()) {
          if (!shown(k, v)) continue;
          std::string text = v.is_string() ? v.get<std::string>() : v.is_null() ? "" : v.dump();
          if (text.empty()) text = "-";
          auto from = s->origin.find(k);
          if (from != s->origin.end() && s->transport == site::Transport::kSsh)
            text += "  (" + from->second + ")";
          std::printf("%-*s %s\n", width, (k + ":").c_str(), text.c_str());
        }
        return 0;
      };
    });
  }

  {
    auto* cmd = sites->add_subcommand(
        "check",
        "Check that flow can use a site: connection, host key, login, sbatch, sacct, "
        "partition, account (exit 0 when all pass, 3 otherwise)");
    add_global_options(*cmd, g);
    auto& name = ov.add<std::string>();
    cmd->add_option("name", name, "Site name")->required();
    cmd->callback([&] { action = [&]() -> int { return sites_check(g, name); }; });
  }

  {
    auto* cmd = sites->add_subcommand(
        "trust", "Record the SSH host key a site offers now in its known_hosts file");
    add_global_options(*cmd, g);
    auto& name = ov.add<std::string>();
    auto& replace = ov.add<bool>(false);
    cmd->add_option("name", name, "Site name")->required();
    cmd->add_flag("--replace", replace,
                  "Replace a different key already recorded for the host (after you have "
                  "confirmed the new fingerprint with the site)");
    cmd->callback([&] { action = [&]() -> int { return sites_trust(g, name, replace); }; });
  }
}

}  // namespace flow::cli
