#pragma once
// Rows of the state database, as plain values. The Store reads and writes them; the run
// controller keeps the live copies. Times are milliseconds since the epoch (0 = unset).

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/core/clock.hpp"
#include "engine/state/task_state.hpp"

namespace flow::state {

struct RunRecord {
  std::string id;
  std::string dag;
  RunState state = RunState::kRunning;
  std::string dag_file;  // as given on the command line
  std::string dag_yaml;  // the text that was run: resume uses this, not the file
  std::string dag_hash;  // sha256 of dag_yaml
  nlohmann::json params = nlohmann::json::object();  // after -p overrides
  std::string run_dir;                               // local {{ run.dir }}
  std::string workdir;                               // cwd of tasks (where `flow run` was started)
  // ISO 8601 UTC to the second ("2027-03-27T01:00:00Z"); docs/SCHEDULER.md. A scheduled or
  // backfilled run covers [data_interval_start, data_interval_end) and its logical date is
  // the start; a manual one (`flow run`, `flow trigger`) has the time it was started.
  std::string logical_date;
  std::string data_interval_start;
  std::string data_interval_end;
  EpochMs created = 0;
  EpochMs started = 0;
  EpochMs ended = 0;
  int parallelism = 0;  // -j
  // The engine process executing the run (0 = none); engine/run/ownership.hpp.
  int owner_pid = 0;
  uint64_t owner_start = 0;
  std::string owner_host;
  std::string owner_token;  // random per engine process: fences a displaced owner
  EpochMs heartbeat = 0;
  bool cancel_requested = false;
};

// What the scheduler knows of one DAG with a `schedule` (table `schedules`). Times are
// instants in milliseconds; fire times are whole seconds.
struct ScheduleRecord {
  std::string dag;
  std::string schedule;  // the cron text and zone this row was started with: a change
  std::string timezone;  // of either starts the DAG afresh (first_seen = then)
  std::string dag_file;
  EpochMs first_seen = 0;  // when a scheduler first saw the DAG (with this schedule)
  EpochMs last_fire = 0;   // end (fire time) of the last interval it started; 0 = none yet
  EpochMs updated = 0;
};

struct InstanceRecord {
  // Empty in a run controller's live records, which are all of its one run
  // (engine/run/instance_table.hpp): a run id is longer than a string holds in place, so a
  // copy per instance is an allocation.
  std::string run_id;
  std::string id;       // "train", "tiles[3]", "tune[trial-7]"
  std::string task_id;  // "tiles"
  std::string parent;   // for mapped/trial instances: the task id; else ""
  int map_index = -1;
  TaskState state = TaskState::kQueued;
  int try_number = 0;  // attempts started so far
  int failures = 0;    // failed attempts (the retry budget counts these)
  std::string site;
  int pid = 0;
  uint64_t pid_start = 0;
  std::string job_id;
  std::string job_name;
  EpochMs started = 0;  // current/last attempt
  EpochMs ended = 0;
  EpochMs next_try_at = 0;  // up_for_retry: not before this time
  int exit_code = 0;
  int signal = 0;
  std::string native_state;
  std::string message;
  nlohmann::json outputs;  // null until the task wrote FLOW_OUTPUTS_FILE
  // A foreach item ("item"), an HPO trial's state ("trial"), an hpo task's best ("best").
  // Null until a key is set (`attrs["k"] = v` makes it an object): most instances have
  // none, and an empty object is an allocation per instance. Stored as "{}" when null.
  nlohmann::json attrs;

  // attrs[key], or null when attrs has no such key (or is null).
  const nlohmann::json& attr(const char* key) const {
    static const nlohmann::json none;
    if (!attrs.is_object()) return none;
    const auto it = attrs.find(key);
    return it == attrs.end() ? none : *it;
  }
};

// What a try used, where its executor could tell (docs/REFERENCE.md §7.2 "usage"): Slurm's
// accounting (sacct TotalCPU, the largest MaxRSS of the job's steps, AllocCPUS) or, for a
// local process, the kernel's rusage of it and its descendants. -1 = not known (still
// running, re-attached after an engine restart, accounting off).
struct ResourceUse {
  int64_t cpu_ms = -1;         // user + system CPU time
  int64_t max_rss_bytes = -1;  // peak resident memory
  int64_t wall_ms = -1;        // how long it ran (Slurm: End - Start, whole seconds)
  int cpus = 0;  // CPUs allotted (Slurm's AllocCPUS, a local try's resources.cpus); 0 = none
  int gpus = 0;  // GPUs allotted (AllocTRES gres/gpu, a local try's resources.gpus); 0 = none

