#!/usr/bin/python3
"""Classifies one tile into land-cover classes from NDVI (synthetic scene).

Writes OUT/TILE.json with the class fractions, and {"summary": path} to
$FLOW_OUTPUTS_FILE.
"""
import argparse
import json
import math
import os
import random

CLASSES = ["water", "bare_or_built", "grassland_or_crop", "forest"]


def synthetic_scene(tile, date, size):
    """Blue, green, red and near-infrared reflectance (0..1) per pixel, row by row.

    Smooth random fields, deterministic per tile and date: a lake, fields and a forest
    patch rather than noise, so the class fractions look like a landscape.
    """
    rng = random.Random(f"{tile}/{date}")
    bumps = [(rng.uniform(0, size), rng.uniform(0, size), rng.uniform(size / 8, size / 3),
              rng.uniform(-1.0, 1.0)) for _ in range(6)]
    pixels = []
    for y in range(size):
        for x in range(size):
            v = 0.3 + sum(h * math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
                    for cx, cy, r, h in bumps)
            vegetation = max(-1.0, min(1.0, v + rng.gauss(0, 0.05)))
            red = 0.12 - 0.06 * vegetation
            nir = 0.12 + 0.25 * vegetation if vegetation > -0.3 else 0.03
            pixels.append((0.08, 0.10, max(red, 0.01), max(nir, 0.01)))
    return pixels


def classify(ndvi):
    if ndvi < 0.0:
        return "water"
    if ndvi < 0.2:
        return "bare_or_built"
    if ndvi < 0.5:
        return "grassland_or_crop"
    return "forest"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tile", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--size", type=int, default=64, help="pixels per side")
    ap.add_argument("--out", required=True, help="folder for the tile's summary")
    args = ap.parse_args()

    counts = dict.fromkeys(CLASSES, 0)
    for _blue, _green, red, nir in synthetic_scene(args.tile, args.date, args.size):
        counts[classify((nir - red) / (nir + red))] += 1
    total = args.size * args.size
    summary = {"tile": args.tile, "date": args.date, "pixels": total,
               "fractions": {c: round(n / total, 4) for c, n in counts.items()}}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{args.tile}.json")
    with open(path, "w") as f:
        json.dump(summary, f)
    print(args.tile, " ".join(f"{c}={summary['fractions'][c]:.2f}" for c in CLASSES))
    with open(os.environ["FLOW_OUTPUTS_FILE"], "w") as f:
        json.dump({"summary": path}, f)


if __name__ == "__main__":
    main()
