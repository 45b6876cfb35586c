#!/bin/sh
# The one check of `resources:` that needs real GPUs (docs/REFERENCE.md §3.15), for a
# machine that has them; CI has none, so it is run by hand:
#
#   scripts/gpu-check.sh [FLOW_BINARY]
#
# With no site file, the `local` site finds the machine's GPUs itself
# (CUDA_VISIBLE_DEVICES, else /proc/driver/nvidia/gpus). Twice as many one-GPU trials as
# GPUs run; each asks CUDA (PyTorch) what it sees: exactly one device, whose PCI bus id no
# trial running at the same time has. A task that declared no GPU sees none. Exit 0 when
# all of that holds; the trials' lines are printed either way.
set -eu
flow=${1:-build/flow}
case $flow in /*) ;; *) flow=$(pwd)/$flow ;; esac
work=$(mktemp -d /tmp/flow-gpu-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
# The interpreter flow gives tasks as python3 (docs/REFERENCE.md §4.1): Debian's has torch.
py=${FLOW_PYTHON:-/usr/bin/python3}
[ -x "$py" ] || py=python3
gpus=$("$py" -c 'import torch; print(torch.cuda.device_count())')
[ "$gpus" -ge 1 ] || { echo "gpu-check: PyTorch sees no GPU here" >&2; exit 2; }
trials=$((gpus * 2))
items=$(seq -s, 0 $((trials - 1)))
mkdir locks
cat > gpus.yaml <<YAML
dag: gpu_check
tasks:
  - id: trial
    foreach: [$items]
    resources: {gpus: 1}
    run: |
      python3 - <<'PY'
      import os, time, torch
      assert torch.cuda.device_count() == 1, torch.cuda.device_count()
      bus = torch.cuda.get_device_properties(0).pci_bus_id if hasattr(torch.cuda.get_device_properties(0), "pci_bus_id") else os.environ["CUDA_VISIBLE_DEVICES"]
      lock = "locks/" + str(bus).replace(":", "_")
      os.mkdir(lock)  # fails if another running trial has this GPU
      x = torch.ones(1024, 1024, device="cuda") @ torch.ones(1024, 1024, device="cuda")
      torch.cuda.synchronize()
      print("trial", os.environ["FLOW_MAP_INDEX"], "CUDA_VISIBLE_DEVICES=" + os.environ["CUDA_VISIBLE_DEVICES"], "bus", bus, "sum", float(x[0, 0]))
      time.sleep(1)
      os.rmdir(lock)
      PY
  - id: cpu_only
    resources: {gpus: 0}
    run: python3 -c 'import torch; assert torch.cuda.device_count() == 0; print("cpu_only sees no GPU")'
YAML
status=0
FLOW_HOME="$work/home" "$flow" run gpus.yaml --run-id gpucheck -j "$trials" || status=$?
for log in home/logs/gpucheck/*/1.log; do cat "$log"; done
exit $status
