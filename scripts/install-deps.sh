#!/usr/bin/env bash
# Installs every Debian package flow needs to build, test and benchmark (clang-14 and
# libclang-rt-14-dev, which holds libclang_rt.fuzzer, build the fuzz targets:
# docs/FUZZING.md), then ONNX Runtime for the ARDS pipeline's export check: the npm package
# onnxruntime-node (CPU; no Debian package has ONNX Runtime) into .deps/onnxruntime-node of
# this checkout, run by Debian's Node.js. Idempotent: packages already present are skipped
# by apt, apt-get update runs only when a package is missing, and npm runs only when the
# pinned version is not there yet.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config git
  libboost-graph-dev libboost-system-dev libssh-dev libsqlite3-dev libyaml-cpp-dev
  libyaml-dev libspdlog-dev libgtest-dev libgmock-dev libncurses-dev libcli11-dev nlohmann-json3-dev
  libhowardhinnant-date-dev libonnx-dev libprotobuf-dev protobuf-compiler libarchive-dev
  libssl-dev libcurl4-openssl-dev sqlite3 tzdata
  clang-14 libclang-rt-14-dev
)
# Python side of the pipelines: Debian's interpreter at /usr/bin/python3 with its modules.
PY_PKGS=(python3 python3-numpy python3-torch python3-sklearn python3-optuna)
# Real components for end-to-end tests (scripts/test-cluster.sh) and benchmarks.
TEST_PKGS=(
  slurm-wlm slurmdbd munge mariadb-server openssh-server openssh-client
  tmux procps psmisc time hyperfine snakemake make
  python3-pyld python3-rdflib python3-jsonschema python3-yaml zsh
  chromium
)

# ONNX Runtime's runner. A Node.js that is already installed (e.g. from NodeSource, which
# bundles npm) is used as it is: Debian's npm package conflicts with it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then PY_PKGS+=(nodejs npm); fi

want=("${BUILD_PKGS[@]}" "${PY_PKGS[@]}")
if [[ "${1:-}" != "--build-only" ]]; then want+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
else
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Services installed here must not start on their own: the test harness starts them.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y -qq "${missing[@]}"
fi

# ONNX Runtime (dags/ards/onnx_runtime.js finds it here). --ignore-scripts: the package's
# install script only fetches optional CUDA libraries (from nuget.org); the CPU library is in
# the package itself.
ORT_VERSION=1.30.0
ORT_DIR="$(cd "$(dirname "$0")/.." && pwd)/.deps/onnxruntime-node"
ORT_PKG="$ORT_DIR/node_modules/onnxruntime-node/package.json"
if [[ -f "$ORT_PKG" ]] && grep -q "\"version\": \"$ORT_VERSION\"" "$ORT_PKG"; then
  echo "install-deps: onnxruntime-node $ORT_VERSION present"
else
  echo "install-deps: installing onnxruntime-node $ORT_VERSION (npm) into $ORT_DIR"
  mkdir -p "$ORT_DIR"
  # Not fatal: without it flow builds and runs; the ARDS export records its numeric check
  # as "not run" (and the test that requires the check fails, saying so).
  if ! npm install --prefix "$ORT_DIR" --ignore-scripts --no-audit --no-fund --no-save \
    --loglevel=error "onnxruntime-node@$ORT_VERSION"; then
    echo "install-deps: WARNING: npm could not install onnxruntime-node $ORT_VERSION;" \
      "the ARDS export's ONNX Runtime check will not run" >&2
  fi
fi
