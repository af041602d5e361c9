"""``framesig bench VIDEO``: framesig's throughput beside the decoder's limit and peers.

Every tool runs as its own process on the same file, round robin, ``repeats`` times; each
run's whole-process wall time and peak RSS (``wait4``'s ``ru_maxrss`` of that process
alone) are measured and the medians reported, in frames of video per second and as a
ratio to the full-decode limit (``ffmpeg -threads N -i VIDEO -an -f null -``: decoding
every frame and nothing else).

Tools: ``ffmpeg`` (the limit), ``pyav`` (PyAV decoding every frame, threads AUTO),
``exact`` and ``fast`` (``framesig summarize``, with ``--fast``), and the peers
``detect-content`` and ``detect-adaptive`` (PySceneDetect's CLI, when installed).

The fast run is also checked against the exact one: the same states and transitions (to a
frame), or the reason it fell back to exact mode.

Examples
--------
>>> rows = [Measure("ffmpeg", 2.0, 50.0, 100), Measure("exact", 2.5, 120.0, 100)]
>>> print(format_table(rows))  # doctest: +NORMALIZE_WHITESPACE
| tool | wall s | frames/s | x limit | peak RSS MB |
|---|---:|---:|---:|---:|
| ffmpeg | 2.00 | 50.0 | 1.00 | 50 |
| exact | 2.50 | 40.0 | 0.80 | 120 |
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "Measure",
    "TOOLS",
    "commands",
    "Run",
    "run_once",
    "measure",
    "format_table",
    "compare_signatures",
    "count_frames",
    "add_bench_parser",
]

TOOLS = ("ffmpeg", "pyav", "exact", "fast", "detect-content", "detect-adaptive")
PEERS = ("detect-content", "detect-adaptive")

_PYAV_DECODE = (
    "import sys, av\n"
    "c = av.open(sys.argv[1]); s = c.streams.video[0]; s.thread_type = 'AUTO'\n"
    "n = 0\n"
    "for f in c.decode(s):\n"
    "    n += 1\n"
    "print(n)\n"
)


@dataclass(frozen=True)
class Measure:
    """The median run of one tool on one file."""

    tool: str
    wall: float  # seconds, whole process
    rss_mb: float  # peak resident set, MiB
    frames: int  # frames of video the file holds
    runs: int = 1
    error: str = ""

    @property
    def fps(self) -> float:
        return self.frames / self.wall if self.wall > 0 else 0.0


def _exe(name: str) -> str | None:
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    return shutil.which(name)


def commands(
    video: str, *, threads: int | None = None, tools: Sequence[str] = TOOLS
) -> dict[str, list[str]]:
    """The command line of each available tool for ``video`` (missing tools are left out)."""
    n = threads or os.cpu_count() or 1
    # -P: the current folder is not put on sys.path (a folder named framesig or av there,
    # such as a checkout, would be imported instead of the installed package)
    video = os.path.abspath(video)  # a name like "-n.mp4" is then no option to any tool
    framesig_cmd = [sys.executable, "-P", "-m", "framesig.cli", "summarize", video, "--json"]
    out: dict[str, list[str]] = {}
    ffmpeg = shutil.which("ffmpeg")
    scenedetect = _exe("scenedetect")
    for tool in tools:
        if tool == "ffmpeg" and ffmpeg:
            out[tool] = [ffmpeg, "-v", "error", "-nostdin", "-threads", str(n), "-i", video]
            out[tool] += ["-an", "-sn", "-dn", "-f", "null", "-"]
        elif tool == "pyav":
            out[tool] = [sys.executable, "-P", "-c", _PYAV_DECODE, video]
        elif tool == "exact":
            out[tool] = framesig_cmd
        elif tool == "fast":
            out[tool] = [*framesig_cmd, "--fast"]
        elif tool in PEERS and scenedetect:
            out[tool] = [scenedetect, "-q", "-i", video, tool]
    return out


# Linux keeps a process's peak RSS across exec, and a child forked or vforked from a big
# parent (a test runner holding numba) starts with the parent's. So the command runs as the
# grandchild of this small launcher, which forks it and reports its own wait4 figure.
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    try:\n"
    "        os.execvp(sys.argv[2], sys.argv[2:])\n"
    "    finally:\n"
    "        os._exit(127)\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "with open(sys.argv[1], 'w') as f:\n"
    "    f.write(f'{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}')\n"
)


class Run(NamedTuple):
    """One run of a command."""

    wall: float  # seconds
    rss_mb: float  # peak resident set, MiB
    status: int  # exit status (-9: killed at the timeout)
    stdout: str
    stderr: str  # its last lines (a failed run's reason)


def run_once(argv: Sequence[str], timeout: float = 3600) -> Run:
    """Run a command: its wall time, peak RSS, exit status and output.

    The peak RSS is the command's own (``wait4`` in a small launcher, see ``_LAUNCHER``),
    so runs do not mix and the caller's size does not show. A command that outlives
    ``timeout`` is killed (exit status -9).
    """
    import signal
    import tempfile

    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "rusage"
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(report), *argv]
        started = time.perf_counter()
        proc = subprocess.Popen(
            launcher,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a timeout kills the command with its launcher
        )
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        wall = time.perf_counter() - started
        try:
            maxrss_kib, status = (int(v) for v in report.read_text().split())
        except (OSError, ValueError):  # killed before the launcher could write
            maxrss_kib, status = 0, -9
        out.seek(0)
        err.seek(0)
        tail = "\n".join(err.read().strip().splitlines()[-3:])
        return Run(wall, maxrss_kib / 1024.0, status, out.read(), tail)


def count_frames(video: str) -> int:
    """Frames the file holds: video packets with data (every one decodes to a frame, but
    in a raw stream those before the first recovery point; :func:`measure` counts the
    frames exact mode decoded when it ran)."""
    import av

    from framesig.decode import _demux  # ends where PyAV's own demux end breaks (late streams)
    from framesig.errors import OpenError

    try:
        with av.open(video) as c:
            if not c.streams.video:
                raise OpenError(video, "no video stream")
            stream = c.streams.video[0]
            return sum(1 for p in _demux(c, stream) if p.size)
    except av.error.FFmpegError as exc:
        raise OpenError(video, f"not a video FFmpeg can read ({exc.strerror or exc})") from None


def compare_signatures(exact: dict[str, Any], fast: dict[str, Any]) -> str:
    """One line: does the fast signature give exact mode's states and transitions?"""
    reason = fast.get("settings", {}).get("fast_fallback", "")
    if reason:
        return f"fast fell back to exact mode: {reason}"
    se = [r["state"] for r in exact["runs"]]
    sf = [r["state"] for r in fast["runs"]]
    te = [(t["frame"], t["from_state"], t["to_state"]) for t in exact["transitions"]]
    tf = [(t["frame"], t["from_state"], t["to_state"]) for t in fast["transitions"]]
    same = (
        se == sf
        and len(exact["states"]) == len(fast["states"])
        and len(te) == len(tf)
        and all(a[1:] == b[1:] and abs(a[0] - b[0]) <= 1 for a, b in zip(te, tf, strict=True))
    )
    verdict = "the same" if same else "DIFFERENT"
    return (
        f"fast vs exact: {verdict} states ({len(exact['states'])}) and transitions "
        f"({len(te)}, frames within 1)"
    )


