#!/usr/bin/env bash
# TPE's thinned bad side against the whole one (docs/BENCHMARKS.md "TPE flat too"): builds
# flow_tpe_thinning_bench (Release) in build-hpo-bench/ and runs sequential TPE on
# bench/hpo's objectives, with the bad mixture thinned to 512 kernels (what flow proposes
# with) and whole (as Optuna fits it), from the same seeds. Prints a Markdown table. About
# 6 minutes on one core for the defaults (the whole mixture takes most of it).
#
# Arguments go to the benchmark: --trials N (2000), --seeds S (10), --max-bad K (that bound
# alone). BUILD_DIR=build-hpo-bench.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build-hpo-bench}
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
nice -n 10 cmake --build "$BUILD_DIR" -j2 --target flow_tpe_thinning_bench >/dev/null
exec "$BUILD_DIR/bench/hpo/flow_tpe_thinning_bench" "$@"
