#pragma once
// The model of a DAG file (docs/REFERENCE.md §3) after loading: plain values with the
// source location of every field a user may get wrong. Loading is engine/dag/loader.hpp,
// checking is engine/dag/validate.hpp; nothing here does I/O.

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/boxed.hpp"
#include "engine/core/defaulted.hpp"
#include "engine/core/error.hpp"

namespace flow::dag {

using Duration = std::chrono::milliseconds;

// When a task may run, given the states of its upstream tasks (Airflow's trigger rules).
enum class TriggerRule { kAllSuccess, kAllDone, kOneFailed, kOneSuccess, kNoneFailed };

// The `slurm:` block of a task. Zero / empty means "use the site's or LAMEC's default".
struct SlurmSpec {
  int nodes = 0;
  int ntasks = 0;  // ntasks per node
  int gpus = 0;    // gpus per node
  int cpus_per_task = 0;
  std::string time;  // HH:MM:SS or D-HH:MM:SS
  std::string partition;
  std::string account;
  std::vector<std::string> software;  // LAMEC software names: ddp, horovod, heat, ...
  std::vector<std::string> extra;     // extra "#SBATCH" option lines, e.g. "--mem=4G"
  bool empty() const;
};

// The `resources:` block of a task (docs/REFERENCE.md §3.15): what one try needs of a
// node. On a plain-process site the executor hands out cores and GPUs exclusively (a
// try waits until they are free); on a Slurm site they become the job's #SBATCH lines.
struct Resources {
  bool declared = false;  // the task (or defaults:) has a `resources:` block
  int cpus = 1;           // cores for the try
  int gpus = 0;           // GPUs for the try; seen as CUDA_VISIBLE_DEVICES when declared
  int memory_mb = 0;      // memory in MiB; 0 = not said (Slurm: --mem; local: not enforced)
};

// One search-space dimension of an HPO node.
struct SpaceDim {
  std::string name;
  std::string kind;     // uniform | loguniform | randint | choice
  nlohmann::json args;  // [lo, hi] or [choices...]
  SourceLocation where;
};

// The `hpo:` block (docs/REFERENCE.md §3.5).
struct HpoSpec {
  std::string algorithm = "random";  // random | grid | tpe | asha | hyperband | pbt
  std::string sampler = "random";    // asha/hyperband: random | tpe
  // The metric the tuner ranks by: the one metric, or with objectives the scalar `best`
  // defines (best_metric with its mode, or "weighted", min).
  std::string metric;
  std::string mode = "min";  // min | max
  // Multi-objective: every objective, in order (metric, min|max), and the rule for the
  // best trial: best_metric, or else best_weights (objective -> weight).
  std::vector<std::pair<std::string, std::string>> objectives;
  std::string best_metric;
  std::map<std::string, double> best_weights;
  int startup_trials = 10;
  int samples = 8;
  int max_epochs = 10;
  int grace_epochs = 1;
  int reduction_factor = 3;
  int perturbation_interval = 5;
  int parallel = 2;
  std::optional<uint64_t> seed;
  std::vector<SpaceDim> space;
  SourceLocation where;
};

// A set of the Slurm end states `retry_on:` may name, one bit each: a task holds two bytes
// rather than a list of strings (a static DAG of 1,000,000 tasks holds 1,000,000 of them).
class RetryStates {
 public:
  // Every state `retry_on:` may name, in bit order.
  static const std::vector<std::string>& all();
  // The default of `retry_on:`: TIMEOUT, NODE_FAIL, PREEMPTED, BOOT_FAIL.
  static RetryStates defaults();

  // Adds `state`; false (and nothing added) when it is not one of all().
  bool add(std::string_view state);
  bool contains(std::string_view state) const;
  bool empty() const { return bits_ == 0; }
  std::vector<std::string> names() const;  // in the order of all()

 private:
  static uint16_t bit_of(std::string_view state);  // 0 when it is not one of all()
  uint16_t bits_ = 0;
};

struct RetryPolicy {
  int retries = 0;  // extra tries after the first
  Duration delay{std::chrono::seconds(10)};
  double backoff = 2.0;  // delay multiplier per further try
  Duration max_delay{std::chrono::hours(1)};
  // Slurm end states (other than FAILED) that are retried.
  RetryStates retry_on = RetryStates::defaults();

