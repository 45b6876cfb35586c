"""Trains the ARDS MLP.

As an HPO trial (FLOW_TRIAL_PARAMS is set): trains from FLOW_CHECKPOINT_IN (if any) up to
epoch FLOW_TRIAL_EPOCHS, appends {"epoch", "val_mae", "train_loss"} per epoch to
FLOW_METRICS_FILE and saves FLOW_CHECKPOINT_OUT: unchanged under ASHA, Hyperband and PBT.
Otherwise (the final fit): --params JSON --epochs N --out model.pt.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ards_model  # noqa: E402


def metrics_line(**values):
    path = os.environ.get("FLOW_METRICS_FILE")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(values) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--params", default="")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--out", default="")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)  # trials run side by side; one core each

    trial = os.environ.get("FLOW_TRIAL_PARAMS")
    params = ards_model.params_from(trial if trial else a.params)
    target = int(os.environ["FLOW_TRIAL_EPOCHS"]) if trial else a.epochs
    d = np.load(a.data)
    Xtr, ytr = torch.tensor(d["X_train"], dtype=torch.float32), torch.tensor(d["y_train"], dtype=torch.float32)
    Xva, yva = torch.tensor(d["X_val"], dtype=torch.float32), torch.tensor(d["y_val"], dtype=torch.float32)
    mu, sd = float(ytr.mean()), float(ytr.std())

    torch.manual_seed(a.seed)
    model = ards_model.build(params)
    opt = torch.optim.Adam(model.parameters(), lr=float(params["lr"]))
    start = 0
    ck_in = os.environ.get("FLOW_CHECKPOINT_IN", "") if trial else ""
    if ck_in:
        ck = torch.load(ck_in)
        model.load_state_dict(ck["model"])
        if ck.get("optimizer") and ck["params"] == params:
            opt.load_state_dict(ck["optimizer"])
        for g in opt.param_groups:  # PBT may hand over perturbed hyperparameters
            g["lr"] = float(params["lr"])
        start = int(ck["epoch"])
    loss_fn = ards_model.loss_fn(params["loss"])
    bs = int(params["batch_size"])
    gen = torch.Generator().manual_seed(a.seed + start)
    for epoch in range(start + 1, target + 1):
        model.train()
        perm = torch.randperm(len(ytr), generator=gen)
        total = 0.0
        for i in range(0, len(ytr), bs):
            idx = perm[i:i + bs]
            opt.zero_grad()
            pred = model(Xtr[idx]).squeeze(1) * sd + mu
            loss = loss_fn(pred, ytr[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        model.eval()
        with torch.no_grad():
            val_mae = float((model(Xva).squeeze(1) * sd + mu - yva).abs().mean())
        metrics_line(epoch=epoch, val_mae=round(val_mae, 4), train_loss=round(total / len(ytr), 4))
    out = os.environ["FLOW_CHECKPOINT_OUT"] if trial else a.out
    ards_model.save(out, model, opt, target, params, mu, sd)
    print("trained %s epochs %d..%d val_mae=%.3f -> %s"
          % (os.environ.get("FLOW_TRIAL_ID", "final"), start + 1, target, val_mae, out))
    if not trial:
        with open(os.environ["FLOW_OUTPUTS_FILE"], "w") as f:
            json.dump({"model": os.path.abspath(out), "val_mae": val_mae, "epochs": target}, f)


if __name__ == "__main__":
    main()
