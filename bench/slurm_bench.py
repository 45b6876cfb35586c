#!/usr/bin/env python3
"""N Slurm jobs through flow and through snakemake --slurm on the test cluster; prints the
Slurm commands each ran, slurmctld RPCs, wall time and flow's completion latency."""
import argparse
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from datetime import datetime

TEST_USER = "flowuser"
USER_HOME = f"/home/{TEST_USER}"
WRAPPERS = "/var/lib/flow-test-cluster/bin"


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, text=True, capture_output=True, **kw).stdout


def calls(root):
    """Slurm commands run through the counting wrappers since the last reset; resets."""
    out = sh(f"{root}/scripts/test-cluster.sh calls --reset")
    counts = {}
    for line in out.splitlines():
        name, n = line.split()
        counts[name] = int(n)
    return counts


def sdiag_rpcs():
    """slurmctld RPCs by message type since the last `sdiag -r`."""
    out = sh("sdiag")
    rpcs, in_section = {}, False
    for line in out.splitlines():
        if line.startswith("Remote Procedure Call statistics by message type"):
            in_section = True
            continue
        if in_section:
            m = re.match(r"\s+(\S+)\s+\(\s*\d+\)\s+count:(\d+)", line)
            if m:
                rpcs[m.group(1)] = int(m.group(2))
            elif line.startswith("Remote Procedure Call statistics by user"):
                break
    return rpcs


def reset_counters(root):
    calls(root)
    sh("sdiag -r")


def sacct_ends(prefix):
    """job name -> End (epoch seconds) for finished jobs whose name starts with prefix."""
    out = sh("sacct -a -X -n -P --format=JobName%200,End,State --starttime=now-1days")
    ends = {}
    for line in out.splitlines():
        name, end, state = line.split("|")
        if name.startswith(prefix) and end not in ("Unknown", ""):
            ends[name] = datetime.fromisoformat(end).timestamp()
    return ends


def alloc_site(work):
    """The built-in localslurm in allocation mode (one node, 32 cores), in a site directory of
    its own that replaces the built-in one of that name."""
    sites = os.path.join(work, "sites")
    os.makedirs(sites, exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "..", "sites", "localslurm.yaml")) as f:
        text = f.read()
    text = text.replace("workdir: /home/flowuser/flow",
                        f"workdir: /home/flowuser/flow-allocbench-{os.getpid()}")
    with open(os.path.join(sites, "localslurm.yaml"), "w") as f:
        f.write(text + "allocation: {nodes: 1, time: 1h, idle_timeout: 5s}\n")
    return sites


def run_flow(args, work, alloc=False, arrays=False):
    run_id = f"slurmbench-{os.getpid()}" + ("-alloc" if alloc else "-arrays" if arrays else "")
    dag = os.path.join(work, "dag.yaml")
    with open(dag, "w") as f:
        f.write("dag: slurmbench\ndefaults: {site: localslurm}\ntasks:\n")
        if arrays:  # the same jobs as the elements of one foreach: one sbatch --array
            f.write(f"  - id: j\n    foreach: {list(range(args.jobs))}\n"
                    f"    run: sleep {args.sleep}; echo done $FLOW_MAP_INDEX\n")
        else:
            for i in range(args.jobs):
                f.write(f"  - id: j{i}\n    run: sleep {args.sleep}; echo done {i}\n")
    env = dict(os.environ)
    if alloc:
        env["FLOW_SITES_PATH"] = alloc_site(work)
    reset_counters(args.root)
    t0 = time.time()
    cpu0 = os.times()
    db_name = "alloc.db" if alloc else "arrays.db" if arrays else "flow.db"
    subprocess.run([args.flow, "run", dag, "--run-id", run_id, "--db", os.path.join(work, db_name)],
                   check=True, cwd=work, stdout=subprocess.DEVNULL, env=env)
    wall = time.time() - t0
    cpu1 = os.times()
    engine_cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    c, r = calls(args.root), sdiag_rpcs()
    if alloc:
        # Inside the allocation: the engine's CPU, and the wall time beyond what the node's
        # 32 cores need for the tasks' own sleeps, per task.
        ideal = args.jobs * args.sleep / 32
        return {"tool": "flow, allocation mode", "wall_s": wall, "calls": c, "rpcs": r,
                "latency": [], "poll_s": 2.0, "engine_cpu_s": engine_cpu,
                "overhead_ms_per_task": 1000 * max(0.0, wall - ideal) / args.jobs}
    if arrays:
        return {"tool": "flow, job arrays (one foreach)", "wall_s": wall, "calls": c, "rpcs": r,
                "latency": [], "poll_s": 2.0, "engine_cpu_s": engine_cpu}
    # Completion latency: when flow recorded `succeeded` minus when Slurm says the job ended
    # (sacct End has whole seconds, so each value is up to 1 s too large).
    db = sqlite3.connect(os.path.join(work, "flow.db"))
    done = {row[0]: row[1] / 1000.0 for row in db.execute(
        "select instance_id, ts_ms from events where run_id=? and state='succeeded'", (run_id,))}
    ends = {}
    for _ in range(30):  # sacct's time-window view lags a few seconds behind
        ends = sacct_ends(f"flow.{run_id}.")
        if len(ends) >= args.jobs:
            break
        time.sleep(1)
    lat = sorted(done[n.split(".")[2]] - e for n, e in ends.items() if n.split(".")[2] in done)
    poll_s = 2.0  # sites/localslurm.yaml poll_interval
    return {"tool": "flow, one sbatch per task", "wall_s": wall, "calls": c, "rpcs": r,
            "latency": lat, "poll_s": poll_s, "engine_cpu_s": engine_cpu}


