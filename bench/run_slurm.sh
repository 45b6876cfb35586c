#!/usr/bin/env bash
# Slurm polling benchmark (docs/BENCHMARKS.md, "Slurm polling"): the same N jobs on the test
# cluster of scripts/test-cluster.sh, once through flow (over SSH, site localslurm) and once
# through Debian's `snakemake --slurm`, in one go. Counts the Slurm commands each one ran
# (the cluster's counting wrappers), slurmctld RPCs (sdiag), and how long after a job ended
# flow noticed it. Needs root (it starts the cluster and runs snakemake as flowuser).
# About 5 minutes with the defaults, most of it snakemake.
#
# Environment (all optional):
#   N=200          jobs
#   SLEEP=5        seconds each job sleeps
#   BUILD_DIR=build-bench  FLOW=path (skip the build and use this binary)
#   SKIP_SNAKEMAKE=1       only flow
#   ALLOCATION=1           also flow's allocation mode (sites/localslurm.yaml + allocation:)
#   ARRAYS=1               also the jobs as one foreach, which flow submits as one job array
#   SNAKE_RATE=1           snakemake --max-status-checks-per-second; its default (0.03/s,
#                          SNAKE_RATE=0) needs ~35 s per job ending: 20 jobs took 11 minutes
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3  # Debian's python (sqlite3 module); the python3 first on PATH may differ

"$ROOT/scripts/test-cluster.sh" start >/dev/null
source "$ROOT/bench/release_flow.sh"
exec "$PY" "$ROOT/bench/slurm_bench.py" --flow "$(realpath "$FLOW")" --root "$ROOT" \
  --jobs "${N:-200}" --sleep "${SLEEP:-5}" --snake-rate "${SNAKE_RATE:-1}" \
  ${SKIP_SNAKEMAKE:+--skip-snakemake} ${ALLOCATION:+--allocation} ${ARRAYS:+--arrays}
