"""The flight signature: an immutable, versioned result that round-trips JSON exactly.

A :class:`Signature` holds the source facts, the settings used, the states (each with its
hash and a representative keyframe), the runs (which cover every decoded frame exactly
once, in order), the transitions, the transients (short excursions that did not change
state), and the repeats found by the failure-function automaton.

Times are seconds from the stream's start, taken from each frame's own PTS; ``*_pts``
fields keep the exact integer PTS in ``source.time_base``. A run's ``end_time`` is where
its last frame ends, which is where the next run starts.

Examples
--------
>>> import numpy as np, framesig
>>> frames = [np.full((64, 64, 3), 0, np.uint8)] * 5 + [np.full((64, 64, 3), 255, np.uint8)] * 5
>>> sig = framesig.summarize(frames, fps=10)
>>> [(r.state, r.start_frame, r.end_frame) for r in sig.runs]
[(0, 0, 4), (1, 5, 9)]
>>> Signature.from_json(sig.to_json()) == sig
True
"""

from __future__ import annotations

import bisect
import json
import math
import os
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

from framesig import automaton
from framesig.files import write_atomically
from framesig.values import ImageHash

__all__ = [
    "SCHEMA_VERSION",
    "SourceFacts",
    "State",
    "Run",
    "Transition",
    "Transient",
    "Loop",
    "Recurrence",
    "Signature",
]

SCHEMA_VERSION = 1
HIST_BINS = 128  # kernels.HIST_BINS, which cannot be imported here without numba
CHROMA_BINS = 16  # kernels.C_BINS ** 2


@dataclass(frozen=True)
class SourceFacts:
    """What the input is and what decoding it found.

    ``frames`` is the number of frames actually decoded (never the container's claim,
    kept separately as ``nominal_frames``); ``duration`` is where the last frame ends.
    """

    path: str
    kind: str
    container: str
    codec: str
    pix_fmt: str
    bit_depth: int
    width: int
    height: int
    display_width: int
    display_height: int
    sample_aspect_ratio: str
    rotation: int
    fps: float
    time_base: str
    start_time: float
    frames: int
    duration: float
    nominal_frames: int
    truncated: bool
    estimated_timestamps: bool
    estimated_frames: int
    skipped_packets: int
    skipped_frames: int
    partial: bool
    decode_errors: tuple[str, ...]


@dataclass(frozen=True)
class State:
    """A visual state: one place or view.

    Attributes
    ----------
    id : int
        0, 1, 2, ... in order of first appearance.
    hash : str
        The state's pHash (16 hex digits): the majority of its first settled frames.
    keyframe, keyframe_time, keyframe_pts : int, float, int
        The frame that represents the state (sharp and typical), and when it was shown.
    frames, runs : int
        How many frames and runs the state has.
    first_time : float
        When the state was first shown.
    hist : tuple of float
        The state's joint colour histogram (``HIST_BINS`` bins, 4 decimals), for matching
        states across flights; empty in signatures written before it existed.
    views, view_frames, view_times, view_pts, view_chroma : tuple
        Where the view drifted: the hashes of frames of the state (with their frames, times,
        PTS and chroma histograms, ``CHROMA_BINS`` bins a view one after another) that, with
        ``hash`` and ``hist``, come within a few bits and a little colour of every frame of
        the state (:func:`framesig.quantize.state_views`). ``find`` matches a state by its
        hash or any view. Empty for a state that held still, and in signatures written
        before views existed (``view_pts`` and ``view_chroma`` may be empty then).
    hash_time : float or None
        When the frame nearest ``hash`` was shown (None: not known, or only flat frames).
    burst : bool
        A burst of brief views that never settled (a tumble): one state, but no place, so
        never a dwell however long it lasted (:func:`framesig.quantize.merge_bursts`).
    """

    id: int
    hash: str
    keyframe: int
    keyframe_time: float
    keyframe_pts: int
    frames: int
    runs: int
    first_time: float
    hist: tuple[float, ...] = ()
    views: tuple[str, ...] = ()
    view_frames: tuple[int, ...] = ()
    view_times: tuple[float, ...] = ()
    view_pts: tuple[int, ...] = ()
    view_chroma: tuple[float, ...] = ()
    hash_time: float | None = None
    burst: bool = False

    @property
    def image_hash(self) -> ImageHash:
        return ImageHash.from_hex(self.hash)


