#include "engine/state/migrations.hpp"

#include <iterator>

namespace flow::state {

namespace {

// Never edit a released entry: append a new one (and a fixture of the version before it,
// tests/fixtures/db/make-fixtures.sh).
constexpr Migration kMigrations[] = {
    {1, "runs, task instances, tries, events and metrics",
     R"sql(
CREATE TABLE runs(
  id TEXT PRIMARY KEY,
  dag TEXT NOT NULL,
  state TEXT NOT NULL,
  dag_file TEXT NOT NULL DEFAULT '',
  dag_yaml TEXT NOT NULL,
  dag_hash TEXT NOT NULL,
  params_json TEXT NOT NULL DEFAULT '{}',
  run_dir TEXT NOT NULL,
  workdir TEXT NOT NULL DEFAULT '',
  logical_date TEXT NOT NULL DEFAULT '',
  data_interval_start TEXT NOT NULL DEFAULT '',
  data_interval_end TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL DEFAULT 0,
  started_ms INTEGER NOT NULL DEFAULT 0,
  ended_ms INTEGER NOT NULL DEFAULT 0,
  parallelism INTEGER NOT NULL DEFAULT 0,
  owner_pid INTEGER NOT NULL DEFAULT 0,
  owner_start INTEGER NOT NULL DEFAULT 0,
  owner_host TEXT NOT NULL DEFAULT '',
  heartbeat_ms INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_dag ON runs(dag, created_ms);
CREATE INDEX runs_by_created ON runs(created_ms);
CREATE TABLE instances(
  run_id TEXT NOT NULL REFERENCES runs(id),
  id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  parent TEXT NOT NULL DEFAULT '',
  map_index INTEGER NOT NULL DEFAULT -1,
  state TEXT NOT NULL,
  try INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0,
  site TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL DEFAULT 0,
  pid_start INTEGER NOT NULL DEFAULT 0,
  job_id TEXT NOT NULL DEFAULT '',
  job_name TEXT NOT NULL DEFAULT '',
  started_ms INTEGER NOT NULL DEFAULT 0,
  ended_ms INTEGER NOT NULL DEFAULT 0,
  next_try_ms INTEGER NOT NULL DEFAULT 0,
  exit_code INTEGER NOT NULL DEFAULT 0,
  signal INTEGER NOT NULL DEFAULT 0,
  native_state TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  outputs_json TEXT,
  attrs_json TEXT NOT NULL DEFAULT '{}',
  UNIQUE(run_id, id)
);
CREATE TABLE tries(
  run_id TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  try INTEGER NOT NULL,
  state TEXT NOT NULL,
  site TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL DEFAULT 0,
  job_id TEXT NOT NULL DEFAULT '',
  job_name TEXT NOT NULL DEFAULT '',
  script TEXT NOT NULL DEFAULT '',
  log_path TEXT NOT NULL DEFAULT '',
  started_ms INTEGER NOT NULL DEFAULT 0,
  ended_ms INTEGER NOT NULL DEFAULT 0,
  exit_code INTEGER NOT NULL DEFAULT 0,
  signal INTEGER NOT NULL DEFAULT 0,
  native_state TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(run_id, instance_id, try)
) WITHOUT ROWID;
CREATE TABLE events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  try INTEGER NOT NULL DEFAULT 0,
  ts_ms INTEGER NOT NULL,
  state TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_run ON events(run_id, seq);
CREATE TABLE metrics(
  run_id TEXT NOT NULL,
  instance_id TEXT NOT NULL,
  try INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  ts_ms INTEGER NOT NULL,
  json TEXT NOT NULL,
  PRIMARY KEY(run_id, instance_id, try, seq)
) WITHOUT ROWID;
)sql"},
    {2, "the artifact registry (docs/ARTIFACTS.md)",
     R"sql(
CREATE TABLE artifacts(
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id),
  instance_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  try INTEGER NOT NULL,
  dag TEXT NOT NULL,
  dag_hash TEXT NOT NULL,
  params_json TEXT NOT NULL DEFAULT '{}',
  site TEXT NOT NULL DEFAULT '',
  host TEXT NOT NULL DEFAULT '',
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  format TEXT NOT NULL DEFAULT '',
  encoding_format TEXT NOT NULL DEFAULT '',
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  started_ms INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  derived_from_json TEXT NOT NULL DEFAULT '[]',
  metadata_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX artifacts_by_created ON artifacts(created_ms);
CREATE INDEX artifacts_by_run ON artifacts(run_id, created_ms);
)sql"},
    {3, "scheduler state (engine/schedule) and runs by data interval",
     R"sql(
CREATE TABLE schedules(
  dag TEXT PRIMARY KEY,
  schedule TEXT NOT NULL,
  timezone TEXT NOT NULL,
  dag_file TEXT NOT NULL DEFAULT '',
  first_seen_ms INTEGER NOT NULL,
  last_fire_ms INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_interval ON runs(dag, data_interval_start);
)sql"},
    {4, "runs.owner_token: the owning engine's random token (engine/run/ownership.hpp)",
     // Taking a run over writes it, and the owner checks it in every commit, so a
     // displaced engine is fenced.
     R"sql(
ALTER TABLE runs ADD COLUMN owner_token TEXT NOT NULL DEFAULT '';
)sql"},
    {5, "artifacts.origin_json: where a file fetched from a site was made (docs/ARTIFACTS.md)",
     R"sql(
ALTER TABLE artifacts ADD COLUMN origin_json TEXT NOT NULL DEFAULT '{}';
)sql"},
    {6, "deliveries: the notifications of a run and how their delivery went (docs/ALERTS.md)",
     // target never holds a secret: a webhook's scheme and host, or the secret's name.
     R"sql(
CREATE TABLE deliveries(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  instance_id TEXT NOT NULL DEFAULT '',
  event TEXT NOT NULL,
  try INTEGER NOT NULL DEFAULT 0,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '',
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX deliveries_by_run ON deliveries(run_id, id);
)sql"},
    {7, "tries.cpu_ms, max_rss_bytes, wall_ms, cpus: what a try used (sacct or rusage)",
     R"sql(
ALTER TABLE tries ADD COLUMN cpu_ms INTEGER NOT NULL DEFAULT -1;
ALTER TABLE tries ADD COLUMN max_rss_bytes INTEGER NOT NULL DEFAULT -1;
ALTER TABLE tries ADD COLUMN wall_ms INTEGER NOT NULL DEFAULT -1;
ALTER TABLE tries ADD COLUMN cpus INTEGER NOT NULL DEFAULT 0;
)sql"},
    {8, "tries.segment, tries.segment_try: an HPO trial's segment and its try of it",
     // A trial runs as a chain of segments, each run by one or more tries; `try` counts
     // every attempt of the instance. 0 and 0: not a trial's try (or written before 8).
     R"sql(
ALTER TABLE tries ADD COLUMN segment INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tries ADD COLUMN segment_try INTEGER NOT NULL DEFAULT 0;
)sql"},
    {9, "artifacts.kind: model, dataset or other; search by kind and DAG (docs/ARTIFACTS.md)",
     // Rows written before 9 named no kind: a model format makes a model (as
     // engine/artifact/kind.cpp decides for a task that names none), the rest are other.
     R"sql(
ALTER TABLE artifacts ADD COLUMN kind TEXT NOT NULL DEFAULT 'other';
UPDATE artifacts SET kind = 'model'
  WHERE lower(format) IN ('onnx', 'pt', 'pth', 'safetensors', 'application/onnx',
                          'application/x-pytorch', 'application/x-safetensors');
CREATE INDEX artifacts_by_kind ON artifacts(kind, created_ms);
CREATE INDEX artifacts_by_dag ON artifacts(dag, created_ms);
)sql"},
    {10, "tries.gpus: the GPUs a try was allotted, for its GPU-hours",
     R"sql(
ALTER TABLE tries ADD COLUMN gpus INTEGER NOT NULL DEFAULT 0;
)sql"},
    {11, "instances by task in index order: a page of a run of any size (flow status, the TUI)",
     R"sql(
CREATE INDEX instances_by_task ON instances(run_id, task_id, map_index);
)sql"},
    {12, "run_dags: the DAG text out of the runs row, which every commit reads and rewrites",
     R"sql(
CREATE TABLE run_dags(
  run_id TEXT PRIMARY KEY REFERENCES runs(id),
  dag_yaml TEXT NOT NULL
);
INSERT INTO run_dags(run_id, dag_yaml) SELECT id, dag_yaml FROM runs;
ALTER TABLE runs DROP COLUMN dag_yaml;
)sql"},
};

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int latest_schema_version() {
  return static_cast<int>(std::size(kMigrations));
}

}  // namespace flow::state
