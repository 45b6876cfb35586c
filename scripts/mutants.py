#!/usr/bin/env python3
"""Plants known one-line bugs, one at a time, and checks that the tests catch each.

A test suite that passes says little until it is seen to fail for the bugs it is meant to
catch. Each mutant below is a plausible mistake in code that carries one of flow's
guarantees (docs/RELIABILITY.md), with the tests that must then fail. For each: the bug is
written into the source, the build tree is rebuilt (incrementally), those tests run, and
the file is restored, whatever happens. A mutant the tests do not kill is a hole in the
suite: the script says which and exits 1.

Run by hand before a release and when the core changes; it is not part of CI (each
mutant costs a rebuild and a test run: about 2-5 minutes each on a 2-core machine).

  scripts/mutants.py                      # every mutant, in build-test/ (scripts/test.sh's)
  scripts/mutants.py --build-dir build-asan --only lookup-ignores-sacct
  scripts/mutants.py --list

The build directory must be configured with tests on (scripts/test.sh does that). Files
it mutates must have no uncommitted changes (so restoring them is exact). Cluster tests
among the catchers start and stop the test cluster through CTest's fixtures, as in
scripts/test.sh (FLOW_KEEP_CLUSTER=1 leaves it running).

First run (2026-11-30): 9 of 10 killed; sacct-drops-last-job survived, the hole issue 15
described (the fake Slurm ignored --jobs). The poll tests now check that every job is
asked about and that no fallback query is made while sacct answers: 10 of 10.
"""

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Mutant:
    name: str
    file: str
    old: str
    new: str
    tests: str  # ctest -R regex of the tests that must catch it
    why: str


MUTANTS = [
    Mutant(
        "launch-before-commit",
        "engine/run/run_controller.cpp",
        "  if (!flush()) return;  // not committed: launch nothing\n"
        "  auto launches = std::move(to_launch_);\n"
        "  to_launch_.clear();\n"
        "  for (auto& [spec, plan, ex] : launches)\n"
        "    ex->launch(spec, plan);\n",
        "  auto launches = std::move(to_launch_);\n"
        "  to_launch_.clear();\n"
        "  for (auto& [spec, plan, ex] : launches)\n"
        "    ex->launch(spec, plan);\n"
        "  if (!flush()) return;\n",
        r"^Ownership\.EveryLaunchFindsItsIntentAlreadyCommitted$",
        "processes start before their state is committed (a crash then runs them twice)",
    ),
    Mutant(
        "sacct-drops-last-job",
        "operators/slurm/job_query.cpp",
        '" --jobs=" + join(ids, \',\');',
        '" --jobs=" + join(std::vector<std::string>(ids.begin(), ids.end() - (ids.size() > 1)), \',\');',
        r"^(SlurmClient|SlurmExecutor)\.",
        "the batched sacct poll forgets one job",
    ),
    Mutant(
        "two-cycles-missed",
        "engine/dag/graph.cpp",
        "    size_t u = boost::source(e, g), v = boost::target(e, g);\n",
        "    size_t u = boost::source(e, g), v = boost::target(e, g);\n"
        "    if (u != v && parent_[u] == v) return;\n",
        r"^Validate\.TwoTaskCycleIsACycle$",
        "a -> b -> a is not reported as a cycle",
    ),
    Mutant(
        "takeover-ignores-live-owner",
        "engine/run/ownership.cpp",
        "if (result.previous.state == OwnerState::kLive && !policy.force) {",
        "if (result.previous.state == OwnerState::kLive && policy.force) {",
        r"^(Ownership|Takeover|Chaos)\.",
        "two engines drive one run",
    ),
    Mutant(
        "lookup-ignores-sacct",
        "operators/slurm/slurm_client.cpp",
        "if (squeue_exit != 0 || sacct_exit != 0) {",
        "if (squeue_exit != 0) {",
        r"^(SlurmClient\.FindByNames|SlurmExecutor\.Reattach)",
        "a failed sacct reads as 'no such job': a job that ran is submitted again",
    ),
    Mutant(
        "requeue-read-as-failure",
        "operators/slurm/slurm_client.cpp",
        "    confirm_requeues(result.jobs);\n",
        "",
        r"^(SlurmClient\.ANodeFailure|SlurmExecutor\.ARequeued)",
        "sacct's NODE_FAIL of a requeued job fails the try; the retry runs beside the requeue",
    ),
    Mutant(
        "submit-limit-fails-the-try",
        "operators/slurm/slurm_executor.cpp",
        "  if (deferred) {\n",
        "  if (deferred && false) {\n",
        r"^SlurmExecutor\.(ASubmitLimit|CancelWhileDeferred)",
        "MaxSubmitJobs fails the run instead of waiting",
    ),
    Mutant(
        "secret-in-command",
        "engine/dag/validate.cpp",
        'if (field.rfind("env.", 0) != 0) {',
        'if (field.rfind("env.", 0) != 0 && false) {',
        r"^SecretsDecl\.",
        "a secret may be written into the command line and the job script",
    ),
    Mutant(
        "home-readable-by-others",
        "engine/core/private_files.hpp",
        "inline constexpr mode_t kPrivateDirMode = 0700;",
        "inline constexpr mode_t kPrivateDirMode = 0755;",
        r"PrivateFiles\.",
        "$FLOW_HOME and the run directories are readable by the group",
    ),
    Mutant(
        "quote-lets-quotes-through",
        "engine/core/shell.cpp",
        "      out += \"'\\\"'\\\"'\";\n",
        "      out += \"'\";\n",
        r"^(ShellQuote|Template|ShellScanner)\.",
        "a value with a quote ends the quoting: command injection",
    ),
]