def run_snakemake(args):
    work = tempfile.mkdtemp(prefix="snakebench-", dir=USER_HOME)
    shutil.chown(work, TEST_USER, TEST_USER)
    with open(os.path.join(work, "Snakefile"), "w") as f:
        f.write("rule all:\n    input: [" + ", ".join(f'"out/j{i}"' for i in range(args.jobs)) + "]\n\n")
        for i in range(args.jobs):
            f.write(f'rule j{i}:\n    output: "out/j{i}"\n'
                    f'    shell: "sleep {args.sleep}; echo done {i} > {{output}}"\n\n')
    shutil.chown(os.path.join(work, "Snakefile"), TEST_USER, TEST_USER)
    reset_counters(args.root)
    t0 = time.time()
    env = (f"HOME={USER_HOME} USER={TEST_USER} PATH={WRAPPERS}:/usr/local/bin:/usr/bin:/bin")
    subprocess.run(
        f"cd {work} && runuser -u {TEST_USER} -- env {env} snakemake --slurm -j {args.jobs} -q "
        f"--default-resources slurm_partition=debug slurm_account=root --latency-wait 10"
        + (f" --max-status-checks-per-second {args.snake_rate}" if args.snake_rate else ""),
        shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.time() - t0
    c, r = calls(args.root), sdiag_rpcs()
    shutil.rmtree(work, ignore_errors=True)
    name = "snakemake --slurm" + (f" (status checks {args.snake_rate}/s)" if args.snake_rate else "")
    return {"tool": name, "wall_s": wall, "calls": c, "rpcs": r}


def status_queries(res):
    return sum(res["calls"].get(k, 0) for k in ("sacct", "squeue", "scontrol"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flow", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--sleep", type=float, default=5)
    ap.add_argument("--skip-snakemake", action="store_true")
    ap.add_argument("--allocation", action="store_true",
                    help="also run the jobs through flow's allocation mode")
    ap.add_argument("--arrays", action="store_true",
                    help="also run the jobs as one foreach, which flow submits as a job array")
    ap.add_argument("--snake-rate", type=float, default=0,
                    help="snakemake --max-status-checks-per-second (0: its default, 0.03)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="flow-slurmbench-")
    results = [run_flow(args, work)]
    if args.arrays:
        results.append(run_flow(args, work, arrays=True))
    if args.allocation:
        results.append(run_flow(args, work, alloc=True))
    if not args.skip_snakemake:
        results.append(run_snakemake(args))
    shutil.rmtree(work, ignore_errors=True)

    print(f"\n{args.jobs} jobs of `sleep {args.sleep}` on the test cluster (32 CPUs per node)\n")
    print("| tool | wall s | tasks/s | sbatch | sacct | squeue | scontrol | status queries | "
          "slurmctld RPCs | engine CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        c = r["calls"]
        cpu = f"{r['engine_cpu_s']:.1f}" if "engine_cpu_s" in r else "-"
        print(f"| {r['tool']} | {r['wall_s']:.1f} | {args.jobs / r['wall_s']:.1f} | "
              f"{c.get('sbatch', 0)} | {c.get('sacct', 0)} | "
              f"{c.get('squeue', 0)} | {c.get('scontrol', 0)} | {status_queries(r)} | "
              f"{sum(r['rpcs'].values())} | {cpu} |")
    alloc = [r for r in results if "overhead_ms_per_task" in r]
    if alloc:
        a, one = alloc[0], results[0]
        slurm_calls = lambda r: sum(r["calls"].values())
        print(f"\nallocation mode: {slurm_calls(one) / max(1, slurm_calls(a)):.0f}x fewer Slurm calls "
              f"than one sbatch per task ({slurm_calls(a)} vs {slurm_calls(one)}); wall time beyond "
              f"the tasks' own sleep on 32 cores: {a['overhead_ms_per_task']:.1f} ms per task")
    arr = [r for r in results if r["tool"].startswith("flow, job arrays")]
    if arr:
        a, one = arr[0], results[0]
        print(f"\njob arrays: {one['calls'].get('sbatch', 0)} sbatch calls become "
              f"{a['calls'].get('sbatch', 0)}; Slurm calls in all {sum(a['calls'].values())} vs "
              f"{sum(one['calls'].values())}")
    f = results[0]
    if f.get("latency"):
        lat = f["latency"]
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        print(f"\nflow noticed job ends after: median {statistics.median(lat):.2f} s, p95 {p95:.2f} s, "
              f"max {lat[-1]:.2f} s (poll interval {f['poll_s']:.0f} s; sacct End is rounded to whole "
              f"seconds, so each value may be up to 1 s high); {len(lat)} jobs")
        print(f"flow status queries per minute of run: {60 * status_queries(f) / f['wall_s']:.1f}")
    snake = [r for r in results if r["tool"].startswith("snakemake")]
    if snake and status_queries(f):
        s = snake[0]
        print(f"status queries, snakemake / flow: {status_queries(s) / status_queries(f):.1f}x; "
              f"slurmctld RPCs, snakemake / flow: "
              f"{sum(s['rpcs'].values()) / max(1, sum(f['rpcs'].values())):.1f}x")
    print("\nslurmctld RPCs by type:")
    for r in results:
        top = sorted(r["rpcs"].items(), key=lambda kv: -kv[1])[:6]
        print(f"  {r['tool']}: " + ", ".join(f"{k} {v}" for k, v in top))
    print(json.dumps({"results": [{k: v for k, v in r.items() if k != 'latency'} for r in results]}))


if __name__ == "__main__":
    main()