  bool known() const { return cpu_ms >= 0 || max_rss_bytes >= 0; }
  // The try's share of its allocation: allotted CPUs (GPUs) x wall time, in hours; -1 when
  // there was no allotment or the time is not known.
  double core_hours() const { return share_hours(cpus); }
  double gpu_hours() const { return share_hours(gpus); }
  double share_hours(int units) const {
    return units > 0 && wall_ms >= 0 ? static_cast<double>(units) * wall_ms / 3.6e6 : -1;
  }
  // cpu_ms / (wall_ms x cpus): the share of the allotted CPUs it kept busy, or, with no
  // allotment (a local process), / wall_ms: the cores it used on average. -1 when unknown.
  double cpu_efficiency() const {
    if (cpu_ms < 0 || wall_ms <= 0) return -1;
    return static_cast<double>(cpu_ms) / static_cast<double>(wall_ms * std::max(cpus, 1));
  }
};

struct TryRecord {
  std::string run_id;
  std::string instance_id;
  int try_number = 0;
  TaskState state = TaskState::kStarting;
  std::string site;
  int pid = 0;
  std::string job_id;
  std::string job_name;
  std::string script;
  std::string log_path;
  EpochMs started = 0;
  EpochMs ended = 0;
  int exit_code = 0;
  int signal = 0;
  std::string native_state;
  std::string message;
  ResourceUse usage;
  // An HPO trial's try: which segment of the trial it ran (1, 2, ...) and which try of
  // that segment it was (1, 2, ...); engine/state/trial_segment.hpp. 0 and 0 otherwise.
  int segment = 0;
  int segment_try = 0;
};

struct EventRecord {
  int64_t seq = 0;
  std::string run_id;
  std::string instance_id;
  int try_number = 0;
  EpochMs ts = 0;
  std::string state;
  std::string message;
};

struct MetricRecord {
  std::string instance_id;
  int try_number = 0;
  int seq = 0;
  EpochMs ts = 0;
  nlohmann::json values;
};

// A file a task registered in the artifact registry (docs/ARTIFACTS.md). Written in the
// same transaction as the try's success and never changed afterwards. Everything the JSON-LD
// description needs is here, so a row stays meaningful after its run is long gone.
struct ArtifactRecord {
  std::string id;  // "a-<12 hex of sha256>-<8 hex of run/instance/try/path>"
  std::string run_id;
  std::string instance_id;  // "train", "tiles[3]"
  std::string task_id;
  int try_number = 0;
  std::string dag;
  std::string dag_hash;                              // sha256 of the run's DAG text
  nlohmann::json params = nlohmann::json::object();  // the run's params
  std::string site;                                  // where the task ran
  std::string host;                                  // the engine host that read the file
  std::string name;
  std::string description;
  std::string format;                     // "onnx", "csv", ... or a media type the task gave
  std::string encoding_format;            // media type: "application/onnx"
  std::string path;                       // absolute
  std::string sha256;                     // lowercase hex
  int64_t size = 0;                       // bytes
  EpochMs started = 0;                    // the try's start
  EpochMs created = 0;                    // registration: when the try succeeded
  std::vector<std::string> derived_from;  // ids of upstream artifacts
  nlohmann::json metadata = nlohmann::json::object();  // the task's own "metadata"
  // A file a task on an SSH site made, fetched here before registration: {"site", "host"
  // (host:port), "path" (on the site), "job_id" (Slurm), "sha256" (computed on the site)}.
  // {} for a file registered where it was made.
  nlohmann::json origin = nlohmann::json::object();
  // "model", "dataset" or "other" (engine/artifact/kind.hpp). Rows written before schema 9
  // named none: migration 9 made those of model formats "model", the rest "other".
  std::string kind = "other";
};

}  // namespace flow::state
