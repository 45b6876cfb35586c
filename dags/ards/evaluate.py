"""Scores the final model on the held-out test split: MAE, RMSE (mmHg) and R^2, next to the
MAE of a model that learned nothing (always the training set's mean P/F ratio)."""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ards_model  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", required=True)
    a = ap.parse_args()
    d = np.load(a.data)
    model, ck = ards_model.load(a.model)
    model.eval()
    with torch.no_grad():
        pred = model(torch.tensor(d["X_test"], dtype=torch.float32)).squeeze(1).numpy()
    pred = pred * ck["target_std"] + ck["target_mean"]
    y = d["y_test"]
    mae = float(np.abs(pred - y).mean())
    rmse = float(np.sqrt(((pred - y) ** 2).mean()))
    r2 = float(1 - ((pred - y) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    baseline = float(np.abs(float(np.mean(d["y_train"])) - y).mean())
    print("test set (%d patients): MAE %.2f mmHg, RMSE %.2f mmHg, R^2 %.3f "
          "(always predicting the training mean: MAE %.2f mmHg)" % (len(y), mae, rmse, r2, baseline))
    with open(os.environ["FLOW_METRICS_FILE"], "a") as f:
        f.write(json.dumps({"test_mae": mae, "test_rmse": rmse, "test_r2": r2}) + "\n")
    with open(os.environ["FLOW_OUTPUTS_FILE"], "w") as f:
        json.dump({"test_mae": mae, "test_rmse": rmse, "test_r2": r2, "baseline_mae": baseline}, f)


if __name__ == "__main__":
    main()
