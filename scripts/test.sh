#!/usr/bin/env bash
# The test command: install dependencies, build with -Werror under ASan+UBSan, run every
# test through CTest (unit, end-to-end, the real Slurm/SSH test cluster, which the CTest
# fixture starts and stops, and the install/package checks).
# Usage: scripts/test.sh [extra ctest args, e.g. -L unit]
#
# It builds in its own tree, build-test/ ($FLOW_TEST_BUILD_DIR), apart from the example's
# build/, and says every setting explicitly (tests on, sanitizers on), so whatever was run
# before it, it builds and runs the tests. CTest fails when it finds no test to run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD=${FLOW_TEST_BUILD_DIR:-build-test}
# -O1 -g1 (line tables): what ASan recommends, and a third less compile time than -O2 -g
# on the 2-core machines CI uses; stack traces still name file:line. A unity build (eight
# .cpp files compiled as one; FLOW_UNITY=OFF for a tree that recompiles less per edit)
# parses the shared headers and instantiates their templates once per eight files: 2.2-3.9
# times less compiler time (docs/BENCHMARKS.md, "Build time").
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_UNITY_BUILD="${FLOW_UNITY:-ON}" \
  -DFLOW_BUILD_TESTS=ON -DFLOW_WERROR=ON -DFLOW_SANITIZE=ON
cmake --build "$BUILD" -j "${FLOW_JOBS:-$(nproc)}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Two tests at a time (FLOW_TEST_JOBS): the unit and end-to-end tiers share the machine
# well; the cluster tier's tests run alone (RUN_SERIAL, tests/CMakeLists.txt).
ctest --test-dir "$BUILD" --no-tests=error --output-on-failure --timeout 900 \
  -j "${FLOW_TEST_JOBS:-2}" "$@"
