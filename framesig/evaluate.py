"""Accuracy against ground truth: how well a labelling of frames into states fits a flight.

A :class:`Labelling` gives each frame a state id and each state a keyframe. framesig's own
(:meth:`Labelling.from_signature`), a shot detector's (:meth:`Labelling.from_cuts`: every
scene a new state, its middle frame the keyframe) and the truth's own
(:meth:`Labelling.from_truth`) are scored alike against a
:class:`~framesig.synthetic.GroundTruth` by :func:`score`; :func:`pool` adds flights up.
Every metric is defined exactly in :class:`FlightScore`. Edited video with known cuts is
scored by :func:`cut_f1`.

Definitions used below: a *transition* is a frame ``f > 0`` whose state differs from frame
``f - 1``'s. The *margin* of a flight is ``round(0.5 s * fps)`` frames; a hover
``[s, e]``'s *interior* is ``[s + margin, e - margin]`` less the frames of any ``blackout``
or ``blur`` perturbation and the frame after each (those are loss of view, not the view:
their transitions are reported apart). The *slack* is ``max(2, round(fps / 10))`` frames.

Examples
--------
>>> from framesig import synthetic
>>> frames, truth = synthetic.render(synthetic.sample_plan(fps=10), size=(64, 36))
>>> perfect = score(truth, Labelling.from_truth(truth))
>>> perfect.hover_stability, perfect.revisit_f1, perfect.boundary_f1, perfect.coverage
(1.0, 1.0, 1.0, 1.0)
>>> one = score(truth, Labelling.from_cuts(truth.frames, []))
>>> one.revisit_recall, one.revisit_precision, one.boundary_recall
(1.0, 0.16666666666666666, 0.0)
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
from numba import njit

from framesig.errors import FramesigError
from framesig.synthetic import GroundTruth, perturbation_frames

__all__ = [
    "Labelling",
    "FlightScore",
    "score",
    "pool",
    "footprint",
    "footprint_iou",
    "CutScore",
    "cut_f1",
    "find_recall",
    "find_false_hits",
    "most_covered",
    "fewest_runs",
    "REAL_CUTS",
    "BOUNDARY_TOLERANCE",
    "COVERAGE_IOU",
    "MOST_COVERED_FRAMES",
    "MOST_COVERED_WORK",
]

BOUNDARY_TOLERANCE = 15
"""Frames either side of a true hover boundary within which a transition finds it."""

COVERAGE_IOU = 0.5
"""A frame is covered when its view overlaps its state's keyframe view by this IoU."""

_LOSS_KINDS = ("blackout", "blur")


