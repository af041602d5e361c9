"""Throughput and memory of framesig beside the full-decode limit and PySceneDetect.

Run from the repository root (inputs are made once under ``tmp/bench-cache/``, ignored):

    .venv/bin/python benchmarks/throughput.py            # writes benchmarks/RESULTS.md

Files: a 1080p drone clip and a 720p one from ``../shared/data/real`` looped to at least
60 s by stream copy (``ffmpeg -stream_loop``), a generated 4K hover (``framesig.synthetic``)
looped the same way, and the rotated HEVC phone clip as it is. Each tool runs as its own
process, round robin, ``--repeats`` times; medians of whole-process wall time and peak RSS
(see :mod:`framesig.bench`). Also: numba's cold (empty ``NUMBA_CACHE_DIR``) and warm first
runs on a 10-frame clip, the kernels alone on one numba thread, and peak RSS of a 1-minute
against a long input.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from framesig import bench  # noqa: E402

SHARED = Path(os.environ.get("FRAMESIG_SHARED", REPO.parent / "shared")) / "data" / "real"
CACHE = REPO / "tmp" / "bench-cache"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def looped(src: Path, seconds: float, name: str) -> Path:
    """``src`` repeated by stream copy until it lasts at least ``seconds``."""
    out = CACHE / name
    if not out.exists():
        import av

        with av.open(str(src)) as c:
            s = c.streams.video[0]
            if s.duration and s.time_base:
                dur = float(s.duration * s.time_base)
            else:
                dur = (c.duration or 0) / 1e6
        loops = max(0, int(seconds / dur + 0.999) - 1)
        ffmpeg("-stream_loop", str(loops), "-i", str(src), "-map", "0:v:0", "-c", "copy", str(out))
    return out


def hover_4k() -> Path:
    """A generated 4K hover (4 s, GOP 2 s, B-frames), looped to 30 s by stream copy."""
    base = CACHE / "hover4k_base.mp4"
    if not base.exists():
        from framesig import synthetic as syn

        a = syn.Pose(600, 500)
        plan = syn.FlightPlan((syn.Segment("hover", 120, a, a, place=0),), fps=30.0)
        syn.write_flight(base, plan, size=(3840, 2160), seed=3)
    return looped(base, 30, "hover4k_30s.mp4")


def first_run_times(repeats: int) -> tuple[float, list[float]]:
    """Wall of a fresh process summarizing a 10-frame clip: cold cache, then warm."""
    clip = CACHE / "ten_frames.mp4"
    if not clip.exists():
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-frames:v", "10",
               "-c:v", "libx264", "-pix_fmt", "yuv420p", str(clip))  # fmt: skip
    cmd = [sys.executable, "-m", "framesig.cli", "summarize", str(clip), "-q"]
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        cold = time.perf_counter() - t
        warm = []
        for _ in range(repeats):
            t = time.perf_counter()
            subprocess.run(cmd, env=env, check=True)
            warm.append(time.perf_counter() - t)
    return cold, warm


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--long-minutes", type=float, default=60.0, help="the long RSS input")
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "RESULTS.md"))
    ap.add_argument("--only", nargs="*", help="file labels to run (default: all)")
    args = ap.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    files = {
        "1080p drone, looped to 60 s": lambda: looped(
            SHARED / "drone_nadir_city_interchange_1080p25.mp4", 60, "city1080_60s.mp4"
        ),
        "720p drone, looped to 60 s": lambda: looped(
            SHARED / "drone_nadir_soccer_pitch_hover_60fps_bbox_overlay.mp4",
            60,
            "soccer720_60s.mp4",
        ),
        "4K generated hover, looped to 30 s": hover_4k,
        "rotated HEVC phone clip": lambda: SHARED / "phone_hevc_1080p_rot90_vfr_indoor_course.mp4",
    }
    cores = os.cpu_count()
    lines = [
        "# Throughput and memory",
        "",
        f"Machine: {cores} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"system ffmpeg {_ffmpeg_version()}; framesig and PyAV use PyAV's bundled FFmpeg.",
        f"Made by `benchmarks/throughput.py --repeats {args.repeats}`: each tool is its own "
        "process, round robin, medians of whole-process wall time and peak RSS (`wait4`). "
        "`x limit` is frames/s over `ffmpeg -threads N -i X -an -f null -` (N = cores).",
        "",
    ]
    for label, make in files.items():
        if args.only and not any(o in label for o in args.only):
            continue
        path = str(make())
        print(f"{label}: {path}", file=sys.stderr)
        rows, check = bench.measure(
            path, repeats=args.repeats, log=lambda s: print(s, file=sys.stderr)
        )
        lines += [f"## {label}", "", f"`{Path(path).name}`: {rows[0].frames} frames", ""]
        lines += [bench.format_table(rows), "", check, ""]
        Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    cold, warm = first_run_times(args.repeats)
    lines += [
        "## numba first run (10-frame clip, fresh process)",
        "",
        f"- cold (empty `NUMBA_CACHE_DIR`, every kernel compiles): {cold:.2f} s",
        f"- warm (cache filled): median {statistics.median(warm):.2f} s of {len(warm)}",
        "",
    ]
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines += _kernel_rates({label: make() for label, make in files.items()})
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    lines += _rss_by_length(args.long_minutes)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


def _kernel_rates(files: dict[str, Path], seconds: float = 1.0) -> list[str]:
    """Frames/s of the kernels alone on one numba thread, in this process, on real frames.

    Thumbnails take each file's full-size planes (16 frames decoded and held, so the
    planes are not in cache, as in a run); the features take analysis-size thumbnails
    (a batch of 256, as the pipeline's batches are), the same for every input size.
    """
    import numba

    numba.set_num_threads(1)
    out = [
        "## Kernels alone (one numba thread, real frames)",
        "",
        "| input | planes | thumbnails frames/s | features frames/s |",
        "|---|---|---:|---:|",
    ]
    for label, path in files.items():
        planes, thumbs, features = _kernel_rates_on(path, seconds)
        out.append(f"| {label} | {planes} | {thumbs:,.0f} | {features:,.0f} |")
    return [*out, ""]


def _kernel_rates_on(path: Path, seconds: float, batch: int = 256) -> tuple[str, float, float]:
    import numpy as np

    from framesig import kernels
    from framesig.decode import open_source

    def rate(step: Callable[[], object], per_call: int) -> float:
        step()  # numba loads the kernel
        calls, t0 = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - t0) < seconds:
            step()
            calls += 1
        return calls * per_call / elapsed

    with open_source(str(path)) as src:
        frames = [
            (f.y.copy(), f.u.copy(), f.v.copy(), kernels.plane_levels(f.bit_depth, f.full_range))
            for f in itertools.islice(src.frames(), 16)
            if f.u is not None and f.v is not None
        ]
        rotation = src.info.rotation
    luma = np.empty((batch, kernels.THUMB, kernels.THUMB), np.float32)
    cu = np.empty((batch, kernels.CHROMA, kernels.CHROMA), np.float32)
    cv = np.empty_like(cu)
    order = itertools.cycle(range(batch))

    def thumbs(k: int) -> None:
        y, u, v, levels = frames[k % len(frames)]
        kernels.thumbnails_into(y, u, v, levels, rotation, luma[k], cu[k], cv[k])

    thumbs_rate = rate(lambda: thumbs(next(order)), 1)
    for k in range(batch):
        thumbs(k)
    features_rate = rate(lambda: kernels.frame_features(luma, cu, cv), batch)
    y, u = frames[0][0], frames[0][1]
    planes = f"{y.shape[1]}x{y.shape[0]} + 2x {u.shape[1]}x{u.shape[0]} {y.dtype}"
    return planes, thumbs_rate, features_rate


def _rss_by_length(long_minutes: float) -> list[str]:
    src = SHARED / "drone_gopro_karma_coast_cliffs_480p30.mp4"
    short = looped(src, 60, "karma_1min.mp4")
    long = looped(src, 60 * long_minutes, f"karma_{long_minutes:g}min.mp4")
    out = ["## Peak RSS against input length (480p drone clip looped)", ""]
    out += [
        "| input | frames | exact s | exact MB | fast s | fast MB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, path in (("1 min", short), (f"{long_minutes:g} min", long)):
        cmds = bench.commands(str(path), tools=("exact", "fast"))
        e = bench.run_once(cmds["exact"])
        f = bench.run_once(cmds["fast"])
        n = bench.count_frames(str(path))
        out.append(f"| {label} | {n} | {e[0]:.1f} | {e[1]:.0f} | {f[0]:.1f} | {f[1]:.0f} |")
    return [*out, ""]


def _ffmpeg_version() -> str:
    exe = shutil.which("ffmpeg")
    if not exe:
        return "missing"
    first = subprocess.run([exe, "-version"], capture_output=True, text=True).stdout.split()
    return first[2] if len(first) > 2 else "?"


if __name__ == "__main__":
    sys.exit(main())
