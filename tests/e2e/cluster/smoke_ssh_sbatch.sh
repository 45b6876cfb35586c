#!/usr/bin/env bash
# Smoke test of the test cluster: ssh with strict host key checking, sbatch, sacct states.
# usage: smoke_ssh_sbatch.sh [path/to/test-cluster.sh]
set -euo pipefail
TC=${1:-$(dirname "$0")/../../../scripts/test-cluster.sh}
eval "$("$TC" env)"

rssh() {
  ssh -i "$FLOW_TEST_SSH_KEY" -o UserKnownHostsFile="$FLOW_TEST_KNOWN_HOSTS" -o StrictHostKeyChecking=yes \
    -o BatchMode=yes -o ConnectTimeout=10 -p "$FLOW_TEST_SSH_PORT" "$FLOW_TEST_SSH_USER@$FLOW_TEST_SSH_HOST" "$@"
}
fail() { echo "FAIL: $*" >&2; exit 1; }

# wait_state JOBID WANT SECS: poll sacct until JobID shows State|ExitCode == WANT.
wait_state() {
  local id=$1 want=$2 secs=$3 got="" i
  for ((i = 0; i < secs; i++)); do
    got=$(rssh "sacct -j $id -X -n -P --starttime=now-1days --format=State,ExitCode" | head -n1 || true)
    case $got in
      "$want") echo "job $id: $got"; return 0 ;;
      COMPLETED*|FAILED*|CANCELLED*|TIMEOUT*|OUT_OF_MEMORY*|NODE_FAIL*) fail "job $id ended as '$got', expected '$want'" ;;
    esac
    sleep 1
  done
  fail "job $id not '$want' after ${secs}s (last sacct: '$got'; squeue: $(rssh "squeue -h -j $id" 2>&1 || true))"
}

[[ $(rssh 'echo ok') == ok ]] || fail "ssh to $FLOW_TEST_SSH_USER@$FLOW_TEST_SSH_HOST:$FLOW_TEST_SSH_PORT"
[[ $(rssh 'command -v sbatch') == "$FLOW_TEST_WRAPPER_BIN/sbatch" ]] || fail "counting wrappers not first on PATH"

ok=$(rssh "cd $FLOW_TEST_WORKDIR && sbatch --parsable -p $FLOW_TEST_SLURM_PARTITION --wrap 'echo hi'")
bad=$(rssh "cd $FLOW_TEST_WORKDIR && sbatch --parsable -p $FLOW_TEST_SLURM_PARTITION --wrap 'exit 3'")
[[ $ok =~ ^[0-9]+$ && $bad =~ ^[0-9]+$ ]] || fail "sbatch did not return job ids ('$ok', '$bad')"
wait_state "$ok" "COMPLETED|0:0" 90
wait_state "$bad" "FAILED|3:0" 90
out=$(rssh "cat $FLOW_TEST_WORKDIR/slurm-$ok.out")
[[ $out == hi ]] || fail "job output '$out', expected 'hi'"
echo "PASS"
