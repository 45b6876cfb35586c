#!/usr/bin/env bash
# foreach scaling benchmark (docs/BENCHMARKS.md "foreach scaling"): builds a Release flow
# in build-bench/, then runs one `foreach` task over N items (each runs `true`) for each N
# of the series and prints wall time, the engine's CPU time and peak RSS per item.
#
#   bench/run_scale.sh            1,000 / 10,000 / 100,000 items (about 3 minutes on 2
#                                 quiet cores; 1,000,000 by hand: SIZES=1000000)
#   bench/run_scale.sh --quick    2,000 and 20,000; exit 1 if the per-item cost at 20,000
#                                 is more than 1.5 x that at 2,000 (CTest runs this mode
#                                 on the test build's flow, see tests/e2e/scale/)
#
# Environment (all optional):
#   SIZES=1000,10000,100000   the item counts (two with --quick)
#   JOBS=2                    parallelism
#   STATIC=1                  also run N independent tasks with flow, ninja and make
#   HPO=1                     an HPO sweep of N trials (random search) instead of a foreach
#   ALGORITHM=random          with HPO=1: the tuner (random, tpe, asha, hyperband, pbt)
#   SAMPLER=random            with HPO=1 and asha or hyperband: tpe for BOHB
#   PLACE=/dev/shm            where the scratch directory goes (tmpfs by default)
#   METRIC=cpu                what --quick compares: the engine's CPU time (cpu) or wall
#   BUILD_DIR=build-bench  FLOW=path (skip the build and use this binary)
# Further arguments go to bench/foreach_scale.py (--max-ratio, --keep, ...).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3  # Debian's python (sqlite3 module); the python3 first on PATH may differ

source "$ROOT/bench/release_flow.sh"

args=(--flow "$FLOW" --jobs "${JOBS:-2}" --place "${PLACE:-/dev/shm}" --metric "${METRIC:-cpu}")
[[ -n "${SIZES:-}" ]] && args+=(--sizes "$SIZES")
[[ "${STATIC:-0}" == 1 ]] && args+=(--static)
[[ "${HPO:-0}" == 1 ]] && args+=(--hpo --algorithm "${ALGORITHM:-random}" --sampler "${SAMPLER:-random}")
exec "$PY" "$ROOT/bench/foreach_scale.py" "${args[@]}" "$@"