class Labelling:
    """A state id per frame and a keyframe per state.

    Parameters
    ----------
    states : sequence of int
        The state of each frame, in display order.
    keyframes : mapping of int to int
        The keyframe (a frame index) of each state; every state must have one.
    name : str
        Who made it (for tables).
    cuts : sequence of int, optional
        The transitions the method calls cuts (default: all of them); scored by
        :func:`cut_f1`. framesig reports fades and dissolves as gradual transitions.

    Examples
    --------
    >>> lab = Labelling.from_cuts(6, [2, 4])
    >>> lab.states.tolist(), dict(lab.keyframes), lab.transitions.tolist()
    ([0, 0, 1, 1, 2, 2], {0: 0, 1: 2, 2: 4}, [2, 4])
    """

    def __init__(
        self,
        states: Sequence[int] | np.ndarray,
        keyframes: Mapping[int, int],
        name: str = "",
        cuts: Sequence[int] | None = None,
    ):
        arr = np.asarray(states, dtype=np.int64)
        if arr.ndim != 1:
            raise FramesigError(name or "labelling", "states must be one id per frame")
        missing = set(np.unique(arr).tolist()) - set(keyframes)
        if missing:
            raise FramesigError(
                name or "labelling", f"no keyframe for state(s) {sorted(missing)[:5]}"
            )
        bad = [k for k in keyframes.values() if not 0 <= k < len(arr)]
        if bad:
            raise FramesigError(
                name or "labelling", f"keyframe(s) {bad[:5]} outside 0..{len(arr) - 1}"
            )
        self.states = arr
        self.keyframes = dict(keyframes)
        self.name = name
        self._cuts = None if cuts is None else np.asarray(sorted(cuts), np.int64)

    def __len__(self) -> int:
        return len(self.states)

    @property
    def transitions(self) -> np.ndarray:
        """Frames whose state differs from the frame before."""
        return np.flatnonzero(self.states[1:] != self.states[:-1]) + 1

    @property
    def cuts(self) -> np.ndarray:
        """The transitions called cuts (all transitions unless given)."""
        return self.transitions if self._cuts is None else self._cuts

    @property
    def runs(self) -> int:
        return len(self.transitions) + 1 if len(self.states) else 0

    @classmethod
    def from_signature(cls, sig: object, name: str = "framesig") -> Labelling:
        """framesig's labelling: runs give the states, each state its own keyframe."""
        frames = int(sig.source.frames)  # type: ignore[attr-defined]
        states = np.full(frames, -1, np.int64)
        for r in sig.runs:  # type: ignore[attr-defined]
            states[r.start_frame : r.end_frame + 1] = r.state
        if (states < 0).any():
            raise FramesigError(name, "the runs do not cover every frame")
        keyframes = {s.id: s.keyframe for s in sig.states}  # type: ignore[attr-defined]
        cuts = [t.frame for t in sig.transitions if t.kind == "cut"]  # type: ignore[attr-defined]
        return cls(states, keyframes, name, cuts)

    @classmethod
    def from_cuts(cls, frames: int, cuts: Iterable[int], name: str = "") -> Labelling:
        """A shot detector's labelling: scene ``k`` (after the ``k``-th cut) is state ``k``.

        Cuts are the first frames of new scenes; cuts outside ``1..frames-1`` are dropped.
        Each scene's keyframe is its middle frame ``(first + last) // 2``.
        """
        starts = sorted({int(c) for c in cuts if 0 < int(c) < frames})
        bounds = [0, *starts, frames]
        states = np.empty(frames, np.int64)
        keys = {}
        for k in range(len(bounds) - 1):
            states[bounds[k] : bounds[k + 1]] = k
            keys[k] = (bounds[k] + bounds[k + 1] - 1) // 2
        return cls(states, keys, name)

    @classmethod
    def from_truth(cls, truth: GroundTruth, name: str = "truth") -> Labelling:
        """The labelling the truth implies, which scores perfectly.

        A hover's state is its place id, keyframed at the first visit's first frame. A
        transit is cut into pieces, each held while its frames' views overlap the piece's
        first frame by IoU >= :data:`COVERAGE_IOU`; each piece is a new state keyframed
        at that first frame.
        """
        states = np.empty(truth.frames, np.int64)
        keys: dict[int, int] = {}
        poses = np.asarray(truth.pose, np.float64)
        aspect = truth.size[1] / truth.size[0]
        next_id = max([int(str(s["place"])) for s in truth.segments] + [0]) + 1
        for seg in truth.segments:
            s, e = int(str(seg["start"])), int(str(seg["end"]))
            if seg["kind"] == "hover":
                place = int(str(seg["place"]))
                states[s : e + 1] = place
                keys.setdefault(place, s)
                continue
            first = s
            states[s] = next_id
            keys[next_id] = s
            for f in range(s + 1, e + 1):
                if footprint_iou(poses[f], poses[first], aspect) < COVERAGE_IOU:
                    next_id += 1
                    first = f
                    keys[next_id] = f
                states[f] = next_id
            next_id += 1
        return cls(states, keys, name)


