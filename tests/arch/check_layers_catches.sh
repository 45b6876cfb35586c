#!/usr/bin/env bash
# The layering check fails on each kind of include that runs back up, and passes a tree
# that has none. Usage: tests/arch/check_layers_catches.sh SOURCE_DIR
set -uo pipefail
check=$1/scripts/check-layers.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

plant() {  # plant FILE INCLUDE: a tree with that one include ("x.hpp" or <x.h>)
  rm -rf "$tmp/tree" && mkdir -p "$tmp/tree/engine/core" "$tmp/tree/hpo"
  mkdir -p "$tmp/tree/$(dirname "$1")"
  case $2 in
    \<*) printf '#include %s\n' "$2" >"$tmp/tree/$1" ;;
    *) printf '#include "%s"\n' "$2" >"$tmp/tree/$1" ;;
  esac
}
fail=0
expect() {  # expect CODE FILE INCLUDE
  plant "$2" "$3"
  out=$("$check" "$tmp/tree" 2>&1)
  rc=$?
  if [[ $rc != "$1" ]]; then
    echo "FAIL: $2 including $3: exit $rc, expected $1"
    echo "$out"
    fail=1
  elif [[ $1 == 1 && $out != *"$2"* ]]; then
    echo "FAIL: $2 including $3: the violation is not named"
    echo "$out"
    fail=1
  fi
}
expect 1 engine/run/x.cpp operators/slurm/slurm_executor.hpp
expect 1 engine/runtime/x.hpp ui-tui/app.hpp
expect 1 engine/dag/x.cpp '<libssh/libssh.h>'
expect 1 engine/state/x.cpp '<ncurses.h>'
expect 1 engine/core/x.cpp engine/state/store.hpp
expect 1 hpo/x.hpp engine/dag/dag.hpp
expect 1 operators/slurm/x.cpp engine/cli/app.hpp
expect 1 ui-tui/x.cpp operators/ssh/ssh_session.hpp
expect 0 engine/cli/x.cpp operators/slurm/slurm_executor.hpp
expect 0 engine/run/x.cpp engine/state/store.hpp
expect 0 operators/slurm/x.cpp engine/run/executor.hpp
((fail == 0)) && echo "the layering check catches every planted violation"
exit $fail
