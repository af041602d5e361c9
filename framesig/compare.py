"""Compare two flights, and find the patrols flown within one.

Two flights' state ids mean nothing to each other, so their states are first put into
*shared classes*: states of A and B that match by view (:func:`framesig.index.match_matrix`)
join one class (union-find). Each flight's runs then read as a string of classes.

:func:`compare` aligns the two strings with a Smith-Waterman local alignment (a numba
kernel; a match scores ``1 + closeness``, a mismatch -1, a gap -0.6 per run) and reports:

- ``shared``: the route segments flown by both (stretches of the alignment where the
  places agree; a short unmatched transit inside does not split one), each with every
  time it was flown in either flight, found by the KMP automaton
  (:func:`framesig.automaton.find`) over the flights' dwell strings;
- ``only_a`` / ``only_b``: what one flight saw and the other never did (by class, so it
  does not depend on the alignment);
- ``order_changes``: shared places visited in a different order (the places left out of
  the longest common order of first visits);
- ``similarity``: the share of both flights' time that is aligned to the same view,
  ``(aligned time in A + aligned time in B) / (duration A + duration B)``, in [0, 1].

A *dwell* is a run of at least ``min_dwell`` seconds: a hover or a long look, as opposed
to the short transit states between places, whose slicing varies from one flight to the
next. :func:`repeats` runs the failure function over the dwell string, so a patrol whose
transits were sliced differently on each cycle is still found (``Signature.loops`` holds
the repeats of the raw run string, found when even the transits repeat exactly).

Examples
--------
>>> import numpy as np, framesig
>>> rng = np.random.default_rng(1)
>>> views = [rng.integers(0, 255, (90, 160, 3), dtype=np.uint8) for _ in range(4)]
>>> def fly(order):
...     return framesig.summarize([views[k] for k in order for _ in range(15)], fps=10)
>>> a, b, c = fly([0, 1, 2, 0, 1, 2]), fly([0, 1, 2, 0, 1, 2]), fly([3])
>>> compare(a, b).similarity > 0.9, compare(a, c).similarity
(True, 0.0)
>>> [(p.period, p.count) for p in repeats(a)]
[(3, 2)]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numba import njit

from framesig import automaton
from framesig.index import MAX_HASH, MAX_HIST, match_matrix
from framesig.limits import MIN_DWELL  # re-exported: part of this module's API
from framesig.signature import Run, Signature

__all__ = [
    "COMPARISON_VERSION",
    "MIN_DWELL",
    "Patrol",
    "SharedSegment",
    "Unshared",
    "OrderChange",
    "Comparison",
    "compare",
    "repeats",
    "dwell_runs",
    "is_dwell",
    "shared_classes",
    "local_alignment",
]

COMPARISON_VERSION = 1

MATCH, MISMATCH, GAP = 1.0, -1.0, -0.6


# --------------------------------------------------------------------------- kernel


@njit(cache=True, nogil=True)
def _smith_waterman(score, gap, h, move):  # pragma: no cover - compiled
    """Fill the local-alignment table ``h`` ((n+1) x (m+1)) and the moves; return the best cell.

    ``score[i, j]`` rewards aligning item i of A with item j of B; a gap costs ``gap`` (> 0).
    Moves: 0 stop, 1 diagonal, 2 up (a gap in B), 3 left (a gap in A). Ties prefer the
    diagonal, then up, then left. Returns ``(i, j)`` of the first best cell in row order.
    """
    n, m = score.shape
    best = 0.0
    bi = 0
    bj = 0
    for i in range(n + 1):
        h[i, 0] = 0.0
        move[i, 0] = 0
    for j in range(m + 1):
        h[0, j] = 0.0
        move[0, j] = 0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d = h[i - 1, j - 1] + score[i - 1, j - 1]
            u = h[i - 1, j] - gap
            lft = h[i, j - 1] - gap
            v = 0.0
            mv = 0
            if d > v:
                v = d
                mv = 1
            if u > v:
                v = u
                mv = 2
            if lft > v:
                v = lft
                mv = 3
            h[i, j] = v
            move[i, j] = mv
            if v > best:
                best = v
                bi = i
                bj = j
    return bi, bj


def local_alignment(
    score: np.ndarray, gap: float = -GAP
) -> tuple[float, list[tuple[int, int]], np.ndarray]:
    """Smith-Waterman over a score matrix: ``(best score, aligned pairs, table)``.

    ``pairs`` are ``(i, j)`` index pairs of the diagonal steps of the best local path, in
    order; ``gap`` is the (positive) cost of skipping one item.

    Examples
    --------
    >>> s = np.array([[2.0, -1, -1], [-1, -1, 2.0], [-1, 2.0, -1]])
    >>> best, pairs, _ = local_alignment(s, 0.6)
    >>> round(best, 2), pairs
    (3.4, [(0, 0), (1, 2)])
    """
    s = np.ascontiguousarray(score, np.float64)
    if s.ndim != 2:
        raise ValueError(f"the score matrix is 2-D, got shape {s.shape}")
    if not gap >= 0:
        raise ValueError(f"the gap cost must be >= 0, got {gap}")
    n, m = s.shape
    h = np.empty((n + 1, m + 1), np.float64)
    move = np.empty((n + 1, m + 1), np.int8)
    bi, bj = _smith_waterman(s, float(gap), h, move)
    pairs: list[tuple[int, int]] = []
    i, j = int(bi), int(bj)
    while i > 0 and j > 0 and move[i, j] != 0:
        mv = move[i, j]
        if mv == 1:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif mv == 2:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    return float(h[bi, bj]), pairs, h


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Patrol:
    """A cycle of places flown ``count`` times in a row.

    ``pattern`` holds the state ids of one cycle; ``cycle_starts`` the start time of each
    cycle; ``basis`` is ``"dwells"`` (found on the dwell string) or ``"runs"`` (one of
    ``Signature.loops``, on the raw run string).
    """

    period: int
    count: int
    pattern: tuple[int, ...]
    start_time: float
    end_time: float
    cycle_starts: tuple[float, ...]
    basis: str

    @property
    def cycle_seconds(self) -> float:
        """Mean duration of one cycle."""
        return (self.end_time - self.start_time) / self.count


@dataclass(frozen=True)
class SharedSegment:
    """A stretch of route flown by both flights, where, and every time each flew it."""

    a_start: float
    a_end: float
    b_start: float
    b_end: float
    a_states: tuple[int, ...]  # the dwell states of A along it
    b_states: tuple[int, ...]
    a_flown: tuple[tuple[float, float], ...]  # every time A flew this sequence of places
    b_flown: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Unshared:
    """A state one flight showed and the other never did, with when and for how long."""

    state: int
    seconds: float
    ranges: tuple[tuple[float, float], ...]
    dwell: bool


@dataclass(frozen=True)
class OrderChange:
    """A shared place visited out of the common order (first visits)."""

    a_state: int
    b_state: int
    a_time: float
    b_time: float


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare` (versioned, JSON round-trip)."""

    version: int
    a: str
    b: str
    similarity: float
    shared: tuple[SharedSegment, ...]
    only_a: tuple[Unshared, ...]
    only_b: tuple[Unshared, ...]
    order_changes: tuple[OrderChange, ...]
    state_pairs: tuple[tuple[int, int, float], ...]  # matching (A state, B state, distance)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> Comparison:
        d = json.loads(text)
        if d.get("version") != COMPARISON_VERSION:
            raise ValueError(f"comparison version {d.get('version')!r} is not supported")

        def spans(v: list[list[float]]) -> tuple[tuple[float, float], ...]:
            return tuple((float(a), float(b)) for a, b in v)

        return cls(
            version=d["version"],
            a=d["a"],
            b=d["b"],
            similarity=d["similarity"],
            shared=tuple(
                SharedSegment(
                    s["a_start"],
                    s["a_end"],
                    s["b_start"],
                    s["b_end"],
                    tuple(s["a_states"]),
                    tuple(s["b_states"]),
                    spans(s["a_flown"]),
                    spans(s["b_flown"]),
                )
                for s in d["shared"]
            ),
            only_a=tuple(
                Unshared(u["state"], u["seconds"], spans(u["ranges"]), u["dwell"])
                for u in d["only_a"]
            ),
            only_b=tuple(
                Unshared(u["state"], u["seconds"], spans(u["ranges"]), u["dwell"])
                for u in d["only_b"]
            ),
            order_changes=tuple(OrderChange(**o) for o in d["order_changes"]),
            state_pairs=tuple((int(a), int(b), float(x)) for a, b, x in d["state_pairs"]),
        )


