"""The ``framesig`` command line. It only calls the public API.

Exit codes: 0 success, 1 the input could not be summarized (a framesig error), 2 usage.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import framesig
from framesig.errors import FramesigError, OpenError

__all__ = ["main", "console"]


class _ProgressBar:
    """A one-line progress display on stderr, for inputs longer than a few seconds."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.last = 0.0
        self.shown = False
        self.latest: Any = None
        self.first: Any = None
        self.tty = sys.stderr.isatty()

    def __call__(self, p: Any, *, final: bool = False) -> None:
        self.latest = p
        if self.first is None:
            self.first = p
        if not self.enabled or p.elapsed < 1.0:
            return
        now = time.monotonic()
        if not final and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        rate = p.frames / p.elapsed if p.elapsed > 0 else 0.0
        if p.duration > 0:
            # the last frame starts one frame before the end: the finished run reads 100%
            share = 1.0 if final else min(p.time / p.duration, 1.0)
            eta = self._eta(p, share)
            bar = "#" * int(share * 30)
            line = f"[{bar:<30}] {share:6.1%} {p.frames} frames {rate:6.0f} fps ETA {eta:4.0f}s"
        else:
            line = f"{p.frames} frames {rate:6.0f} fps"
        sys.stderr.write(("\r" if self.tty else "") + line + ("" if self.tty else "\n"))
        sys.stderr.flush()
        self.shown = True

    def _eta(self, p: Any, share: float) -> float:
        """Seconds left, at the pace since the first report: the time before it (numba
        loading, or compiling on a first run) is not spent again."""
        f = self.first
        if p.elapsed - f.elapsed >= 0.5 and p.time > f.time:
            return max(p.duration - p.time, 0.0) * (p.elapsed - f.elapsed) / (p.time - f.time)
        return (p.elapsed / share - p.elapsed) if share > 0 else 0.0

    def done(self, finished: bool = True) -> None:
        """End the line: at 100% when the run finished, else where it stopped."""
        if self.shown and self.latest is not None:
            if finished:
                self(self.latest, final=True)
            elif self.tty:
                sys.stderr.write(" (stopped)")
        if self.shown and self.tty:
            sys.stderr.write("\n")


def _settings_from_args(args: argparse.Namespace) -> framesig.Settings:
    overrides = {
        k: getattr(args, k)
        for k in (
            "persist",
            "join_hash",
            "match_hash",
            "fps",
            "max_frames",
            "decode_threads",
            "fast",
            "kernel_threads",
        )
        if getattr(args, k, None) is not None
    }
    return framesig.Settings().with_(**overrides)


def _describe(sig: framesig.Signature, wall: float) -> str:
    from framesig.outputs import format_time

    src = sig.source
    flags = [
        name for name in ("truncated", "estimated_timestamps", "partial") if getattr(src, name)
    ]
    if src.skipped_packets:
        flags.append(f"skipped_packets={src.skipped_packets}")
    lines = [
        f"{src.path}: {src.codec} {src.display_width}x{src.display_height}"
        f"{' rot ' + str(src.rotation) if src.rotation else ''}, {src.frames} frames, "
        f"{format_time(src.duration)}" + (f"  [{', '.join(flags)}]" if flags else ""),
        f"  {len(sig.states)} states, {len(sig.runs)} runs, {len(sig.transitions)} transitions, "
        f"{len(sig.transients)} transients, {len(sig.loops)} loops  ({wall:.2f} s)",
    ]
    for t in sig.transitions[:40]:
        kind = "back to" if t.revisit else "new"
        lines.append(
            f"  {format_time(t.time)}  frame {t.frame:6d}  state {t.from_state} -> "
            f"{t.to_state} ({kind})"
        )
    if len(sig.transitions) > 40:
        lines.append(f"  ... {len(sig.transitions) - 40} more transitions")
    for lp in sig.loops:
        lines.append(
            f"  loop: states {list(lp.pattern)} flown {lp.count}x, "
            f"{format_time(lp.start_time)}-{format_time(lp.end_time)}"
        )
    return "\n".join(lines)


def _summarize_one(path: str, out: str | None, args: argparse.Namespace) -> framesig.Signature:
    settings = _settings_from_args(args)
    if out:  # a bad output fails now, not after decoding
        if Path(out).exists() and not Path(out).is_dir():
            raise OpenError(out, "a file is there: -o names the folder to write into")
        try:
            Path(out).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OpenError(out, f"cannot make the folder ({exc.strerror or exc})") from None
    bar = _ProgressBar(enabled=not args.quiet)
    started = time.perf_counter()
    try:
        sig = framesig.summarize(path, settings, progress=bar)
    except BaseException:
        bar.done(finished=False)
        raise
    bar.done()
    wall = time.perf_counter() - started
    fallback = sig.settings.get("fast_fallback")
    if fallback and not args.quiet:
        print(f"framesig: --fast fell back to exact mode: {fallback}", file=sys.stderr)
    if out:
        from framesig.outputs import write_keyframes

        target = Path(out)
        sig.save(target / "signature.json")
        write_keyframes(sig, path, target)
    if args.json:
        print(sig.to_json(indent=1))
    elif not args.quiet:
        print(_describe(sig, wall))
        if out:
            print(f"  wrote {Path(out) / 'signature.json'}, keyframes/, contact_sheet.png")
    return sig


