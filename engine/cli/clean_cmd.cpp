// flow clean RUN — remove an ended run's directories on its Slurm sites
// (operators/slurm/site_cleanup.hpp) and the HPO checkpoints it left here
// (engine/run/run_cleaning.hpp); docs/REFERENCE.md §2.4.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <system_error>

#include "engine/cli/app.hpp"
#include "engine/cli/render.hpp"
#include "engine/cli/site_transport.hpp"
#include "engine/core/byte_size.hpp"
#include "engine/core/error.hpp"
#include "engine/run/ownership.hpp"
#include "engine/run/run_cleaning.hpp"
#include "engine/runtime/new_run.hpp"
#include "operators/slurm/site_cleanup.hpp"

namespace flow::cli {

namespace {

namespace fs = std::filesystem;

// What happened at one place (a site, or here), for both outputs.
struct Place {
  std::string name;
  std::string transport;  // "ssh user@host:port", "local"; "" when not opened
  std::vector<slurm::RunPath> paths;
  std::string error;
  ErrorKind error_kind = ErrorKind::kEnvironment;
  uint64_t files = 0, bytes = 0;  // of the paths that existed
};

std::string amount(uint64_t files, uint64_t bytes) {
  return std::to_string(files) + (files == 1 ? " file, " : " files, ") + human_bytes(bytes);
}

// "PATH (3 files, 1.2 KiB)"; the counts the site could not give are left out.
std::string path_text(const slurm::RunPath& p) {
  if (!p.files && !p.bytes) return p.path;
  std::string s = p.path + " (";
  if (p.files) s += std::to_string(*p.files) + (*p.files == 1 ? " file" : " files");
  if (p.files && p.bytes) s += ", ";
  if (p.bytes) s += human_bytes(*p.bytes);
  return s + ")";
}

nlohmann::json place_json(const Place& p) {
  auto paths = nlohmann::json::array();
  for (const auto& rp : p.paths) {
    paths.push_back({{"path", rp.path},
                     {"existed", rp.existed},
                     {"files", rp.files ? nlohmann::json(*rp.files) : nlohmann::json()},
                     {"bytes", rp.bytes ? nlohmann::json(*rp.bytes) : nlohmann::json()}});
  }
  return {{"site", p.name},
          {"transport", p.transport},
          {"ok", p.error.empty()},
          {"error", p.error.empty() ? nlohmann::json() : nlohmann::json(p.error)},
          {"paths", paths}};
}

// Cleans (or with `dry`, measures) the run's directories on one site.
Place clean_site(const site::SiteCatalog& sites, const std::string& name, const std::string& run_id,
                 bool dry) {
  Place p;
  p.name = name;
  const site::Site* s = sites.find(name);
  if (!s) {
    p.error = "site '" + name + "', which run " + run_id +
              " used, is not in the site catalogue any more (flow sites list): its files there "
              "were not removed";
    p.error_kind = ErrorKind::kInvalidInput;
    return p;
  }
  try {
    auto transport = open_transport(*s);
    p.transport = transport->describe();
    p.paths = slurm::remove_run_files(*transport, *s, run_id, dry);
  } catch (const InputError& e) {
    p.error = "site '" + name + "': " + std::string(e.what());
    p.error_kind = ErrorKind::kInvalidInput;
    return p;
  } catch (const Error& e) {
    p.error = "site '" + name + "': nothing removed there: " + std::string(e.what());
    return p;
  }
  for (const auto& rp : p.paths) {
    if (!rp.existed) continue;
    p.files += rp.files.value_or(0);
    p.bytes += rp.bytes.value_or(0);
  }
  return p;
}

}  // namespace

void register_clean_commands(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* cmd = app.add_subcommand(
      "clean",
      "Remove an ended run's directories on its Slurm sites and its HPO checkpoints "
      "(its rows, local logs and artifacts stay)");
  add_global_options(*cmd, g);
  auto& id = ov.add<std::string>();
  auto& dry = ov.add<bool>(false);
  cmd->add_option("run_id", id, "Run id")->required();
  cmd->add_flag("--dry-run", dry, "Say what would be removed; remove nothing");
  cmd->callback([&] {
    action = [&]() -> int {
      auto store = state::Store::open_existing(g.db_path());
      auto run = require_run(*store, id);
      const run::EngineIdentity& me = run::EngineIdentity::self();
      const auto owner = run::owner_of(run, me, now_ms(), run::default_stale_after());
      if (owner.state == run::OwnerState::kLive) {
        throw run::RunOwnedElsewhere("run " + id + " is being executed by " + owner.who +
                                     "; flow clean never touches a live run: clean it once it "
                                     "has ended (or stop it with: flow cancel " +
                                     id + ")");
      }
      run::check_cleanable(run);
      const auto before = run::cleanings(*store, id);
      // Held while files go, so that no `flow resume` or `retry` starts the run meanwhile.
      struct Hold {
        state::Store* store = nullptr;
        std::string id;
        ~Hold() {
          if (!store) return;
          try {
            run::release_run(*store, id, run::EngineIdentity::self());
          } catch (const Error& e) {
            std::fprintf(stderr, "flow: %s\n", e.what());
          }
        }
      } hold;
      if (!dry) {
        run::take_run(*store, id, me, {}, [](state::RunRecord& r) { run::check_cleanable(r); });
        hold.store = store.get();
        hold.id = id;
      }
      const char* verb = dry ? "would remove" : "removed";

      // The Slurm sites, one after the other; one that fails leaves the others alone.
      std::vector<Place> places;
      const auto names = run::sites_of_run(*store, id);
      std::optional<site::SiteCatalog> sites;
      for (const auto& name : names) {
        if (name == "local") continue;
        if (!sites) sites = runtime::load_sites();
        if (const auto* s = sites->find(name); s && !s->is_slurm()) continue;
        Place p = clean_site(*sites, name, id, dry);
        if (!dry && p.error.empty()) {
          std::string what;
          for (const auto& rp : p.paths) {
            if (rp.existed) what += (what.empty() ? "" : ", ") + path_text(rp);
          }
          if (!what.empty()) run::record_cleaned(*store, id, name, "removed " + what);
        }
        places.push_back(std::move(p));
      }

      // The checkpoints here.
      const auto ck = run::local_checkpoints(*store, run);
      Place here;
      here.name = std::string(run::kHere);
      for (const auto& f : ck.remove) {
        slurm::RunPath rp{f.path.string(), true, uint64_t{1}, f.bytes};
        if (!dry) {
          std::error_code ec;
          fs::remove_all(f.path, ec);
          if (ec) {
            here.error += (here.error.empty() ? "" : "; ") + std::string("cannot remove ") +
                          f.path.string() + ": " + ec.message();
            continue;
          }
        }
        here.files += 1;
        here.bytes += f.bytes;
        here.paths.push_back(std::move(rp));
      }
      if (!dry && !here.paths.empty()) {
        run::record_cleaned(*store, id, here.name,
                            "removed " + std::to_string(here.paths.size()) + " HPO checkpoint" +
                                (here.paths.size() == 1 ? "" : "s") + " (" +
                                human_bytes(here.bytes) + ") in " + run.run_dir);
      }

      uint64_t files = here.files, bytes = here.bytes;
      size_t removed = here.paths.size();  // paths that existed (and went, unless dry)
      int code = 0;
      for (const auto& p : places) {
        files += p.files;
        bytes += p.bytes;
        for (const auto& rp : p.paths)
          removed += rp.existed;
        if (!p.error.empty()) {
          code = std::max(code, p.error_kind == ErrorKind::kEnvironment ? 3 : 2);
        }
      }
      if (!here.error.empty()) code = 3;

      if (g.json) {
        auto site_list = nlohmann::json::array();
        for (const auto& p : places)
          site_list.push_back(place_json(p));
        auto checkpoints = nlohmann::json::array();
        for (const auto& rp : here.paths)
          checkpoints.push_back({{"path", rp.path}, {"bytes", rp.bytes.value_or(0)}});
        auto kept = nlohmann::json::array();
        for (const auto& a : ck.artifacts)
          kept.push_back(a.string());
        auto earlier = nlohmann::json::array();
        for (const auto& e : before)
          earlier.push_back({{"at", iso_utc(e.ts)}, {"what", e.message}});
        std::cout << nlohmann::json{{"run", id},
                                    {"dry_run", dry},
                                    {"ok", code == 0},
                                    {"sites", site_list},
                                    {"here",
                                     {{"run_dir", run.run_dir},
                                      {"checkpoints", checkpoints},
                                      {"kept_artifacts", kept},
                                      {"ok", here.error.empty()},
                                      {"error", here.error.empty() ? nlohmann::json()
                                                                   : nlohmann::json(here.error)}}},
                                    {"files", files},
                                    {"bytes", bytes},
                                    {"cleaned_before", earlier}}
                         .dump(2)
                  << "\n";
      } else {
        for (const auto& p : places) {
          const std::string head =
              "site " + p.name + (p.transport.empty() ? "" : " (" + p.transport + ")");
          if (!p.error.empty()) {
            std::printf("%s: not cleaned\n", head.c_str());
            continue;
          }
          std::string what;
          for (const auto& rp : p.paths) {
            if (rp.existed) what += (what.empty() ? "" : ", ") + path_text(rp);
          }
          std::printf(
              "%s: %s\n", head.c_str(),
              what.empty() ? "nothing to remove" : (std::string(verb) + " " + what).c_str());
        }
        if (!here.paths.empty()) {
          std::printf("here: %s %zu HPO checkpoint%s (%s) in %s\n", verb, here.paths.size(),
                      here.paths.size() == 1 ? "" : "s", human_bytes(here.bytes).c_str(),
                      run.run_dir.c_str());
        } else {
          std::printf("here: no HPO checkpoints to remove\n");
        }
        for (const auto& a : ck.artifacts) {
          std::printf("here: kept %s: it is a registered artifact\n", a.c_str());
        }
        if (dry) {
          std::printf("run %s: dry run: %s\n", id.c_str(),
                      removed == 0 ? "nothing to remove"
                                   : (amount(files, bytes) + " would be removed").c_str());
        } else if (removed == 0 && code == 0) {
          std::printf("run %s: nothing to remove%s\n", id.c_str(),
                      before.empty()
                          ? ""
                          : (" (cleaned before, " + iso_utc(before.front().ts) + ")").c_str());
        } else if (removed == 0) {
          std::printf("run %s: nothing removed\n", id.c_str());
        } else {
          std::printf(
              "run %s cleaned: %s removed%s; its database rows, local logs and "
              "artifacts are kept%s\n",
              id.c_str(), amount(files, bytes).c_str(),
              code == 0 ? "" : " (not everywhere: see below)",
              run.state == state::RunState::kSucceeded ? "" : "; it can no longer be resumed");
        }
      }
      for (const auto& p : places) {
        if (!p.error.empty()) std::fprintf(stderr, "flow: %s\n", p.error.c_str());
      }
      if (!here.error.empty()) std::fprintf(stderr, "flow: here: %s\n", here.error.c_str());
      return code;
    };
  });
}

}  // namespace flow::cli
