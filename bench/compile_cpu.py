#!/usr/bin/env python3
"""Compile CPU time of part of a build (docs/BENCHMARKS.md "Build time"): every entry of
BUILD_DIR/compile_commands.json whose source file or object path contains PATTERN is
compiled again, one at a time, into a scratch directory, and the compilers' CPU time
(user + system, from getrusage of the children) is summed. CPU time rather than wall time,
so that two builds can be compared on a machine that is doing other work.

  bench/compile_cpu.py build-test 'flow_cli.dir/Unity'   # a unity tree: the batches
  bench/compile_cpu.py build-dev  '/engine/cli/'         # a file-by-file tree

exit status: 0 done, 2 usage, 3 nothing matched or a compile failed.
"""
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    build, pattern = sys.argv[1], sys.argv[2]
    with open(os.path.join(build, "compile_commands.json")) as f:
        entries = [e for e in json.load(f) if pattern in e["file"] or pattern in e.get("output", "")]
    if not entries:
        print(f"compile_cpu.py: nothing in {build} matches {pattern!r}", file=sys.stderr)
        return 3
    with tempfile.TemporaryDirectory(prefix="flow-compile-cpu-") as scratch:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        for i, e in enumerate(entries):
            args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
            out = args.index("-o")
            args = args[:out + 1] + [os.path.join(scratch, f"{i}.o")] + args[out + 2:]
            if subprocess.run(args, cwd=e["directory"]).returncode != 0:
                print(f"compile_cpu.py: compiling {e['file']} failed", file=sys.stderr)
                return 3
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"{build} {pattern}: {len(entries)} compiles, CPU {cpu:.1f} s, "
          f"wall {time.monotonic() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
