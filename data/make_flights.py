"""Generate the synthetic flight set (videos with exact ground truth) into ``data/flights/``.

Usage::

    python data/make_flights.py small          # 12+ short flights for tests, data/flights/small/
    python data/make_flights.py full -j 2      # the benchmark set, data/flights/full/
    python data/make_flights.py full --names farm_tour coast_patrol

A thin wrapper over :func:`framesig.flightset.build`: the set is seeded, so every run makes
the same flights, and flights already made (the folder's ``manifest.json`` matches) are
reused rather than rendered again. ``data/flights/`` is git-ignored.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from framesig import flightset

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, build the set and print one line per flight."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("size", choices=sorted(flightset.SIZES), help="which size of the set")
    ap.add_argument(
        "-o",
        "--out",
        type=Path,
        default=None,
        help="folder (default: data/flights/<size> beside this script)",
    )
    ap.add_argument("-j", "--workers", type=int, default=1, help="render processes")
    ap.add_argument("--names", nargs="+", default=None, help="only these flights")
    args = ap.parse_args(argv)
    # beside this script, not the working directory, so the set lands in data/ from anywhere
    folder = args.out if args.out is not None else HERE / "flights" / args.size
    started = time.perf_counter()
    flights = flightset.build(args.size, folder, names=args.names, workers=args.workers)
    for f in flights:
        t = f.truth
        print(
            f"{f.name:18s} {t.frames:5d} frames {t.frames / t.fps:6.1f} s "
            f"{len(t.hovers()):2d} hovers {len(t.perturbations):2d} perturbations "
            f"bframes={f.spec.bframes}  {f.video}"
        )
    print(f"{len(flights)} flights in {folder} ({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
