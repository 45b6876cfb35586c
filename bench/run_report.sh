#!/usr/bin/env bash
# `flow report` at scale (docs/BENCHMARKS.md#flow-report): writes a run of N `foreach`
# instances straight into a state database (a real run of the same DAG with 3 items made
# the schema and the run row; SQL multiplies its rows), then times `flow report` on it and
# prints the page's size. Running 100,000 real tasks would take far longer than the report
# (issue: foreach scaling), and the report reads only the database.
#
# Environment (all optional): N=100000 REPS=3 FLOW=path (default: a Release build in
# build-bench/, as bench/run_local.sh makes it) WORK=/dev/shm
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-100000}
REPS=${REPS:-3}
source "$ROOT/bench/release_flow.sh"
command -v sqlite3 >/dev/null || { echo "run_report.sh: sqlite3 is missing (apt-get install sqlite3)" >&2; exit 3; }

dir=$(mktemp -d "${WORK:-/dev/shm}/flow-report-bench-XXXXXX")
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
rows=$(sqlite3 "$FLOW_HOME/flow.db" "SELECT COUNT(*) FROM instances WHERE run_id='big'; SELECT COUNT(*) FROM tries WHERE run_id='big';" | paste -sd' ')
echo "run 'big': instances, tries = $rows"
best=0
for ((k = 1; k <= REPS; k++)); do
  start=$(date +%s%N)
  "$FLOW" report big -o big.html >/dev/null
  ms=$((($(date +%s%N) - start) / 1000000))
  echo "flow report: $ms ms"
  if ((best == 0 || ms < best)); then best=$ms; fi
done
rss=$( { /usr/bin/time -f '%M' "$FLOW" report big -o big.html >/dev/null; } 2>&1 | tail -1)
echo "best of $REPS: $best ms; page $(stat -c %s big.html) bytes; peak RSS $rss KB"