@dataclass(frozen=True)
class FlightScore:
    """Counts from one flight (or several, pooled); the rates are properties.

    Attributes
    ----------
    frames, minutes : int, float
        Frames scored and their duration (``frames / fps / 60``).
    hover_frames, hover_majority : int
        Interior hover frames, and how many of them are on their hover's majority state
        (the most frequent state over that hover's interior; ties go to the lowest id).
        ``hover_stability = hover_majority / hover_frames`` (1 when there are no hovers).
    false_transitions, hover_minutes : int, float
        Transitions ``f`` with ``f - 1`` and ``f`` both in one hover's interior, and the
        interior's duration. ``false_per_minute = false_transitions / hover_minutes``.
    perturbations, perturbations_hit, perturbation_transitions : dict
        Per perturbation kind, over perturbations inside a hover: how many there are, how
        many have a transition in their window, and the transitions in the windows. A
        perturbation's window is its first frame through ``slack`` frames after its last
        (``perturbation_frames``).
    loss_transitions : int
        Transitions in the windows of ``blackout`` and ``blur`` perturbations (not false).
    revisit_tp, revisit_fp, revisit_fn : int
        Over every unordered pair of hovers in a flight: true "same place" iff the place
        ids are equal; predicted "same" iff the majority states are equal. TP: both; FP:
        predicted only; FN: true only. ``revisit_precision = tp / (tp + fp)`` (1 when
        nothing is predicted same), ``revisit_recall = tp / (tp + fn)`` (1 when no pair
        is the same place), ``revisit_f1`` their harmonic mean (0 when both are 0).
    boundaries, boundaries_found, candidates, candidates_correct : int
        True hover boundaries are each hover's first frame (if > 0) and the frame after its
        last (if there is one). Candidates are the transitions from ``BOUNDARY_TOLERANCE``
        frames before a hover's first frame to as many after the frame after its last
        (transitions deeper in transits are not judged). A boundary is found when a
        candidate lies within ``BOUNDARY_TOLERANCE`` frames of it; a candidate is correct
        when a true boundary lies that close. ``boundary_recall = found / boundaries``,
        ``boundary_precision = correct / candidates`` (1 when empty), F1 harmonic.
    covered : int
        Frames whose true view overlaps the true view at their state's keyframe by an IoU
        of at least :data:`COVERAGE_IOU` (footprints on the terrain from the true poses,
        see :func:`footprint`). ``coverage = covered / frames``.
    runs, states : int
        Runs (maximal stretches of one state) and distinct states.
        ``runs_per_minute = runs / minutes``, ``states_per_minute = states / minutes``.
    """

    frames: int = 0
    minutes: float = 0.0
    hover_frames: int = 0
    hover_majority: int = 0
    false_transitions: int = 0
    hover_minutes: float = 0.0
    perturbations: Mapping[str, int] | None = None
    perturbations_hit: Mapping[str, int] | None = None
    perturbation_transitions: Mapping[str, int] | None = None
    loss_transitions: int = 0
    revisit_tp: int = 0
    revisit_fp: int = 0
    revisit_fn: int = 0
    boundaries: int = 0
    boundaries_found: int = 0
    candidates: int = 0
    candidates_correct: int = 0
    covered: int = 0
    runs: int = 0
    states: int = 0

    @property
    def hover_stability(self) -> float:
        return self.hover_majority / self.hover_frames if self.hover_frames else 1.0

    @property
    def false_per_minute(self) -> float:
        return self.false_transitions / self.hover_minutes if self.hover_minutes else 0.0

    @property
    def revisit_precision(self) -> float:
        d = self.revisit_tp + self.revisit_fp
        return self.revisit_tp / d if d else 1.0

    @property
    def revisit_recall(self) -> float:
        d = self.revisit_tp + self.revisit_fn
        return self.revisit_tp / d if d else 1.0

    @property
    def revisit_f1(self) -> float:
        return _f1(self.revisit_precision, self.revisit_recall)

    @property
    def boundary_precision(self) -> float:
        return self.candidates_correct / self.candidates if self.candidates else 1.0

    @property
    def boundary_recall(self) -> float:
        return self.boundaries_found / self.boundaries if self.boundaries else 1.0

    @property
    def boundary_f1(self) -> float:
        return _f1(self.boundary_precision, self.boundary_recall)

    @property
    def coverage(self) -> float:
        return self.covered / self.frames if self.frames else 1.0

    @property
    def runs_per_minute(self) -> float:
        return self.runs / self.minutes if self.minutes else 0.0

    @property
    def states_per_minute(self) -> float:
        return self.states / self.minutes if self.minutes else 0.0

    def hits(self, kinds: Sequence[str]) -> int:
        """Perturbations of ``kinds`` with a transition in their window."""
        return sum((self.perturbations_hit or {}).get(k, 0) for k in kinds)

    def to_dict(self) -> dict[str, object]:
        """The counts and the rates, for JSON."""
        out: dict[str, object] = asdict(self)
        for name in (
            "hover_stability",
            "false_per_minute",
            "revisit_precision",
            "revisit_recall",
            "revisit_f1",
            "boundary_precision",
            "boundary_recall",
            "boundary_f1",
            "coverage",
            "runs_per_minute",
            "states_per_minute",
        ):
            out[name] = getattr(self, name)
        return out


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _int(v: object) -> int:
    return int(str(v))


