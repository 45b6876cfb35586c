#!/usr/bin/python3
"""Merges the per-tile class fractions of one night into one land-cover summary."""
import argparse
import json


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--date", required=True)
    ap.add_argument("--summaries", required=True, help="JSON list of tile summary files")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    paths = json.loads(args.summaries)
    tiles, pixels, area = [], 0, {}
    for path in paths:
        with open(path) as f:
            s = json.load(f)
        tiles.append(s["tile"])
        pixels += s["pixels"]
        for c, frac in s["fractions"].items():
            area[c] = area.get(c, 0.0) + frac * s["pixels"]
    if not pixels:
        raise SystemExit("no tile summaries to merge")
    result = {"date": args.date, "tiles": sorted(tiles),
              "fractions": {c: round(a / pixels, 4) for c, a in sorted(area.items())}}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"land cover {args.date} over {len(tiles)} tiles:")
    for c, frac in result["fractions"].items():
        print(f"  {c:<18} {100 * frac:5.1f} %")


if __name__ == "__main__":
    main()
