"""Trains a tiny MLP (12 -> 16 -> 1) with PyTorch, exports it to ONNX and registers the model
as a flow artifact."""
import argparse
import os
import sys

from flow_outputs import log_metrics, write_outputs


def import_torch():
    try:
        import torch
    except ImportError as e:
        sys.exit(f"train.py: PyTorch cannot be imported by {sys.executable}: {e}. "
                 "Install Debian's python3-torch; flow runs a task's python3 as "
                 "/usr/bin/python3 unless $FLOW_PYTHON or the site says otherwise.")
    return torch


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    torch = import_torch()
    import numpy as np

    torch.manual_seed(args.seed)
    data = np.load(args.data)
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
    model = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = torch.nn.MSELoss()
    loss = float("nan")
    for epoch in range(1, args.epochs + 1):
        for i in range(0, len(x), 64):
            opt.zero_grad()
            batch_loss = loss_fn(model(x[i:i + 64]), y[i:i + 64])
            batch_loss.backward()
            opt.step()
        with torch.no_grad():
            loss = float(loss_fn(model(x), y))
        log_metrics(epoch=epoch, loss=loss)
        print(f"epoch {epoch}: mse {loss:.4f}", flush=True)

    model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.onnx.export(model, x[:1], args.out, input_names=["features"],
                      output_names=["prediction"],
                      dynamic_axes={"features": {0: "batch"}, "prediction": {0: "batch"}},
                      opset_version=13)
    write_outputs({
        "model": os.path.abspath(args.out),
        "mse": loss,
        "artifacts": [{
            "path": args.out,
            "name": "mlp-regressor",
            "description": f"MLP 12-16-1 trained {args.epochs} epochs with Adam, MSE {loss:.4f}",
            "format": "onnx",
            "metadata": {"keywords": ["mlp", "regression", "onnx"],
                         "license": "https://spdx.org/licenses/CC0-1.0"},
        }],
    })


if __name__ == "__main__":
    main()
