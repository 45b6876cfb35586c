#!/usr/bin/env bash
# The include graph runs one way (docs/ARCHITECTURE.md): prints every #include that breaks
# a layering rule, exit 1 if there is any. Usage: scripts/check-layers.sh [ROOT]
#
#   engine/ (outside engine/cli, the composition root) never includes operators/ or ui-tui/,
#           nor libssh, ncurses or ONNX headers
#   engine/core includes nothing else of the engine
#   hpo/ includes nothing of engine/, operators/ or ui-tui/ (the tuners have their own types)
#   operators/, ui-tui/ and ui-report/ never include engine/cli/, and never each other
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root" || exit 2

bad=0
# rule DESCRIPTION FILE-FIND-ARGS... -- PATTERN: every include matching PATTERN in those
# files is a violation.
rule() {
  local what=$1 dir=$2 exclude=$3 pattern=$4 hits
  [[ -d $dir ]] || return 0
  hits=$(grep -rnE --include='*.cpp' --include='*.hpp' --include='*.h' "$pattern" "$dir" |
    { if [[ -n $exclude ]]; then grep -vE "^$exclude"; else cat; fi; })
  if [[ -n $hits ]]; then
    echo "layering: $what:"
    sed 's/^/  /' <<<"$hits"
    bad=1
  fi
}

rule "engine/ outside engine/cli includes operators/, ui-tui/ or ui-report/" engine 'engine/cli/' \
  '^\s*#\s*include\s*"(operators|ui-tui|ui-report)/'
rule "engine/ outside engine/cli includes libssh, ncurses or ONNX" engine 'engine/cli/' \
  '^\s*#\s*include\s*<(libssh/|n?curses|onnx/)'
rule "engine/core includes another part of the engine" engine/core '' \
  '^\s*#\s*include\s*"engine/(artifact|cli|dag|run|runtime|schedule|site|state)/'
rule "hpo/ includes engine/, operators/, ui-tui/ or ui-report/" hpo '' \
  '^\s*#\s*include\s*"(engine|operators|ui-tui|ui-report)/'
rule "operators/ includes engine/cli/, ui-tui/ or ui-report/" operators '' \
  '^\s*#\s*include\s*"(engine/cli|ui-tui|ui-report)/'
rule "ui-tui/ includes engine/cli/, operators/ or ui-report/" ui-tui '' \
  '^\s*#\s*include\s*"(engine/cli|operators|ui-report)/'
rule "ui-report/ includes engine/cli/, operators/ or ui-tui/" ui-report '' \
  '^\s*#\s*include\s*"(engine/cli|operators|ui-tui)/'

if ((bad == 0)); then echo "layering: ok"; fi
exit $bad
