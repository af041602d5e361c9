"""The commands that use signatures: ``find``, ``compare``, ``anomalies`` and ``report``.

They are the command-line faces of :mod:`framesig.index`, :mod:`framesig.compare`,
:mod:`framesig.anomaly` and :mod:`framesig.report`, and call only their public functions.

A *flight* argument (``compare A B``, ``anomalies SIG``, ``report SIG``, ``--reference``)
is any of:

- a signature file (``*.json``, as ``framesig summarize -o`` or ``batch`` writes it);
- a folder holding ``signature.json`` (the ``-o`` folder of ``summarize``; its
  ``keyframes/`` are used by ``report``);
- a video, a raw stream or a folder of images: it is summarized first, with the default
  settings.

A *view* for ``find`` is an image file, or a frame of a video written ``VIDEO@TIME``:
``flight.mp4@12.5`` is the frame shown at 12.5 s, ``flight.mp4@1:02.5`` at 62.5 s
(``H:MM:SS.fff`` works too). The part after the last ``@`` is the time; a file whose name
really holds an ``@`` is taken as it is when it exists. A time past the end of the video is
an error.

Examples
--------
>>> parse_view("flight.mp4@1:02.5")
(PosixPath('flight.mp4'), 62.5)
>>> parse_view("photo.jpg")
(PosixPath('photo.jpg'), None)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framesig.errors import FramesigError, OpenError

if TYPE_CHECKING:
    from framesig.compare import Patrol
    from framesig.index import FlightIndex
    from framesig.signature import Signature

__all__ = [
    "Flight",
    "parse_view",
    "parse_time",
    "load_flight",
    "load_flights",
    "load_index",
    "add_use_parsers",
]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_ZIP_MAGIC = b"PK\x03\x04"  # an index file (.npz)


# --------------------------------------------------------------------------- inputs


_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def parse_time(text: str) -> float:
    """Seconds from ``SS.fff``, ``M:SS.fff`` or ``H:MM:SS.fff`` (ValueError otherwise).

    Examples
    --------
    >>> parse_time("12.5"), parse_time("1:02.5"), parse_time("1:00:00")
    (12.5, 62.5, 3600.0)
    """
    parts = text.strip().split(":")
    # plain decimals only: float() also takes "1_0", "nan", "inf" and "1e9"
    if not 1 <= len(parts) <= 3 or not all(_DECIMAL.fullmatch(p) for p in parts):
        raise ValueError(f"{text!r} is not a time (SECONDS, M:SS or H:MM:SS, each >= 0)")
    values = [float(p) for p in parts]
    if any(v >= 60 for v in values[1:]):
        raise ValueError(f"{text!r} is not a time (minutes and seconds after a ':' are < 60)")
    seconds = 0.0
    for v in values:
        seconds = seconds * 60.0 + v
    return seconds


def parse_view(text: str) -> tuple[Path, float | None]:
    """``(path, time)`` of a ``VIDEO@TIME`` frame, or ``(path, None)`` for an image file."""
    if "@" not in text or os.path.exists(text):
        return Path(text), None
    path, _, when = text.rpartition("@")
    if not path:
        raise ValueError(f"{text!r} names no video before the '@'")
    return Path(path), parse_time(when)


@dataclass(frozen=True)
class Flight:
    """A flight given on the command line: its signature, the signature's file (None when
    it was summarized here) and its video (None when it is not at hand)."""

    signature: Signature
    signature_path: Path | None
    video: Path | None

    @property
    def name(self) -> str:
        if self.signature_path is not None and self.signature_path.name == "signature.json":
            return self.signature_path.parent.name
        return Path(self.signature.source.path).name or str(self.signature_path)


def _read_signature(path: Path) -> Signature:
    from framesig.signature import Signature

    try:
        return Signature.load(path)
    except FileNotFoundError:
        raise OpenError(str(path), "no such file") from None
    except UnicodeDecodeError:
        raise OpenError(str(path), "not a framesig signature (not UTF-8 JSON)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise OpenError(str(path), f"not a framesig signature ({exc})") from None


def load_flight(path: str | os.PathLike[str]) -> Flight:
    """A signature file, a folder with ``signature.json``, or a video summarized now."""
    import framesig
    from framesig.report import source_video

    p = Path(path)
    if not p.exists():
        raise OpenError(str(p), "no such file or folder")
    sig_file = p / "signature.json" if p.is_dir() else p
    if sig_file.suffix.lower() == ".json" and sig_file.is_file():
        sig = _read_signature(sig_file)
        return Flight(sig, sig_file, source_video(sig, sig_file))
    if p.is_dir():
        _check_image_folder(p)
    for magic, what in ((_ZIP_MAGIC, "an index file"), (_SQLITE_MAGIC, "a batch catalogue")):
        if _starts_with(p, magic):  # not a video: say so, not "FFmpeg cannot open it"
            raise OpenError(str(p), f"{what} of many flights, where one flight is wanted")
    sig = framesig.summarize(p)
    return Flight(sig, None, p)


def _check_image_folder(folder: Path) -> None:
    """A folder that is no flight: say what it holds instead (images make one)."""
    from framesig.decode import IMAGE_EXTENSIONS

    entries = sorted(folder.iterdir())
    if any(e.suffix.lower() in IMAGE_EXTENSIONS and e.is_file() for e in entries):
        return
    inner = [e.name for e in entries if (e / "signature.json").is_file()]
    cause = "no signature.json and no images in it"
    if inner:
        names = ", ".join(inner[:3]) + (", ..." if len(inner) > 3 else "")
        cause += f"; its subfolders hold {len(inner)} flights ({names}): name one"
    raise OpenError(str(folder), cause)


def load_flights(paths: list[str]) -> list[Flight]:
    """Flights from each path; a folder of signature folders (a ``batch`` output) gives
    every flight in it."""
    from framesig.index import load_signatures
    from framesig.report import source_video

    out: list[Flight] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir() and not (p / "signature.json").is_file():
            found = load_signatures([p])
            if found:
                out.extend(Flight(s, f, source_video(s, f)) for f, s in found)
                continue
        out.append(load_flight(p))
    return out


def _starts_with(path: Path, magic: bytes) -> bool:
    if not path.is_file():
        return False
    with open(path, "rb") as fh:
        return fh.read(len(magic)) == magic


def _is_catalogue(path: Path) -> bool:
    return _starts_with(path, _SQLITE_MAGIC)


def load_index(paths: list[str]) -> FlightIndex:
    """An index of the flights in ``paths``: index files (``.fsidx``), signature files and
    folders, and ``batch`` catalogues (``framesig.db``), in any mix. A flight given twice
    (the same signature by two paths, or the same record in two index files) is indexed
    once."""
    from framesig.catalog import Catalog, CatalogError
    from framesig.index import FlightIndex

    index = FlightIndex()
    # a flight, whether from a signature or an index record, is what it holds: its length
    # and its states' hashes (not its path: one file has many spellings, and an SD card
    # gives the same name to another flight every day)
    seen: set[tuple[float, int, tuple[int, ...]]] = set()

    def add(sig: Signature, name: str, where: str) -> None:
        src = sig.source
        key = (float(src.duration), src.frames, tuple(int(st.hash, 16) for st in sig.states))
        if key not in seen:
            seen.add(key)
            index.add(sig, name=name, signature_path=where)

    for raw in paths:
        p = Path(raw)
        if _is_catalogue(p):
            with Catalog(p, readonly=True) as db:
                for row in db.flights(status="ok"):
                    try:
                        sig = db.signature(int(row["id"]))
                    except CatalogError as exc:  # one damaged record: the others still count
                        print(
                            f"framesig: {exc}; left out (batch --force redoes it)", file=sys.stderr
                        )
                        continue
                    if sig is not None:
                        add(sig, str(row["name"]), f"{p}#{row['id']}")
        elif _starts_with(p, _ZIP_MAGIC):  # an index file: its flights as they are
            other = FlightIndex.load(p)
            new = []
            held = other.state_hashes()
            for k, r in enumerate(other.flights):
                key = (float(r.duration), r.frames, held[k])
                if key not in seen:
                    seen.add(key)
                    new.append(k)
            index.merge(other, new)
        else:
            for f in load_flights([raw]):
                add(f.signature, f.name, str(f.signature_path or ""))
    if not index.flights:
        raise OpenError(", ".join(paths), "no flights found")
    return index


# --------------------------------------------------------------------------- output


def _fmt(seconds: float) -> str:
    from framesig.outputs import format_time

    return format_time(seconds)


def _spans(spans: Any, limit: int = 6) -> str:
    items = [f"{_fmt(a)}-{_fmt(b)}" for a, b in list(spans)[:limit]]
    more = len(spans) - limit
    return "  ".join(items) + (f"  (+{more} more)" if more > 0 else "")


def _usage(command: str, message: str) -> int:
    print(f"framesig {command}: error: {message}", file=sys.stderr)
    return 2


def _cmd_index(args: argparse.Namespace) -> int:
    index = load_index(args.sources)
    index.save(args.out)
    print(f"indexed {len(index)} state(s) of {len(index.flights)} flight(s) into {args.out}")
    return 0


def _cmd_find(args: argparse.Namespace) -> int:
    from framesig.index import load_image

    try:
        path, when = parse_view(args.view)
    except ValueError as exc:
        return _usage("find", str(exc))
    index = load_index(args.sources)
    limits = {"max_hash": args.max_hash, "max_hist": args.max_hist, "limit": args.limit}
    query: dict[str, object]
    if when is None:
        try:
            image = load_image(path)
        except OpenError as exc:
            if path.exists():  # most likely a video given without a time
                raise OpenError(
                    str(path), f"{exc.cause}; for a frame of a video write {path}@SECONDS"
                ) from None
            raise
        hits = index.find_image(image, **limits)
        query = {"image": str(path)}
    else:
        hits = index.find_frame(path, when, fps=args.fps, **limits)
        query = {"video": str(path), "time": when}
    if args.json:
        print(
            json.dumps(
                {"query": query, "flights": len(index.flights), "hits": [asdict(h) for h in hits]},
                indent=1,
            )
        )
        return 0
    what = str(path) if when is None else f"{path} at {_fmt(when)}"
    n = len(index.flights)
    if not hits:
        print(f"{what}: no match in {n} flight(s)")
        return 0
    flights = len({h.flight for h in hits})
    print(f"{what}: {len(hits)} match(es) in {flights} of {n} flight(s), closest first")
    width = max(len(h.flight) for h in hits)
    for k, h in enumerate(hits, 1):
        print(
            f"{k:3d}. {h.flight:<{width}}  state {h.state:<4d} hash {h.hash_distance:2d} bits  "
            f"hist {h.hist_distance:.3f}  score {h.score:.3f}"
        )
        seen = "" if h.seen is None else f"closest at {_fmt(h.seen)}; "
        print(f"       {seen}{_spans(h.ranges)}")
    return 0


def _patrol_lines(label: str, patrols: tuple[Patrol, ...]) -> list[str]:
    if not patrols:
        return [f"repeats in {label}: none"]
    lines = [f"repeats in {label}: {len(patrols)}"]
    for p in patrols:
        starts = ", ".join(_fmt(s) for s in p.cycle_starts)
        lines.append(
            f"  {p.count}x a cycle of {p.period} (states {list(p.pattern)}), "
            f"{_fmt(p.start_time)}-{_fmt(p.end_time)}, {p.cycle_seconds:.1f} s a cycle; "
            f"cycles start {starts}"
        )
    return lines


def _cmd_compare(args: argparse.Namespace) -> int:
    from framesig.compare import compare, repeats

    a, b = load_flight(args.a), load_flight(args.b)
    opts = {"max_hash": args.max_hash, "max_hist": args.max_hist, "min_dwell": args.min_dwell}
    cmp = compare(a.signature, b.signature, **opts)
    rep_a = repeats(a.signature, min_dwell=args.min_dwell)
    rep_b = repeats(b.signature, min_dwell=args.min_dwell)
    if args.json:
        out = {
            "a": args.a,
            "b": args.b,
            "comparison": cmp.to_dict(),
            "repeats": {"a": [asdict(p) for p in rep_a], "b": [asdict(p) for p in rep_b]},
        }
        print(json.dumps(out, indent=1, allow_nan=False))
        return 0
    sa, sb = a.signature.source, b.signature.source
    lines = [
        f"A: {args.a} ({_fmt(sa.duration)}, {len(a.signature.states)} states)",
        f"B: {args.b} ({_fmt(sb.duration)}, {len(b.signature.states)} states)",
        f"similarity: {cmp.similarity:.3f}  (share of both flights' time aligned to the same view)",
        f"shared route segments: {len(cmp.shared)}",
    ]
    for s in cmp.shared:
        lines.append(
            f"  A {_fmt(s.a_start)}-{_fmt(s.a_end)} ~ B {_fmt(s.b_start)}-{_fmt(s.b_end)}: "
            f"A states {list(s.a_states)}, B states {list(s.b_states)}; "
            f"A flew it {len(s.a_flown)}x, B {len(s.b_flown)}x"
        )
    for label, only in (("A", cmp.only_a), ("B", cmp.only_b)):
        other = "B" if label == "A" else "A"
        lines.append(f"seen in {label}, never in {other}: {len(only)} state(s)")
        for u in only[:20]:
            kind = "dwell" if u.dwell else "transit"
            lines.append(f"  state {u.state} ({kind}) {u.seconds:.1f} s: {_spans(u.ranges, 4)}")
        if len(only) > 20:
            lines.append(f"  ... {len(only) - 20} more")
    lines.append(f"order changes: {len(cmp.order_changes)}")
    for oc in cmp.order_changes:
        lines.append(
            f"  A state {oc.a_state} at {_fmt(oc.a_time)} / B state {oc.b_state} at "
            f"{_fmt(oc.b_time)}: visited out of the common order"
        )
    lines += _patrol_lines("A", rep_a) + _patrol_lines("B", rep_b)
    print("\n".join(lines))
    return 0


def _detect(
    flight: Flight, args: argparse.Namespace, video: Path | None
) -> tuple[Any, Path | None]:
    """The flight's anomalies, and its video as far as decoding it all confirmed (None: a
    recorded video with another frame count is left out, with a note)."""
    from framesig.anomaly import detect, frame_profile

    refs = [f.signature for f in load_flights(args.reference or [])]
    profile = None
    if video is not None and not args.no_profile:
        profile = frame_profile(video, fps=flight.signature.settings.get("fps"))
        src, decoded = flight.signature.source, len(profile.times)
        if decoded < src.frames or (decoded > src.frames and not src.partial):
            why = f"not this flight's video: {decoded} frames, the signature has {src.frames}"
            if args.video:
                raise OpenError(str(video), why)
            print(f"framesig: {video}: {why}; not used", file=sys.stderr)  # changed since
            profile, video = None, None
    found = detect(
        flight.signature,
        refs,
        profile=profile,
        min_dwell=args.min_dwell,
        expected_share=args.expected_share,
    )
    return found, video


def _cmd_anomalies(args: argparse.Namespace) -> int:
    flight = load_flight(args.flight)
    report, _ = _detect(flight, args, _video_of(flight, args))
    if args.json:
        print(report.to_json(indent=1))
        return 0
    refs = len(report.references)
    how = [
        f"against {refs} reference flight(s)" if refs else "no reference",
        "video decoded" if report.profiled else "video not checked",
    ]
    print(f"{args.flight}: {len(report.anomalies)} anomalies ({'; '.join(how)})")
    for a in report.anomalies:
        states = f"  states {list(a.states)}" if a.states else ""
        print(
            f"  {a.kind:<14} {_fmt(a.start_time)}-{_fmt(a.end_time)}  score {a.score:.2f}  "
            f"{a.detail}{states}"
        )
    return 0


def _video_of(flight: Flight, args: argparse.Namespace) -> Path | None:
    """The flight's video: ``--video`` when given, else where the signature says, if it is
    there; either is checked to be the signature's, cheaply, before anything decodes it.
    A ``--video`` that is not is an error; a recorded path that holds another video now is
    left out, with a note (the keyframes are then placeholders)."""
    video = Path(args.video) if args.video else flight.video
    if video is None:
        return None
    try:
        other = _not_this_flights(flight, video)
    except FramesigError as exc:  # damaged or gone since
        if args.video:
            raise
        other = exc.cause
    if other and args.video:
        raise OpenError(str(video), other)
    if other:
        print(f"framesig: {video}: {other}; not used", file=sys.stderr)
        return None
    return video


def _not_this_flights(flight: Flight, video: Path) -> str:
    """Why ``video`` is not the flight's (size, length or pictures differ), or ''."""
    from framesig.decode import open_source

    fps = flight.signature.settings.get("fps")  # a folder of images: its frame rate
    with open_source(video, fps=fps) as src:  # decodes the first frame only
        info = src.info
    s = flight.signature.source
    size, want = (info.display_width, info.display_height), (s.display_width, s.display_height)
    length, slack = info.container_duration, max(2.0, 0.1 * s.duration)
    # a partial signature (max_frames, a cut-short file) is of the start of a longer video
    if size != want or (
        length > 0
        and (length < s.duration - slack or (length > s.duration + slack and not s.partial))
    ):
        return (
            f"not this flight's video: {size[0]}x{size[1]}, {length:.1f} s; the signature's "
            f"is {want[0]}x{want[1]}, {s.duration:.1f} s"
        )
    return _not_its_pictures(flight.signature, video)


