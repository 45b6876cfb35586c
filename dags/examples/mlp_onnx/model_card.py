"""Writes a small model card (JSON) for an exported model and registers it as an artifact;
flow records that it derives from the model the upstream task registered."""
import argparse
import hashlib
import json
import os

from flow_outputs import write_outputs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    with open(args.model, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    card = {
        "model": os.path.basename(args.model),
        "sha256": digest,
        "inputs": {"features": "float32[batch, 12]"},
        "outputs": {"prediction": "float32[batch, 1]"},
        "intended_use": "example only",
    }
    with open(args.out, "w") as f:
        json.dump(card, f, indent=2)
    write_outputs({"artifacts": [{"path": args.out, "name": "mlp-model-card"}]})


if __name__ == "__main__":
    main()
