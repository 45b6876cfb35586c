#!/usr/bin/env bash
# The test command: install dependencies, build with -Werror under ASan+UBSan, run every
# test through CTest (unit, end-to-end, and the real Slurm/SSH test cluster, which the
# CTest fixture starts and stops). Usage: scripts/test.sh [extra ctest args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD=${FLOW_TEST_BUILD_DIR:-build}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFLOW_WERROR=ON -DFLOW_SANITIZE=ON
cmake --build "$BUILD" -j "${FLOW_JOBS:-2}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$BUILD" --output-on-failure --timeout 900 "$@"
