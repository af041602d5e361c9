"""How often `find` finds a flight's own frames: every k-th frame of each real drone clip,
searched in an index of the clip's own signature, with the states' views and without.

Run from the repository root (the clips are ``../shared/data/real``)::

    .venv/bin/python benchmarks/find_recall.py

A frame is *found* as :func:`framesig.evaluate.find_recall` defines it: a hit, within the
default limits, is the state of the run that holds the frame. "without views" is the same
index with every state's views removed, as index files and signatures from before views
were. The last column asks the same frames of an index of the *other* clips
(:func:`framesig.evaluate.find_false_hits`): any hit there is a false one.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import framesig
from framesig.evaluate import find_false_hits, find_recall
from framesig.index import FlightIndex
from framesig.signature import Signature

REPO = Path(__file__).resolve().parent.parent
CLIPS = (
    "drone_gopro_karma_coast_cliffs_480p30.mp4",
    "drone_nadir_city_interchange_1080p25.mp4",
    "drone_industrial_flyover_1080p24_graphic_overlay.mp4",
    "drone_indoor_takeoff_hover_540p30.mp4",
    "drone_nadir_soccer_pitch_hover_60fps_bbox_overlay.mp4",
    "phone_hevc_1080p_rot90_vfr_indoor_course.mp4",
    "groundcam_drone_flight_multishot_mpeg4.mkv",
)


def without_views(sig: Signature) -> Signature:
    """``sig`` as it was before states had views."""
    states = tuple(
        dataclasses.replace(st, views=(), view_frames=(), view_times=(), view_chroma=())
        for st in sig.states
    )
    return dataclasses.replace(sig, states=states)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=Path, default=REPO.parent / "shared" / "data" / "real")
    ap.add_argument("--every", type=int, default=3, help="every k-th frame of each run")
    args = ap.parse_args(argv)
    print(
        "| clip | states | views | frames asked | found | found without views "
        "| any hit among the other clips |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    sigs = {name: framesig.summarize(args.clips / name) for name in CLIPS}
    totals = [0, 0, 0, 0]
    for name, sig in sigs.items():
        video = args.clips / name
        found, asked = find_recall(FlightIndex.from_signatures([sig]), sig, video, args.every)
        bare, _ = find_recall(
            FlightIndex.from_signatures([without_views(sig)]), sig, video, args.every
        )
        others = FlightIndex.from_signatures([s for k, s in sigs.items() if k != name])
        false, _ = find_false_hits(others, sig, video, args.every)
        views = sum(len(st.views) for st in sig.states)
        print(
            f"| {name} | {len(sig.states)} | {views} | {asked} | {found / asked:.3f} "
            f"| {bare / asked:.3f} | {false / asked:.4f} |"
        )
        totals = [totals[0] + found, totals[1] + bare, totals[2] + false, totals[3] + asked]
    found, bare, false, asked = totals
    print(f"| all | | | {asked} | {found / asked:.3f} | {bare / asked:.3f} | {false / asked:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