# --------------------------------------------------------------------------- helpers


def is_dwell(sig: Signature, run: Run, min_dwell: float = MIN_DWELL) -> bool:
    """Whether ``run`` of ``sig`` is a dwell: at least ``min_dwell`` seconds of one view
    (a burst of views that never settled is none, however long)."""
    return run.end_time - run.start_time >= min_dwell and not sig.states[run.state].burst


def dwell_runs(sig: Signature, min_dwell: float = MIN_DWELL) -> list[int]:
    """Indices of the dwells (:func:`is_dwell`), with repeats of one state in a row (a
    short transit between) collapsed to the first."""
    out: list[int] = []
    for i, r in enumerate(sig.runs):
        if is_dwell(sig, r, min_dwell):
            if out and sig.runs[out[-1]].state == r.state:
                continue
            out.append(i)
    return out


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(self, x: tuple[int, int]) -> tuple[int, int]:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: tuple[int, int], b: tuple[int, int]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def shared_classes(
    sigs: Sequence[Signature], *, max_hash: int = MAX_HASH, max_hist: float = MAX_HIST
) -> tuple[list[dict[int, int]], dict[tuple[int, int], float]]:
    """Put the states of several flights into shared classes of matching views.

    Returns, per flight, ``{state id: class}``, and the matching pairs between flights
    ``{(flight_i * 2**32 + state, flight_j * 2**32 + state): distance}`` for i < j.
    Classes are numbered in order of first appearance (flight 0's states first).
    """
    uf = _UnionFind()
    pairs: dict[tuple[int, int], float] = {}
    for i, sa in enumerate(sigs):
        for s in sa.states:
            uf.find((i, s.id))
        for j in range(i + 1, len(sigs)):
            for (x, y), d in match_matrix(
                sa.states, sigs[j].states, max_hash=max_hash, max_hist=max_hist
            ).items():
                uf.union((i, x), (j, y))
                pairs[((i << 32) | x, (j << 32) | y)] = d
    numbers: dict[tuple[int, int], int] = {}
    out: list[dict[int, int]] = []
    for i, sig in enumerate(sigs):
        m: dict[int, int] = {}
        for r in sig.runs:
            if r.state not in m:
                m[r.state] = numbers.setdefault(uf.find((i, r.state)), len(numbers))
        for s in sig.states:
            if s.id not in m:
                m[s.id] = numbers.setdefault(uf.find((i, s.id)), len(numbers))
        out.append(m)
    return out, pairs