  // Delay before try number `next_try` (2 = first retry).
  Duration delay_before(int next_try) const;
};

// Where a staged path lives (docs/STAGING.md): relative to the run directory (on each side:
// `{{ run.dir }}`), to the working directory `flow run` was started in (on a Slurm site: the
// job's working directory, which is its run directory), or to the site's workdir (files that
// live on the cluster and are never copied).
enum class PathBase { kRun, kWorkdir, kSite };

std::string_view to_string(PathBase b);

// The path rules of staged paths and `code:` entries: relative, no `..` component, no
// template, no control characters or backslashes, not the base itself. Returns "" or what is
// wrong; `normal` gets the lexically normal form ("a//b/./c/" -> "a/b/c").
std::string staged_path_problem(const std::string& path, std::string* normal = nullptr);

// One entry of a task's `inputs:` or `outputs:`.
struct StagedPath {
  std::string path;  // relative, lexically normal, no `..`, no template
  PathBase base = PathBase::kRun;
  SourceLocation where;
  // "data.npz", "workdir:data/ards.csv", "site:datasets/x.h5": for messages.
  std::string label() const;
};

// What a notification is about (docs/ALERTS.md): a task or run that failed, a try that
// will be retried, a success, an SLA that passed first.
enum class NotifyEvent { kFailure, kRetry, kSuccess, kSlaMiss };

std::string_view to_string(NotifyEvent e);

// One entry of a `notify:` list (top level: the run; task level: the task). Both targets
// are templates (`{{ params.X }}`, `{{ run.* }}`; the webhook also `{{ secrets.X }}`),
// rendered when the notification is made; an entry has one or both.
struct NotifySpec {
  std::vector<NotifyEvent> on{NotifyEvent::kFailure};
  std::string webhook;  // URL template (http:// or https:// once rendered); "" = none
  std::string command;  // shell command template, values shell-quoted; "" = none
  SourceLocation where;
  bool wants(NotifyEvent e) const;
};

// The blocks of a task that few tasks set, held together through one pointer: a static
// DAG of 1,000,000 tasks keeps a Task each for the whole run (152 bytes in place).
struct TaskExtras {
  std::map<std::string, std::string> env;  // values are templates
  std::optional<Duration> timeout;
  std::vector<StagedPath> inputs;   // uploaded to the task's Slurm site before each try
  std::vector<StagedPath> outputs;  // brought back to this side after a succeeded try
  std::vector<NotifySpec> notify;   // `notify:` (docs/ALERTS.md)
  std::optional<Duration> sla;      // `sla:`: succeeded within this of the run's SLA start
};

struct Task {
  std::string id;
  std::string run;                 // shell command template
  std::vector<std::string> after;  // upstream task ids
  std::string site;                // "" = the DAG default
  Defaulted<SlurmSpec> slurm;      // on the heap once set: most tasks have no `slurm:`
  Resources resources;
  Defaulted<RetryPolicy> retry;  // on the heap once a retry key is set (in the task or defaults)
  TriggerRule trigger = TriggerRule::kAllSuccess;
  Boxed<std::string> foreach;  // template yielding a list; on the heap, as hpo
  Boxed<HpoSpec> hpo;          // on the heap: most tasks have none, and it is large
  // env, timeout, inputs, outputs, notify, sla: read `task.extras->env`, set through
  // `task.extras.edit().env` (an unset block reads as all empty).
  Defaulted<TaskExtras> extras;

  // Where the task is in its file, for the messages of loading and validation: its `- id:`
  // entry and where the value of each of its keys starts ("run", "after", ...; a short
  // vector, not a map). A run drops it (drop_source()): a DAG of 1,000,000 tasks would keep
  // a list and the file's name per task.
  struct FieldMark {
    std::string field;
    int line = 0;
    int col = 0;
  };
  struct Source {
    SourceLocation where;
    std::vector<FieldMark> fields;
  };
  Boxed<Source> source;
  // The task's `- id:` entry; an empty location once dropped.
  const SourceLocation& where() const;
  // The location of `field`'s value, or of the task when the key is not present.
  SourceLocation loc(const std::string& field) const;
  void drop_source() { source.reset(); }
};

// One entry of `secrets:`: where its value comes from. Only this is in the DAG (and so in
// the database); the value is read by the engine that starts or resumes a run
// (engine/run/secrets.hpp) and reaches a task only through its `env:`
// (`{{ secrets.NAME }}`), never through its command, the job script or the database.
struct SecretSource {
  enum class From { kEnv, kFile };
  From from = From::kEnv;
  std::string ref;  // the environment variable's name, or the file's path (~/ allowed)
  SourceLocation where;
};

struct Dag {
  std::string name;
  std::string description;
  std::optional<std::string> schedule;  // cron text (engine/schedule/cron.hpp)
  std::string timezone = "UTC";         // IANA zone the schedule's fields are read in
  bool catchup = false;
  int max_active_runs = 16;
  nlohmann::json params = nlohmann::json::object();
  std::string default_site = "local";
  // `code:`: files and directories, relative to the working directory, that the tasks'
  // commands use (scripts, modules). Synced to each Slurm site once per run.
  std::vector<std::string> code;
  std::map<std::string, SecretSource> secrets;  // `secrets:` NAME -> where its value is
  std::vector<NotifySpec> notify;               // `notify:` of the run (docs/ALERTS.md)
  std::optional<Duration> sla;                  // `sla:`: the run ended within this
  std::vector<Task> tasks;                      // in file order

  std::string source_file;                            // path as given by the user
  std::string source_text;                            // the YAML text, stored with each run
  std::map<std::string, SourceLocation> field_where;  // value of each top-level key

  const Task* find(const std::string& id) const;
  // The location of top-level `field`'s value, or just the file when the key is absent.
  SourceLocation loc(const std::string& field) const;
  const std::string& site_of(const Task& t) const { return t.site.empty() ? default_site : t.site; }
};

std::string_view to_string(TriggerRule r);

}  // namespace flow::dag
