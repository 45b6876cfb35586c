"""Writes a task's outputs for flow: one JSON object to $FLOW_OUTPUTS_FILE
(docs/REFERENCE.md §4.4).

Its "artifacts" key registers files in flow's artifact registry (docs/ARTIFACTS.md). Run
outside flow (no $FLOW_OUTPUTS_FILE), the object is printed instead.
"""
import json
import os
import sys


def write_outputs(outputs):
    path = os.environ.get("FLOW_OUTPUTS_FILE")
    if not path:
        json.dump(outputs, sys.stdout, indent=2)
        print()
        return
    with open(path, "w") as f:
        json.dump(outputs, f)


def log_metrics(**values):
    path = os.environ.get("FLOW_METRICS_FILE")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(values) + "\n")
