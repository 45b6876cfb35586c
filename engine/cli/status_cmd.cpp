// flow status RUN [--task T]... [--state S]... [--limit N] [--offset K] [--summary]:
// the run's instances, read and printed a page at a time (status_pages.hpp), so a run of a
// million instances shows a screenful, or streams all of them, without holding them.
#include <cstdio>
#include <iostream>

#include "engine/cli/app.hpp"
#include "engine/cli/render.hpp"
#include "engine/cli/status_pages.hpp"
#include "engine/core/error.hpp"
#include "engine/core/suggest.hpp"
#include "engine/runtime/new_run.hpp"

namespace flow::cli {

namespace {

struct StatusOptions {
  std::string run_id;
  std::vector<std::string> tasks;
  std::vector<std::string> states;
  int64_t limit = 0;
  int64_t offset = 0;
  bool summary = false;
};

std::vector<state::TaskState> parse_states(const std::vector<std::string>& names) {
  std::vector<state::TaskState> out;
  for (const auto& name : names) {
    if (auto s = state::task_state_from(name)) {
      out.push_back(*s);
      continue;
    }
    std::vector<std::string> known;
    for (auto s : state::all_task_states())
      known.push_back(std::string(state::to_string(s)));
    throw Error(ErrorKind::kInvalidInput, "--state " + name + ": not a task state" +
                                              did_you_mean(name, known) +
                                              " (states: " + join(known) + ")");
  }
  return out;
}

nlohmann::json summary_json(const StatusPages& pages) {
  auto out = nlohmann::json::array();
  for (const auto& t : pages.summary())
    out.push_back({{"task", t.task}, {"instances", t.instances}, {"counts", t.counts}});
  return out;
}

std::map<std::string, int64_t> run_counts(const StatusPages& pages) {
  std::map<std::string, int64_t> out;
  for (const auto& t : pages.summary()) {
    for (const auto& [s, n] : t.counts)
      out[s] += n;
  }
  return out;
}

int print_summary(state::Store& store, const state::RunRecord& run, const StatusPages& pages,
                  bool json) {
  const auto deliveries = store.deliveries(run.id);
  if (json) {
    nlohmann::json doc = {{"run", run_json(run)},
                          {"summary", summary_json(pages)},
                          {"counts", run_counts(pages)},
                          {"instances", pages.total()},
                          {"deliveries", deliveries_json(deliveries)}};
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  size_t w = 4;
  for (const auto& t : pages.summary())
    w = std::max(w, t.task.size());
  std::printf("run %s  dag %s  %s  started %s\n", run.id.c_str(), run.dag.c_str(),
              std::string(state::to_string(run.state)).c_str(), iso_utc(run.started).c_str());
  std::printf("%-*s  %10s  %s\n", static_cast<int>(w), "TASK", "INSTANCES", "STATES");
  for (const auto& t : pages.summary()) {
    std::printf("%-*s  %10lld  %s\n", static_cast<int>(w), t.task.c_str(),
                static_cast<long long>(t.instances), counts_text(t.counts).c_str());
  }
  std::printf("%lld instances: %s\n", static_cast<long long>(pages.total()),
              counts_text(run_counts(pages)).c_str());
  std::fputs(deliveries_text(deliveries).c_str(), stdout);
  return 0;
}

int print_rows(state::Store& store, const state::RunRecord& run, StatusPages& pages,
               const StatusFilter& filter, bool json) {
  const auto deliveries = store.deliveries(run.id);
  const int64_t matching = pages.matching(filter);
  const int64_t shown = std::max<int64_t>(
      0, std::min(matching - filter.offset, filter.limit > 0 ? filter.limit : INT64_MAX));
  if (json) {
    // {"deliveries", ["page",] "run", "tasks"}: the keys in dump()'s order, "tasks" last
    // and streamed.
    std::string head =
        "{\n  \"deliveries\": " + dump_nested(deliveries_json(deliveries), 1) + ",\n";
    if (filter.pages()) {
      nlohmann::json page = {{"offset", filter.offset},
                             {"limit", filter.limit},
                             {"matching", matching},
                             {"total", pages.total()},
                             {"shown", shown}};
      head += "  \"page\": " + dump_nested(page, 1) + ",\n";
    }
    head += "  \"run\": " + dump_nested(run_json(run), 1) + ",\n  \"tasks\": [";
    std::fputs(head.c_str(), stdout);
    bool first = true;
    pages.for_each_page(filter, [&](std::vector<StatusRow>& rows) {
      std::string out;
      for (const auto& r : rows) {
        auto j = instance_json(r.instance, r.waiting ? &*r.waiting : nullptr);
        if (r.usage) j["usage"] = usage_json(*r.usage);
        out += (first ? "\n    " : ",\n    ") + dump_nested(j, 2);
        first = false;
      }
      std::fputs(out.c_str(), stdout);
    });
    std::fputs(first ? "]\n}\n" : "\n  ]\n}\n", stdout);
    return 0;
  }
  const size_t id_w = store.longest_instance_id(run.id);
  size_t try_w = 3;
  bool headed = false;
  pages.for_each_page(filter, [&](std::vector<StatusRow>& rows) {
    std::string out;
    if (!headed) {  // the try column as wide as the first page needs
      for (const auto& r : rows)
        try_w = std::max(try_w, status_try_cell(r.instance).size());
      out = status_heading(run, id_w, try_w);
      headed = true;
    }
    for (const auto& r : rows)
      out += status_line(r.instance, r.waiting ? &*r.waiting : nullptr, id_w, try_w);
    std::fputs(out.c_str(), stdout);
  });
  if (!headed) std::fputs(status_heading(run, id_w, try_w).c_str(), stdout);
  if (filter.pages()) {
    if (matching == 0) {
      std::printf("no instance of %lld matches", static_cast<long long>(pages.total()));
    } else if (shown == 0) {
      std::printf("no instances past --offset %lld (%lld match, %lld in the run)",
                  static_cast<long long>(filter.offset), static_cast<long long>(matching),
                  static_cast<long long>(pages.total()));
    } else {
      std::printf("instances %lld-%lld of %lld that match (%lld in the run)",
                  static_cast<long long>(filter.offset + 1),
                  static_cast<long long>(filter.offset + shown), static_cast<long long>(matching),
                  static_cast<long long>(pages.total()));
    }
    if (filter.offset + shown < matching)
      std::printf("; next: --offset %lld", static_cast<long long>(filter.offset + shown));
    std::printf("\n");
  }
  std::fputs(deliveries_text(deliveries).c_str(), stdout);
  return 0;
}

}  // namespace

void register_status_command(CLI::App& app, GlobalOptions& g, Action& action, OptionValues& ov) {
  auto* cmd =
      app.add_subcommand("status",
                         "The task instances of a run: state, try, site, job, duration (paged with "
                         "--limit/--offset, --summary for one line per task)");
  add_global_options(*cmd, g);
  auto& o = ov.add<StatusOptions>();
  cmd->add_option("run_id", o.run_id, "Run id")->required();
  cmd->add_option("--task", o.tasks,
                  "Only this task: its own instance and its foreach items or trials "
                  "(repeatable)");
  cmd->add_option("--state", o.states, "Only instances in this state (repeatable)");
  cmd->add_option("--limit", o.limit, "At most this many instances (0 = all)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--offset", o.offset, "Skip this many instances first")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--summary", o.summary, "One line per task: its instances per state");
  cmd->callback([&] {
    action = [&]() -> int {
      auto store = state::Store::open_existing(g.db_path());
      auto run = require_run(*store, o.run_id);
      StatusFilter filter;
      filter.tasks = o.tasks;
      filter.states = parse_states(o.states);
      filter.limit = o.limit;
      filter.offset = o.offset;
      if (o.summary && filter.pages()) {
        throw Error(ErrorKind::kInvalidInput,
                    "--summary counts every task; it takes no --task, --state, --limit or "
                    "--offset");
      }
      StatusPages pages(*store, run, runtime::catalogue_max_jobs(), runtime::catalogue_gpus());
      if (auto unknown = pages.unknown_tasks(filter); !unknown.empty()) {
        std::vector<std::string> known;
        for (const auto& t : pages.summary())
          known.push_back(t.task);
        throw Error(ErrorKind::kInvalidInput, "--task " + unknown.front() + ": run " + run.id +
                                                  " has no such task" +
                                                  did_you_mean(unknown.front(), known));
      }
      if (o.summary) return print_summary(*store, run, pages, g.json);
      return print_rows(*store, run, pages, filter, g.json);
    };
  });
}

}  // namespace flow::cli