def score(truth: GroundTruth, labelling: Labelling) -> FlightScore:
    """Score a labelling of one flight against its truth (see :class:`FlightScore`).

    Raises
    ------
    FramesigError
        When the labelling does not have one state per frame of the truth.
    """
    n = truth.frames
    if len(labelling) != n:
        raise FramesigError(
            labelling.name or "labelling",
            f"labels {len(labelling)} frames but the flight has {n}",
        )
    lab = labelling.states
    fps = float(truth.fps)
    margin = int(round(0.5 * fps))
    slack = max(2, int(round(fps / 10)))
    trans = labelling.transitions
    is_trans = np.zeros(n + 1, bool)
    is_trans[trans] = True

    loss = np.zeros(n + 1, bool)
    for p in truth.perturbations:
        if p["kind"] in _LOSS_KINDS:
            r = perturbation_frames(p)
            loss[r.start : min(r.stop + 1, n + 1)] = True

    hovers = [(_int(s["start"]), _int(s["end"]), _int(s["place"])) for s in truth.hovers()]
    hover_frames = hover_majority = false = 0
    majority: list[int] = []
    for s, e, _ in hovers:
        inside = np.arange(s + margin, e - margin + 1)
        inside = inside[~loss[inside]] if len(inside) else inside
        if len(inside) == 0:
            inside = np.arange(s, e + 1)  # a hover too short for the margin: judge all of it
        counts = Counter(lab[inside].tolist())
        top = max(counts.values())
        state = min(k for k, v in counts.items() if v == top)
        majority.append(state)
        hover_frames += len(inside)
        hover_majority += top
        mask = np.zeros(n + 1, bool)
        mask[inside] = True
        both = mask[1:n] & mask[: n - 1]  # frame f and f-1 both inside, for f = 1..n-1
        false += int((both & is_trans[1:n]).sum())

    # perturbations inside hovers
    per: dict[str, int] = {}
    hit: dict[str, int] = {}
    ptrans: dict[str, int] = {}
    loss_trans = 0
    for p in truth.perturbations:
        r = perturbation_frames(p)
        lo, hi = r.start, min(r.stop - 1 + slack, n - 1)
        window = int(is_trans[lo : hi + 1].sum())
        if p["kind"] in _LOSS_KINDS:
            loss_trans += window
        if not any(s <= r.start and r.stop - 1 <= e for s, e, _ in hovers):
            continue
        kind = str(p["kind"])
        per[kind] = per.get(kind, 0) + 1
        hit[kind] = hit.get(kind, 0) + (window > 0)
        ptrans[kind] = ptrans.get(kind, 0) + window

    # revisits over pairs of hovers
    tp = fp = fn = 0
    for i in range(len(hovers)):
        for j in range(i + 1, len(hovers)):
            same_true = hovers[i][2] == hovers[j][2]
            same_pred = majority[i] == majority[j]
            tp += same_true and same_pred
            fp += same_pred and not same_true
            fn += same_true and not same_pred

    # hover boundaries
    tol = BOUNDARY_TOLERANCE
    truth_b = sorted({b for s, e, _ in hovers for b in (s, e + 1) if 0 < b < n})
    judged = np.zeros(n + 1, bool)
    for s, e, _ in hovers:
        judged[max(s - tol, 1) : min(e + 1 + tol, n - 1) + 1] = True
    cands = [int(f) for f in trans if judged[f]]
    tb = np.asarray(truth_b, np.int64)
    found = sum(1 for b in truth_b if any(abs(f - b) <= tol for f in cands))
    correct = sum(1 for f in cands if len(tb) and int(np.abs(tb - f).min()) <= tol)

    # coverage from the true poses
    poses = np.asarray(truth.pose, np.float64).reshape(n, 4)
    key = np.array([labelling.keyframes[int(s)] for s in lab], np.int64)
    ious = _coverage_ious(poses, key, truth.size[1] / truth.size[0])
    covered = int((ious >= COVERAGE_IOU - 1e-9).sum())

    return FlightScore(
        frames=n,
        minutes=n / fps / 60,
        hover_frames=hover_frames,
        hover_majority=hover_majority,
        false_transitions=false,
        hover_minutes=hover_frames / fps / 60,
        perturbations=per,
        perturbations_hit=hit,
        perturbation_transitions=ptrans,
        loss_transitions=loss_trans,
        revisit_tp=tp,
        revisit_fp=fp,
        revisit_fn=fn,
        boundaries=len(truth_b),
        boundaries_found=found,
        candidates=len(cands),
        candidates_correct=correct,
        covered=covered,
        runs=labelling.runs,
        states=len(np.unique(lab)),
    )


def pool(scores: Iterable[FlightScore]) -> FlightScore:
    """Add flights' counts up (every rate of the result is over all of them).

    Examples
    --------
    >>> a = FlightScore(frames=10, covered=10)
    >>> b = FlightScore(frames=30, covered=20)
    >>> pool([a, b]).coverage
    0.75
    """
    total: dict[str, object] = {}
    for sc in scores:
        for f in fields(FlightScore):
            v = getattr(sc, f.name)
            if isinstance(v, Mapping) or f.name.startswith("pert"):
                acc = dict(total.get(f.name) or {})  # type: ignore[call-overload]
                for k, x in (v or {}).items():
                    acc[k] = acc.get(k, 0) + x
                total[f.name] = acc
            else:
                total[f.name] = total.get(f.name, 0) + v
    return FlightScore(**total)  # type: ignore[arg-type]


# -- footprints ---------------------------------------------------------------------------


def footprint(pose: Sequence[float], aspect: float) -> np.ndarray:
    """The corners (4 x 2, terrain px) of the ground a pose sees.

    ``pose`` is ``(x, y, yaw, scale)`` as in :class:`~framesig.synthetic.Pose`; the view
    is ``640 * scale`` terrain px wide and ``aspect`` (height / width) as tall, turned by
    ``yaw`` degrees about its centre (as :mod:`framesig.synthetic` renders it).

    Examples
    --------
    >>> footprint((100, 50, 0, 1), 0.5).tolist()
    [[-220.0, -110.0], [420.0, -110.0], [420.0, 210.0], [-220.0, 210.0]]
    """
    p = np.asarray(pose, np.float64)
    if p.shape != (4,) or not np.isfinite(p).all() or p[3] <= 0 or not aspect > 0:
        raise FramesigError("footprint", f"need a finite pose (x, y, yaw, scale > 0), got {pose}")
    out = np.empty((4, 2), np.float64)
    _corners(p[0], p[1], p[2], p[3], float(aspect), out)
    return out


