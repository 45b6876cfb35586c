"""Exports the final model to ONNX (real PyTorch export), checks that the file computes what
the trained model computes, and registers it as an artifact: the engine records path, sha256
and provenance; `flow artifacts verify ID` checks the file with the ONNX library in C++.

The numeric check runs the exported file on the whole test set with ONNX Runtime
(onnxruntime-node, through onnx_runtime.js: a runtime that shares no code with PyTorch) and
compares with PyTorch's predictions for the same rows. A largest absolute difference above
--tolerance fails the task, so a model that computes something else is never registered.
The result goes into the artifact's metadata as "numeric_check". Without Node.js or the
package the check is recorded as not run, with the reason, and a warning is printed."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ards_model  # noqa: E402


class WithScaling(torch.nn.Module):
    """Raw bedside values in, P/F ratio (mmHg) out: the standardisation is part of the graph."""

    def __init__(self, model, mean, std, y_mean, y_std):
        super().__init__()
        self.model = model
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
        self.y_mean, self.y_std = float(y_mean), float(y_std)

    def forward(self, x):
        return self.model((x - self.mean) / self.std) * self.y_std + self.y_mean


def numeric_check(onnx_path, raw_features, expected, tolerance):
    """Runs onnx_path with ONNX Runtime on raw_features (rows x features, float32) and
    compares with expected (rows): the "numeric_check" metadata. Raises SystemExit when the
    outputs differ by more than tolerance."""
    here = os.path.dirname(os.path.abspath(__file__))
    node = os.environ.get("FLOW_NODE") or shutil.which("node") or shutil.which("nodejs")
    if node is None:
        return {"status": "not run", "reason": "Node.js is not installed (node not on PATH; "
                                               "FLOW_NODE names it)"}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"input": "features", "shape": list(raw_features.shape),
                   "data": raw_features.astype(np.float32).ravel().tolist()}, f)
        request = f.name
    try:
        r = subprocess.run([node, os.path.join(here, "onnx_runtime.js"), onnx_path, request],
                           capture_output=True, text=True)
    finally:
        os.unlink(request)
    if r.returncode == 3:
        return {"status": "not run", "reason": r.stderr.strip()}
    if r.returncode != 0:
        sys.exit("numeric check: ONNX Runtime could not run %s: %s" % (onnx_path, r.stderr.strip()))
    got = json.loads(r.stdout)
    actual = np.asarray(got["data"], dtype=np.float64).reshape(-1)
    if actual.shape != expected.shape:
        sys.exit("numeric check: ONNX Runtime gave %d values for %d test rows"
                 % (actual.size, expected.size))
    diff = np.abs(actual - expected.astype(np.float64))
    worst = int(diff.argmax())
    check = {"status": "passed" if diff[worst] <= tolerance else "failed",
             "runtime": "%s %s (CPU)" % (got["runtime"], got["version"]),
             "reference": "PyTorch %s" % torch.__version__, "rows": int(expected.size),
             "max_abs_diff": float(diff[worst]), "mean_abs_diff": float(diff.mean()),
             "tolerance": tolerance}
    print("numeric check: %s on %d test rows, largest |ONNX Runtime - PyTorch| = %.3g "
          "(tolerance %g): %s" % (check["runtime"], check["rows"], check["max_abs_diff"],
                                 tolerance, check["status"]))
    if check["status"] != "passed":
        sys.exit("numeric check failed: test row %d gives %.6f with ONNX Runtime and %.6f with "
                 "PyTorch (difference %.3g > tolerance %g); the model is not registered"
                 % (worst, actual[worst], expected[worst], diff[worst], tolerance))
    return check


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--test-mae", type=float, default=None)
    ap.add_argument("--tolerance", type=float, default=1e-4,
                    help="largest allowed |ONNX Runtime - PyTorch| on a test row (mmHg)")
    a = ap.parse_args()
    d = np.load(a.data)
    model, ck = ards_model.load(a.model)
    model.eval()
    full = WithScaling(model, d["feature_mean"], d["feature_std"], ck["target_mean"], ck["target_std"]).eval()
    example = torch.tensor(d["X_test"][:4] * d["feature_std"] + d["feature_mean"], dtype=torch.float32)
    torch.onnx.export(full, example, a.out, input_names=["features"], output_names=["pf_ratio"],
                      dynamic_axes={"features": {0: "batch"}, "pf_ratio": {0: "batch"}}, opset_version=13)
    print("exported %s (%d bytes)" % (a.out, os.path.getsize(a.out)))
    raw_test = (d["X_test"] * d["feature_std"] + d["feature_mean"]).astype(np.float32)
    with torch.no_grad():
        expected = full(torch.tensor(raw_test)).squeeze(1).numpy()
    check = numeric_check(os.path.abspath(a.out), raw_test, expected, a.tolerance)
    if check["status"] != "passed":
        print("warning: numeric check not run: %s" % check["reason"], file=sys.stderr)
    metadata = {"features": [str(f) for f in d["features"]], "target": "PaO2/FiO2 ratio (mmHg)",
                "hyperparameters": ck["params"], "epochs": ck["epoch"], "numeric_check": check}
    if a.test_mae is not None:
        metadata["test_mae_mmHg"] = a.test_mae
    with open(os.environ["FLOW_OUTPUTS_FILE"], "w") as f:
        json.dump({"onnx": os.path.abspath(a.out),
                   "artifacts": [{"path": os.path.abspath(a.out), "name": "ards-pf-ratio-mlp",
                                  "description": "MLP regression of the PaO2/FiO2 ratio from 12 bedside "
                                                 "features (ARDS), exported from PyTorch",
                                  "format": "onnx", "metadata": metadata}]}, f)


if __name__ == "__main__":
    main()
