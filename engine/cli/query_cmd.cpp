// flow runs | status | logs — read-only views of the store.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "engine/cli/app.hpp"
#include "engine/cli/render.hpp"
#include "engine/cli/site_transport.hpp"
#include "engine/core/duration.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/site/site.hpp"
#include "operators/slurm/slurm_executor.hpp"

namespace flow::cli {

namespace {

// Copies new bytes of `path` from `offset` to stdout; returns the new offset.
std::streamoff copy_from(const std::filesystem::path& path, std::streamoff offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return offset;
  in.seekg(offset);
  char buf[1 << 15];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    std::fwrite(buf, 1, static_cast<size_t>(in.gcount()), stdout);
    offset += in.gcount();
  }
  std::fflush(stdout);
  return offset;
}

// A Slurm try's log, read on the site itself (the local copy is refreshed only by a
// running engine's polls). Null when the try is not a Slurm job or its site is unknown.
class RemoteLog {
 public:
  static std::unique_ptr<RemoteLog> open(const state::TryRecord& t) {
    auto sites = site::SiteCatalog::load(site::SiteCatalog::default_dirs());
    const site::Site* s = sites.find(t.site);
    if (!s || !s->is_slurm() || t.job_id.empty()) return nullptr;
    auto r = std::make_unique<RemoteLog>();
    r->transport_ = open_transport(*s);
    r->path_ =
        slurm::SlurmExecutor::remote_base(*s, {t.run_id, t.instance_id, t.try_number}) + ".log";
    return r;
  }
  // Prints what is new since `offset`; returns the new offset. Throws EnvironmentError.
  std::streamoff copy_from(std::streamoff offset) {
    auto text = transport_->get_file(path_, static_cast<uint64_t>(offset));
    if (!text) return offset;
    std::fwrite(text->data(), 1, text->size(), stdout);
    std::fflush(stdout);
    return offset + static_cast<std::streamoff>(text->size());
  }
  const std::string& path() const { return path_; }

 private:
  std::unique_ptr<transport::Transport> transport_;
  std::string path_;
};

}  // namespace