def _not_its_pictures(sig: Signature, video: Path, checks: int = 3) -> str:
    """Why ``video`` does not show the flight's pictures, or '': the earliest frames the
    signature names (keyframes, views) are looked for as ``find`` would, each among its own
    state; one found is enough (a video of the same size and length, another flight's)."""
    from framesig.index import FlightIndex, features_at

    named = sorted((t, st.id) for st in sig.states for t in (st.keyframe_time, *st.view_times))[
        :checks
    ]
    if not named:
        return ""
    index = FlightIndex.from_signatures([sig])
    try:
        features = features_at(video, [t for t, _ in named], fps=sig.settings.get("fps"))
    except FramesigError as exc:  # shorter than the flight: not its video
        return f"not this flight's video ({exc.cause})"
    for (qh, qhist), (_, state) in zip(features, named, strict=True):
        if any(h.state == state for h in index.find(qh, qhist, limit=None)):
            return ""
    times = ", ".join(_fmt(t) for t, _ in named)
    return f"not this flight's video: its frames at {times} are not the flight's states"


def _cmd_report(args: argparse.Namespace) -> int:
    from framesig.report import load_keyframes, write_report

    flight = load_flight(args.flight)
    video = _video_of(flight, args)
    anomalies = None
    if not args.no_anomalies:
        anomalies, video = _detect(flight, args, video)
    keyframes = load_keyframes(
        flight.signature, flight.signature_path, video=video, from_source=False
    )
    out = write_report(
        flight.signature,
        args.out,
        anomalies=anomalies,
        keyframes=keyframes,
        title=args.title,
    )
    if not args.quiet:
        missing = len(flight.signature.states) - len(keyframes)
        note = f" ({missing} keyframe(s) not at hand: placeholders)" if missing else ""
        print(f"wrote {out}{note}")
    return 0


