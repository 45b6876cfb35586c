# Sourced by the bench/run_*.sh scripts: sets FLOW to the flow binary to measure. A FLOW
# given by the caller is used as it is; otherwise flow is built in Release (no tests) in
# BUILD_DIR (default build-bench/) with JOBS (default 2) parallel jobs, as a unity build
# unless FLOW_UNITY=OFF (scripts/test.sh says why). Needs ROOT.
if [[ -z "${FLOW:-}" ]]; then
  BUILD_DIR=${BUILD_DIR:-$ROOT/build-bench}
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFLOW_BUILD_TESTS=OFF \
    -DCMAKE_UNITY_BUILD="${FLOW_UNITY:-ON}" >/dev/null
  cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target flow >/dev/null
  FLOW=$BUILD_DIR/flow
fi