void register_query_commands(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  // flow runs
  {
    auto* cmd = app.add_subcommand("runs", "List runs, newest first");
    add_global_options(*cmd, g);
    auto& dag = ov.add<std::string>();
    auto& limit = ov.add<int>(20);
    cmd->add_option("--dag", dag, "Only runs of this DAG");
    cmd->add_option("--limit", limit, "At most this many runs (0 = all)")
        ->check(CLI::NonNegativeNumber);
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        auto runs = store->list_runs(dag, limit);
        if (g.json) {
          auto out = nlohmann::json::array();
          for (const auto& r : runs) {
            auto j = run_json(r);
            j["counts"] = store->state_counts(r.id);
            out.push_back(std::move(j));
          }
          std::cout << out.dump(2) << "\n";
          return 0;
        }
        if (runs.empty()) {
          std::printf("no runs%s\n", dag.empty() ? "" : (" of " + dag).c_str());
          return 0;
        }
        std::printf("%-44s  %-20s  %-11s  %-20s  %9s  %s\n", "ID", "DAG", "STATE", "STARTED",
                    "DURATION", "TASKS");
        for (const auto& r : runs) {
          EpochMs end = r.ended ? r.ended : now_ms();
          std::printf("%-44s  %-20s  %-11s  %-20s  %9s  %s\n", r.id.c_str(), r.dag.c_str(),
                      std::string(state::to_string(r.state)).c_str(),
                      iso_utc(r.started).substr(0, 19).c_str(),
                      r.started ? human_duration(Millis(end - r.started)).c_str() : "-",
                      counts_text(store->state_counts(r.id)).c_str());
        }
        return 0;
      };
    });
  }
  register_status_command(app, g, action, ov);  // status_cmd.cpp
  // flow logs
  {
    auto* cmd =
        app.add_subcommand("logs", "Print a task's log (for Slurm tasks, fetched from the site)");
    add_global_options(*cmd, g);
    auto& id = ov.add<std::string>();
    auto& task = ov.add<std::string>();
    auto& try_number = ov.add<int>(0);
    auto& follow = ov.add<bool>(false);
    cmd->add_option("run_id", id, "Run id")->required();
    cmd->add_option("task", task, "Task instance id, e.g. train or tiles[3]")->required();
    cmd->add_option("--try", try_number, "Which try (default: the latest)");
    cmd->add_flag("-f,--follow", follow, "Keep printing as the log grows until the try ends");
    cmd->callback([&] {
      action = [&]() -> int {
        auto store = state::Store::open_existing(g.db_path());
        require_run(*store, id);
        auto inst = store->get_instance(id, task);
        if (!inst) {
          // The names offered: the run's tasks, and the first instances of the task the
          // name starts with (a run may have a million; reading them all is not needed
          // to suggest `tiles[3]` for `tiles(3)`).
          std::vector<std::string> ids;
          for (const auto& c : store->task_state_counts(id)) {
            if (!ids.empty() && ids.back() == c.task_id) continue;
            ids.push_back(c.task_id);
          }
          const std::string base = task.substr(0, task.find_first_of("[("));
          if (std::find(ids.begin(), ids.end(), base) != ids.end()) {
            for (const auto& i : store->task_instances(id, base, {}, {}, 0, 2000))
              if (i.id != base) ids.push_back(i.id);
          }
          throw Error(ErrorKind::kInvalidInput,
                      "run " + id + " has no task '" + task + "'" + did_you_mean(task, ids));
        }
        auto tries = store->tries(id, task);
        if (tries.empty()) {
          throw Error(ErrorKind::kInvalidInput,
                      "task '" + task + "' has not run yet in run " + id + " (state " +
                          std::string(state::to_string(inst->state)) + ")");
        }
        const state::TryRecord* t = &tries.back();
        if (try_number) {
          t = nullptr;
          for (const auto& x : tries) {
            if (x.try_number == try_number) t = &x;
          }
          if (!t) {
            throw Error(ErrorKind::kInvalidInput,
                        "task '" + task + "' has no try " + std::to_string(try_number) +
                            " (tries: 1.." + std::to_string(tries.back().try_number) + ")");
          }
        }
        if (g.json) {
          auto text = std::ifstream(t->log_path)
                          ? std::string((std::istreambuf_iterator<char>(
                                            *std::make_unique<std::ifstream>(t->log_path))),
                                        std::istreambuf_iterator<char>())
                          : std::string();
          std::cout << nlohmann::json{{"run", id},
                                      {"task", task},
                                      {"try", t->try_number},
                                      {"path", t->log_path},
                                      {"state", state::to_string(t->state)},
                                      {"log", text}}
                           .dump(2)
                    << "\n";
          return 0;
        }
        const int want = t->try_number;
        auto live = [&] {
          auto cur = store->get_instance(id, task);
          return cur && cur->try_number == want && state::is_in_flight(cur->state);
        };
        // A Slurm job that is still running (or whose copy never reached this machine) is
        // read on the site; an ended one from the copy the engine fetched when it ended.
        std::unique_ptr<RemoteLog> remote;
        if (live() || !std::filesystem::exists(t->log_path)) {
          try {
            remote = RemoteLog::open(*t);
          } catch (const Error& e) {
            std::fprintf(stderr, "flow: %s; showing the local copy\n", e.what());
          }
        }
        std::streamoff off = 0;
        do {
          const bool was_live = live();
          if (remote) {
            try {
              off = remote->copy_from(off);
            } catch (const Error& e) {
              std::fprintf(stderr, "flow: %s; showing the local copy\n", e.what());
              remote.reset();
            }
          }
          if (!remote) off = copy_from(t->log_path, off);
          if (!follow || !was_live) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(remote ? 2000 : 250));
        } while (true);
        if (off == 0 && !std::filesystem::exists(t->log_path)) {
          std::fprintf(stderr, "flow: the log %s does not exist (yet)\n", t->log_path.c_str());
        }
        return 0;
      };
    });
  }
}

}  // namespace flow::cli
