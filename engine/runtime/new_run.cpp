#include "engine/runtime/new_run.hpp"

#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>

#include "engine/core/clock.hpp"
#include "engine/core/sha256.hpp"
#include "engine/core/suggest.hpp"
#include "engine/dag/loader.hpp"
#include "engine/dag/validate.hpp"
#include "engine/run/ownership.hpp"
#include "engine/schedule/time_text.hpp"
#include "engine/site/local_node.hpp"

namespace flow::runtime {

site::SiteCatalog load_sites() {
  return site::SiteCatalog::load(site::SiteCatalog::default_dirs());
}

run::MaxJobsOf catalogue_max_jobs() {
  std::shared_ptr<const site::SiteCatalog> sites;
  try {
    sites = std::make_shared<const site::SiteCatalog>(load_sites());
  } catch (const std::exception&) {
    // A broken site file: max_jobs is unknown.
  }
  return [sites](const std::string& name) {
    const site::Site* s = sites ? sites->find(name) : nullptr;
    return s ? s->max_jobs : 0;
  };
}

run::GpusOf catalogue_gpus() {
  std::shared_ptr<const site::SiteCatalog> sites;
  try {
    sites = std::make_shared<const site::SiteCatalog>(load_sites());
  } catch (const std::exception&) {
  }
  auto counts = std::make_shared<std::map<std::string, int>>();
  return [sites, counts](const std::string& name) {
    if (auto it = counts->find(name); it != counts->end()) return it->second;
    const site::Site* s = sites ? sites->find(name) : nullptr;
    const int n = s && !s->is_slurm() ? static_cast<int>(site::local_node(*s).gpus.size()) : -1;
    counts->emplace(name, n);
    return n;
  };
}

void apply_param(dag::Dag& dag, const std::string& kv) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(SourceLocation{}, "-p " + kv + ": expected key=value");
  }
  std::string key = kv.substr(0, eq), value = kv.substr(eq + 1);
  if (!dag.params.contains(key)) {
    std::vector<std::string> names;
    for (const auto& [k, _] : dag.params.items())
      names.push_back(k);
    throw InputError(SourceLocation{dag.source_file},
                     "-p " + key + ": the DAG has no parameter '" + key + "'" +
                         did_you_mean(key, names) +
                         (names.empty() ? "" : "; parameters: " + join(names)));
  }
  const auto& old = dag.params[key];
  auto bad = [&](const char* type) {
    throw InputError(SourceLocation{}, "-p " + key + "=" + value + ": parameter '" + key + "' is " +
                                           type + " (default " + old.dump() + ")");
  };
  if (old.is_boolean()) {
    if (value == "true" || value == "yes" || value == "1")
      dag.params[key] = true;
    else if (value == "false" || value == "no" || value == "0")
      dag.params[key] = false;
    else
      bad("a boolean (true/false)");
  } else if (old.is_number_integer()) {
    try {
      size_t used = 0;
      long long v = std::stoll(value, &used);
      if (used != value.size()) bad("an integer");
      dag.params[key] = v;
    } catch (const std::logic_error&) {
      bad("an integer");
    }
  } else if (old.is_number()) {
    try {
      size_t used = 0;
      double v = std::stod(value, &used);
      if (used != value.size()) bad("a number");
      dag.params[key] = v;
    } catch (const std::logic_error&) {
      bad("a number");
    }
  } else if (old.is_string()) {
    dag.params[key] = value;
  } else {
    auto j = nlohmann::json::parse(value, nullptr, false);
    dag.params[key] = j.is_discarded() ? nlohmann::json(value) : j;
  }
}

