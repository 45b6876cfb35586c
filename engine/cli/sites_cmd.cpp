// flow sites list | show NAME — the site catalogue (SPEC §5). `sites check` lives with the
// SSH transport.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/cli/app.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/site/site.hpp"

namespace flow::cli {

namespace {

nlohmann::json site_json(const site::Site& s) {
  return {{"name", s.name},
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
          {"system", s.lamec_system()},
          {"python", s.python},
          {"file", s.where.file}};
}

std::string endpoint(const site::Site& s) {
  switch (s.transport) {
    case site::Transport::kNone:
      return "this machine";
    case site::Transport::kLocal:
      return "sbatch on this machine";
    case site::Transport::kSsh:
      return (s.user.empty() ? "" : s.user + "@") + s.host + ":" + std::to_string(s.port);
  }
  return "";
}

}  // namespace

void register_sites_commands(CLI::App& app, GlobalOptions& g, Action& action) {
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
    static std::string name;
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
        for (const auto& [k, v] : j.items()) {
          if (k == "poll_interval_ms") continue;
          std::string text = v.is_string() ? v.get<std::string>() : v.dump();
          std::printf("%-15s %s\n", (k + ":").c_str(), text.empty() ? "-" : text.c_str());
        }
        return 0;
      };
    });
  }
}

}  // namespace flow::cli