def _cmd_summarize(args: argparse.Namespace) -> int:
    _summarize_one(args.video, args.out, args)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from framesig import synthetic

    out = Path(args.out)
    video = out / f"{synthetic.SAMPLE_NAME}.mp4"
    truth_file = Path(f"{video}.truth.json")
    if not (video.exists() and truth_file.exists()):
        if not args.quiet:
            print(f"making the sample flight {video} ...", file=sys.stderr)
        synthetic.write_flight(video)
    truth = synthetic.GroundTruth.from_json(truth_file.read_text(encoding="utf-8"))
    sig = _summarize_one(str(video), str(out), args)
    if args.json:
        return 0
    seen: dict[object, int] = {}
    for h in truth.hovers():
        start, end = int(str(h["start"])), int(str(h["end"]))
        mid = (start + end) // 2
        state = next(r.state for r in sig.runs if r.start_frame <= mid <= r.end_frame)
        note = ""
        if h["place"] in seen:
            ok = seen[h["place"]] == state
            note = ", the state of the first visit (a return)" if ok else ", a DIFFERENT state"
        seen.setdefault(h["place"], state)
        print(f"  hover at place {h['place']} (frames {start}-{end}): state {state}{note}")
    flash_frames = {int(str(p["frame"])) for p in truth.perturbations}
    hit = [
        t.frame for t in sig.transitions if t.frame in flash_frames or t.frame - 1 in flash_frames
    ]
    print(
        f"  flash at frame(s) {sorted(flash_frames)}: "
        + ("no transition (transient)" if not hit else f"TRANSITION at {hit}")
    )
    return 0


def _add_summarize_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--out", help="folder for signature.json, keyframes/ and the sheet")
    p.add_argument("--json", action="store_true", help="print the signature as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary")
    p.add_argument("--persist", type=int, help="frames a change must last (default 3)")
    p.add_argument("--join-hash", dest="join_hash", type=int, help="pHash bits to stay in a state")
    p.add_argument("--match-hash", dest="match_hash", type=int, help="pHash bits for a revisit")
    p.add_argument("--fps", type=float, help="frame rate for inputs without timestamps")
    p.add_argument("--max-frames", dest="max_frames", type=int, help="stop after N frames")
    p.add_argument(
        "--decode-threads",
        dest="decode_threads",
        type=int,
        help="FFmpeg decoder threads (0: one per core)",
    )
    p.add_argument(
        "--fast",
        action="store_const",
        const=True,
        help="decode in full only the GOPs where the view may change (falls back by itself)",
    )
    p.add_argument(
        "--kernel-threads",
        dest="kernel_threads",
        type=int,
        help="numba threads for the batch kernels (0: one per core)",
    )


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; with ``command``, only the groups that command needs are built."""
    parser = argparse.ArgumentParser(
        prog="framesig",
        description="Drone flight videos to compact, searchable flight signatures.",
    )
    parser.add_argument("--version", action="version", version=f"framesig {framesig.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("summarize", help="summarize one video into a flight signature")
    p.add_argument("video", help="a video file, a raw .h264 stream, or a folder of images")
    _add_summarize_options(p)
    p.set_defaults(func=_cmd_summarize)

    p = sub.add_parser("demo", help="make the sample flight and summarize it")
    _add_summarize_options(p)
    p.set_defaults(func=_cmd_demo, out="framesig-demo")

    known = {"summarize", "demo"}.union(*(names for names, _ in _COMMAND_GROUPS))
    for names, add in _COMMAND_GROUPS:
        if command not in known or command in names:
            add(sub)
    return parser


def _add_dr(sub: Any) -> None:
    from framesig.drconfig.cli import add_dr_parser

    add_dr_parser(sub)


def _add_batch(sub: Any) -> None:
    from framesig.batch import add_batch_parser

    add_batch_parser(sub)


def _add_bench(sub: Any) -> None:
    from framesig.bench import add_bench_parser

    add_bench_parser(sub)


def _add_use(sub: Any) -> None:
    from framesig.use import add_use_parsers

    add_use_parsers(sub)


# The other command groups, by the commands each adds. Importing them all costs 0.15 s
# (the DR loader, batch, bench), so a known command builds only its own group.
_COMMAND_GROUPS: tuple[tuple[frozenset[str], Any], ...] = (
    (frozenset({"dr"}), _add_dr),
    (frozenset({"batch"}), _add_batch),
    (frozenset({"bench"}), _add_bench),
    (frozenset({"find", "index", "compare", "anomalies", "report"}), _add_use),
)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv and not argv[0].startswith("-") else None)
    args = parser.parse_args(argv)
    if args.command == "demo" and args.out is None:
        args.out = "framesig-demo"
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed pipe or a full disk shows here, where it is handled
        return code
    except FramesigError as exc:
        print(f"framesig: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `framesig summarize X --json | head`: the reader left
        _quiet_stdout()
        return 1
    except OSError as exc:  # an output that cannot be written (a full disk, a file in the way)
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"framesig: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


def _quiet_stdout() -> None:
    """Point stdout at /dev/null: the flush at exit would fail on the closed pipe again."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test's capture)
        pass


def console() -> None:
    """The ``framesig`` command: :func:`main`, then exit with its code.

    Python's last collections at exit walk every object numba made (about 100,000): 0.2 s
    of each run, for memory the process gives back anyway. Freezing them first skips that.
    """
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    console()
