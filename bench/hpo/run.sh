#!/usr/bin/env bash
# HPO benchmark (docs/BENCHMARKS.md, "HPO: flow vs Optuna at equal budget"): builds
# flow_hpo_bench (Release) in build-hpo-bench/ and runs flow's tuners and Debian's Optuna
# (python3-optuna, through /usr/bin/python3) on the simulated objectives of
# bench/hpo/objectives.hpp. Prints the Markdown tables; the JSON goes to $JSON.
# flow's runs take well under a second each; Optuna's TPE takes seconds per run, so the
# whole table takes a few minutes on 2 cores.
#
# Environment (all optional; the build runs under nice):
#   SEEDS=10          runs per tool and objective (seeds 1..SEEDS)
#   BUDGET_TRIALS=32  budget in full trainings: BUDGET_TRIALS * max_epochs epochs
#   WORKERS=4         simulated workers (segments or trials at once)
#   JSON=bench/hpo/results.json   BUILD_DIR=build-hpo-bench
#   EXTRA="--no-optuna"            more arguments for flow_hpo_bench
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-hpo-bench}
if ! /usr/bin/python3 -c 'import optuna' 2>/dev/null; then
  echo "bench/hpo/run.sh: Debian's python3-optuna is missing (apt-get install python3-optuna)" >&2
  exit 3
fi
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
nice -n 10 cmake --build "$BUILD_DIR" -j2 --target flow_hpo_bench >/dev/null
"$BUILD_DIR/bench/hpo/flow_hpo_bench" --seeds "${SEEDS:-10}" --budget-trials "${BUDGET_TRIALS:-32}" \
  --workers "${WORKERS:-4}" --json "${JSON:-$ROOT/bench/hpo/results.json}" ${EXTRA:-}
