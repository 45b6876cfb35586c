#!/usr/bin/env bash
# Local engine benchmark (docs/BENCHMARKS.md): builds a Release flow in build-bench/, then
# runs the same N-task DAG with flow, ninja, make and snakemake at parallelism 2, times
# `flow validate` on a 100,000-task DAG and reports flow's engine overhead per task.
# About 3 minutes with the defaults on 2 cores (plus the first build).
#
# Environment (all optional):
#   LAYERS=20 WIDTH=50   the compared DAG: N = LAYERS x WIDTH tasks, fan-in 2
#   JOBS=2               parallelism for all four tools
#   REPS=5 SNAKE_REPS=3  repetitions (snakemake takes ~12 s per run at N=1000)
#   BIG_N=100000         tasks for the validate run (0 skips it); BIG_REPS=3
#   NARROW_LAYERS=250    the JOBS-wide DAG used for the pure engine overhead
#   PLACES="/dev/shm /tmp"  where to run the comparison (tmpfs, then disk); a scratch
#                        directory is made in each and removed at the end
#   BUILD_DIR=build-bench  FLOW=path (skip the build and use this binary)
#   FLOW_BEFORE=path     a second flow binary (say, an older commit's Release build) run in
#                        the same comparison and validate, interleaved: flow / flow-before
#                        is the before/after ratio of one run
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3  # Debian's python (sqlite3 module); the python3 first on PATH may differ

for tool in ninja make snakemake /usr/bin/time cmake; do
  command -v "$tool" >/dev/null || {
    echo "run_local.sh: '$tool' is missing; apt-get install ninja-build make snakemake time cmake" >&2
    exit 3
  }
done

source "$ROOT/bench/release_flow.sh"

places=()
for p in ${PLACES:-/dev/shm /tmp}; do
  [[ -d "$p" && -w "$p" ]] && places+=("$p")
done
if ((${#places[@]} == 0)); then
  echo "run_local.sh: none of PLACES (${PLACES:-/dev/shm /tmp}) is a writable directory" >&2
  exit 3
fi

"$PY" "$ROOT/bench/local_bench.py" --flow "$FLOW" --flow-before "${FLOW_BEFORE:-}" --places "$(IFS=,; echo "${places[*]}")" \
  --layers "${LAYERS:-20}" --width "${WIDTH:-50}" --jobs "${JOBS:-2}" \
  --reps "${REPS:-5}" --snake-reps "${SNAKE_REPS:-3}" --narrow-layers "${NARROW_LAYERS:-250}" \
  --big-n "${BIG_N:-100000}" --big-reps "${BIG_REPS:-3}"