namespace {

// Every task on a batch site must yield a job script (LAMEC rules: software the site's
// system has, combinations that share one launcher): found here, with the task's line,
// rather than when the task is about to be submitted.
void check_job_scripts(const dag::Dag& dag, const site::SiteCatalog& sites,
                       const Services& services) {
  if (!services.check_job_script) return;
  std::vector<Diagnostic> problems;
  for (const auto& t : dag.tasks) {
    const site::Site* s = sites.find(dag.site_of(t));
    if (!s || !s->is_slurm()) continue;
    try {
      services.check_job_script(dag, t, *s);
    } catch (const InputError& e) {
      problems.insert(problems.end(), e.diagnostics().begin(), e.diagnostics().end());
    }
  }
  if (!problems.empty()) throw InputError(std::move(problems));
}

std::string random_suffix() {
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%04x", static_cast<unsigned>(rd() & 0xffff));
  return suffix;
}

}  // namespace

void prepare_dag(dag::Dag& dag, const std::vector<std::string>& params,
                 const site::SiteCatalog* sites, const Services* services) {
  for (const auto& p : params)
    apply_param(dag, p);
  // With the sites known this is a run about to start (or `flow validate` of one): its
  // code and working-directory inputs must exist now, before any job is submitted
  // (docs/STAGING.md).
  const std::filesystem::path workdir = std::filesystem::current_path();
  dag::validate_or_throw(dag, {sites, sites ? &workdir : nullptr});
  if (sites && services) check_job_scripts(dag, *sites, *services);
}

dag::Dag load_validated(const std::string& file, const std::vector<std::string>& params,
                        const site::SiteCatalog* sites, const Services* services) {
  dag::Dag dag = dag::load_dag_file(file);
  prepare_dag(dag, params, sites, services);
  return dag;
}

std::string new_run_id(const std::string& dag) {
  std::time_t t = static_cast<std::time_t>(now_ms() / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y%m%dT%H%M%S", &tm);
  return dag + "-" + ts + "-" + random_suffix();
}

std::string scheduled_run_id(const std::string& dag, schedule::Instant interval_start) {
  return dag + "-scheduled-" + schedule::compact_utc(interval_start);
}

std::string backfill_run_id(const std::string& dag, schedule::Instant interval_start) {
  return dag + "-backfill-" + schedule::compact_utc(interval_start) + "-" + random_suffix();
}

state::RunRecord new_run_record(const dag::Dag& dag, const std::string& run_id,
                                const std::filesystem::path& home, int parallelism) {
  state::RunRecord r;
  r.id = run_id;
  r.dag = dag.name;
  r.dag_file = dag.source_file;
  r.dag_yaml = dag.source_text;
  r.dag_hash = sha256_hex(dag.source_text);
  r.params = dag.params;
  r.run_dir = (std::filesystem::absolute(home) / "runs" / r.id).string();
  r.workdir = std::filesystem::current_path().string();
  r.created = now_ms();
  r.parallelism = parallelism;
  return r;
}

std::optional<schedule::Timetable> timetable_of(const dag::Dag& dag) {
  if (!dag.schedule) return std::nullopt;
  return schedule::Timetable(*dag.schedule, dag.timezone, dag.loc("schedule"), dag.loc("timezone"));
}

void set_interval(state::RunRecord& run, const schedule::DataInterval& iv) {
  run.logical_date = schedule::format_utc(iv.start);
  run.data_interval_start = schedule::format_utc(iv.start);
  run.data_interval_end = schedule::format_utc(iv.end);
}

void set_manual_dates(state::RunRecord& run, const dag::Dag& dag, schedule::Instant now) {
  schedule::DataInterval iv{now, now};
  if (auto tt = timetable_of(dag)) {
    if (auto last = tt->last_fire(now)) iv = tt->interval_ending(*last);
  }
  set_interval(run, iv);
  run.logical_date = schedule::format_utc(now);
}

bool is_executing(const state::RunRecord& run) {
  auto owner =
      run::owner_of(run, run::EngineIdentity::self(), now_ms(), run::default_stale_after());
  return owner.state == run::OwnerState::kLive || owner.state == run::OwnerState::kThisEngine;
}

int count_executing_runs(state::Store& store, const std::string& dag) {
  int n = 0;
  for (const auto& r : store.runs_in_state(dag, state::RunState::kRunning))
    n += is_executing(r) ? 1 : 0;
  return n;
}

}  // namespace flow::runtime
