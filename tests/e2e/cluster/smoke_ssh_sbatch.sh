#!/usr/bin/env bash
# Smoke test: ssh (strict host key) to flowuser, sbatch, wait for sacct COMPLETED / FAILED|3:0.
set -euo pipefail
eval "$("$(dirname "$0")/../../../scripts/test-cluster.sh" env)"
S=(ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$FLOW_TEST_KNOWN_HOSTS" -i "$FLOW_TEST_SSH_KEY" -p "$FLOW_TEST_SSH_PORT" "$FLOW_TEST_SSH_USER@$FLOW_TEST_SSH_HOST")
ok=$("${S[@]}" 'cd ~/flow && sbatch --parsable -p debug --wrap "echo hi"')
bad=$("${S[@]}" 'cd ~/flow && sbatch --parsable -p debug --wrap "exit 3"')
for ((i=0;i<60;i++)); do
  out=$("${S[@]}" "sacct -j $ok,$bad -X -n -P --starttime=now-1hour --format=JobID,State,ExitCode" || true)
  grep -qx "$ok|COMPLETED|0:0" <<<"$out" && grep -qx "$bad|FAILED|3:0" <<<"$out" && { echo "smoke ok: $out"; exit 0; }
  sleep 1
done
echo "smoke FAILED after 60 s; last sacct: $out" >&2; exit 1
