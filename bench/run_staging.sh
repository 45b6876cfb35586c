#!/usr/bin/env bash
# Staging benchmark (docs/BENCHMARKS.md, "Staging: flow vs rsync and scp"): one data set of
# FILES files totalling TOTAL_MB MiB of random bytes, to the test cluster's sshd
# (flowuser@127.0.0.1:2222, scripts/test-cluster.sh) and back, in one go: through flow (a
# Slurm task that declares the data directory as input and the same files as outputs; the
# per-try staging report gives the seconds of each direction, the job's run time is not in
# them), `rsync -a` and `scp -r` over ssh; then one file changed and staged again (flow:
# `flow retry` in the same run, `code:` in a new run, inputs in a new run; rsync). Prints
# one table. Needs root (it reads the cluster's client key). Everything it made, here and
# in the site's workdir (/home/flowuser/flow-stagebench), is removed at the end.
# About 5-6 minutes with the defaults on the busy 2-core machine of docs/BENCHMARKS.md.
# It uses the shared test cluster: where others use it too, run it under their lock
# (e.g. `flock -o /tmp/flow-cluster.lock bench/run_staging.sh`).
#
# Environment (all optional):
#   FILES=1000 TOTAL_MB=1024   the data set (equal files; FILES=100 TOTAL_MB=64: under a minute)
#   WORK=/tmp                  where the local data set and downloads go
#   SFTP_R1=1                  also OpenSSH's sftp with flow's request pattern (one 128 KiB
#                              request in flight: `sftp -R 1 -B 131072`)
#   STREAMS=N                  the site's transfer_streams for flow (default: flow's, 4)
#   THROUGHPUT_ONLY=1          flow and rsync, up and down, nothing else
#   KEEP=1                     keep the local and remote files (to look at them)
#   BUILD_DIR=build-bench  FLOW=path (skip the build and use this binary)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3  # Debian's python (sqlite3 module); the python3 first on PATH may differ

"$ROOT/scripts/test-cluster.sh" start >/dev/null
source "$ROOT/bench/release_flow.sh"
exec "$PY" "$ROOT/bench/staging_bench.py" --flow "$(realpath "$FLOW")" --root "$ROOT" \
  --files "${FILES:-1000}" --total-mb "${TOTAL_MB:-1024}" --work "${WORK:-/tmp}" \
  ${SFTP_R1:+--sftp-r1} ${THROUGHPUT_ONLY:+--throughput-only} ${KEEP:+--keep}
