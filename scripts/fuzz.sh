#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (a build of their own, FLOW_FUZZ=ON) and runs one.
#
#   scripts/fuzz.sh TARGET [SECONDS] [-- LIBFUZZER_ARGS...]   build, then fuzz (default 60 s)
#   scripts/fuzz.sh --build-only                              just build
#   scripts/fuzz.sh --merge TARGET                            add what the work corpus found
#                                                             that the checked-in one lacks
#   scripts/fuzz.sh --list                                    the targets
#
# Targets: dag cron template slurm site modules (tests/fuzz/fuzz_TARGET.cpp). A run first
# executes every input of tests/fuzz/corpus/TARGET/ (the seeds and every crash found so
# far: a regression check), then mutates for SECONDS. New inputs go to the work corpus
# $FLOW_FUZZ_BUILD_DIR/work/TARGET (never into the checked-in one); a crash, sanitizer
# report, timeout or out-of-memory input is saved as $FLOW_FUZZ_BUILD_DIR/crashes/TARGET/…
# and the script exits non-zero. Long runs by hand: `nice -n 10 scripts/fuzz.sh dag 1200`.
#
# Environment: FLOW_FUZZ_BUILD_DIR (default build/fuzz), FLOW_JOBS (build jobs, default 2),
# FLOW_FUZZ_LAUNCHER (compiler launcher, e.g. ccache; default: ccache when installed),
# CXX_FUZZ (default clang++-14, else clang++).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FLOW_FUZZ_BUILD_DIR:-$ROOT/build/fuzz}
TARGETS=(dag cron template slurm site modules)

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }

build() {
  local cxx=${CXX_FUZZ:-}
  if [[ -z "$cxx" ]]; then
    cxx=$(command -v clang++-14 || command -v clang++ || true)
  fi
  if [[ -z "$cxx" ]]; then
    echo "fuzz.sh: clang++ not found; scripts/install-deps.sh installs clang and libFuzzer" >&2
    exit 3
  fi
  local launcher=${FLOW_FUZZ_LAUNCHER-$(command -v ccache || true)}
  if [[ ! -f "$BUILD/build.ninja" ]]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} \
      -DCMAKE_UNITY_BUILD="${FLOW_UNITY:-ON}" \
      -DFLOW_FUZZ=ON -DFLOW_WERROR=ON >/dev/null
  fi
  cmake --build "$BUILD" -j "${FLOW_JOBS:-2}" --target flow_fuzzers
}

run() {
  local target=$1 seconds=$2
  shift 2
  local bin="$BUILD/tests/fuzz/fuzz_$target"
  local corpus="$ROOT/tests/fuzz/corpus/$target"
  [[ -x "$bin" ]] || { echo "fuzz.sh: $bin is not built (scripts/fuzz.sh --build-only)" >&2; exit 3; }
  [[ -d "$corpus" ]] || { echo "fuzz.sh: no corpus at $corpus" >&2; exit 2; }
  local work="$BUILD/work/$target" crashes="$BUILD/crashes/$target"
  mkdir -p "$work" "$crashes"
  local args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
              -print_final_stats=1 -artifact_prefix="$crashes/")
  local dict="$ROOT/tests/fuzz/dict/$target.dict"
  [[ -f "$dict" ]] && args+=(-dict="$dict")
  # Leaks count (a parser that leaks on some input leaks in a long-running scheduler),
  # unless the caller's ASAN_OPTIONS say otherwise (scripts/test.sh turns them off).
  export ASAN_OPTIONS=${FLOW_FUZZ_ASAN_OPTIONS:-${ASAN_OPTIONS:-detect_leaks=1}}
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  echo "fuzz.sh: $target for ${seconds}s over $corpus (work corpus $work)"
  "$bin" "${args[@]}" "$@" "$work" "$corpus"
}

merge() {
  local target=$1
  local bin="$BUILD/tests/fuzz/fuzz_$target"
  # -merge=1 copies into the first directory the inputs of the others that add coverage.
  ASAN_OPTIONS=detect_leaks=0 "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 \
    "$ROOT/tests/fuzz/corpus/$target" "$BUILD/work/$target"
}

no_build=0
case "${1:-}" in
  "" | -h | --help) usage ;;
  --list) printf '%s\n' "${TARGETS[@]}"; exit 0 ;;
  --build-only) build; exit 0 ;;
  --merge) [[ $# -eq 2 ]] || usage; build; merge "$2"; exit 0 ;;
  --no-build) no_build=1; shift ;;
esac
target=${1:-}
[[ " ${TARGETS[*]} " == *" $target "* ]] || { echo "fuzz.sh: unknown target '$target'; one of: ${TARGETS[*]}" >&2; exit 2; }
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))
[[ "${1:-}" == "--" ]] && shift
((no_build)) || build
run "$target" "$seconds" "$@"
