#!/usr/bin/env python3
"""One data set to the test cluster's sshd and back through flow's staging, rsync and scp;
then one file changed and staged again. Prints one table (docs/BENCHMARKS.md, "Staging")."""
import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HOST, PORT, USER = "127.0.0.1", 2222, "flowuser"
KEY = "/var/lib/flow-test-cluster/id_ed25519"
KNOWN_HOSTS = "/var/lib/flow-test-cluster/known_hosts"
SITE = "stagebench"
REMOTE = f"/home/{USER}/flow-stagebench"  # the site's workdir; everything remote lies below
SSH_OPTS = ["-i", KEY, "-o", f"UserKnownHostsFile={KNOWN_HOSTS}", "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes"]
SSH_CMD = " ".join(["ssh", "-p", str(PORT)] + SSH_OPTS)  # rsync -e
DEST = f"{USER}@{HOST}"
TICKS = os.sysconf("SC_CLK_TCK")

SITE_YAML = f"""site: {SITE}
description: the test cluster, own workdir for bench/staging_bench.py
transport: ssh
host: {HOST}
port: {PORT}
user: {USER}
identity: {KEY}
known_hosts: {KNOWN_HOSTS}
scheduler: slurm
partition: debug
workdir: {REMOTE}
poll_interval: 1s
system: localslurm
"""
if os.environ.get("STREAMS"):  # flow's transfer_streams (default: the site default, 4)
    SITE_YAML += f"transfer_streams: {int(os.environ['STREAMS'])}\n"


def sh(argv, **kw):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kw).stdout


def ssh(cmd):
    return sh(["ssh", "-p", str(PORT)] + SSH_OPTS + [DEST, cmd])


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(argv, **kw):
    """Runs argv after a `sync` (no dirty pages of an earlier step left to write back);
    returns (wall s, CPU s of it and its children, stdout)."""
    subprocess.run(["sync"], check=True)
    c0, t0 = children_cpu(), time.monotonic()
    out = subprocess.run(argv, check=True, text=True, capture_output=True, **kw).stdout
    return time.monotonic() - t0, children_cpu() - c0, out


def same_tree(a, b):
    r = subprocess.run(["diff", "-rq", a, b], text=True, capture_output=True)
    if r.returncode != 0:
        sys.exit(f"copies differ: {a} vs {b}:\n{r.stdout}{r.stderr}")


def make_data(d, files, total):
    os.makedirs(d)
    size = total // files
    names = []
    for i in range(files):
        n = size if i < files - 1 else total - size * (files - 1)
        name = f"f{i:05d}.bin"
        with open(os.path.join(d, name), "wb") as f:
            while n > 0:
                k = min(n, 1 << 20)
                f.write(os.urandom(k))
                n -= k
        names.append(name)
    return names


def rsync_stats(out):
    """(files transferred, file bytes transferred) from rsync --stats."""
    def num(label):
        m = re.search(label + r":\s*([\d,]+)", out)
        return int(m.group(1).replace(",", "")) if m else 0
    return num("Number of regular files transferred"), num("Total transferred file size")