def footprint_iou(a: Sequence[float], b: Sequence[float], aspect: float) -> float:
    """Intersection over union of two poses' footprints (see :func:`footprint`).

    Examples
    --------
    >>> footprint_iou((0, 0, 0, 1), (0, 0, 0, 1), 0.5625)
    1.0
    >>> round(footprint_iou((0, 0, 0, 1), (320, 0, 0, 1), 0.5625), 4)  # half a view along
    0.3333
    """
    pa, pb = footprint(a, aspect), footprint(b, aspect)
    return float(_quad_iou(pa, pb))


def _coverage_ious(poses: np.ndarray, key: np.ndarray, aspect: float) -> np.ndarray:
    if not np.isfinite(poses).all() or (poses[:, 3] <= 0).any():
        raise FramesigError("truth", "poses must be finite with scale > 0")
    return _ious_kernel(
        np.ascontiguousarray(poses, np.float64), np.ascontiguousarray(key, np.int64), float(aspect)
    )


@njit(cache=True)
def _corners(x: float, y: float, yaw: float, scale: float, aspect: float, out: np.ndarray) -> None:
    w = 640.0 * scale
    h = w * aspect
    a = math.radians(yaw)
    c, s = math.cos(a), math.sin(a)
    for i in range(4):
        u = -w / 2 if i == 0 or i == 3 else w / 2
        v = -h / 2 if i < 2 else h / 2
        out[i, 0] = x + c * u - s * v
        out[i, 1] = y + s * u + c * v


@njit(cache=True)
def _area(poly: np.ndarray, n: int) -> float:
    acc = 0.0
    for i in range(n):
        j = (i + 1) % n
        acc += poly[i, 0] * poly[j, 1] - poly[j, 0] * poly[i, 1]
    return abs(acc) / 2