def measure(
    video: str,
    *,
    repeats: int = 3,
    tools: Sequence[str] = TOOLS,
    threads: int | None = None,
    timeout: float = 3600,
    log: Any = None,
) -> tuple[list[Measure], str]:
    """Median wall time and peak RSS of each tool on ``video``, and the fast-vs-exact check.

    Frames are those exact mode decoded (:func:`count_frames` when it did not run)."""
    cmds = commands(video, threads=threads, tools=tools)
    walls: dict[str, list[float]] = {t: [] for t in cmds}
    rss: dict[str, list[float]] = {t: [] for t in cmds}
    errors: dict[str, str] = {}
    outputs: dict[str, str] = {}
    for r in range(repeats):
        for tool, argv in cmds.items():
            wall, mb, rc, out, err = run_once(argv, timeout)
            if rc != 0:
                last = err.splitlines()[-1] if err else ""
                errors[tool] = f"exit status {rc}" + (f": {last}" if last else "")
                if log is not None:
                    log(f"  {tool:16s} run {r + 1}: failed, {errors[tool]}")
                continue
            walls[tool].append(wall)
            rss[tool].append(mb)
            if r == 0 and tool in ("exact", "fast"):
                outputs[tool] = out
            if log is not None:
                log(f"  {tool:16s} run {r + 1}: {wall:7.2f} s {mb:7.1f} MB")
    try:
        frames = int(json.loads(outputs["exact"])["source"]["frames"])
    except (KeyError, ValueError, TypeError):
        frames = count_frames(video)
    rows = [
        Measure(
            tool,
            statistics.median(walls[tool]) if walls[tool] else 0.0,
            statistics.median(rss[tool]) if rss[tool] else 0.0,
            frames,
            len(walls[tool]),
            errors.get(tool, ""),
        )
        for tool in cmds
    ]
    check = ""
    if "exact" in outputs and "fast" in outputs:
        check = compare_signatures(json.loads(outputs["exact"]), json.loads(outputs["fast"]))
    return rows, check


