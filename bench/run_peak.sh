#!/usr/bin/env bash
# Peak memory of the engine on a static DAG of N independent `true` tasks (docs/BENCHMARKS.md
# "918 bytes per task at 1,000,000"): builds a Release flow in build-bench/, writes the DAG
# with foreach_scale.py's write_static, starts `flow run` and samples its VmHWM, VmRSS, CPU
# time and tasks done every 5 s. It stops the run after SECONDS (the peak is reached while
# the run starts: the DAG is parsed, the instances made and first committed). A run of
# 1,000,000 tasks needs ~1 GB of memory and 3 inodes per task done, so it runs on the disk.
#
#   bench/run_peak.sh [N] [SECONDS]       default 200000 tasks, 90 s
#
# Environment (all optional): PLACE=/tmp (where the scratch directory goes), JOBS=2,
# BUILD_DIR=build-bench  FLOW=path (skip the build and use this binary).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3  # Debian's python (sqlite3 module); the python3 first on PATH may differ
N=${1:-200000}
SECS=${2:-90}
source "$ROOT/bench/release_flow.sh"

WORK=$(mktemp -d "${PLACE:-/tmp}/flow-peak.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
"$PY" -c "import sys; sys.path.insert(0, '$ROOT/bench'); import foreach_scale as f; f.write_static('$WORK', $N)"
cd "$WORK"
export FLOW_HOME=$WORK/home
"$FLOW" run dag.yaml -j "${JOBS:-2}" >run.log 2>&1 &
pid=$!
hwm=0
echo "seconds  VmHWM_kB  VmRSS_kB  cpu_s  succeeded"
for ((t = 5; t <= SECS; t += 5)); do
  sleep 5
  [[ -r /proc/$pid/status ]] || break
  hwm=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")
  rss=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$pid/stat")
  done_=$("$PY" -c "import sqlite3; print(sqlite3.connect('file:$FLOW_HOME/flow.db?mode=ro', uri=True).execute(\"SELECT count(*) FROM instances WHERE state='succeeded'\").fetchone()[0])" 2>/dev/null || echo "?")
  printf '%7d  %8s  %8s  %5s  %s\n' "$t" "$hwm" "$rss" "$cpu" "$done_"
done
kill -INT "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
echo "peak: $hwm kB for $N tasks, $((hwm * 1024 / N)) bytes per task"