@njit(cache=True)
def _quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two convex quadrilaterals (Sutherland-Hodgman clipping of a by b)."""
    # orient b counter-clockwise (positive signed area) so "inside" is to the left
    sa = 0.0
    for i in range(4):
        j = (i + 1) % 4
        sa += b[i, 0] * b[j, 1] - b[j, 0] * b[i, 1]
    sign = 1.0 if sa >= 0 else -1.0
    poly = np.empty((16, 2), np.float64)
    nxt = np.empty((16, 2), np.float64)
    m = 4
    for i in range(4):
        poly[i, 0], poly[i, 1] = a[i, 0], a[i, 1]
    for e in range(4):
        if m == 0:
            break
        x1, y1 = b[e, 0], b[e, 1]
        x2, y2 = b[(e + 1) % 4, 0], b[(e + 1) % 4, 1]
        k = 0
        for i in range(m):
            px, py = poly[i, 0], poly[i, 1]
            qx, qy = poly[(i + 1) % m, 0], poly[(i + 1) % m, 1]
            dp = sign * ((x2 - x1) * (py - y1) - (y2 - y1) * (px - x1))
            dq = sign * ((x2 - x1) * (qy - y1) - (y2 - y1) * (qx - x1))
            if dp >= 0:
                nxt[k, 0], nxt[k, 1] = px, py
                k += 1
            if (dp >= 0) != (dq >= 0):
                t = dp / (dp - dq)
                nxt[k, 0], nxt[k, 1] = px + t * (qx - px), py + t * (qy - py)
                k += 1
        for i in range(k):
            poly[i, 0], poly[i, 1] = nxt[i, 0], nxt[i, 1]
        m = k
    inter = _area(poly, m) if m >= 3 else 0.0
    union = _area(a, 4) + _area(b, 4) - inter
    if union <= 0:
        return 0.0
    return min(1.0, max(0.0, inter / union))


@njit(cache=True)
def _ious_kernel(poses: np.ndarray, key: np.ndarray, aspect: float) -> np.ndarray:
    n = poses.shape[0]
    out = np.empty(n, np.float64)
    a = np.empty((4, 2), np.float64)
    b = np.empty((4, 2), np.float64)
    for f in range(n):
        k = key[f]
        _corners(poses[f, 0], poses[f, 1], poses[f, 2], poses[f, 3], aspect, a)
        _corners(poses[k, 0], poses[k, 1], poses[k, 2], poses[k, 3], aspect, b)
        out[f] = _quad_iou(a, b)
    return out


# -- the least compression coverage allows ----------------------------------------------


MOST_COVERED_FRAMES = 10_000
"""The longest flight :func:`most_covered` takes (its tables grow as frames squared)."""
MOST_COVERED_WORK = 10**10
"""The most steps :func:`most_covered` takes on, about 15 s: for its table, frames x
overlapping pairs of frames (4,000 frames of one still hover would be 6.4e10); for its
programme, runs x frames^2 / 2 (4,000 frames that never overlap would be 3.2e10)."""


def most_covered(truth: GroundTruth, max_runs: int | None = None) -> np.ndarray:
    """The most frames any labelling of a flight into ``r`` runs can cover, for each ``r``.

    ``out[r - 1]`` bounds :attr:`FlightScore.covered` from above for every labelling with
    ``r`` runs (``r = 1 .. max_runs``; default: until every frame is covered). It is the
    optimum of a relaxation: each run may take as its keyframe whichever frame of the
    flight covers most of the run's frames (a real labelling's returning runs must share
    one keyframe, and methods do not know the poses), found by dynamic programming over
    where the runs end. So no labelling with ``r`` runs covers more than ``out[r - 1]``.

    Examples
    --------
    >>> from framesig import synthetic
    >>> frames, truth = synthetic.render(synthetic.sample_plan(fps=10), size=(64, 36))
    >>> best = most_covered(truth)
    >>> int(best[-1]) == truth.frames, len(best) <= Labelling.from_truth(truth).runs
    (True, True)
    """
    n = truth.frames
    if not _is_count(n) or not 0 <= n <= MOST_COVERED_FRAMES or len(truth.pose) != n:
        raise FramesigError(
            "truth",
            f"{n!r} frames with {len(truth.pose)} poses: most_covered needs a pose a frame "
            f"and holds a frames x frames table, so at most {MOST_COVERED_FRAMES} frames",
        )
    size = tuple(truth.size)
    if not (len(size) == 2 and all(_is_count(v) and v > 0 for v in size)):
        raise FramesigError("truth", f"size must be (width, height) > 0, got {truth.size!r}")
    try:
        poses = np.asarray(truth.pose, np.float64).reshape(n, 4)
    except (TypeError, ValueError):
        raise FramesigError("truth", "each pose must be (x, y, yaw, scale)") from None
    if not np.isfinite(poses).all() or (poses[:, 3] <= 0).any():
        raise FramesigError("truth", "poses must be finite with scale > 0")
    if max_runs is not None and not (_is_count(max_runs) and max_runs >= 1):
        raise FramesigError(
            "most_covered", f"max_runs must be a whole number >= 1, got {max_runs!r}"
        )
    if n == 0:
        return np.zeros(0, np.int64)
    overlaps = _overlaps_kernel(poses, truth.size[1] / truth.size[0], COVERAGE_IOU - 1e-9)
    pairs = int(np.count_nonzero(overlaps))
    if n * pairs > MOST_COVERED_WORK:  # a long hover: every frame overlaps every other
        raise FramesigError(
            "truth",
            f"{n} frames with {pairs} overlapping pairs: most_covered would take "
            f"{n} x {pairs} steps (at most {MOST_COVERED_WORK:.0e}); split the flight",
        )
    rows, cols = np.nonzero(overlaps)  # row-major: each frame's overlapping frames in turn
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    # each run of the programme is n^2 / 2 steps: as many runs as the work allows
    affordable = max(1, MOST_COVERED_WORK // max(n * n // 2, 1))
    wanted = n if max_runs is None else min(max_runs, n)
    cover = _run_cover_kernel(indptr, cols.astype(np.int64))
    best = _most_covered_kernel(cover, min(wanted, affordable))
    if len(best) < wanted and best[-1] < n:
        raise FramesigError(
            "truth",
            f"covering its {n} frames takes more than {len(best)} runs, past "
            f"{MOST_COVERED_WORK:.0e} steps; split the flight or give max_runs",
        )
    return best


def _is_count(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def fewest_runs(truths: Iterable[GroundTruth], coverage: float) -> tuple[int, float]:
    """The fewest runs, over flights pooled, with which any labelling reaches ``coverage``.

    Returns ``(runs, runs_per_minute)``: a lower bound, from :func:`most_covered` per
    flight and the best split of the runs between flights (every flight has at least
    one run). :class:`FlightScore` pools coverage as covered frames over all frames.

    Examples
    --------
    >>> from framesig import synthetic
    >>> frames, truth = synthetic.render(synthetic.sample_plan(fps=10), size=(64, 36))
    >>> runs, per_minute = fewest_runs([truth], 1.0)
    >>> runs == len(most_covered(truth))
    True
    """
    truths = list(truths)
    if not truths:
        raise FramesigError("fewest_runs", "need at least one flight")
    if not (isinstance(coverage, (int, float)) and 0 <= coverage <= 1):
        raise FramesigError("fewest_runs", f"coverage must be in [0, 1], got {coverage!r}")
    if not all(
        _is_count(t.frames) and t.frames > 0 and 0 < float(t.fps) < math.inf for t in truths
    ):
        raise FramesigError("fewest_runs", "every flight needs frames and a finite frame rate > 0")
    need = math.ceil(coverage * sum(t.frames for t in truths) - 1e-9)
    minutes = sum(t.frames / float(t.fps) / 60 for t in truths)
    # best[r]: the most frames r runs cover over the flights so far (knapsack over flights)
    best = np.zeros(1, np.int64)
    for truth in truths:
        curve = most_covered(truth).astype(np.int64)
        nxt = np.full(len(best) + len(curve), -1, np.int64)
        for r, got in enumerate(best):
            if got >= 0:
                nxt[r + 1 : r + 1 + len(curve)] = np.maximum(
                    nxt[r + 1 : r + 1 + len(curve)], got + curve
                )
        best = nxt
    runs = int(np.flatnonzero(best >= need)[0])
    return runs, runs / minutes


@njit(cache=True)
def _overlaps_kernel(poses: np.ndarray, aspect: float, iou: float) -> np.ndarray:
    """``out[f, k]``: frame ``k``'s view overlaps frame ``f``'s by ``iou`` or more."""
    n = poses.shape[0]
    a = np.empty((4, 2), np.float64)
    b = np.empty((4, 2), np.float64)
    radius = np.empty(n, np.float64)
    for f in range(n):
        radius[f] = 320.0 * poses[f, 3] * math.sqrt(1.0 + aspect * aspect)
    out = np.zeros((n, n), np.bool_)
    for f in range(n):
        out[f, f] = True
        _corners(poses[f, 0], poses[f, 1], poses[f, 2], poses[f, 3], aspect, a)
        for k in range(f + 1, n):
            dx, dy = poses[f, 0] - poses[k, 0], poses[f, 1] - poses[k, 1]
            if math.sqrt(dx * dx + dy * dy) > radius[f] + radius[k]:
                continue  # the circles round the two views do not meet
            _corners(poses[k, 0], poses[k, 1], poses[k, 2], poses[k, 3], aspect, b)
            if _quad_iou(a, b) >= iou:
                out[f, k] = out[k, f] = True
    return out


@njit(cache=True)
def _run_cover_kernel(indptr: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``cover[a, b]``: the most frames of ``a .. b`` that one keyframe covers (a <= b)."""
    n = indptr.shape[0] - 1
    cover = np.zeros((n, n), np.uint16)  # counts up to MOST_COVERED_FRAMES
    count = np.zeros(n, np.uint16)
    for a in range(n):
        count[:] = 0
        most = 0
        for b in range(a, n):
            for j in range(indptr[b], indptr[b + 1]):
                k = indices[j]
                count[k] += 1
                if count[k] > most:
                    most = count[k]
            cover[a, b] = most
    return cover


