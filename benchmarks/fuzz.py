"""Fuzz campaign: damaged variants of real videos, each summarized under a time limit.

Seed files (small real clips and a few generated ones) are mutated with a seeded RNG:
truncations, bit flips, zeroed ranges, random overwrites, spliced headers (the head of one
file on the body of another) and duplicated ranges. One persistent worker process
summarizes the variants one after another (importing PyAV and numba once) and reports each
outcome as a JSON line; the parent enforces the time limit per input and, when the worker
dies on a signal, crashes or hangs, records the input and starts a new worker.

The only acceptable outcomes are a signature that passes the invariants (runs cover every
frame in order, times rise, JSON round-trips) or a :class:`framesig.FramesigError` that
names the file. Everything else (a signal, a hang, another exception, a broken signature)
is a finding; its input is kept in ``--keep`` for a reproducer.

The test suite runs 300 inputs (``tests/test_fuzz.py``); the nightly run is longer::

    python benchmarks/fuzz.py --count 5000 --seconds 1800 --keep fuzz-findings/

It prints a table of outcomes per mutation and the findings, and exits 1 if there is any.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
REPO = HERE.parents[1]
SHARED = Path(os.environ.get("FRAMESIG_SHARED", REPO.parent / "shared"))
REAL_SEEDS = (
    "psd_counter_1080p10.mp4",  # 79 KB, H.264 High 1080p
    "psd_delayed_start_offset.mp4",  # 41 KB, MPEG-4 part 2, edit list
)
ACCEPTED = ("ok", "error")
MUTATIONS = ("truncate", "flip", "zero", "overwrite", "splice", "duplicate")


# ------------------------------------------------------------------------- seeds


def make_seeds(folder: Path, real: Path | None = None) -> list[Path]:
    """Small seed files: the real clips that exist, plus generated ones of other kinds."""
    folder.mkdir(parents=True, exist_ok=True)
    real = real if real is not None else SHARED / "data" / "real"
    seeds = [real / n for n in REAL_SEEDS if (real / n).exists()]
    ardrone = real / "drone_ardrone2_indoor_yaw_640x360_raw.h264"
    if ardrone.exists():  # the first 40 frames or so of a real drone stream
        head = folder / "ardrone_head.h264"
        if not head.exists():
            head.write_bytes(ardrone.read_bytes()[:120_000])
        seeds.append(head)
    src = "testsrc=size=160x120:rate=15"
    cut = "drawbox=x=0:y=0:w=iw:h=ih:color=red:t=fill:enable='gte(n\\,15)'"
    x264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10", "-bf", "2"]
    generated = {
        "gen_h264.mp4": ["-f", "lavfi", "-i", src, "-t", "2", "-vf", cut, *x264],
        "gen_h264_audio.mkv": [
            *("-f", "lavfi", "-i", src, "-f", "lavfi", "-i", "sine=d=2", "-t", "2"),
            *("-vf", cut, *x264, "-c:a", "aac"),
        ],
        "gen_hevc.mp4": [
            *("-f", "lavfi", "-i", src, "-t", "2", "-vf", cut),
            *("-c:v", "libx265", "-x265-params", "log-level=error:keyint=10"),
        ],
        "gen_h264.ts": ["-f", "lavfi", "-i", src, "-t", "2", "-vf", cut, *x264],
        "gen_raw.h264": ["-f", "lavfi", "-i", src, "-t", "2", "-vf", cut, *x264, "-f", "h264"],
        "gen_mpeg4.avi": ["-f", "lavfi", "-i", src, "-t", "2", "-vf", cut, "-c:v", "mpeg4"],
    }
    exe = shutil.which("ffmpeg")
    for name, args in generated.items():
        path = folder / name
        if not path.exists() and exe is not None:
            subprocess.run([exe, "-v", "error", "-y", *args, str(path)], check=True, timeout=120)
        if path.exists():
            seeds.append(path)
    return seeds


# --------------------------------------------------------------------- mutations


def mutate(data: bytes, other: bytes, kind: str, rng: np.random.Generator) -> bytes:
    """One damaged variant of ``data`` (``other`` is a second seed, for splices)."""
    n = len(data)
    b = bytearray(data)

    def offset() -> int:
        # half of the damage lands in the first 4 KiB, where headers and indexes live
        if rng.random() < 0.5:
            return int(rng.integers(0, min(n, 4096)))
        return int(rng.integers(0, n))

    if kind == "truncate":
        return bytes(b[: offset()])
    if kind == "flip":
        for _ in range(int(rng.integers(1, 65))):
            b[offset()] ^= 1 << int(rng.integers(0, 8))
        return bytes(b)
    if kind == "zero":
        at = offset()
        length = int(rng.integers(1, 8193))
        b[at : at + length] = bytes(len(b[at : at + length]))
        return bytes(b)
    if kind == "overwrite":
        at = offset()
        length = int(rng.integers(1, 4097))
        chunk = rng.integers(0, 256, len(b[at : at + length]), dtype=np.uint8).tobytes()
        b[at : at + length] = chunk
        return bytes(b)
    if kind == "splice":  # the head of this file on the body of another
        head = offset()
        tail = int(rng.integers(0, len(other)))
        return bytes(b[:head]) + other[tail:]
    if kind == "duplicate":
        at, length = offset(), int(rng.integers(1, 16385))
        return bytes(b[: at + length]) + bytes(b[at : at + length]) + bytes(b[at + length :])
    raise ValueError(f"unknown mutation {kind!r}")


@dataclass(frozen=True)
class Case:
    index: int
    seed: str
    mutation: str
    path: str


def cases(seeds: Sequence[Path], folder: Path, count: int, seed: int) -> Iterator[Case]:
    """``count`` variants, reproducible from ``seed`` (variant i depends only on i)."""
    blobs = [p.read_bytes() for p in seeds]
    for i in range(count):
        rng = np.random.default_rng([seed, i])
        s = int(rng.integers(0, len(seeds)))
        kind = MUTATIONS[int(rng.integers(0, len(MUTATIONS)))]
        other = blobs[int(rng.integers(0, len(seeds)))]
        data = mutate(blobs[s], other, kind, rng)
        path = folder / f"fuzz_{i:05d}{seeds[s].suffix}"
        path.write_bytes(data)
        yield Case(i, seeds[s].name, kind, str(path))


# ------------------------------------------------------------------------ worker


def _check(sig: object) -> str:
    """'' when a signature keeps framesig's promises, else what it breaks."""
    import framesig

    assert isinstance(sig, framesig.Signature)
    src, runs = sig.source, sig.runs
    if src.frames < 1 or not runs:
        return "a signature with no frame"
    if runs[0].start_frame != 0 or runs[-1].end_frame != src.frames - 1:
        return "runs do not cover the frames"
    for a, b in zip(runs, runs[1:], strict=False):
        if b.start_frame != a.end_frame + 1 or not b.start_time > a.start_time:
            return f"runs out of order at frame {b.start_frame}"
    if not all(np.isfinite([r.start_time for r in runs])) or not np.isfinite(src.duration):
        return "a time is not finite"
    if framesig.Signature.from_json(sig.to_json()) != sig:
        return "the JSON round trip changed the signature"
    return ""


