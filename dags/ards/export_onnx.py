"""Exports the final model to ONNX (real PyTorch export) and registers it as an artifact:
the engine records path, sha256 and provenance; `flow artifacts verify ID` checks the file
with the ONNX library in C++."""
import argparse
import json
import os
import sys

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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--test-mae", type=float, default=None)
    a = ap.parse_args()
    d = np.load(a.data)
    model, ck = ards_model.load(a.model)
    model.eval()
    full = WithScaling(model, d["feature_mean"], d["feature_std"], ck["target_mean"], ck["target_std"]).eval()
    example = torch.tensor(d["X_test"][:4] * d["feature_std"] + d["feature_mean"], dtype=torch.float32)
    torch.onnx.export(full, example, a.out, input_names=["features"], output_names=["pf_ratio"],
                      dynamic_axes={"features": {0: "batch"}, "pf_ratio": {0: "batch"}}, opset_version=13)
    print("exported %s (%d bytes)" % (a.out, os.path.getsize(a.out)))
    metadata = {"features": [str(f) for f in d["features"]], "target": "PaO2/FiO2 ratio (mmHg)",
                "hyperparameters": ck["params"], "epochs": ck["epoch"]}
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