def sh(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build-dir", default=os.environ.get("FLOW_TEST_BUILD_DIR", "build-test"))
    ap.add_argument("--only", action="append", default=[], help="run this mutant (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("-j", "--jobs", default=os.environ.get("FLOW_JOBS", str(os.cpu_count() or 2)))
    args = ap.parse_args()

    if args.list:
        for m in MUTANTS:
            print(f"{m.name:30} {m.file:42} {m.why}")
        return 0
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only]
    unknown = set(args.only) - {m.name for m in MUTANTS}
    if unknown:
        print(f"mutants: unknown: {', '.join(sorted(unknown))} (see --list)", file=sys.stderr)
        return 2
    build = ROOT / args.build_dir
    if not (build / "CTestTestfile.cmake").exists():
        print(f"mutants: {build} is not a configured build tree with tests; run scripts/test.sh "
              "first, or pass --build-dir", file=sys.stderr)
        return 2
    files = sorted({m.file for m in chosen})
    dirty = sh(["git", "status", "--porcelain", "--", *files], capture_output=True, text=True).stdout
    if dirty.strip():
        print("mutants: these files have uncommitted changes; commit or stash them first:\n" + dirty,
              file=sys.stderr)
        return 2

    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    results = []
    for i, m in enumerate(chosen, 1):
        path = ROOT / m.file
        original = path.read_text()
        if original.count(m.old) != 1:
            print(f"[{i}/{len(chosen)}] {m.name}: the code it mutates is not there (found "
                  f"{original.count(m.old)} times): update the mutant", flush=True)
            results.append((m, "stale", 0.0))
            continue
        start = time.time()
        try:
            path.write_text(original.replace(m.old, m.new))
            print(f"[{i}/{len(chosen)}] {m.name}: {m.why}\n  building ...", flush=True)
            built = sh(["cmake", "--build", str(build), "-j", args.jobs], capture_output=True, text=True)
            if built.returncode != 0:
                verdict = "does not compile"
            else:
                print(f"  running tests {m.tests} ...", flush=True)
                ran = sh(["ctest", "--test-dir", str(build), "-R", m.tests, "--timeout", "600",
                          "--no-tests=error"], capture_output=True, text=True, env=env)
                if "No tests were found" in ran.stdout + ran.stderr:
                    verdict = "no such tests"
                else:
                    verdict = "killed" if ran.returncode != 0 else "SURVIVED"
        finally:
            path.write_text(original)
        results.append((m, verdict, time.time() - start))
        print(f"  {verdict} ({time.time() - start:.0f} s)", flush=True)

    print("restoring the build ...", flush=True)
    sh(["cmake", "--build", str(build), "-j", args.jobs], capture_output=True)
    print()
    for m, verdict, took in results:
        print(f"{verdict:17} {m.name:30} {took:5.0f} s  {m.why}")
    bad = [m for m, verdict, _ in results if verdict != "killed"]
    print(f"\n{len(results) - len(bad)} of {len(results)} mutants killed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
