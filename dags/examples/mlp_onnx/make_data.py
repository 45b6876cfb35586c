"""Synthetic regression data for the MLP example: 12 features, one target."""
import argparse
import os
import sys

from flow_outputs import write_outputs

try:
    import numpy as np
except ImportError as e:
    sys.exit(f"make_data.py: NumPy cannot be imported by {sys.executable}: {e}. "
             "Install Debian's python3-numpy; flow runs a task's python3 as /usr/bin/python3 "
             "unless $FLOW_PYTHON or the site says otherwise.")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=512)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(args.rows, 12)).astype(np.float32)
    w = rng.normal(size=(12, 1)).astype(np.float32)
    y = (np.tanh(x @ w) + 0.05 * rng.normal(size=(args.rows, 1))).astype(np.float32)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez(args.out, x=x, y=y)
    write_outputs({
        "data": os.path.abspath(args.out),
        "artifacts": [{
            "path": args.out,
            "name": "mlp-training-data",
            "description": f"{args.rows} synthetic rows, 12 features, target tanh(x.w) + noise",
            "format": "npz",
            "kind": "dataset",
            "metadata": {"keywords": ["synthetic", "regression"], "rows": args.rows,
                         "features": 12, "seed": args.seed},
        }],
    })


if __name__ == "__main__":
    main()
