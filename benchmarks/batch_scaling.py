"""Batch throughput: ``framesig batch`` over a folder of real flights, 1 to N workers.

Usage: ``python benchmarks/batch_scaling.py [--copies K] [--workers 1,2] [--repeats R]``.

The folder holds ``K`` copies of each real drone clip in ``../shared/data/real`` (hard
links where the file system allows: the batch hashes content, so copies are distinct paths
with the same bytes, and every one is summarized). Each worker count runs ``framesig batch
-o OUT --force -q`` as its own process, ``R`` times; the table gives the median
whole-process wall time, files/s, frames/s and the speed-up over one worker. Peak RSS is
``wait4``'s for the batch process, which Linux takes as the largest of it and its reaped
workers: the peak of the biggest single process, not their sum.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from framesig.bench import run_once

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
CLIPS = (
    "drone_gopro_karma_coast_cliffs_480p30.mp4",
    "drone_indoor_takeoff_hover_540p30.mp4",
    "drone_nadir_soccer_pitch_hover_60fps_bbox_overlay.mp4",
    "drone_industrial_flyover_1080p24_graphic_overlay.mp4",
    "drone_nadir_city_interchange_1080p25.mp4",
)


def build_folder(folder: Path, copies: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in CLIPS:
        src = REAL / name
        for k in range(copies):
            dst = folder / f"{src.stem}_{k}{src.suffix}"
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
            out.append(dst)
    return out


def frames_done(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        files, frames = con.execute(
            "SELECT count(*), coalesce(sum(frames), 0) FROM flights WHERE status = 'ok'"
        ).fetchone()
    finally:
        con.close()
    return int(files), int(frames)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=2, help="copies of each real clip")
    ap.add_argument("--workers", default=f"1,{os.cpu_count() or 1}", help="worker counts")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    counts = sorted({int(w) for w in args.workers.split(",")})
    with tempfile.TemporaryDirectory(prefix="framesig-batch-bench-") as tmp:
        files = build_folder(Path(tmp) / "flights", args.copies)
        rows = []
        for workers in counts:
            out = Path(tmp) / f"out{workers}"
            cmd = [sys.executable, "-m", "framesig.cli", "batch", str(files[0].parent)]
            cmd += ["-o", str(out), "-j", str(workers), "--force", "-q"]
            walls, rss = [], []
            for _ in range(args.repeats):
                wall, peak, status = run_once(cmd)[:3]
                if status != 0:
                    raise SystemExit(f"batch -j {workers} exited {status}")
                walls.append(wall)
                rss.append(peak)
            done, frames = frames_done(out / "framesig.db")
            if done != len(files):
                raise SystemExit(f"batch -j {workers}: {done} of {len(files)} files ok")
            rows.append((workers, statistics.median(walls), statistics.median(rss), frames))
    base = rows[0][1]
    print(
        f"Machine: {os.cpu_count()} cores. {len(files)} files ({args.copies} copies of "
        f"{len(CLIPS)} real drone clips), {rows[0][3]} frames; medians of {args.repeats}."
    )
    print()
    print("| workers | wall s | files/s | frames/s | speed-up | largest process peak RSS MB |")
    print("|---:|---:|---:|---:|---:|---:|")
    for workers, wall, peak, frames in rows:
        print(
            f"| {workers} | {wall:.2f} | {len(files) / wall:.2f} | {frames / wall:.0f} | "
            f"{base / wall:.2f} | {peak:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