class Flow:
    """Runs flow commands with one FLOW_HOME; samples the engine's CPU time (/proc/PID/stat)
    and timestamps its stderr lines, so CPU can be attributed to the staging steps."""

    def __init__(self, binary, work):
        self.binary, self.work = binary, work
        self.home = os.path.join(work, ".flow")
        sites = os.path.join(work, "sites")
        os.makedirs(sites, exist_ok=True)
        with open(os.path.join(sites, f"{SITE}.yaml"), "w") as f:
            f.write(SITE_YAML)
        self.env = dict(os.environ, FLOW_HOME=self.home, FLOW_SITES_PATH=sites)

    def __call__(self, *argv):
        subprocess.run(["sync"], check=True)
        c0, t0 = children_cpu(), time.monotonic()
        p = subprocess.Popen([self.binary, *argv], cwd=self.work, env=self.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        samples, lines = [], []

        def sample():
            path = f"/proc/{p.pid}/stat"
            while p.returncode is None:
                try:
                    with open(path) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    samples.append((time.monotonic(), (int(fields[11]) + int(fields[12])) / TICKS))
                except (OSError, IndexError):
                    break
                time.sleep(0.02)

        def read():
            for line in p.stderr:
                lines.append((time.monotonic(), line.rstrip("\n")))

        threads = [threading.Thread(target=sample), threading.Thread(target=read)]
        for t in threads:
            t.start()
        p.wait()
        for t in threads:
            t.join()
        res = {"wall": time.monotonic() - t0, "cpu": children_cpu() - c0, "samples": samples,
               "lines": lines}
        if p.returncode != 0:
            sys.exit(f"flow {' '.join(argv)} exited {p.returncode}:\n" +
                     "\n".join(l for _, l in lines))
        return res

    def report(self, run, instance, try_number=1):
        with open(os.path.join(self.home, "logs", run, instance, f"{try_number}.staging.json")) as f:
            return json.load(f)

    @staticmethod
    def cpu_between(res, a, b):
        def at(t):
            v = 0.0
            for ts, cpu in res["samples"]:
                if ts > t:
                    break
                v = cpu
            return v
        return at(b) - at(a)

    def step(self, res, rep, phase, kind, marker):
        """One staging step of a try: files, bytes, seconds from its report; the engine's CPU
        in the step's window (the window ends at its stderr line, which the executor prints
        when the step is done, and is `seconds` long)."""
        r = rep[phase]
        cpu = None
        ends = [ts for ts, l in res["lines"] if marker in l]
        if ends and res["samples"]:
            cpu = self.cpu_between(res, ends[-1] - r["seconds"], ends[-1] + 0.03)
        return {"files": r[kind]["sent"], "of": r[kind]["files"], "bytes": r[kind]["bytes"],
                "seconds": r["seconds"], "cpu": cpu}


def dag_roundtrip(names):
    outs = "\n".join(f"      - out/{n}" for n in names)
    return f"""dag: stagebench-roundtrip
tasks:
  - id: copy
    site: {SITE}
    inputs:
      - {{path: data, base: workdir}}
    outputs:
{outs}
    run: rm -rf out && cp -r data out
"""


DAG_CODE = f"""dag: stagebench-code
code: [data]
tasks:
  - id: use
    site: {SITE}
    run: "true"
"""

DAG_INPUTS = f"""dag: stagebench-inputs
tasks:
  - id: use
    site: {SITE}
    inputs:
      - {{path: data, base: workdir}}
    run: "true"
"""


def row(tool, direction, files, nbytes, seconds, cpu=None, note=""):
    return {"tool": tool, "direction": direction, "files": files, "bytes": nbytes,
            "seconds": seconds, "cpu": cpu, "note": note}


class Done(Exception):
    """Ends the measurements early (--throughput-only)."""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--flow", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--total-mb", type=int, default=1024, help="MiB in all")
    ap.add_argument("--work", default="/tmp")
    ap.add_argument("--sftp-r1", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--throughput-only", action="store_true",
                    help="flow and rsync up and down only (no scp, no re-stage)")
    args = ap.parse_args()
    total = args.total_mb * 1024 * 1024
    work = tempfile.mkdtemp(prefix="flow-stagebench-", dir=args.work)
    load0 = os.getloadavg()[0]
    print(f"data set: {args.files} files, {total} bytes, in {work}; site workdir {DEST}:{REMOTE}",
          file=sys.stderr)
    try:
        ssh(f"rm -rf {REMOTE} && mkdir -p {REMOTE}/rsync {REMOTE}/scp {REMOTE}/sftp")
        data = os.path.join(work, "data")
        names = make_data(data, args.files, total)
        flow = Flow(args.flow, work)
        with open(os.path.join(work, "roundtrip.yaml"), "w") as f:
            f.write(dag_roundtrip(names))
        with open(os.path.join(work, "code.yaml"), "w") as f:
            f.write(DAG_CODE)
        with open(os.path.join(work, "inputs.yaml"), "w") as f:
            f.write(DAG_INPUTS)
        tag = f"sb{os.getpid()}"
        rows, restage, extra = [], [], {}

        # 1. flow: the data directory as input, the same files (copied by the job) as outputs.
        rt = f"{tag}-rt"
        res = flow("run", "roundtrip.yaml", "--run-id", rt)
        rep = flow.report(rt, "copy")
        up = flow.step(res, rep, "stage_in", "inputs", "staged in:")
        down = flow.step(res, rep, "stage_out", "outputs", "staged out:")
        same_tree(data, os.path.join(flow.home, "runs", rt, "out"))
        rows.append(row("flow", "up", up["files"], up["bytes"], up["seconds"], up["cpu"]))
        rows.append(row("flow", "down", down["files"], down["bytes"], down["seconds"], down["cpu"]))
        extra["flow_roundtrip_run"] = {"wall": res["wall"], "cpu": res["cpu"]}

        # 2. rsync -a over ssh, up and down.
        wall, cpu, out = timed(["rsync", "-a", "--stats", "-e", SSH_CMD, data + "/",
                                f"{DEST}:{REMOTE}/rsync/data/"])
        n, b = rsync_stats(out)
        rows.append(row("rsync -a", "up", n, b, wall, cpu))
        wall, cpu, out = timed(["rsync", "-a", "--stats", "-e", SSH_CMD,
                                f"{DEST}:{REMOTE}/rsync/data/", os.path.join(work, "rsync-down") + "/"])
        n, b = rsync_stats(out)
        same_tree(data, os.path.join(work, "rsync-down"))
        rows.append(row("rsync -a", "down", n, b, wall, cpu))

        if args.throughput_only:
            raise Done
        # 3. scp -r (OpenSSH 9: the SFTP protocol, many requests in flight).
        wall, cpu, _ = timed(["scp", "-r", "-q", "-P", str(PORT)] + SSH_OPTS +
                             [data, f"{DEST}:{REMOTE}/scp/"])
        rows.append(row("scp -r", "up", len(names), total, wall, cpu))
        os.makedirs(os.path.join(work, "scp-down"))
        wall, cpu, _ = timed(["scp", "-r", "-q", "-P", str(PORT)] + SSH_OPTS +
                             [f"{DEST}:{REMOTE}/scp/data", os.path.join(work, "scp-down") + "/"])
        same_tree(data, os.path.join(work, "scp-down", "data"))
        rows.append(row("scp -r", "down", len(names), total, wall, cpu))

        # 3b. OpenSSH's sftp with flow's request pattern: one 128 KiB request at a time.
        if args.sftp_r1:
            batch = os.path.join(work, "sftp-up.batch")
            with open(batch, "w") as f:
                f.write(f"put -r {data} {REMOTE}/sftp/data\n")
            base = ["sftp", "-q", "-R", "1", "-B", "131072", "-P", str(PORT)] + SSH_OPTS
            wall, cpu, _ = timed(base + ["-b", batch, DEST])
            rows.append(row("sftp -R1 -B128K", "up", len(names), total, wall, cpu))
            os.makedirs(os.path.join(work, "sftp-down"))
            with open(batch, "w") as f:
                f.write(f"get -r {REMOTE}/sftp/data {work}/sftp-down/data\n")
            wall, cpu, _ = timed(base + ["-b", batch, DEST])
            same_tree(data, os.path.join(work, "sftp-down", "data"))
            rows.append(row("sftp -R1 -B128K", "down", len(names), total, wall, cpu))

        # 4. flow `code:` first sync: every content goes to the site's cache.
        c1 = f"{tag}-code1"
        res = flow("run", "code.yaml", "--run-id", c1)
        s = flow.step(res, flow.report(c1, "use"), "stage_in", "code", "staged in:")
        rows.append(row("flow code:", "up", s["files"], s["bytes"], s["seconds"], s["cpu"],
                        "first sync, into the site's content-addressed cache"))

        # What hashing costs, alone: flow hashes every file here (OpenSSL) once, and the site
        # hashes with `sha256sum` every copy it received (upload) or is asked for (download).
        t0, c0 = time.monotonic(), time.process_time()
        for name in names:
            h = hashlib.sha256()  # OpenSSL's, as flow's digest_file
            with open(os.path.join(data, name), "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        extra["local_sha256_s"] = time.monotonic() - t0
        extra["local_sha256_cpu_s"] = time.process_time() - c0
        t0 = time.monotonic()
        ssh(f"cd {REMOTE}/rsync/data && sha256sum -- * >/dev/null")
        extra["site_sha256sum_s"] = time.monotonic() - t0

        # 5. One file changed: new random bytes, same size.
        changed = names[len(names) // 2]
        size = os.path.getsize(os.path.join(data, changed))
        with open(os.path.join(data, changed), "wb") as f:
            f.write(os.urandom(size))

        # 5a. flow retry in the same run: the inputs are already in the run's directory on the
        # site; the job copies again and its outputs come back.
        res = flow("retry", rt, "copy")
        rep = flow.report(rt, "copy", 2)
        s = flow.step(res, rep, "stage_in", "inputs", "staged in:")
        restage.append(row("flow retry (same run)", "up", s["files"], s["bytes"], s["seconds"],
                           s["cpu"], f"of {s['of']} inputs"))
        d = flow.step(res, rep, "stage_out", "outputs", "staged out:")
        restage.append(row("flow retry (same run)", "down", d["files"], d["bytes"], d["seconds"],
                           d["cpu"], f"of {d['of']} outputs"))
        same_tree(data, os.path.join(flow.home, "runs", rt, "out"))

        # 5b. `code:` in a new run: only contents the site's cache lacks are sent.
        c2 = f"{tag}-code2"
        res = flow("run", "code.yaml", "--run-id", c2)
        s = flow.step(res, flow.report(c2, "use"), "stage_in", "code", "staged in:")
        restage.append(row("flow code: (new run)", "up", s["files"], s["bytes"], s["seconds"],
                           s["cpu"], f"of {s['of']} code files"))

        # 5c. the same directory as `inputs:` of a new run: a new run directory on the site.
        i2 = f"{tag}-in2"
        res = flow("run", "inputs.yaml", "--run-id", i2)
        s = flow.step(res, flow.report(i2, "use"), "stage_in", "inputs", "staged in:")
        restage.append(row("flow inputs: (new run)", "up", s["files"], s["bytes"], s["seconds"],
                           s["cpu"], f"of {s['of']} inputs"))

        # 5d. rsync again, both ways.
        wall, cpu, out = timed(["rsync", "-a", "--stats", "-e", SSH_CMD, data + "/",
                                f"{DEST}:{REMOTE}/rsync/data/"])
        n, b = rsync_stats(out)
        restage.append(row("rsync -a", "up", n, b, wall, cpu))
        wall, cpu, out = timed(["rsync", "-a", "--stats", "-e", SSH_CMD,
                                f"{DEST}:{REMOTE}/rsync/data/", os.path.join(work, "rsync-down") + "/"])
        n, b = rsync_stats(out)
        same_tree(data, os.path.join(work, "rsync-down"))
        restage.append(row("rsync -a", "down", n, b, wall, cpu))
    except Done:
        pass
    finally:
        if not args.keep:
            try:
                ssh(f"rm -rf {REMOTE}")
            except subprocess.CalledProcessError as e:
                print(f"could not remove {REMOTE} on the site: {e.stderr}", file=sys.stderr)
            shutil.rmtree(work, ignore_errors=True)
    load1 = os.getloadavg()[0]

    rsync = {r["direction"]: r for r in rows if r["tool"] == "rsync -a"}

    def mbps(r):
        return r["bytes"] / r["seconds"] / 1e6 if r["seconds"] > 0 else 0.0

    def line(r):
        cpu = "–" if r["cpu"] is None else f"{r['cpu']:.2f}"
        ref = rsync.get(r["direction"])
        vs = f"{mbps(r) / mbps(ref):.2f}" if ref and mbps(ref) else "–"
        return (f"| {r['tool']} | {r['direction']} | {r['files']} | {r['bytes']:,} | "
                f"{r['seconds']:.2f} | {mbps(r):.1f} | {vs} | {cpu} | {r['note']} |")

    print(f"\n{args.files} files, {total:,} bytes of random data, to {DEST}:{PORT} and back "
          f"(load average {load0:.2f} before, {load1:.2f} after)\n")
    print("| tool | direction | files | bytes | seconds | MB/s | × rsync | client CPU s | |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(line(r))
    if args.throughput_only:
        return
    print(f"\nOne file ({size:,} bytes) changed, staged again:\n")
    print("| tool | direction | files sent | bytes sent | seconds | client CPU s | |")
    print("|---|---|---|---|---|---|---|")
    for r in restage:
        cpu = "–" if r["cpu"] is None else f"{r['cpu']:.2f}"
        print(f"| {r['tool']} | {r['direction']} | {r['files']} | {r['bytes']:,} | "
              f"{r['seconds']:.2f} | {cpu} | {r['note']} |")
    print(f"\nflow run of the round trip: wall {extra['flow_roundtrip_run']['wall']:.2f} s, engine "
          f"CPU {extra['flow_roundtrip_run']['cpu']:.2f} s (whole process, both directions + job)")
    print(f"hashing alone: all files here with OpenSSL {extra['local_sha256_s']:.2f} s "
          f"({extra['local_sha256_cpu_s']:.2f} s CPU); "
          f"on the site with sha256sum {extra['site_sha256sum_s']:.2f} s")
    print(json.dumps({"files": args.files, "bytes": total, "rows": rows, "restage": restage,
                      "extra": extra, "load": [load0, load1]}))


if __name__ == "__main__":
    main()
