#include "engine/run/run_cleaning.hpp"

#include <algorithm>
#include <set>
#include <system_error>

#include "engine/run/sweep.hpp"

namespace flow::run {

namespace fs = std::filesystem;

void check_cleanable(const state::RunRecord& run) {
  std::string what;
  switch (run.state) {
    case state::RunState::kSucceeded:
    case state::RunState::kFailed:
    case state::RunState::kCancelled:
      return;
    case state::RunState::kRunning:
      what = "is running, but its engine is gone";
      break;
    case state::RunState::kInterrupted:
      what = "is interrupted";
      break;
  }
  throw InputError(SourceLocation{},
                   "run " + run.id + " " + what +
                       ": it can go on, and jobs of it may still work in the directories flow "
                       "clean removes. Finish it (flow resume " +
                       run.id + ") or stop it (flow cancel " + run.id + "), then clean it");
}

std::vector<std::string> sites_of_run(state::Store& store, const std::string& run_id) {
  std::set<std::string> sites;
  for (const auto& inst : store.instances(run_id)) {
    if (!inst.site.empty()) sites.insert(inst.site);
    for (const auto& t : store.tries(run_id, inst.id)) {
      if (!t.site.empty()) sites.insert(t.site);
    }
  }
  return {sites.begin(), sites.end()};
}

LocalCheckpoints local_checkpoints(state::Store& store, const state::RunRecord& run) {
  LocalCheckpoints out;
  if (run.run_dir.empty()) return out;
  // The tasks with trials: the parents of instances that hold a trial record.
  std::set<std::string> sweeps;
  for (const auto& inst : store.instances(run.id)) {
    if (!inst.parent.empty() && inst.attrs.contains("trial")) sweeps.insert(inst.parent);
  }
  if (sweeps.empty()) return out;
  std::set<fs::path> registered;
  for (const auto& a : store.list_artifacts()) {
    std::error_code ec;
    const fs::path p = fs::weakly_canonical(a.path, ec);
    registered.insert(ec ? fs::path(a.path) : p);
  }
  std::error_code ec;
  for (fs::directory_iterator it(run.run_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    bool match = false;
    for (const auto& task : sweeps)
      match = match || Sweep::is_checkpoint_name(task, name);
    if (!match) continue;
    std::error_code cec;
    const fs::path canonical = fs::weakly_canonical(it->path(), cec);
    if (registered.count(it->path()) || (!cec && registered.count(canonical))) {
      out.artifacts.push_back(it->path());
      continue;
    }
    std::error_code sec;
    const auto st = it->symlink_status(sec);
    uint64_t bytes = 0;
    if (!sec && fs::is_regular_file(st)) {
      bytes = it->file_size(sec);
      if (sec) bytes = 0;
    }
    out.remove.push_back({it->path(), bytes});
  }
  std::sort(out.remove.begin(), out.remove.end(),
            [](const LocalFile& a, const LocalFile& b) { return a.path < b.path; });
  std::sort(out.artifacts.begin(), out.artifacts.end());
  return out;
}

void record_cleaned(state::Store& store, const std::string& run_id, const std::string& where,
                    const std::string& what) {
  store.add_event({0, run_id, "", 0, now_ms(), std::string(kCleanedEvent), where + ": " + what});
}

std::vector<state::EventRecord> cleanings(state::Store& store, const std::string& run_id) {
  std::vector<state::EventRecord> out;
  for (auto& e : store.events(run_id)) {
    if (e.instance_id.empty() && e.state == kCleanedEvent) out.push_back(std::move(e));
  }
  return out;
}

void refuse_if_cleaned(state::Store& store, const std::string& run_id, const std::string& action) {
  const auto done = cleanings(store, run_id);
  if (done.empty()) return;
  std::vector<std::string> places;
  for (const auto& e : done) {
    const std::string where = e.message.substr(0, e.message.find(':'));
    const std::string place = where == kHere ? "here" : "on site '" + where + "'";
    if (std::find(places.begin(), places.end(), place) == places.end()) places.push_back(place);
  }
  std::string list;
  for (const auto& p : places)
    list += (list.empty() ? "" : ", ") + p;
  throw RunCleaned(SourceLocation{},
                   "run " + run_id + " was cleaned at " + iso_utc(done.front().ts) +
                       " (flow clean removed its files " + list + "), so it cannot be " + action +
                       "; start a new run of its DAG instead");
}

}  // namespace flow::run
