#!/usr/bin/env bash
# `flow status` and `flow runs` of big runs (docs/BENCHMARKS.md#flow-status-of-a-big-run):
# for each N, writes a run of N `foreach` instances straight into a state database
# (bench/big_run.sh, as bench/run_report.sh does), then measures wall time and peak RSS of the
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
source "$ROOT/bench/big_run.sh"
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
  export FLOW_HOME=$dir/.flow
  seed_big_run "$N"
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