def format_table(rows: Sequence[Measure]) -> str:
    """A Markdown table; ``x limit`` is frames/s over the ``ffmpeg`` row's (when present)."""
    limit = next((m.fps for m in rows if m.tool == "ffmpeg" and m.fps > 0), 0.0)
    lines = ["| tool | wall s | frames/s | x limit | peak RSS MB |", "|---|---:|---:|---:|---:|"]
    for m in rows:
        if m.error and not m.runs:
            reason = m.error.replace("|", "/")  # a table cell
            lines.append(f"| {m.tool} | failed: {reason} | | | |")
            continue
        ratio = f"{m.fps / limit:.2f}" if limit > 0 else "-"
        lines.append(f"| {m.tool} | {m.wall:.2f} | {m.fps:.1f} | {ratio} | {m.rss_mb:.0f} |")
    return "\n".join(lines)


def _cmd_bench(args: argparse.Namespace) -> int:
    from framesig.decode import _checked_path
    from framesig.errors import OpenError

    video = _checked_path(args.video)  # missing, a pipe or a device: OpenError
    if Path(video).is_dir():
        raise OpenError(video, "a folder: bench times one video file (ffmpeg reads files)")
    packets = count_frames(video)  # not a video: OpenError, before any tool runs
    tools = [t for t in TOOLS if args.peers or t not in PEERS]
    left_out = [t for t in tools if t not in commands(video, tools=tools)]
    if left_out:
        print(
            f"framesig bench: {', '.join(left_out)} not installed, left out "
            "(PySceneDetect: pip install 'framesig[peers]')",
            file=sys.stderr,
        )
    print(f"{video}: {packets} frames, {os.cpu_count()} cores, {args.repeats} runs")
    log = (lambda line: print(line, file=sys.stderr)) if args.verbose else None
    rows, check = measure(video, repeats=args.repeats, tools=tools, threads=args.threads, log=log)
    if rows and rows[0].frames != packets:
        print(f"of them framesig decodes {rows[0].frames} (frames/s counts those)")
    print(format_table(rows))
    if check:
        print(check)
    failed = [m for m in rows if m.error]
    for m in failed:
        print(f"framesig bench: {m.tool} failed: {m.error}", file=sys.stderr)
    return 1 if failed else 0


def add_bench_parser(subparsers: Any) -> None:
    """Add ``framesig bench`` to the command line's subcommands."""
    from framesig.use import _whole

    p = subparsers.add_parser(
        "bench", help="time framesig beside the full-decode limit (and peers) on a video"
    )
    p.add_argument("video", help="a video file")
    p.add_argument("-n", "--repeats", type=_whole(1), default=3, help="runs per tool (median)")
    p.add_argument("--threads", type=_whole(1), help="ffmpeg decoder threads (default: cores)")
    p.add_argument(
        "--no-peers", dest="peers", action="store_false", help="skip PySceneDetect's detectors"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="print every run")
    p.set_defaults(func=_cmd_bench)
