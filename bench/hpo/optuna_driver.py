#!/usr/bin/python3
"""Optuna behind a pipe, for bench/hpo: flow_hpo_bench drives Optuna's real samplers and
pruners through ask/tell with the same simulated objectives, workers and epoch budget as
flow's tuners. One JSON request per line on stdin, one JSON answer per line on stdout.

  {"op": "study", "sampler": "tpe"|"random", "pruner": "none"|"sh"|"hb", "seed": S,
   "space": [{"name", "kind", "lo", "hi", "choices"}], "grace": g, "max_epochs": m, "rf": r}
                                     -> {"ok": true}
  {"op": "ask"}                      -> {"id": trial number, "params": {...}}
  {"op": "report", "id", "step", "value"} -> {"prune": bool}
  {"op": "tell", "id", "value"}      -> {"ok": true}   (complete)
  {"op": "tell", "id", "pruned": true}  -> {"ok": true}  (pruned, or cut by the budget)
  {"op": "best"}                     -> {"id", "params", "value"} or {"id": null}
  {"op": "version"}                  -> {"optuna": "3.1.0"}
"""
import json
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def distributions(space):
    out = {}
    for d in space:
        k = d["kind"]
        if k == "uniform":
            out[d["name"]] = optuna.distributions.FloatDistribution(d["lo"], d["hi"])
        elif k == "loguniform":
            out[d["name"]] = optuna.distributions.FloatDistribution(d["lo"], d["hi"], log=True)
        elif k == "randint":
            out[d["name"]] = optuna.distributions.IntDistribution(int(d["lo"]), int(d["hi"]))
        else:
            out[d["name"]] = optuna.distributions.CategoricalDistribution(d["choices"])
    return out


def main():
    study = None
    dists = None
    trials = {}
    for line in sys.stdin:
        req = json.loads(line)
        op = req["op"]
        if op == "version":
            ans = {"optuna": optuna.__version__}
        elif op == "study":
            seed = req["seed"]
            if req["sampler"] == "tpe":
                sampler = optuna.samplers.TPESampler(seed=seed)
            else:
                sampler = optuna.samplers.RandomSampler(seed=seed)
            pruner = {
                "none": lambda: optuna.pruners.NopPruner(),
                "sh": lambda: optuna.pruners.SuccessiveHalvingPruner(
                    min_resource=req["grace"], reduction_factor=req["rf"],
                    min_early_stopping_rate=0),
                "hb": lambda: optuna.pruners.HyperbandPruner(
                    min_resource=req["grace"], max_resource=req["max_epochs"],
                    reduction_factor=req["rf"]),
            }[req["pruner"]]()
            study = optuna.create_study(direction="minimize", sampler=sampler, pruner=pruner)
            dists = distributions(req["space"])
            trials = {}
            ans = {"ok": True}
        elif op == "ask":
            t = study.ask(fixed_distributions=dists)
            trials[t.number] = t
            ans = {"id": t.number, "params": t.params}
        elif op == "report":
            t = trials[req["id"]]
            t.report(req["value"], req["step"])
            ans = {"prune": bool(t.should_prune())}
        elif op == "tell":
            t = trials.pop(req["id"])
            if req.get("pruned"):
                study.tell(t, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(t, req["value"])
            ans = {"ok": True}
        elif op == "best":
            try:
                b = study.best_trial
                ans = {"id": b.number, "params": b.params, "value": b.value}
            except ValueError:
                ans = {"id": None}
        else:
            ans = {"error": "unknown op " + op}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
