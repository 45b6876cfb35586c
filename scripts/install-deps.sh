#!/usr/bin/env bash
# Installs every Debian package flow needs to build, test and benchmark (clang-14 and
# libclang-rt-14-dev, which holds libclang_rt.fuzzer, build the fuzz targets:
# docs/FUZZING.md). Idempotent: packages already present are skipped by apt, and
# apt-get update runs only when a package is missing.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config git
  libboost-graph-dev libboost-system-dev libssh-dev libsqlite3-dev libyaml-cpp-dev
  libspdlog-dev libgtest-dev libgmock-dev libncurses-dev libcli11-dev nlohmann-json3-dev
  libhowardhinnant-date-dev libonnx-dev libprotobuf-dev protobuf-compiler
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

want=("${BUILD_PKGS[@]}" "${PY_PKGS[@]}")
if [[ "${1:-}" != "--build-only" ]]; then want+=("${TEST_PKGS[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
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
