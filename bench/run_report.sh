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
export FLOW_HOME=$dir/.flow
source "$ROOT/bench/big_run.sh"
seed_big_run "$N"
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
