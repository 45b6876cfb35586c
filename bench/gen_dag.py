#!/usr/bin/env python3
"""Writes one N-task DAG (layers x width, fan-in 2) in four forms: flow YAML, build.ninja,
Makefile and Snakefile. Every task runs the same command: touch its output file out/TASK
(relative to the directory the tool runs in; make needs out/ to exist, the others create
it or are given it by the benchmark).

Task t{l}_{w} (layer l, column w) depends on t{l-1}_{w} and t{l-1}_{(w+1) % width}, so
every layer after the first waits for two tasks of the layer before it.

usage: gen_dag.py OUTDIR LAYERS WIDTH [FORMAT,...]
FORMAT is any of flow, ninja, make, snakemake (default: all four).
"""
import os
import sys

FORMATS = ("flow", "ninja", "make", "snakemake")


def deps(layer, w, width):
    """Upstream task ids of t{layer}_{w}, sorted; imported by local_bench.py."""
    if layer == 0:
        return []
    return sorted({f"t{layer - 1}_{w}", f"t{layer - 1}_{(w + 1) % width}"})


def tasks(layers, width):
    return [(f"t{l}_{w}", deps(l, w, width)) for l in range(layers) for w in range(width)]


def write_flow(path, layers, width, ts):
    with open(path, "w") as f:
        f.write(f"dag: bench_{layers}x{width}\ntasks:\n")
        for t, d in ts:
            f.write(f"  - id: {t}\n")
            if d:
                f.write(f"    after: [{', '.join(d)}]\n")
            f.write(f"    run: touch out/{t}\n")


def write_ninja(path, ts):
    with open(path, "w") as f:
        f.write("rule touch\n  command = touch $out\n\n")
        for t, d in ts:
            f.write(f"build out/{t}: touch {' '.join('out/' + x for x in d)}\n")


def write_make(path, ts):
    with open(path, "w") as f:
        f.write(".PHONY: all\nall: " + " ".join(f"out/{t}" for t, _ in ts) + "\n\n")
        for t, d in ts:
            f.write(f"out/{t}: {' '.join('out/' + x for x in d)}\n\ttouch $@\n\n")


def write_snakemake(path, ts):
    with open(path, "w") as f:
        f.write("rule all:\n    input: [" + ", ".join(f'"out/{t}"' for t, _ in ts) + "]\n\n")
        for t, d in ts:
            f.write(f"rule {t}:\n")
            if d:
                f.write("    input: [" + ", ".join(f'"out/{x}"' for x in d) + "]\n")
            f.write(f'    output: "out/{t}"\n    shell: "touch {{output}}"\n\n')


def generate(out, layers, width, formats=FORMATS):
    if layers < 1 or width < 1:
        raise ValueError("LAYERS and WIDTH must be at least 1")
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown format(s) {', '.join(sorted(unknown))}; use {', '.join(FORMATS)}")
    os.makedirs(out, exist_ok=True)
    ts = tasks(layers, width)
    if "flow" in formats:
        write_flow(os.path.join(out, "dag.yaml"), layers, width, ts)
    if "ninja" in formats:
        write_ninja(os.path.join(out, "build.ninja"), ts)
    if "make" in formats:
        write_make(os.path.join(out, "Makefile"), ts)
    if "snakemake" in formats:
        write_snakemake(os.path.join(out, "Snakefile"), ts)


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    formats = sys.argv[4].split(",") if len(sys.argv) == 5 else FORMATS
    try:
        generate(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), formats)
    except ValueError as e:
        sys.exit(f"gen_dag.py: {e}")


if __name__ == "__main__":
    main()
