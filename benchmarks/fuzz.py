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
from collections.abc import Callable, Iterable, Iterator, Sequence
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
        # more demuxers and decoders: WebM (EBML sizes), MPEG-PS, full-range 4:2:2, 10-bit
        "gen_vp9.webm": [
            *("-f", "lavfi", "-i", src, "-t", "2", "-vf", cut),
            *("-c:v", "libvpx-vp9", "-g", "10", "-deadline", "realtime", "-cpu-used", "8"),
        ],
        "gen_mpeg2.mpg": [
            *("-f", "lavfi", "-i", src, "-t", "2", "-vf", cut),
            *("-c:v", "mpeg2video", "-g", "10", "-bf", "2"),
        ],
        "gen_mjpeg.mov": [
            *("-f", "lavfi", "-i", src, "-t", "2", "-vf", cut),
            *("-c:v", "mjpeg", "-pix_fmt", "yuvj422p"),
        ],
        "gen_hevc10.mkv": [
            *("-f", "lavfi", "-i", src, "-t", "2", "-vf", cut, "-pix_fmt", "yuv420p10le"),
            *("-c:v", "libx265", "-x265-params", "log-level=error:keyint=10"),
        ],
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
    times = [t for r in runs for t in (r.start_time, r.end_time)]
    if not all(np.isfinite(times)) or not np.isfinite(src.duration):
        return "a time is not finite"
    if any(not r.end_time > r.start_time for r in runs):
        return "a run that ends before it starts"
    if framesig.Signature.from_json(sig.to_json()) != sig:
        return "the JSON round trip changed the signature"
    return ""


READY = "ready"


def _segfault() -> object:
    import ctypes

    return ctypes.string_at(0)  # reads address 0: SIGSEGV


def _hang() -> object:
    time.sleep(3600)
    return None


def _raise() -> object:
    raise RuntimeError("self-test: an exception that is not a FramesigError")


def _bad_error() -> object:
    import framesig

    raise framesig.FramesigError("elsewhere.mp4", "self-test: names another file")


# Inputs that make the worker fail in each way the guard must record, to test the guard.
SELF_TESTS: dict[str, Callable[[], object]] = {
    "!segfault": _segfault,
    "!hang": _hang,
    "!raise": _raise,
    "!bad-error": _bad_error,
}


