"""ARDS cohort -> standardised train/validation/test arrays (one .npz).

The input is a CSV with the 12 feature columns below plus `pf_ratio` (PaO2/FiO2 in mmHg):
DIR/ards.csv. Patient-level ARDS data cannot ship with flow, so when that file is absent a
synthetic cohort is generated (seeded, deterministic): bedside values in physiological
ranges and a P/F ratio that falls with FiO2 demand, PEEP, driving pressure, lactate and
acidosis, plus noise. Say which one was used in the outputs (`source`).

The .npz is registered in flow's artifact registry as a dataset (kind "dataset") with its
source, seed, row count, features and split sizes, so the model exported from it links to
this version of the data (`flow artifacts show`, prov:wasDerivedFrom).
"""
import argparse
import csv
import hashlib
import json
import os

import numpy as np

FEATURES = ["age", "sex", "bmi", "peep", "fio2", "tidal_volume_ml_kg", "resp_rate",
            "plateau_pressure", "heart_rate", "mean_arterial_pressure", "lactate", "ph"]


def synthetic(rows, seed):
    rng = np.random.default_rng(seed)
    age = rng.normal(60, 15, rows).clip(18, 95)
    sex = rng.integers(0, 2, rows).astype(float)
    bmi = rng.normal(28, 6, rows).clip(16, 55)
    peep = rng.normal(10, 3, rows).clip(5, 20)
    fio2 = rng.uniform(0.3, 1.0, rows)
    vt = rng.normal(6.5, 1.0, rows).clip(4, 10)
    rr = rng.normal(24, 6, rows).clip(10, 40)
    plateau = (peep + rng.normal(14, 4, rows)).clip(12, 40)
    hr = rng.normal(95, 18, rows).clip(50, 160)
    mapr = rng.normal(75, 12, rows).clip(45, 120)
    lactate = rng.lognormal(0.5, 0.5, rows).clip(0.5, 12)
    ph = rng.normal(7.33, 0.08, rows).clip(7.0, 7.6)
    driving = plateau - peep
    pf = (330 - 160 * (fio2 - 0.3) - 4.5 * (peep - 5) - 3.0 * (driving - 10) - 9 * (lactate - 1)
          + 120 * (ph - 7.35) - 0.4 * (age - 60) - 1.2 * (bmi - 28) - 0.6 * (rr - 20)
          + 8 * np.sin(hr / 15) + rng.normal(0, 18, rows)).clip(40, 500)
    X = np.stack([age, sex, bmi, peep, fio2, vt, rr, plateau, hr, mapr, lactate, ph], axis=1)
    return X, pf


def from_csv(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    X = np.array([[float(r[c]) for c in FEATURES] for r in rows])
    y = np.array([float(r["pf_ratio"]) for r in rows])
    return X, y


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="data/ards", help="directory that may hold ards.csv")
    ap.add_argument("--rows", type=int, default=4096, help="synthetic cohort size")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    csv_path = os.path.join(a.data, "ards.csv")
    if os.path.exists(csv_path):
        X, y, source = *from_csv(csv_path), csv_path
    else:
        X, y, source = *synthetic(a.rows, a.seed), "synthetic (seed %d)" % a.seed
    rng = np.random.default_rng(a.seed)
    order = rng.permutation(len(y))
    n_test, n_val = len(y) // 10, len(y) // 10
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    mean, std = X[train].mean(axis=0), X[train].std(axis=0) + 1e-9
    z = (X - mean) / std
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.savez(a.out, X_train=z[train], y_train=y[train], X_val=z[val], y_val=y[val],
             X_test=z[test], y_test=y[test], feature_mean=mean, feature_std=std,
             features=np.array(FEATURES))
    print("ARDS data: %d rows (%s): train %d, validation %d, test %d -> %s"
          % (len(y), source, len(train), len(val), len(test), a.out))
    # The cohort file is registered as a dataset (docs/ARTIFACTS.md): every artifact the
    # pipeline registers after it (the ONNX model) derives from this version of it.
    out = os.path.abspath(a.out)
    synthetic_cohort = not os.path.exists(csv_path)
    metadata = {"source": source if synthetic_cohort else os.path.abspath(csv_path),
                "synthetic": synthetic_cohort,
                "seed": a.seed, "rows": int(len(y)), "features": FEATURES,
                "target": "pf_ratio: PaO2/FiO2 ratio (mmHg)",
                "split": {"train": int(len(train)), "validation": int(len(val)),
                          "test": int(len(test))},
                "standardised": "features z-scored with the training split's mean and std"}
    if not synthetic_cohort:
        metadata["source_sha256"] = sha256_of(csv_path)
    with open(os.environ["FLOW_OUTPUTS_FILE"], "w") as f:
        json.dump({"data": out, "rows": int(len(y)), "features": len(FEATURES), "source": source,
                   "artifacts": [{"path": out, "name": "ards-cohort", "kind": "dataset",
                                  "format": "npz",
                                  "description": "ARDS cohort (%s): %d rows, 12 bedside features "
                                                 "and the P/F ratio, split train/validation/test"
                                                 % (source, len(y)),
                                  "metadata": metadata}]}, f)


if __name__ == "__main__":
    main()