# --------------------------------------------------------------------------- parsers


def _non_negative(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not v >= 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a number >= 0")
    return v


def _share(text: str) -> float:
    v = _non_negative(text)
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be in (0, 1]")
    return v


def _whole(lo: int, hi: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number in ``lo..hi`` (no upper end when ``hi`` is None)."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if v < lo or (hi is not None and v > hi):
            bounds = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
            raise argparse.ArgumentTypeError(f"{text!r} must be {bounds}")
        return v

    return parse


def _hist(text: str) -> float:
    v = _non_negative(text)
    if v > 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be in 0..1")
    return v


def _add_match_options(p: argparse.ArgumentParser) -> None:
    from framesig.limits import MAX_HASH, MAX_HIST

    p.add_argument(
        "--max-hash",
        dest="max_hash",
        type=_whole(0, 24),
        default=MAX_HASH,
        help=f"pHash bits two views of one place may differ by, 0..24 (default {MAX_HASH})",
    )
    p.add_argument(
        "--max-hist",
        dest="max_hist",
        type=_hist,
        default=MAX_HIST,
        help=f"chroma histogram distance they may differ by, 0..1 (default {MAX_HIST})",
    )


def _add_anomaly_options(p: argparse.ArgumentParser) -> None:
    from framesig.limits import MIN_DWELL

    p.add_argument(
        "--reference",
        action="append",
        metavar="REF",
        help="a reference flight (signature, folder or video); repeat for several",
    )
    p.add_argument("--video", help="the flight's video, when it is not where the signature says")
    p.add_argument(
        "--no-profile",
        dest="no_profile",
        action="store_true",
        help="skip the checks that decode the video again (blackout, blur, exposure, gaps)",
    )
    p.add_argument(
        "--min-dwell",
        dest="min_dwell",
        type=_non_negative,
        default=MIN_DWELL,
        help=f"seconds a run must last to count as a place (default {MIN_DWELL})",
    )
    p.add_argument(
        "--expected-share",
        dest="expected_share",
        type=_share,
        default=0.5,
        help="share of references that must dwell at a place to expect it (default 0.5)",
    )


def add_use_parsers(sub: Any) -> None:
    """Add ``index``, ``find``, ``compare``, ``anomalies`` and ``report`` to the parser."""
    from framesig.limits import MIN_DWELL

    p = sub.add_parser(
        "find",
        help="which flights saw this view, when (ranked)",
        description="Find a view in many flights: an image file, or VIDEO@TIME for the frame "
        "of a video shown at TIME (seconds, M:SS or H:MM:SS; e.g. clip.mp4@12.5).",
    )
    p.add_argument("view", help="an image file, or VIDEO@TIME")
    p.add_argument(
        "--in",
        dest="sources",
        nargs="+",
        required=True,
        metavar="CATALOGUE_OR_SIGNATURES",
        help="an index (.fsidx), a batch catalogue (framesig.db), signature files or folders",
    )
    _add_match_options(p)
    p.add_argument("--limit", type=_whole(1), default=20, help="at most N matches (20)")
    p.add_argument(
        "--fps", type=float, help="frame rate of a VIDEO that is a folder of images (as summarized)"
    )
    p.add_argument("--json", action="store_true", help="print the matches as JSON")
    p.set_defaults(func=_cmd_find)

    p = sub.add_parser(
        "index",
        help="build an index file (.fsidx) of many flights for find",
        description="Index the states of many flights once, so that find reads one file.",
    )
    p.add_argument(
        "sources",
        nargs="+",
        metavar="CATALOGUE_OR_SIGNATURES",
        help="batch catalogues (framesig.db), signature files or folders, other index files",
    )
    p.add_argument("-o", "--out", required=True, help="the index file to write (.fsidx)")
    p.set_defaults(func=_cmd_index)

    p = sub.add_parser(
        "compare",
        help="compare two flights: shared route, what each alone saw, order, repeats",
        description="A and B are signature files, folders holding signature.json, or videos.",
    )
    p.add_argument("a", help="flight A (signature, folder or video)")
    p.add_argument("b", help="flight B (signature, folder or video)")
    _add_match_options(p)
    p.add_argument(
        "--min-dwell",
        dest="min_dwell",
        type=_non_negative,
        default=MIN_DWELL,
        help=f"seconds a run must last to count as a place (default {MIN_DWELL})",
    )
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser(
        "anomalies",
        help="anomalies of a flight, against reference flights and within the flight",
    )
    p.add_argument("flight", help="the flight (signature, folder or video)")
    _add_anomaly_options(p)
    p.add_argument("--json", action="store_true", help="print the anomaly report as JSON")
    p.set_defaults(func=_cmd_anomalies)

    p = sub.add_parser(
        "report",
        help="one self-contained HTML page: timeline, keyframes, transitions, repeats, anomalies",
    )
    p.add_argument("flight", help="the flight (signature, folder or video)")
    p.add_argument("-o", "--out", default="report.html", help="the HTML file (report.html)")
    p.add_argument("--title", help="the page's heading (default: the video's file name)")
    p.add_argument(
        "--no-anomalies", dest="no_anomalies", action="store_true", help="skip the anomaly checks"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    _add_anomaly_options(p)
    p.set_defaults(func=_cmd_report)
