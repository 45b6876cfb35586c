"""The ARDS regression model shared by train.py, evaluate.py and export_onnx.py: an MLP
12 -> 64 -> 32 (-> 32 when extra_fc) -> 1 that predicts the PaO2/FiO2 ratio (mmHg) from
standardised bedside features, and the checkpoint format all three read and write."""
import json

import torch
from torch import nn

N_FEATURES = 12


def build(params):
    layers = [nn.Linear(N_FEATURES, 64), nn.ReLU(), nn.Dropout(float(params.get("dropout", 0.0))),
              nn.Linear(64, 32), nn.ReLU()]
    if params.get("extra_fc", False):
        layers += [nn.Linear(32, 32), nn.ReLU()]
    layers.append(nn.Linear(32, 1))
    return nn.Sequential(*layers)


def loss_fn(name):
    return {"mae": nn.L1Loss(), "mse": nn.MSELoss(), "huber": nn.HuberLoss(delta=10.0)}[name]


def save(path, model, optimizer, epoch, params, target_mean, target_std):
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict() if optimizer else None,
                "epoch": epoch, "params": params, "target_mean": target_mean,
                "target_std": target_std}, path)


def load(path):
    ck = torch.load(path)
    model = build(ck["params"])
    model.load_state_dict(ck["model"])
    return model, ck


def params_from(text):
    params = json.loads(text) if text else {}
    params.setdefault("lr", 1e-3)
    params.setdefault("batch_size", 64)
    params.setdefault("dropout", 0.1)
    params.setdefault("loss", "mae")
    params.setdefault("extra_fc", False)
    return params