def _lis_keep(values: list[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence (patience sorting)."""
    import bisect

    tails: list[int] = []
    tail_pos: list[int] = []
    prev = [-1] * len(values)
    for pos, v in enumerate(values):
        k = bisect.bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_pos.append(pos)
        else:
            tails[k] = v
            tail_pos[k] = pos
        prev[pos] = tail_pos[k - 1] if k > 0 else -1
    keep: set[int] = set()
    p = tail_pos[-1] if tail_pos else -1
    while p >= 0:
        keep.add(p)
        p = prev[p]
    return keep


def _unshared(
    sig: Signature, classes: dict[int, int], other: set[int], min_dwell: float
) -> tuple[Unshared, ...]:
    spans: dict[int, list[Run]] = {}
    for r in sig.runs:
        if classes[r.state] not in other:
            spans.setdefault(r.state, []).append(r)
    out = [
        Unshared(
            sid,
            round(sum(r.end_time - r.start_time for r in runs), 6),
            tuple((r.start_time, r.end_time) for r in runs),
            any(is_dwell(sig, r, min_dwell) for r in runs),
        )
        for sid, runs in spans.items()
    ]
    out.sort(key=lambda u: (-u.seconds, u.ranges[0][0]))
    return tuple(out)


def _flown(sig: Signature, dwells: list[int], cls: dict[int, int], pattern: list[int]) -> tuple:
    text = [cls[sig.runs[i].state] for i in dwells]
    m = len(pattern)
    return tuple(
        (sig.runs[dwells[p]].start_time, sig.runs[dwells[p + m - 1]].end_time)
        for p in automaton.find(text, pattern)
    )


# --------------------------------------------------------------------------- compare


def compare(
    a: Signature,
    b: Signature,
    *,
    max_hash: int = MAX_HASH,
    max_hist: float = MAX_HIST,
    min_dwell: float = MIN_DWELL,
) -> Comparison:
    """Compare two flights: shared segments, what each alone saw, order changes, a score.

    Parameters
    ----------
    a, b : Signature
        The flights.
    max_hash, max_hist : int, float
        When two states are the same view (see :mod:`framesig.index`).
    min_dwell : float
        Seconds a run must last to count as a place (not a transit) in the segments and
        the order.

    Returns
    -------
    Comparison
    """
    if not min_dwell >= 0:
        raise ValueError(f"min_dwell must be >= 0, got {min_dwell}")
    (ca, cb), pairs = shared_classes([a, b], max_hash=max_hash, max_hist=max_hist)
    dist = {(x & 0xFFFFFFFF, y & 0xFFFFFFFF): d for (x, y), d in pairs.items()}
    ra, rb = a.runs, b.runs
    cls_a = np.array([ca[r.state] for r in ra], np.int64)
    cls_b = np.array([cb[r.state] for r in rb], np.int64)
    set_a, set_b = set(cls_a.tolist()), set(cls_b.tolist())
    # Align the runs that carry information: views both flights saw, and dwells. A transit
    # run only one flight has (transits are sliced differently every time) is left out,
    # or a few of them in a row would cut a shared route in two.
    keep_a = [i for i, r in enumerate(ra) if cls_a[i] in set_b or is_dwell(a, r, min_dwell)]
    keep_b = [j for j, r in enumerate(rb) if cls_b[j] in set_a or is_dwell(b, r, min_dwell)]
    limit = max_hash / 64.0 + max_hist
    score = np.full((len(keep_a), len(keep_b)), MISMATCH, np.float64)
    same = cls_a[keep_a][:, None] == cls_b[keep_b][None, :]
    for x, y in zip(*np.nonzero(same), strict=True):
        i, j = keep_a[x], keep_b[y]
        d = dist.get((ra[i].state, rb[j].state), limit / 2)  # same class through a third
        score[x, y] = MATCH + max(0.0, 1.0 - d / limit)
    _, path, _ = local_alignment(score, -GAP) if score.size else (0.0, [], None)
    matched = [(keep_a[x], keep_b[y]) for x, y in path if cls_a[keep_a[x]] == cls_b[keep_b[y]]]

    def dur(r: Run) -> float:
        return r.end_time - r.start_time

    total = a.source.duration + b.source.duration
    aligned = sum(dur(ra[i]) for i in {i for i, _ in matched}) + sum(
        dur(rb[j]) for j in {j for _, j in matched}
    )
    similarity = round(aligned / total, 6) if total > 0 else 0.0

    # shared segments: split the matched path where a dwell of either flight is skipped
    dw_a, dw_b = dwell_runs(a, min_dwell), dwell_runs(b, min_dwell)
    is_dw_a, is_dw_b = set(dw_a), set(dw_b)
    groups: list[list[tuple[int, int]]] = []
    for i, j in matched:
        if groups:
            pi, pj = groups[-1][-1]
            skipped = any(k in is_dw_a for k in range(pi + 1, i)) or any(
                k in is_dw_b for k in range(pj + 1, j)
            )
            if not skipped:
                groups[-1].append((i, j))
                continue
        groups.append([(i, j)])
    shared = []
    for g in groups:
        da = [i for i, _ in g if is_dwell(a, ra[i], min_dwell)]
        db = [j for _, j in g if is_dwell(b, rb[j], min_dwell)]
        if not da and not db:
            continue
        pattern = [int(k) for k in automaton.collapse_runs([ca[ra[i].state] for i in da]).tolist()]
        shared.append(
            SharedSegment(
                ra[g[0][0]].start_time,
                ra[g[-1][0]].end_time,
                rb[g[0][1]].start_time,
                rb[g[-1][1]].end_time,
                tuple(int(ra[i].state) for i in da),
                tuple(int(rb[j].state) for j in db),
                _flown(a, dw_a, ca, pattern) if pattern else (),
                _flown(b, dw_b, cb, pattern) if pattern else (),
            )
        )

    only_a = _unshared(a, ca, set_b, min_dwell)
    only_b = _unshared(b, cb, set_a, min_dwell)

    # order: first dwell visit of each shared class, in A's order; keep the longest
    # common order, report the rest
    first_a: dict[int, Run] = {}
    for i in dw_a:
        first_a.setdefault(ca[ra[i].state], ra[i])
    first_b: dict[int, Run] = {}
    for j in dw_b:
        first_b.setdefault(cb[rb[j].state], rb[j])
    common = sorted(set(first_a) & set(first_b), key=lambda c: first_a[c].start_time)
    rank_b = {c: k for k, c in enumerate(sorted(common, key=lambda c: first_b[c].start_time))}
    keep = _lis_keep([rank_b[c] for c in common])
    order_changes = tuple(
        OrderChange(
            first_a[c].state, first_b[c].state, first_a[c].start_time, first_b[c].start_time
        )
        for k, c in enumerate(common)
        if k not in keep
    )
    return Comparison(
        version=COMPARISON_VERSION,
        a=a.source.path,
        b=b.source.path,
        similarity=similarity,
        shared=tuple(shared),
        only_a=only_a,
        only_b=only_b,
        order_changes=order_changes,
        state_pairs=tuple(sorted((x, y, round(d, 6)) for (x, y), d in dist.items())),
    )


# --------------------------------------------------------------------------- repeats


def repeats(sig: Signature, *, min_dwell: float = MIN_DWELL) -> tuple[Patrol, ...]:
    """Patrols: cycles of places flown two or more times in a row.

    The failure function runs over the dwell string (see :func:`dwell_runs`), then the
    signature's own ``loops`` (over every run) are added where they are not already
    covered by a dwell patrol of the same span.
    """
    dwells = dwell_runs(sig, min_dwell)
    runs = sig.runs
    symbols = [runs[i].state for i in dwells]
    found: list[Patrol] = []
    for lp in automaton.loops(symbols, min_period=2):
        first = lp.start
        last = lp.start + lp.length - 1
        starts = tuple(runs[dwells[first + k * lp.period]].start_time for k in range(lp.count))
        found.append(
            Patrol(
                lp.period,
                lp.count,
                tuple(lp.pattern),
                runs[dwells[first]].start_time,
                _cycle_end(sig, dwells, last),
                starts,
                "dwells",
            )
        )
    for sl in sig.loops:
        if any(p.start_time <= sl.start_time and sl.end_time <= p.end_time for p in found):
            continue
        cycle = tuple(runs[sl.start_run + k * sl.period].start_time for k in range(sl.count))
        found.append(
            Patrol(sl.period, sl.count, sl.pattern, sl.start_time, sl.end_time, cycle, "runs")
        )
    found.sort(key=lambda p: (p.start_time, -p.count))
    return tuple(found)


def _cycle_end(sig: Signature, dwells: list[int], last: int) -> float:
    """Where the last cycle ends: at the end of its last dwell."""
    return sig.runs[dwells[last]].end_time
