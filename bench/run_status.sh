#!/usr/bin/env bash
# `flow status` and `flow runs` of big runs (docs/BENCHMARKS.md#flow-status-of-a-big-run):
# for each N, writes a run of N `foreach` instances straight into a state database (as
# bench/run_report.sh does: a real run of the same DAG with 3 items made the schema and
# the run row; SQL multiplies its rows), then measures wall time and peak RSS of the
# reading commands: a page (--limit 20), a page deep in the foreach (--offset N/2), a
# --state filter, --summary, the whole table and the whole --json streamed to /dev/null,
# and `flow runs`. Peak RSS that stays flat as N grows is what the paging is for.
#
# Environment (all optional): SIZES="10000 100000 1000000" FLOW=path (default: a Release
# build in build-bench/, as bench/run_local.sh makes it) WORK=/dev/shm
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SIZES=${SIZES:-10000 100000 1000000}
source "$ROOT/bench/release_flow.sh"
command -v sqlite3 >/dev/null || { echo "run_status.sh: sqlite3 is missing (apt-get install sqlite3)" >&2; exit 3; }

measure() {  # LABEL ARGS...: one line, wall ms and peak RSS of `flow ARGS`
  local label=$1
  shift
  local start ms rss
  start=$(date +%s%N)
  rss=$( { /usr/bin/time -f '%M' "$FLOW" "$@" >/dev/null; } 2>&1 | tail -1)
  ms=$((($(date +%s%N) - start) / 1000000))
  printf '%-34s %8d ms %9d KB\n' "$label" "$ms" "$rss"
}

for N in $SIZES; do
  dir=$(mktemp -d "${WORK:-/dev/shm}/flow-status-bench-XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  cd "$dir"
  cat > tiles.yaml <<'YAML'
dag: tiles
tasks:
  - id: list
    run: |
      echo '{"tiles": [0, 1, 2]}' > "$FLOW_OUTPUTS_FILE"
  - id: tiles
    after: [list]
    foreach: "{{ tasks.list.outputs.tiles }}"
    run: "true"
  - id: merge
    after: [tiles]
    run: "true"
YAML
  export FLOW_HOME=$dir/.flow
  "$FLOW" run tiles.yaml --run-id seed >/dev/null
  # N instances of `tiles`, one try each (every 100th two: a retry), 30 ms apart, with the
  # events a local try leaves (starting, running, succeeded).
  sqlite3 "$FLOW_HOME/flow.db" <<SQL
BEGIN;
INSERT INTO runs(id, dag, state, dag_file, dag_yaml, dag_hash, params_json, run_dir, workdir,
                 logical_date, created_ms, started_ms, ended_ms, owner_host)
  SELECT 'big', dag, state, dag_file, dag_yaml, dag_hash, params_json, run_dir, workdir,
         logical_date, created_ms, started_ms, created_ms + 30 * $N + 60000, owner_host
  FROM runs WHERE id = 'seed';
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $N)
INSERT INTO instances(run_id, id, task_id, parent, map_index, state, try, site, started_ms, ended_ms)
  SELECT 'big', 'tiles[' || i || ']', 'tiles', 'tiles', i, 'succeeded', 1 + (i % 100 = 0), 'local',
         (SELECT created_ms FROM runs WHERE id = 'big') + 500 + 30 * i,
         (SELECT created_ms FROM runs WHERE id = 'big') + 500 + 30 * i + 25 + i % 40 FROM n;
INSERT INTO instances(run_id, id, task_id, state, try, site, started_ms, ended_ms)
  SELECT 'big', id, task_id, state, try, site, started_ms, ended_ms FROM instances
  WHERE run_id = 'seed' AND id IN ('list', 'merge', 'tiles');
INSERT INTO tries(run_id, instance_id, try, state, site, started_ms, ended_ms)
  SELECT 'big', id, t.n, CASE WHEN t.n < try THEN 'failed' ELSE 'succeeded' END, site,
         started_ms, ended_ms
  FROM instances, (SELECT 1 AS n UNION ALL SELECT 2) AS t
  WHERE run_id = 'big' AND t.n <= try AND try > 0;
INSERT INTO events(run_id, instance_id, try, ts_ms, state)
  SELECT run_id, instance_id, try, started_ms, s.state
  FROM tries, (SELECT 'starting' AS state UNION ALL SELECT 'running' UNION ALL SELECT 'succeeded') AS s
  WHERE run_id = 'big' ORDER BY instance_id, try;
COMMIT;
SQL

  rows=$(sqlite3 "$FLOW_HOME/flow.db" "SELECT COUNT(*) FROM instances WHERE run_id='big'" | paste -sd' ')
  echo "== N=$N: run 'big' has $rows instances; database $(stat -c %s "$FLOW_HOME/flow.db") bytes"
  measure "status --limit 20" status big --limit 20
  measure "status --task tiles --offset N/2" status big --task tiles --offset $((N / 2)) --limit 20
  measure "status --state failed" status big --state failed
  measure "status --summary" status big --summary
  measure "status --json --limit 20" status big --json --limit 20
  measure "status (every row)" status big
  measure "status --json (every row)" status big --json
  measure "runs" runs
  cd /
  rm -rf "$dir"
done