@njit(cache=True)
def _most_covered_kernel(cover: np.ndarray, max_runs: int) -> np.ndarray:
    """Dynamic programme over run ends: ``out[r - 1]`` the most ``r`` runs cover."""
    n = cover.shape[0]
    prev = np.empty(n, np.int64)  # prev[b]: the most frames 0..b covered with r runs
    for b in range(n):
        prev[b] = cover[0, b]
    out = np.empty(max_runs, np.int64)
    out[0] = prev[n - 1]
    r = 1
    while r < max_runs and out[r - 1] < n:
        cur = np.full(n, -1, np.int64)
        for b in range(r, n):
            best = -1
            for a in range(r, b + 1):  # the last run is a..b; r runs before it end at a-1
                v = prev[a - 1] + cover[a, b]
                if v > best:
                    best = v
            cur[b] = best
        prev = cur
        out[r] = prev[n - 1]
        r += 1
    return out[:r]


# -- cuts in edited video -----------------------------------------------------------------


@dataclass(frozen=True)
class CutScore:
    """Matched cuts (``tp``), spurious ones (``fp``) and missed ones (``fn``)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def __add__(self, other: CutScore) -> CutScore:
        return CutScore(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)


def cut_f1(predicted: Iterable[int], truth: Iterable[int], tolerance: int = 0) -> CutScore:
    """Match predicted cuts to true cuts one to one, within ``tolerance`` frames.

    Cuts are the first frames of new shots (decoded-frame indices). Both lists are sorted
    and matched greedily from the start: the earliest unmatched predicted cut within
    ``tolerance`` of the earliest unmatched true cut is its match (for cuts on a line,
    this greedy matching is a maximum one). Add :class:`CutScore` values to pool clips.

    Examples
    --------
    >>> s = cut_f1([30, 181, 300], [30, 180, 394])
    >>> (s.tp, s.fp, s.fn)
    (1, 2, 2)
    >>> round(cut_f1([30, 181, 300], [30, 180, 394], tolerance=2).f1, 4)
    0.6667
    """
    if tolerance < 0:
        raise FramesigError("cut_f1", f"tolerance must be >= 0, got {tolerance}")
    p = sorted({int(x) for x in predicted})
    t = sorted({int(x) for x in truth})
    i = j = tp = 0
    while i < len(t) and j < len(p):
        if abs(p[j] - t[i]) <= tolerance:
            tp += 1
            i += 1
            j += 1
        elif p[j] < t[i]:
            j += 1
        else:
            i += 1
    return CutScore(tp, len(p) - tp, len(t) - tp)


REAL_CUTS: dict[str, tuple[str, tuple[float, ...]]] = {
    # file -> ("frames", first frames of new shots as decoded indices) or
    #         ("times", seconds of the first frames of new shots)
    "psd_testvideo_cuts_720p2997.mp4": ("frames", (30, 180, 394)),
    "psd_goldeneye_vfr_drop3.mp4": ("times", (3.754, 8.759)),
    "psd_counter_1080p10.mp4": ("frames", (20,)),
    "psd_fades_480x320_mpeg4.mp4": ("frames", ()),
}
"""The hard cuts of the real clips in ``../shared/data/real`` that have them (see
``PROVENANCE.md``, PySceneDetect's goldens). ``psd_testvideo``: the Content / Adaptive t5
golden ``[30, 180, 394]`` (Histogram's extra starts are inside fades and dissolves, the
Threshold ones are fades to black). ``psd_goldeneye_vfr_drop3``: the VFR test's cuts at
3.754 s and 8.759 s (its ``[90, 210]`` are nominal-rate numbers, not decoded frames).
``psd_counter``: frame 20, where the counter's background changes (Adaptive and
Histogram golden). ``psd_fades``: no hard cut (fades only; Content, Adaptive and Hash
goldens): every cut found there is a false one."""


def frames_at_times(times: Sequence[float], pts_times: Sequence[float]) -> list[int]:
    """The decoded frame whose presentation time is nearest to each time.

    Examples
    --------
    >>> frames_at_times([0.26, 0.1], [0.0, 0.125, 0.25, 0.3])
    [2, 1]
    """
    t = np.asarray(pts_times, np.float64)
    if t.ndim != 1 or len(t) == 0:
        raise FramesigError("frames_at_times", "need the frames' times")
    order = np.argsort(t, kind="stable")
    ts = t[order]
    out = []
    for x in times:
        k = int(np.searchsorted(ts, x))
        cands = [c for c in (k - 1, k) if 0 <= c < len(ts)]
        best = min(cands, key=lambda c: (abs(ts[c] - x), c))
        out.append(int(order[best]))
    return out


def _own_frames(sig: object, every: int) -> tuple[list[float], list[int]]:
    """Every ``every``-th frame of each run of ``sig`` (timed at the middle of its share of
    the run), with the run's state."""
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    times, want = [], []
    for run in sig.runs:  # type: ignore[attr-defined]
        step = (run.end_time - run.start_time) / run.frames
        for f in range(0, run.frames, every):
            times.append(run.start_time + (f + 0.5) * step)
            want.append(run.state)
    return times, want