def _worker() -> int:
    """Read paths from stdin; write one JSON outcome per line to stdout."""
    import logging

    logging.disable(logging.CRITICAL)  # warnings per bad packet would flood the pipe
    import av

    av.logging.set_level(None)
    import framesig

    out = sys.stdout
    for line in sys.stdin:
        path = line.rstrip("\n")
        if path == "!segfault":  # for testing the guard itself
            import ctypes

            ctypes.string_at(0)
        if path == "!hang":
            time.sleep(3600)
        if path == "!raise":
            path = "\0"  # a path the OS refuses: a ValueError, not a FramesigError
        try:
            sig = framesig.summarize(path)
        except framesig.FramesigError as exc:
            ok = os.path.basename(path) in str(exc) and bool(exc.cause)
            rec = {"outcome": "error" if ok else "bad-error", "type": type(exc).__name__}
            rec["message"] = str(exc)[:300]
        except Exception as exc:  # anything else is a finding
            rec = {"outcome": "exception", "type": type(exc).__name__}
            rec["message"] = traceback.format_exc()[-2000:]
        else:
            broken = _check(sig)
            rec = {"outcome": "broken" if broken else "ok", "message": broken}
            rec.update(
                frames=sig.source.frames,
                truncated=sig.source.truncated,
                skipped_packets=sig.source.skipped_packets,
            )
        out.write(json.dumps(rec) + "\n")
        out.flush()
    return 0


# ------------------------------------------------------------------------ parent