@dataclass(frozen=True)
class Run:
    """Frames ``start_frame``..``end_frame`` (inclusive) all in ``state``."""

    state: int
    start_frame: int
    end_frame: int
    start_time: float
    end_time: float
    start_pts: int
    end_pts: int

    @property
    def frames(self) -> int:
        return self.end_frame - self.start_frame + 1


@dataclass(frozen=True)
class Transition:
    """The state changes at ``frame`` (the first frame of ``to_state``)."""

    frame: int
    time: float
    pts: int
    from_state: int
    to_state: int
    hash_distance: int
    hist_distance: float
    revisit: bool
    # "cut": the view jumps at ``frame``; "gradual": it changed a little each frame (a fade,
    # a dissolve, a transit) and ``frame`` is where the change had gone far enough
    kind: str = "cut"


@dataclass(frozen=True)
class Transient:
    """A short excursion (flash, glint, dropped frame) that did not change the state."""

    start_frame: int
    end_frame: int
    start_time: float
    end_time: float


@dataclass(frozen=True)
class Loop:
    """A cycle of states flown ``count`` times in a row (indices are run indices)."""

    start_run: int
    period: int
    count: int
    pattern: tuple[int, ...]
    start_frame: int
    end_frame: int
    start_time: float
    end_time: float


@dataclass(frozen=True)
class Recurrence:
    """A stretch of ``length`` runs first flown at ``first_run`` and again at ``later_run``."""

    first_run: int
    later_run: int
    length: int
    pattern: tuple[int, ...]
    first_time: float
    later_time: float


T = TypeVar("T")
_OBJECTS = ("source", "settings", "noise_floor")  # the parts of a signature file
_LISTS = ("states", "runs", "transitions", "transients", "loops", "recurrences")


def _is_int(v: Any) -> bool:
    # 64-bit: frame numbers and PTS go to FFmpeg and numpy as such
    return isinstance(v, int) and not isinstance(v, bool) and -(2**63) <= v < 2**63


def _is_float(v: Any) -> bool:
    if _is_int(v):
        return abs(v) < 2**1023  # a JSON integer too long for a float is no time
    return isinstance(v, float) and math.isfinite(v)


# What each field annotation admits, as a signature file holds it (JSON: lists for tuples).
_CHECKS: dict[str, Callable[[Any], bool]] = {
    "int": _is_int,
    "float": _is_float,
    "str": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "tuple[int, ...]": lambda v: isinstance(v, list) and all(map(_is_int, v)),
    "tuple[float, ...]": lambda v: isinstance(v, list) and all(map(_is_float, v)),
    "tuple[str, ...]": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "float | None": lambda v: v is None or _is_float(v),
}