def find_recall(
    index: object, sig: object, video: str | os.PathLike[str], every: int = 3
) -> tuple[int, int]:
    """How many of a flight's own frames a search finds: ``(found, asked)``.

    Every ``every``-th frame of each run of ``sig`` (timed at the middle of its share of
    the run) is measured as ``framesig find VIDEO@TIME`` measures it
    (:func:`framesig.index.features_at`) and searched in ``index`` (a
    :class:`framesig.index.FlightIndex`) at the default limits; it is found when a hit is
    the state of its run.
    """
    from framesig.index import features_at

    times, want = _own_frames(sig, every)
    found = sum(
        any(h.state == w for h in index.find(qh, qhist, limit=None))  # type: ignore[attr-defined]
        for (qh, qhist), w in zip(features_at(video, times), want, strict=True)
    )
    return found, len(times)


def find_false_hits(
    others: object, sig: object, video: str | os.PathLike[str], every: int = 3
) -> tuple[int, int]:
    """How many of a flight's own frames (as :func:`find_recall` asks them) a search finds
    anything for in ``others``, an index of other flights: ``(with a hit, asked)``. Every
    such hit is false."""
    from framesig.index import features_at

    times, _ = _own_frames(sig, every)
    hits = sum(
        bool(others.find(qh, qhist, limit=None))  # type: ignore[attr-defined]
        for qh, qhist in features_at(video, times)
    )
    return hits, len(times)