def _worker(fast: bool = False) -> int:
    """Read paths from stdin; write one JSON outcome per line to stdout.

    The first line out is :data:`READY`, once the imports are done, so that the parent's
    time limit per input does not include a new worker's start.
    """
    import logging

    logging.disable(logging.CRITICAL)  # warnings per bad packet would flood the pipe
    import av

    av.logging.set_level(None)
    import framesig

    out = sys.stdout
    out.write(READY + "\n")
    out.flush()
    for line in sys.stdin:
        path = line.rstrip("\n")
        try:
            sig = SELF_TESTS[path]() if path in SELF_TESTS else framesig.summarize(path, fast=fast)
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
    """One worker process at a time; a per-input time limit; restarts after a death.

    Parameters
    ----------
    timeout : float
        Seconds one input may take; past it the worker is killed and the input is a hang.
    memory_gib : float
        The worker's address-space limit, so a runaway allocation fails in the worker.
    fast : bool
        Summarize in fast mode (keyframe scan and ranged decodes) instead of exact mode.
    warmup : str, optional
        A healthy file each new worker summarizes before its first input, so that the
        per-input limit never pays a worker's first decode (numba's dispatch, FFmpeg's
        decoder set-up): after a restart that can be seconds on a loaded machine.
    start_timeout : float
        Seconds a new worker may take to import PyAV and numba and to warm up.
    """

    def __init__(
        self,
        timeout: float,
        memory_gib: float = 6.0,
        *,
        fast: bool = False,
        warmup: str | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        self.timeout = timeout
        self.memory = int(memory_gib * 2**30)
        self.fast = fast
        self.warmup = warmup
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen[str] | None = None
        self.restarts = 0
        self._log = tempfile.TemporaryFile()

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ, PYTHONFAULTHANDLER="0", OMP_NUM_THREADS="1")

        def limit() -> None:  # keep a runaway allocation from taking the machine down
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (self.memory, self.memory))

        proc = subprocess.Popen(
            [sys.executable, str(HERE), "--worker", *(["--fast"] if self.fast else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            preexec_fn=limit,
        )
        line = self._read(proc, self.start_timeout)
        if line is not None and line.strip() == READY and self.warmup is not None:
            self._send(proc, self.warmup)
            line = READY if self._read(proc, self.start_timeout) else None
        if line is None or line.strip() != READY:
            self._reap(proc, kill=True)
            raise RuntimeError(f"the fuzz worker did not start: {str(line).strip()[:200]!r}")
        return proc

    @staticmethod
    def _send(proc: subprocess.Popen[str], path: str) -> None:
        assert proc.stdin is not None
        try:
            proc.stdin.write(path + "\n")
            proc.stdin.flush()
        except BrokenPipeError:  # it died already: the read that follows says how
            pass

    @staticmethod
    def _read(proc: subprocess.Popen[str], timeout: float) -> str | None:
        """The worker's next line ('' when it died), or None when none came in time."""
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout=timeout):
                return None
        return proc.stdout.readline()

    def run(self, path: str, timeout: float | None = None) -> dict[str, object]:
        """Summarize ``path`` in the worker; the outcome record (a finding when not accepted)."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        proc = self.proc
        limit = timeout or self.timeout
        self._send(proc, path)
        line = self._read(proc, limit)
        if line is None:
            self._restart(kill=True)
            return {"outcome": "hang", "message": f"no answer in {limit} s"}
        if not line:
            code = self._restart(kill=False)
            kind = "signal" if code < 0 else "crash"
            return {"outcome": kind, "message": f"worker exit status {code}"}
        return dict(json.loads(line))

    def _restart(self, *, kill: bool) -> int:
        """Reap the worker (killing it first if asked); the next run starts a new one."""
        assert self.proc is not None
        code = self._reap(self.proc, kill=kill)
        self.proc = None
        self.restarts += 1
        return code

    @staticmethod
    def _reap(proc: subprocess.Popen[str], *, kill: bool) -> int:
        """Wait for the worker and close its pipes; its exit status."""
        if kill:
            proc.kill()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except BrokenPipeError:  # unflushed input for a dead worker
                    pass
        try:
            return proc.wait(timeout=None if kill else 30)
        except subprocess.TimeoutExpired:  # closed stdin but still busy: stop it
            proc.kill()
            return proc.wait()

    def close(self) -> None:
        """Let the worker finish (its stdin closes) and release the log."""
        if self.proc is not None:
            self._reap(self.proc, kill=False)
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
    fast: bool = False,
    inputs: Iterable[Case] | None = None,
) -> Report:
    """Run ``count`` variants (or until ``seconds`` have passed); return the report.

    Parameters
    ----------
    seeds : sequence of Path
        The files to mutate (:func:`make_seeds`); the first also warms each worker up.
    folder : Path
        Where each variant is written while it is tried (and removed after).
    count : int
        How many variants.
    seed : int
        The campaign's RNG seed: the same seed gives the same variants.
    timeout : float
        Seconds per input before it counts as a hang.
    seconds : float, optional
        Stop after this long, whatever ``count`` says.
    keep : Path, optional
        Copy the inputs of findings here.
    on_case : callable, optional
        Called with each case and its outcome record.
    fast : bool
        Summarize in fast mode.
    inputs : iterable of Case, optional
        Try these instead of generating variants (to test the guard itself).
    """
    report = Report()
    # every worker warms up on a healthy seed, outside the per-input limit
    guard = Guard(timeout, fast=fast, warmup=str(seeds[0]))
    started = time.perf_counter()
    try:
        todo = inputs if inputs is not None else cases(seeds, folder, count, seed)
        for case in todo:
            rec = guard.run(case.path)
            report.add(case, rec)
            exists = os.path.isfile(case.path)
            if rec["outcome"] not in ACCEPTED and keep is not None and exists:
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(case.path, keep / Path(case.path).name)
            if on_case is not None:
                on_case(case, rec)
            if exists and inputs is None:
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
    ap.add_argument("--fast", action="store_true", help="summarize in fast mode")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return _worker(fast=args.fast)
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
            fast=args.fast,
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