def _build(cls: type[T], data: Any) -> T:
    """``cls`` from a JSON object, each field checked against its annotation (ValueError)."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: an object was expected, got {type(data).__name__}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ValueError(f"{cls.__name__}: missing field {f.name!r}")
            continue
        value = data[f.name]
        if not _CHECKS[str(f.type)](value):
            raise ValueError(f"{cls.__name__}.{f.name}: not a valid {f.type}: {value!r:.60}")
        kwargs[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)


def _in_run(value: float, start: float, end: float, tol: float = 0.0) -> bool:
    """In ``[start, end)``, within ``tol``: a run ends where the next begins, so its end is
    not one of its frames (``start`` itself always is: a cut-short run may last no time)."""
    return start - tol <= value and (value < end or value <= start + tol)


def _check_named_frames(sig: Signature) -> None:
    """Every frame a state names (keyframe, views) lies in one of the state's own runs, with
    a time and PTS inside that run's, the time the PTS's (``pts * time_base`` less the
    first frame's, as for every run's start); ``hash_time`` lies in one of its runs too.
    (Frames are sought again by PTS: a PTS from elsewhere would draw another picture.)"""
    tb = Fraction(sig.source.time_base)
    # times count from the first frame shown, whose PTS need not be the stream's start
    first = sig.runs[0] if sig.runs else None
    origin = first.start_pts * tb - Fraction(first.start_time) if first else Fraction(0)

    def at(pts: int) -> float:  # when a PTS is shown: every time here is one of these
        return float(pts * tb - origin)

    own: dict[int, list[Run]] = {}
    for k, run in enumerate(sig.runs):
        own.setdefault(run.state, []).append(run)
        if abs(at(run.start_pts) - run.start_time) > 1e-6:
            raise ValueError(f"runs[{k}]: start time {run.start_time:g} s is not its PTS's")
    eps = 1e-9
    for st in sig.states:
        runs = own.get(st.id, [])
        where = f"states[{st.id}]"
        if sig.runs and not runs:
            raise ValueError(f"{where}: the state has no run")
        starts = [r.start_frame for r in runs]
        view_pts: tuple[int | None, ...] = st.view_pts or (None,) * len(st.views)
        named: list[tuple[int, float, int | None]] = [
            (st.keyframe, st.keyframe_time, st.keyframe_pts)
        ]
        named += zip(st.view_frames, st.view_times, view_pts, strict=True)
        for frame, when, pts in named:
            k = bisect.bisect_right(starts, frame) - 1
            if k < 0 or frame > runs[k].end_frame:
                raise ValueError(f"{where}: frame {frame} is in none of the state's runs")
            run = runs[k]
            if not _in_run(when, run.start_time, run.end_time, eps):
                raise ValueError(f"{where}: frame {frame}'s time {when:g} s is not its run's")
            if pts is not None and not _in_run(pts, run.start_pts, run.end_pts):
                raise ValueError(f"{where}: frame {frame}'s PTS {pts} is not its run's")
            if pts is not None and abs(at(pts) - when) > 1e-6:
                raise ValueError(f"{where}: frame {frame}'s time {when:g} s is not its PTS's")
        if st.hash_time is not None and runs:
            k = bisect.bisect_right([r.start_time for r in runs], st.hash_time + eps) - 1
            if k < 0 or st.hash_time > runs[k].end_time + eps:
                raise ValueError(f"{where}: hash_time is in none of the state's runs")


_MAX_SECONDS = 1e9  # about 32 years: any time past this is damage, not a flight


def _check_parts(sig: Signature) -> None:
    """Transitions at run starts, transients, loops and recurrences over the runs there
    are, every time of the flight finite and bounded (they index runs and are printed)."""
    runs, n_states = sig.runs, len(sig.states)
    starts = {r.start_frame: k for k, r in enumerate(runs)}
    times = [sig.source.duration, sig.source.start_time]
    for r in runs:
        times += (r.start_time, r.end_time)
    if not all(abs(t) <= _MAX_SECONDS for t in times):  # NaN fails this too
        raise ValueError(f"runs or source: a time beyond {_MAX_SECONDS:g} s")
    first = runs[0].start_time if runs else 0.0
    last = runs[-1].end_time if runs else 0.0

    def in_flight(where: str, *values: float) -> None:
        if runs and not all(first - 1e-9 <= v <= last + 1e-9 for v in values):
            raise ValueError(f"{where}: a time outside the flight ({first:g}..{last:g} s)")

    for st in sig.states:
        in_flight(f"states[{st.id}]", st.first_time)
    for k, t in enumerate(sig.transitions):
        at = starts.get(t.frame, 0)
        if at == 0 or (runs[at - 1].state, runs[at].state) != (t.from_state, t.to_state):
            raise ValueError(
                f"transitions[{k}]: frame {t.frame} is not a change between its states"
            )
        in_flight(f"transitions[{k}]", t.time)
    for k, tr in enumerate(sig.transients):
        if not 0 <= tr.start_frame <= tr.end_frame < sig.source.frames:
            raise ValueError(f"transients[{k}]: frames out of range")
        in_flight(f"transients[{k}]", tr.start_time, tr.end_time)
    for k, lp in enumerate(sig.loops):
        end = lp.start_run + lp.period * lp.count
        if not (0 <= lp.start_run and lp.period >= 1 and lp.count >= 1 and end <= len(runs)):
            raise ValueError(f"loops[{k}]: runs beyond the {len(runs)} there are")
        if len(lp.pattern) != lp.period or not all(0 <= x < n_states for x in lp.pattern):
            raise ValueError(f"loops[{k}]: a pattern that is not {lp.period} of the states")
        in_flight(f"loops[{k}]", lp.start_time, lp.end_time)
    for k, rc in enumerate(sig.recurrences):
        if not (0 <= rc.first_run < rc.later_run and rc.length >= 1):
            raise ValueError(f"recurrences[{k}]: runs out of order")
        if rc.later_run + rc.length > len(runs):
            raise ValueError(f"recurrences[{k}]: runs beyond the {len(runs)} there are")
        if len(rc.pattern) != rc.length or not all(0 <= x < n_states for x in rc.pattern):
            raise ValueError(f"recurrences[{k}]: a pattern that is not {rc.length} of the states")
        in_flight(f"recurrences[{k}]", rc.first_time, rc.later_time)
    fps = sig.settings.get("fps")
    if fps is not None and not (_is_float(fps) and 0 < fps <= 1e6):
        raise ValueError(f"settings.fps: {fps!r} is not a frame rate")


def _check_consistent(sig: Signature) -> None:
    """ValueError unless the parts of ``sig`` agree: what :meth:`Signature.from_dict` reads
    is used as it is (state ids index tables, runs tile the frames)."""
    src = sig.source
    if src.frames < 0 or src.duration < 0 or src.fps < 0:
        raise ValueError("source: negative frames, duration or fps")
    if src.rotation not in (0, 90, 180, 270):
        raise ValueError(f"source: rotation {src.rotation} is not a quarter turn")
    try:
        positive = Fraction(src.time_base) > 0
    except (ValueError, ZeroDivisionError):
        positive = False
    if not positive:
        raise ValueError(f"source: time base {src.time_base!r} is not a positive fraction")
    ids = [st.id for st in sig.states]
    if ids != list(range(len(ids))):
        raise ValueError("states: ids must be 0, 1, 2, ... in order")
    for st in sig.states:
        ImageHash.from_hex(st.hash)  # 16 hex digits
        if len(st.hist) not in (0, HIST_BINS):
            raise ValueError(f"states[{st.id}]: a histogram of {len(st.hist)} bins")
        if not 0 <= st.keyframe < max(src.frames, 1) or st.frames < 0 or st.runs < 0:
            raise ValueError(f"states[{st.id}]: keyframe or counts out of range")
        for h in st.views:
            ImageHash.from_hex(h)
        if not len(st.views) == len(st.view_frames) == len(st.view_times):
            raise ValueError(f"states[{st.id}]: views, view_frames and view_times differ in length")
        if len(st.view_pts) not in (0, len(st.views)):
            raise ValueError(f"states[{st.id}]: view_pts and views differ in length")
        if len(st.view_chroma) not in (0, CHROMA_BINS * len(st.views)):
            raise ValueError(f"states[{st.id}]: view_chroma is not {CHROMA_BINS} bins a view")
        if not all(0.0 <= c <= 1.0 for c in st.view_chroma):
            raise ValueError(f"states[{st.id}]: a view_chroma bin outside 0..1")
        if not all(0 <= f < src.frames for f in st.view_frames):
            raise ValueError(f"states[{st.id}]: a view frame out of range")
    frame = 0
    for k, run in enumerate(sig.runs):
        if not 0 <= run.state < len(ids):
            raise ValueError(f"runs[{k}]: state {run.state} is not one of the states")
        if run.start_frame != frame or run.end_frame < run.start_frame:
            span = f"{run.start_frame}-{run.end_frame}"
            raise ValueError(f"runs[{k}]: frames {span} do not follow on from frame {frame}")
        if run.end_time < run.start_time or run.end_pts < run.start_pts:
            raise ValueError(f"runs[{k}]: it ends before it starts")
        nxt = sig.runs[k + 1] if k + 1 < len(sig.runs) else None
        if nxt is not None and (run.end_time, run.end_pts) != (nxt.start_time, nxt.start_pts):
            raise ValueError(f"runs[{k}]: it does not end where the next run starts")
        frame = run.end_frame + 1
    if frame != src.frames:
        raise ValueError(f"runs: they cover {frame} frames, the source has {src.frames}")
    _check_named_frames(sig)
    for k, t in enumerate(sig.transitions):
        if not (0 <= t.from_state < len(ids) and 0 <= t.to_state < len(ids)):
            raise ValueError(f"transitions[{k}]: a state that is not one of the states")
        if not 0 <= t.frame < max(src.frames, 1):
            raise ValueError(f"transitions[{k}]: frame {t.frame} is not one of the frames")
    _check_parts(sig)


@dataclass(frozen=True)
class Signature:
    """A flight signature. Build one with :func:`framesig.summarize`."""

    schema_version: int
    framesig_version: str
    source: SourceFacts
    settings: dict[str, Any]
    noise_floor: dict[str, float]
    states: tuple[State, ...]
    runs: tuple[Run, ...]
    transitions: tuple[Transition, ...]
    transients: tuple[Transient, ...]
    loops: tuple[Loop, ...]
    recurrences: tuple[Recurrence, ...]

    def __hash__(self) -> int:
        return hash((self.source.path, self.runs))

    # -- queries
    @property
    def symbols(self) -> tuple[int, ...]:
        """The run-collapsed symbol string: one state id per run."""
        return tuple(r.state for r in self.runs)

    def find(self, pattern: list[int] | tuple[int, ...]) -> list[tuple[float, float]]:
        """Time ranges where the state sequence ``pattern`` was flown (KMP, O(n + m))."""
        m = len(pattern)
        return [
            (self.runs[i].start_time, self.runs[i + m - 1].end_time)
            for i in automaton.find(self.symbols, list(pattern))
        ]

    def transition_graph(self) -> dict[tuple[int, int], int]:
        """Counts of each ``(from_state, to_state)`` change."""
        return automaton.transition_graph(self.symbols)

    def state_at(self, time: float) -> int:
        """The state shown at ``time`` seconds (the run whose span holds it)."""
        for run in self.runs:
            if run.start_time <= time < run.end_time:
                return run.state
        raise ValueError(f"time {time} is outside 0..{self.source.duration}")

    # -- serialisation
    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        """The signature ``data`` holds (as :meth:`to_dict` writes it).

        Raises
        ------
        ValueError
            ``data`` is not a signature of this schema version, a field has the wrong
            type (times must be finite), or the parts disagree (a run of an unknown
            state, runs that do not tile the frames in order).
        """
        if not isinstance(data, dict):
            raise ValueError(f"a JSON object was expected, got {type(data).__name__}")
        version = data.get("schema_version")
        if not _is_int(version) or version != SCHEMA_VERSION:  # not true, not 1.0
            raise ValueError(
                f"signature schema version {version!r} is not supported "
                f"(this framesig reads version {SCHEMA_VERSION})"
            )
        for names, kind in ((("framesig_version",), str), (_OBJECTS, dict), (_LISTS, list)):
            for k in names:
                if not isinstance(data.get(k), kind):
                    raise ValueError(f"{k}: missing, or not a JSON {kind.__name__}")
        sig = cls(
            schema_version=version,
            framesig_version=data["framesig_version"],
            source=_build(SourceFacts, data["source"]),
            settings=dict(data["settings"]),
            noise_floor=dict(data["noise_floor"]),
            states=tuple(_build(State, s) for s in data["states"]),
            runs=tuple(_build(Run, r) for r in data["runs"]),
            transitions=tuple(_build(Transition, t) for t in data["transitions"]),
            transients=tuple(_build(Transient, t) for t in data["transients"]),
            loops=tuple(_build(Loop, lp) for lp in data["loops"]),
            recurrences=tuple(_build(Recurrence, r) for r in data["recurrences"]),
        )
        _check_consistent(sig)
        return sig

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Signature:
        """:meth:`from_dict` of JSON text (ValueError for anything else)."""
        try:
            data = json.loads(text)
        except RecursionError:  # nested deeper than any signature is
            raise ValueError("JSON nested too deeply") from None
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the signature as JSON, atomically (a temp file renamed into place)."""
        text = self.to_json(indent=1)
        write_atomically(path, lambda file: file.write_text(text, encoding="utf-8"))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Signature:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))
