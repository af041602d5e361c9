"""Summarize every real clip in ../shared/data/real and print one Markdown table.

Usage: ``python benchmarks/real_clips.py [FOLDER]``. Wall seconds are per clip, in this
process, after one warm-up call (so numba compilation is not counted).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import framesig

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
SUFFIXES = {".mp4", ".mkv", ".webm", ".h264", ".mov"}


def main(folder: Path = REAL) -> int:
    clips = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES or p.is_dir())
    framesig.summarize([np.zeros((64, 64, 3), np.uint8)] * 4)  # compile the kernels first
    print("| clip | frames | states | runs | transitions | transients | flags | wall s |")
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for clip in clips:
        started = time.perf_counter()
        try:
            sig = framesig.summarize(clip)
        except framesig.FramesigError as exc:
            print(f"| {clip.name} | error: {exc.cause} | | | | | | |")
            continue
        wall = time.perf_counter() - started
        src = sig.source
        flags = [f for f in ("truncated", "estimated_timestamps", "partial") if getattr(src, f)]
        if src.rotation:
            flags.append(f"rotation {src.rotation}")
        print(
            f"| {clip.name} | {src.frames} | {len(sig.states)} | {len(sig.runs)} | "
            f"{len(sig.transitions)} | {len(sig.transients)} | {', '.join(flags)} | {wall:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else REAL))
