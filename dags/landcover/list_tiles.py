#!/usr/bin/python3
"""Lists the tiles acquired in a data interval (synthetic: a fixed grid, a few per night).

Writes {"tiles": [...], "date": "YYYY-MM-DD"} to $FLOW_OUTPUTS_FILE.
"""
import argparse
import datetime
import json
import os
import random
import zoneinfo


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--start", required=True, help="data interval start, ISO 8601")
    ap.add_argument("--end", required=True, help="data interval end, ISO 8601")
    ap.add_argument("--timezone", default="UTC", help="the zone whose calendar day is meant")
    ap.add_argument("--region", default="32U", help="UTM zone and latitude band")
    ap.add_argument("--count", type=int, default=6, help="tiles per night")
    args = ap.parse_args()

    start = datetime.datetime.fromisoformat(args.start.replace("Z", "+00:00"))
    end = datetime.datetime.fromisoformat(args.end.replace("Z", "+00:00"))
    if end <= start:
        raise SystemExit(f"empty data interval {args.start} .. {args.end}")
    # The day the interval is about: the calendar day of its start in the DAG's zone.
    day = start.astimezone(zoneinfo.ZoneInfo(args.timezone)).date().isoformat()

    # A 10 x 10 grid of 100 km squares; the satellite sees a different few each night.
    grid = [f"{args.region}{a}{b}" for a in "MNPQRSTUVW" for b in "ABCDEFGHJK"]
    rng = random.Random(day)
    tiles = sorted(rng.sample(grid, min(args.count, len(grid))))
    print(f"{day}: {len(tiles)} tiles acquired: {' '.join(tiles)}")
    with open(os.environ["FLOW_OUTPUTS_FILE"], "w") as f:
        json.dump({"tiles": tiles, "date": day}, f)


if __name__ == "__main__":
    main()
