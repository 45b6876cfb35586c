#!/usr/bin/env bash
# The first README command: install dependencies, build build/flow, run a pipeline on the
# embedded local default site. Usage: scripts/run-example.sh [DAG file]
#
# build/ is the example's tree (no tests, no sanitizers); scripts/test.sh builds in its own
# tree (build-test/), so running the two in either order never mixes their settings. Every
# setting is given explicitly, so a build/ configured differently before is reconfigured.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --build-only
# A unity build (eight .cpp files compiled as one): less than half the compile time.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_UNITY_BUILD="${FLOW_UNITY:-ON}" \
  -DFLOW_BUILD_TESTS=OFF -DFLOW_SANITIZE=OFF
cmake --build build -j "${FLOW_JOBS:-2}" --target flow
DAG=${1:-dags/ards_pipeline.yaml}
[[ -f "$DAG" ]] || DAG=dags/examples/hello.yaml
exec build/flow run "$DAG"
