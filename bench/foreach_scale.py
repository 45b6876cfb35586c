#!/usr/bin/env python3
"""foreach scaling: one `foreach` task over N items (every instance runs `true`), run by
flow for each N of a series, reporting per item the wall time, the engine's own CPU time
(the flow process, not its children) and flow's peak RSS. Optionally the same N as a
static DAG of N independent `true` tasks, run by flow, ninja and make, for comparison.

Run through bench/run_scale.sh, which builds flow first. Every run is in a fresh directory
under --place with its own FLOW_HOME; each flow run is checked to have ended with every
instance succeeded (so a broken flow cannot look fast).

--quick runs two sizes (2,000 and 20,000 unless --sizes says otherwise) and exits 1 if
the per-item cost at the larger is more than --max-ratio (1.5) times that at the smaller:
a ratio, so a slow or busy machine does not fail it, a cost per item that grows with N
does. The cost judged is the engine's CPU time (--metric cpu, the default: what grows if
the engine does O(N) work per item; the wall time also carries the machine's load) or
the wall time (--metric wall). The ratio is of marginal costs: a 1-item foreach runs
first, and its cost (start-up, creating the database; ~0.1 s Release, ~0.75 s of CPU in
the ASan build) is taken off both before dividing by N - 1, so a fixed cost spread over
fewer items cannot hide a per-item cost that grows.

exit status: 0 done (and in --quick the ratio held), 1 the ratio did not hold, 2 usage,
3 a run failed.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def write_foreach(path, n):
    with open(path, "w") as f:
        f.write(f"dag: foreach_{n}\ntasks:\n  - id: each\n")
        f.write("    foreach: " + json.dumps(list(range(n))) + "\n")
        f.write('    run: "true"\n')


def write_hpo(path, n, algorithm="random", sampler="random"):
    """An `hpo:` task of N trials, each segment reporting its metric at the epoch it trains
    to (and touching its checkpoint, which PBT copies). Random search trains one epoch;
    asha, hyperband and pbt nine (rungs 1, 3, 9; PBT exploits every 3), so trials are
    stopped, promoted and continued as in a real sweep; tpe one epoch, 20 start-up trials.
    sampler tpe (asha, hyperband): new trials from the TPE model (BOHB), 20 start-up
    trials."""
    epochs = 1 if algorithm in ("random", "tpe") else 9
    with open(path, "w") as f:
        f.write(f"dag: hpo_{n}\ntasks:\n  - id: tune\n    hpo:\n      algorithm: {algorithm}\n"
                f"      metric: loss\n      mode: min\n      samples: {n}\n      max_epochs: {epochs}\n"
                f"      parallel: 2\n")
        if algorithm in ("asha", "hyperband"):
            f.write("      grace_epochs: 1\n      reduction_factor: 3\n")
        if algorithm == "pbt":
            f.write("      perturbation_interval: 3\n")
        if sampler == "tpe" and algorithm in ("asha", "hyperband"):
            f.write("      sampler: tpe\n")
        if algorithm == "tpe" or sampler == "tpe":
            f.write("      startup_trials: 20\n")
        f.write("      space:\n        x: {uniform: [0, 1]}\n")
        # The parameter is rendered shell-quoted ('0.42'), so it stands outside the "...".
        f.write("    run: |\n      echo \"{\\\"epoch\\\": $FLOW_TRIAL_EPOCHS, \\\"loss\\\": \"{{ trial.params.x }}\"}\""
                " >> \"$FLOW_METRICS_FILE\"\n"
                "      touch \"$FLOW_CHECKPOINT_OUT\"\n")


def write_static(d, n):
    """N independent tasks running `true`: flow YAML, build.ninja, Makefile."""
    with open(os.path.join(d, "dag.yaml"), "w") as f:
        f.write(f"dag: static_{n}\ntasks:\n")
        for i in range(n):
            f.write(f'  - id: t{i}\n    run: "true"\n')
    with open(os.path.join(d, "build.ninja"), "w") as f:
        f.write("rule t\n  command = true\n")
        for i in range(n):
            f.write(f"build t{i}: t\n")
    with open(os.path.join(d, "Makefile"), "w") as f:
        f.write(".PHONY: all " + " ".join(f"t{i}" for i in range(n)) + "\n")
        f.write("all: " + " ".join(f"t{i}" for i in range(n)) + "\n")
        for i in range(n):
            f.write(f"t{i}:\n\ttrue\n")


def measure(cmd, cwd, env):
    """Runs cmd; returns (exit status, wall s, own CPU s of the process, peak RSS in MiB).
    The own CPU time is read from /proc while the process is a zombie (waited for with
    WNOWAIT): its children's time is not in it."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    # stderr is small (errors only); read it only after the end so the zombie stays.
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    wall = time.perf_counter() - t0
    with open(f"/proc/{p.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    own_cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        sys.stderr.write(err)
    return p.returncode, wall, own_cpu, usage.ru_maxrss / 1024.0


def succeeded(db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return dict(con.execute("SELECT state, count(*) FROM instances GROUP BY state").fetchall())
    finally:
        con.close()


class Runner:
    def __init__(self, a, work):
        self.a = a
        self.work = work
        self.k = 0

    def fresh(self, name):
        self.k += 1
        d = os.path.join(self.work, f"{self.k:02d}-{name}")
        os.makedirs(d)
        return d

    def flow(self, d, n, expect):
        env = dict(os.environ, FLOW_HOME=os.path.join(d, ".flow"))
        rc, wall, cpu, rss = measure([self.a.flow, "run", "dag.yaml", "-j", str(self.a.jobs)], d, env)
        if rc != 0:
            fail(f"flow run of {n} failed in {d} (exit {rc})")
        states = succeeded(os.path.join(d, ".flow", "flow.db"))
        if states != {"succeeded": expect}:
            fail(f"{n} items in {d}: expected {expect} instances succeeded, "
                     f"got {states}")
        home = os.path.join(d, ".flow")
        db = sum(os.path.getsize(os.path.join(home, f)) for f in os.listdir(home)
                 if f.startswith("flow.db"))
        return {"wall": wall, "cpu": cpu, "rss": rss, "db": db}

    def hpo(self, n):
        d = self.fresh(f"hpo-{n}")
        write_hpo(os.path.join(d, "dag.yaml"), n, self.a.algorithm, self.a.sampler)
        return self.flow(d, n, n + 1)  # the trials and the task's own instance

    def foreach(self, n):
        d = self.fresh(f"foreach-{n}")
        write_foreach(os.path.join(d, "dag.yaml"), n)
        return self.flow(d, n, n + 1)  # the items and the task's own instance

    def static(self, n):
        d = self.fresh(f"static-{n}")
        write_static(d, n)
        out = {"flow": self.flow(d, n, n)}
        for tool, cmd in (("ninja", ["ninja", "-j", str(self.a.jobs)]),
                          ("make", ["make", "-s", "-j", str(self.a.jobs)])):
            if not shutil.which(cmd[0]):
                continue
            rc, wall, cpu, rss = measure(cmd, d, dict(os.environ))
            if rc != 0:
                fail(f"{tool} failed in {d} (exit {rc})")
            out[tool] = {"wall": wall, "cpu": cpu, "rss": rss}
        return out


def fail(msg):
    print(f"foreach_scale.py: {msg}", file=sys.stderr)
    sys.exit(3)


def per_item(r, n, key):
    return 1000.0 * r[key] / n


def marginal(r, n, fixed, key):
    """ms per item beyond the 1-item run's cost."""
    return 1000.0 * (r[key] - fixed[key]) / max(n - 1, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flow", required=True)
    ap.add_argument("--sizes", help="comma-separated item counts (default 1000,10000,100000; "
                                    "--quick: 2000,20000)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--place", default="/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                    help="where the scratch directory goes (tmpfs by default)")
    ap.add_argument("--hpo", action="store_true",
                    help="an HPO sweep of N trials (random search, one epoch each, unless "
                         "--algorithm says otherwise) instead of a foreach of N items")
    ap.add_argument("--algorithm", default="random",
                    choices=("random", "tpe", "asha", "hyperband", "pbt"),
                    help="with --hpo: the tuner (default random)")
    ap.add_argument("--sampler", default="random", choices=("random", "tpe"),
                    help="with --hpo --algorithm asha or hyperband: how new trials are drawn "
                         "(tpe: BOHB)")
    ap.add_argument("--static", action="store_true",
                    help="also run N independent tasks with flow, ninja and make")
    ap.add_argument("--quick", action="store_true",
                    help="two sizes; exit 1 if the larger's per-item cost exceeds --max-ratio x the smaller's")
    ap.add_argument("--max-ratio", type=float, default=1.5)
    ap.add_argument("--metric", choices=("cpu", "wall"), default="cpu")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args()
    a.flow = os.path.abspath(a.flow)
    try:
        sizes = [int(s) for s in (a.sizes or ("2000,20000" if a.quick else "1000,10000,100000")).split(",")]
    except ValueError:
        ap.error("--sizes takes comma-separated integers")
    if any(n < 1 for n in sizes) or (a.quick and len(sizes) != 2):
        ap.error("sizes must be positive (and exactly two with --quick)")
    if not os.access(a.flow, os.X_OK):
        ap.error(f"{a.flow} is not an executable")

    work = tempfile.mkdtemp(prefix="flow-foreach-scale-", dir=a.place)
    try:
        r = Runner(a, work)
        print(f"foreach scaling: {a.flow}, -j {a.jobs}, in {a.place}, "
              f"load average {os.getloadavg()[0]:.2f}")
        one = r.hpo if a.hpo else r.foreach
        fixed = one(1)
        print(f"1 item (the fixed cost, taken off below): wall {fixed['wall']:.2f} s, "
              f"engine CPU {fixed['cpu']:.2f} s, peak RSS {fixed['rss']:.1f} MiB")
        print(f"{'items':>9} {'wall s':>9} {'wall ms/item':>13} {'engine CPU s':>13} "
              f"{'CPU ms/item':>12} {'peak RSS MiB':>13} {'RSS B/item':>11} {'DB B/item':>10}")
        results = {}
        for n in sizes:
            res = one(n)
            results[n] = res
            print(f"{n:>9,} {res['wall']:>9.2f} {marginal(res, n, fixed, 'wall'):>13.3f} "
                  f"{res['cpu']:>13.2f} {marginal(res, n, fixed, 'cpu'):>12.3f} {res['rss']:>13.1f} "
                  f"{(res['rss'] - fixed['rss']) * 1048576 / max(n - 1, 1):>11.0f} "
                  f"{(res['db'] - fixed['db']) / max(n - 1, 1):>10.0f}",
                  flush=True)
        if a.static:
            print(f"\nstatic DAG of N independent `true` tasks (same -j):")
            print(f"{'items':>9} {'tool':>6} {'wall s':>9} {'wall ms/task':>13} {'own CPU s':>10} "
                  f"{'peak RSS MiB':>13}")
            for n in sizes:
                for tool, res in r.static(n).items():
                    print(f"{n:>9,} {tool:>6} {res['wall']:>9.2f} {per_item(res, n, 'wall'):>13.3f} "
                          f"{res['cpu']:>10.2f} {res['rss']:>13.1f}", flush=True)
        if len(sizes) >= 2:
            lo, hi = sizes[0], sizes[-1]
            ratios = {m: marginal(results[hi], hi, fixed, m) / max(marginal(results[lo], lo, fixed, m), 1e-9)
                      for m in ("cpu", "wall")}
            print(f"\nper-item cost at {hi:,} / at {lo:,}: engine CPU {ratios['cpu']:.2f}, "
                  f"wall {ratios['wall']:.2f}  (load average now {os.getloadavg()[0]:.2f})")
            if a.quick:
                ok = ratios[a.metric] <= a.max_ratio
                print(f"{'PASS' if ok else 'FAIL'}: {a.metric} ratio {ratios[a.metric]:.2f} "
                      f"{'<=' if ok else '>'} {a.max_ratio}")
                return 0 if ok else 1
        return 0
    finally:
        if a.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
