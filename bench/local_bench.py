#!/usr/bin/env python3
"""Local engine benchmark: the same N-task DAG (gen_dag.py) run by flow, ninja, make and
snakemake with parallelism J; then `flow validate` of a large DAG; then flow's engine
overhead per task from its state database. Prints plain-text tables.

Run through bench/run_local.sh, which builds flow first. The comparison runs in each of
--places (by default tmpfs and the disk). Every repetition runs in a fresh directory and
nothing is deleted until the end: on ext4 without a journal, creating files soon after
deleting thousands is measurably slower, which would penalise whichever tool runs next.
Tools are interleaved and their order rotated per repetition so that background load
spreads over all of them.
"""
import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_dag  # noqa: E402


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def pct(xs, p):
    """Nearest-rank percentile."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except (OSError, subprocess.TimeoutExpired):
        return "not found"


class Bench:
    def __init__(self, args, work, label):
        self.a = args
        self.flow = os.path.abspath(args.flow)
        self.before = os.path.abspath(args.flow_before) if args.flow_before else None
        self.work = work
        self.label = label
        self.src = os.path.join(self.work, "dag")
        self.n = args.layers * args.width
        self.flow_dbs = []

    def commands(self, j):
        return {
            "flow": [self.flow, "run", "dag.yaml", "-j", str(j)],
            "flow-before": [self.before or "", "run", "dag.yaml", "-j", str(j)],
            "ninja": ["ninja", "-j", str(j)],
            "make": ["make", "-j", str(j)],
            "snakemake": ["snakemake", "--cores", str(j), "-q"],
        }

    INPUT = {"flow": "dag.yaml", "flow-before": "dag.yaml", "ninja": "build.ninja", "make": "Makefile",
             "snakemake": "Snakefile"}

    def run_once(self, tool, rep, src, n, j):
        d = os.path.join(self.work, "runs", f"{tool}-{os.path.basename(src)}-{rep}")
        os.makedirs(os.path.join(d, "out"))
        os.symlink(os.path.join(src, self.INPUT[tool]), os.path.join(d, self.INPUT[tool]))
        env = dict(os.environ)
        env["FLOW_HOME"] = os.path.join(d, ".flow")
        t0 = time.perf_counter()
        p = subprocess.run(self.commands(j)[tool], cwd=d, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        made = len(os.listdir(os.path.join(d, "out")))
        if p.returncode != 0 or made != n:
            sys.exit(f"{tool} failed in {d} (exit {p.returncode}, {made}/{n} outputs):\n"
                     f"{p.stderr[-2000:]}")
        if tool == "flow":
            self.flow_dbs.append((wall, os.path.join(d, ".flow", "flow.db")))
        return wall

    def compare(self):
        a = self.a
        gen_dag.generate(self.src, a.layers, a.width)
        tools = ["flow", "ninja", "make", "snakemake"]
        if self.before:
            tools.insert(1, "flow-before")
        times = {t: [] for t in tools}
        for rep in range(a.reps):
            order = tools[rep % len(tools):] + tools[:rep % len(tools)]
            for tool in order:
                if tool == "snakemake" and rep >= a.snake_reps:
                    continue
                times[tool].append(self.run_once(tool, rep, self.src, self.n, a.jobs))
        med = {t: median(times[t]) for t in tools}
        print(f"\n== {self.n} tasks ({a.layers} layers x {a.width}, fan-in 2), "
              f"parallelism {a.jobs}, on {self.label}: wall seconds ==")
        print(f"{'tool':<11} {'runs':>4} {'median':>8} {'min':>8} {'max':>8}   all")
        for t in tools:
            xs = times[t]
            print(f"{t:<11} {len(xs):>4} {med[t]:>8.3f} {min(xs):>8.3f} {max(xs):>8.3f}   "
                  + " ".join(f"{x:.2f}" for x in xs))
        print("\nratios of medians:")
        print(f"  flow / ninja      = {med['flow'] / med['ninja']:.2f}   (target <= 1.30)")
        print(f"  snakemake / flow  = {med['snakemake'] / med['flow']:.2f}   (target >= 4)")
        print(f"  make / flow       = {med['make'] / med['flow']:.2f}")
        if self.before:
            print(f"  flow / flow-before = {med['flow'] / med['flow-before']:.2f}   "
                  f"(the same run, two binaries: > 1 means slower than before)")
        return med

    # ---- engine overhead, from the events table ----------------------------------------

    @staticmethod
    def events(db):
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        rows = con.execute("SELECT seq, instance_id, ts_ms, state FROM events "
                           "WHERE try <= 1 ORDER BY seq").fetchall()
        con.close()
        first = {}  # (instance, state) -> ts of its first such event
        for _, inst, ts, state in rows:
            first.setdefault((inst, state), ts)
        return rows, first

    def overhead(self, db, layers, width):
        """Per non-root task: its start minus the latest end of its upstreams, in ms, for
        start = `starting` (intent committed) and `running` (process spawned)."""
        _, first = self.events(db)
        out = {"starting": [], "running": []}
        for t, ups in gen_dag.tasks(layers, width):
            if not ups:
                continue
            ready = max(first[(u, "succeeded")] for u in ups)
            for s in out:
                out[s].append(first[(t, s)] - ready)
        return out

    def dispatch(self, db):
        """For each task started after another one ended: ms from that end (as the engine
        applied it) to the new process being spawned. With every slot busy and tasks
        waiting, a start can only follow an end, so this is the engine's turnaround: state
        committed, command rendered, intent committed, process spawned."""
        rows, first = self.events(db)
        last_end, gaps = None, []
        for _, inst, _, state in rows:
            if state == "succeeded":
                last_end = first[(inst, "succeeded")]
            elif state == "starting" and last_end is not None:
                gaps.append(first[(inst, "running")] - last_end)
                last_end = None
        return gaps

    def report_overhead(self):
        a = self.a
        wall, db = sorted(self.flow_dbs)[len(self.flow_dbs) // 2]  # the median run
        print(f"\n== flow engine overhead per task on {self.label} (ms; from the events of "
              f"the median run, {wall:.2f} s) ==")
        ov = self.overhead(db, a.layers, a.width)
        gaps = self.dispatch(db)
        print(f"{'measure':<58} {'mean':>6} {'median':>6} {'p95':>6} {'max':>6}")

        def line(name, xs):
            # Timestamps are whole milliseconds: the mean of many differences still
            # resolves fractions of one.
            print(f"{name:<58} {statistics.fmean(xs):>6.2f} {median(xs):>6.0f} "
                  f"{pct(xs, 95):>6.0f} {max(xs):>6.0f}")

        line(f"{self.n} tasks: last upstream succeeded -> starting", ov["starting"])
        line(f"{self.n} tasks: last upstream succeeded -> running", ov["running"])
        line(f"{self.n} tasks: a task succeeded -> next task running", gaps)
        print(f"  (the first two include waiting for a free slot: {a.width} tasks become ready "
              f"together\n   and {a.jobs} run at a time; the third is the engine's turnaround)")
        # A DAG exactly as wide as the parallelism: no task ever waits for a slot, so the
        # time from the last upstream end to the start is all engine.
        src = os.path.join(self.work, "narrow")
        gen_dag.generate(src, a.narrow_layers, a.jobs, ["flow"])
        self.flow_dbs = []
        self.run_once("flow", 0, src, a.narrow_layers * a.jobs, a.jobs)
        wall, db = self.flow_dbs[0]
        ov = self.overhead(db, a.narrow_layers, a.jobs)
        n = a.narrow_layers * a.jobs
        line(f"{n} tasks, width {a.jobs} (never waits for a slot) -> starting", ov["starting"])
        line(f"{n} tasks, width {a.jobs} (never waits for a slot) -> running", ov["running"])
        print(f"  ({a.narrow_layers} layers x {a.jobs} in {wall:.2f} s: "
              f"{1000 * wall / a.narrow_layers:.1f} ms per layer, end to end)")

    # ---- validate at scale --------------------------------------------------------------

    def validate_big(self):
        a = self.a
        if a.big_n <= 0:
            return
        width = 500 if a.big_n >= 500 else a.big_n
        layers = max(1, a.big_n // width)
        src = os.path.join(self.work, "big")
        gen_dag.generate(src, layers, width, ["flow"])
        size = os.path.getsize(os.path.join(src, "dag.yaml"))
        print(f"\n== flow validate, {layers * width} tasks ({layers} x {width}, "
              f"{size / 1e6:.1f} MB of YAML) ==")
        binaries = [("flow", self.flow)] + ([("flow-before", self.before)] if self.before else [])
        secs = {name: [] for name, _ in binaries}
        rss = {name: [] for name, _ in binaries}
        for _ in range(a.big_reps):
            for name, binary in binaries:  # interleaved, like the comparison
                p = subprocess.run(["/usr/bin/time", "-f", "%e %M", binary, "validate",
                                    "dag.yaml"], cwd=src, capture_output=True, text=True)
                if p.returncode != 0 or p.stdout.strip() != "ok":
                    sys.exit(f"{name} validate failed:\n{p.stdout}{p.stderr[-2000:]}")
                e, m = p.stderr.strip().splitlines()[-1].split()
                secs[name].append(float(e))
                rss[name].append(int(m) / 1024.0)
        for name, _ in binaries:
            xs, ms = secs[name], rss[name]
            prefix = "" if len(binaries) == 1 else f"{name}: "
            print(f"{prefix}wall s: median {median(xs):.2f} "
                  f"(all: {' '.join(f'{x:.2f}' for x in xs)})   target < 2 s")
            print(f"{prefix}peak RSS MB: max {max(ms):.0f} "
                  f"(all: {' '.join(f'{x:.0f}' for x in ms)})   target < 300 MB")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--flow", required=True, help="the flow binary")
    p.add_argument("--flow-before", default="",
                   help="a second flow binary (e.g. an older commit's) run in the same "
                        "comparison and validate, interleaved with the first")
    p.add_argument("--places", required=True,
                   help="comma-separated directories to run the comparison in (a scratch "
                        "directory is made and removed in each), e.g. /dev/shm,/tmp")
    p.add_argument("--layers", type=int, default=20)
    p.add_argument("--width", type=int, default=50)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--snake-reps", type=int, default=3)
    p.add_argument("--narrow-layers", type=int, default=250)
    p.add_argument("--big-n", type=int, default=100000)
    p.add_argument("--big-reps", type=int, default=3)
    a = p.parse_args()
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print(f"machine: {platform.node()}, {os.cpu_count()} cores ({cpu}), "
          f"Linux {platform.release()}, load average {os.getloadavg()[0]:.2f}")
    print("versions: flow " + version([a.flow, "--version"])
          + (f"; flow-before {a.flow_before}" if a.flow_before else "") + "; ninja "
          + version(["ninja", "--version"]) + "; " + version(["make", "--version"])
          + "; snakemake " + version(["snakemake", "--version"]))
    works = []
    try:
        for place in a.places.split(","):
            work = tempfile.mkdtemp(prefix="flow-bench.", dir=place)
            works.append(work)
            b = Bench(a, work, f"{place} ({fs_type(place)})")
            b.compare()
            b.report_overhead()
        b.validate_big()  # in the last place
    finally:
        for w in works:
            shutil.rmtree(w, ignore_errors=True)


def fs_type(path):
    """The filesystem type of `path`, from /proc/mounts (longest matching mount point)."""
    best, kind = "", "?"
    real = os.path.realpath(path)
    with open("/proc/mounts") as f:
        for line in f:
            parts = line.split()
            mnt, fstype = parts[1], parts[2]
            if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                best, kind = mnt, fstype
    return kind


if __name__ == "__main__":
    main()
