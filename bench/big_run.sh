# Sourced by bench/run_report.sh and bench/run_status.sh: seed_big_run N writes, in the
# current directory, a run 'big' of N `foreach` instances straight into the state database
# at $FLOW_HOME (exported by the caller): a real run of the same DAG with 3 items (run
# 'seed') makes the schema and the run row, and SQL multiplies its rows. Each instance has
# one try (every 100th two: a retry), 30 ms apart, with the events a local try leaves
# (starting, running, succeeded). Needs FLOW and sqlite3.
seed_big_run() {
  local N=$1
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
  "$FLOW" run tiles.yaml --run-id seed >/dev/null
  sqlite3 "$FLOW_HOME/flow.db" <<SQL
BEGIN;
INSERT INTO runs(id, dag, state, dag_file, dag_hash, params_json, run_dir, workdir,
                 logical_date, created_ms, started_ms, ended_ms, owner_host)
  SELECT 'big', dag, state, dag_file, dag_hash, params_json, run_dir, workdir,
         logical_date, created_ms, started_ms, created_ms + 30 * $N + 60000, owner_host
  FROM runs WHERE id = 'seed';
INSERT INTO run_dags(run_id, dag_yaml) SELECT 'big', dag_yaml FROM run_dags WHERE run_id = 'seed';
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
}