@dataclass
class Report:
    tried: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_mutation: dict[str, Counter[str]] = field(default_factory=dict)
    findings: list[dict[str, object]] = field(default_factory=list)
    restarts: int = 0
    seconds: float = 0.0

    def add(self, case: Case, rec: dict[str, object]) -> None:
        outcome = str(rec["outcome"])
        self.tried += 1
        self.outcomes[outcome] += 1
        self.by_mutation.setdefault(case.mutation, Counter())[outcome] += 1
        if outcome not in ACCEPTED:
            self.findings.append({"case": case.__dict__, **rec})

    def table(self) -> str:
        kinds = sorted({k for c in self.by_mutation.values() for k in c} | set(ACCEPTED))
        lines = [f"{'mutation':<10} " + " ".join(f"{k:>10}" for k in kinds)]
        for m in MUTATIONS:
            c = self.by_mutation.get(m, Counter())
            lines.append(f"{m:<10} " + " ".join(f"{c[k]:>10}" for k in kinds))
        lines.append(f"{'total':<10} " + " ".join(f"{self.outcomes[k]:>10}" for k in kinds))
        lines.append(
            f"{self.tried} inputs in {self.seconds:.1f} s, {len(self.findings)} findings, "
            f"{self.restarts} worker restarts"
        )
        for f in self.findings:
            lines.append(f"  FINDING {f['outcome']}: {f['case']} {str(f.get('message'))[:300]}")
        return "\n".join(lines)


class Guard:
    """One worker process at a time; a per-input time limit; restarts after a death."""

    def __init__(self, timeout: float, memory_gib: float = 6.0) -> None:
        self.timeout = timeout
        self.memory = int(memory_gib * 2**30)
        self.proc: subprocess.Popen[str] | None = None
        self.restarts = 0
        self._log = tempfile.TemporaryFile()

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ, PYTHONFAULTHANDLER="0", OMP_NUM_THREADS="1")

        def limit() -> None:  # keep a runaway allocation from taking the machine down
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (self.memory, self.memory))

        return subprocess.Popen(
            [sys.executable, str(HERE), "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            preexec_fn=limit,
        )

    def run(self, path: str, timeout: float | None = None) -> dict[str, object]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(path + "\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        # the first input also pays the worker's start (imports, numba cache)
        ready = sel.select(timeout=(timeout or self.timeout))
        sel.close()
        if not ready:
            self._kill()
            return {"outcome": "hang", "message": f"no answer in {timeout or self.timeout} s"}
        line = proc.stdout.readline()
        if not line:
            code = proc.wait()
            self.proc = None
            self.restarts += 1
            kind = "signal" if code < 0 else "crash"
            return {"outcome": kind, "message": f"worker exit status {code}"}
        return dict(json.loads(line))

    def _kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.restarts += 1

    def close(self) -> None:
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._kill()
            self.proc = None
        self._log.close()


def campaign(
    seeds: Sequence[Path],
    folder: Path,
    count: int,
    *,
    seed: int = 0,
    timeout: float = 20.0,
    seconds: float | None = None,
    keep: Path | None = None,
    on_case: Callable[[Case, dict[str, object]], None] | None = None,
) -> Report:
    """Run ``count`` variants (or until ``seconds`` have passed); return the report."""
    report = Report()
    guard = Guard(timeout)
    started = time.perf_counter()
    try:
        # warm the worker up on a healthy seed, outside the per-input limit
        guard.run(str(seeds[0]), timeout=max(120.0, timeout))
        for case in cases(seeds, folder, count, seed):
            rec = guard.run(case.path)
            report.add(case, rec)
            if rec["outcome"] not in ACCEPTED and keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(case.path, keep / Path(case.path).name)
            if on_case is not None:
                on_case(case, rec)
            os.remove(case.path)
            if seconds is not None and time.perf_counter() - started > seconds:
                break
    finally:
        report.restarts = guard.restarts
        guard.close()
        report.seconds = time.perf_counter() - started
    return report


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--count", type=int, default=1000, help="variants to try")
    ap.add_argument("--seconds", type=float, default=None, help="stop after this long")
    ap.add_argument("--seed", type=int, default=0, help="RNG seed of the campaign")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per input")
    ap.add_argument("--keep", type=Path, default=None, help="copy findings' inputs here")
    ap.add_argument("--json", type=Path, default=None, help="write the report as JSON")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return _worker()
    with tempfile.TemporaryDirectory(prefix="framesig-fuzz-") as tmp:
        seeds = make_seeds(Path(tmp) / "seeds")
        print(f"seeds: {', '.join(p.name for p in seeds)}", flush=True)
        report = campaign(
            seeds,
            Path(tmp),
            args.count,
            seed=args.seed,
            timeout=args.timeout,
            seconds=args.seconds,
            keep=args.keep,
        )
    print(report.table())
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "tried": report.tried,
                    "seconds": report.seconds,
                    "outcomes": dict(report.outcomes),
                    "by_mutation": {k: dict(v) for k, v in report.by_mutation.items()},
                    "findings": report.findings,
                    "restarts": report.restarts,
                },
                indent=1,
            )
        )
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main())
