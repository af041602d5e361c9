"""Anomalies of a flight: against a reference (a flight or a set), and within the flight.

Against a reference (:func:`against_reference`; states are matched across flights as in
:mod:`framesig.compare`):

- ``new_state``: a stretch of places no reference flight ever saw (an unplanned detour).
  Unmatched transit runs between two places the reference also flew in a row are normal
  (transits are sliced differently on every flight) and are not flagged; a stretch is
  flagged when it holds a dwell of its own, or when it links two places no reference
  flew one after the other.
- ``missing_state``: a place at least ``expected_share`` of the references dwelt at,
  never seen in this flight; its time range is where it was due (between the places
  around it in the closest reference).
- ``order``: places visited out of the closest reference's order.

Within the flight (:func:`within_flight`) from a per-frame :class:`FrameProfile`:

- ``decode_gap``: frames missing from the timeline (a PTS step of more than 1.5 frame
  durations) or packets the decoder had to skip;
- ``blackout``: frames far darker than the flight (mean luma under 0.25 of the median
  and under 0.1 absolute);
- ``exposure_jump``: a sudden brightness step of more than 25 % against the frames just
  before, held for a few frames;
- ``blur``: a stretch where sharpness (variance of the Laplacian) falls below 0.4 of
  its running median.

The signature keeps no per-frame brightness or sharpness (it stays small: per-run
numbers would average a short burst away), so :func:`frame_profile` decodes the video
again with the pipeline's own decoder and kernels. That is the price of the within-flight
checks: one more decode, which the CLI skips when the video is not there.

Every anomaly has a ``kind``, a time range and a ``score`` in [0, 1] (how strong).

Examples
--------
>>> import numpy as np
>>> t = np.arange(40) / 10.0
>>> luma = np.full(40, 0.5, np.float32); luma[10:15] = 0.01
>>> sharp = np.full(40, 0.02, np.float32)
>>> prof = FrameProfile(t, luma, sharp, 0.1)
>>> [(a.kind, a.start_time, a.end_time) for a in within_flight(prof)]
[('blackout', 1.0, 1.5)]
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from framesig.compare import MIN_DWELL, compare, dwell_runs, is_dwell, shared_classes
from framesig.index import MAX_HASH, MAX_HIST
from framesig.signature import Signature

__all__ = [
    "REPORT_VERSION",
    "KINDS",
    "Anomaly",
    "AnomalyReport",
    "FrameProfile",
    "frame_profile",
    "within_flight",
    "against_reference",
    "detect",
]

REPORT_VERSION = 1
KINDS = (
    "new_state",
    "missing_state",
    "order",
    "decode_gap",
    "blackout",
    "exposure_jump",
    "blur",
)
BLACK_ABS, BLACK_REL = 0.1, 0.25
EXPOSURE_STEP = 1.25
BLUR_RATIO = 0.4


@dataclass(frozen=True)
class Anomaly:
    """Something unexpected from ``start_time`` to ``end_time`` (seconds)."""

    kind: str
    start_time: float
    end_time: float
    score: float
    detail: str
    states: tuple[int, ...] = ()


@dataclass(frozen=True)
class AnomalyReport:
    """All anomalies of one flight (versioned, JSON round-trip)."""

    version: int
    flight: str
    references: tuple[str, ...]
    profiled: bool  # whether the within-flight checks ran (the video was decoded)
    anomalies: tuple[Anomaly, ...]

    def of_kind(self, kind: str) -> list[Anomaly]:
        return [a for a in self.anomalies if a.kind == kind]

    def to_json(self, *, indent: int | None = None) -> str:
        return json.dumps(asdict(self), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> AnomalyReport:
        d = json.loads(text)
        if d.get("version") != REPORT_VERSION:
            raise ValueError(f"anomaly report version {d.get('version')!r} is not supported")
        return cls(
            d["version"],
            d["flight"],
            tuple(d["references"]),
            bool(d["profiled"]),
            tuple(
                Anomaly(
                    a["kind"],
                    a["start_time"],
                    a["end_time"],
                    a["score"],
                    a["detail"],
                    tuple(a["states"]),
                )
                for a in d["anomalies"]
            ),
        )


# ------------------------------------------------------------------- frame profile


@dataclass(frozen=True)
class FrameProfile:
    """Per-frame time (s), mean luma (0..1) and sharpness of a flight; its frame duration."""

    times: np.ndarray
    luma: np.ndarray
    sharpness: np.ndarray
    frame_seconds: float
    skipped_packets: int = 0


def frame_profile(
    source: str | os.PathLike[str], *, fps: float | None = None, batch: int = 128
) -> FrameProfile:
    """Decode ``source`` again and measure each frame (the pipeline's decoder and kernels)."""
    from framesig import kernels
    from framesig.decode import open_source

    times: list[np.ndarray] = []
    lumas: list[np.ndarray] = []
    sharps: list[np.ndarray] = []
    luma = np.empty((batch, kernels.THUMB, kernels.THUMB), np.float32)
    cu = np.empty((batch, kernels.CHROMA, kernels.CHROMA), np.float32)
    cv = np.empty_like(cu)
    t = np.empty(batch, np.float64)
    with open_source(source, fps=fps) as src:
        rotation = src.info.rotation

        def flush(n: int) -> None:
            feats = kernels.frame_features(luma[:n], cu[:n], cv[:n])
            times.append(t[:n].copy())
            lumas.append(feats["mean_luma"])
            sharps.append(feats["sharpness"])

        k = 0
        for frame in src.frames():
            levels = kernels.plane_levels(frame.bit_depth, frame.full_range)
            kernels.thumbnails_into(
                frame.y, frame.u, frame.v, levels, rotation, luma[k], cu[k], cv[k]
            )
            t[k] = frame.time
            k += 1
            if k == batch:
                flush(k)
                k = 0
        if k:
            flush(k)
        skipped = src.stats.skipped_packets
    all_t = np.concatenate(times)
    steps = np.diff(all_t)
    frame_s = float(np.median(steps)) if steps.size else 1.0 / (fps or 25.0)
    return FrameProfile(all_t, np.concatenate(lumas), np.concatenate(sharps), frame_s, int(skipped))


def _stretches(mask: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    """``(first, last)`` of each run of True at least ``min_len`` long."""
    out = []
    padded = np.r_[False, mask, False].astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    for a, b in zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True):
        if b - a >= min_len:
            out.append((a, b - 1))
    return out


def _running_median(x: np.ndarray, half: int, valid: np.ndarray) -> np.ndarray:
    n = x.shape[0]
    out = np.empty(n, np.float64)
    for i in range(n):
        lo, hi = max(0, i - half), min(n, i + half + 1)
        w = x[lo:hi][valid[lo:hi]]
        out[i] = float(np.median(w)) if w.size else float(np.median(x[valid])) if valid.any() else 0
    return out


def within_flight(
    profile: FrameProfile,
    *,
    min_frames: int = 2,
    blur_seconds: float = 2.0,
) -> list[Anomaly]:
    """Decode gaps, blackouts, exposure jumps and blurred stretches of one flight."""
    t, luma, sharp = profile.times, profile.luma.astype(np.float64), profile.sharpness
    n = t.shape[0]
    fs = profile.frame_seconds
    out: list[Anomaly] = []

    def end_of(i: int) -> float:
        return float(t[i + 1]) if i + 1 < n else float(t[i] + fs)

    # decode gaps: the timeline skips frames
    steps = np.diff(t)
    for i in np.flatnonzero(steps > 1.5 * fs).tolist():
        missing = int(round(steps[i] / fs)) - 1
        out.append(
            Anomaly(
                "decode_gap",
                round(float(t[i] + fs), 6),
                round(float(t[i + 1]), 6),
                round(min(1.0, missing / 10), 6),
                f"{missing} frame(s) missing from the timeline",
            )
        )
    if profile.skipped_packets:
        out.append(
            Anomaly(
                "decode_gap",
                0.0,
                end_of(n - 1),
                min(1.0, profile.skipped_packets / 10),
                f"{profile.skipped_packets} packet(s) could not be decoded",
            )
        )

    # blackouts
    med = float(np.median(luma)) if n else 0.0
    dark = (luma < BLACK_ABS) & (luma < BLACK_REL * max(med, 1e-6))
    for a, b in _stretches(dark, min_frames):
        out.append(
            Anomaly(
                "blackout",
                round(float(t[a]), 6),
                round(end_of(b), 6),
                round(float(1 - luma[a : b + 1].mean() / max(med, 1e-6)), 6),
                f"{b - a + 1} dark frame(s), mean luma {luma[a : b + 1].mean():.3f}",
            )
        )
    ok = ~dark

    # exposure jumps: a step against the frames just before, held for min_frames
    half = max(2, int(round(1.0 / fs)))
    base = np.full(n, np.nan)
    for i in range(1, n):
        lo = max(0, i - half)
        w = luma[lo:i][ok[lo:i]]
        if w.size:
            base[i] = np.median(w)
    ratio = np.where(np.isfinite(base) & (base > 0), luma / np.where(base > 0, base, 1), 1.0)
    step = ok & ((ratio > EXPOSURE_STEP) | (ratio < 1 / EXPOSURE_STEP))
    for a, b in _stretches(step, min_frames):
        r = ratio[a : b + 1]
        out.append(
            Anomaly(
                "exposure_jump",
                round(float(t[a]), 6),
                round(end_of(b), 6),
                round(float(min(1.0, abs(np.log(r).mean()) / np.log(2.0))), 6),
                f"brightness x{float(np.exp(np.log(r).mean())):.2f} against the second before",
            )
        )

    # blur: sharpness well under its running median
    bh = max(2, int(round(blur_seconds / fs)))
    sharp64 = sharp.astype(np.float64)
    ref = _running_median(sharp64, bh, ok)
    low = ok & (sharp64 < BLUR_RATIO * np.maximum(ref, 1e-12))
    for a, b in _stretches(low, max(min_frames, 3)):
        rel = float((sharp64[a : b + 1] / np.maximum(ref[a : b + 1], 1e-12)).mean())
        out.append(
            Anomaly(
                "blur",
                round(float(t[a]), 6),
                round(end_of(b), 6),
                round(1 - rel, 6),
                f"{b - a + 1} frame(s) at {rel:.0%} of the usual sharpness",
            )
        )
    out.sort(key=lambda x: (x.start_time, x.kind))
    return out


# ---------------------------------------------------------------- against reference


def against_reference(
    sig: Signature,
    references: Sequence[Signature],
    *,
    max_hash: int = MAX_HASH,
    max_hist: float = MAX_HIST,
    min_dwell: float = MIN_DWELL,
    expected_share: float = 0.5,
) -> list[Anomaly]:
    """New states, missing expected states and order deviations against references."""
    if not references:
        return []
    if not 0 < expected_share <= 1:
        raise ValueError(f"expected_share must be in (0, 1], got {expected_share}")
    classes, _ = shared_classes([sig, *references], max_hash=max_hash, max_hist=max_hist)
    mine, refs = classes[0], classes[1:]
    ref_sets = [{m[r.state] for r in ref.runs} for m, ref in zip(refs, references, strict=True)]
    seen = set().union(*ref_sets)
    # which places follow which in the references (dwell to dwell)
    ref_links: set[tuple[int, int]] = set()
    ref_dwell_cls: list[list[int]] = []
    for m, ref in zip(refs, references, strict=True):
        seq = [m[ref.runs[i].state] for i in dwell_runs(ref, min_dwell)]
        ref_dwell_cls.append(seq)
        ref_links.update(zip(seq[:-1], seq[1:], strict=False))
    runs = sig.runs
    out: list[Anomaly] = []

    # new states: stretches of runs whose class no reference has
    i = 0
    while i < len(runs):
        if mine[runs[i].state] in seen:
            i += 1
            continue
        j = i
        while j + 1 < len(runs) and mine[runs[j + 1].state] not in seen:
            j += 1
        span = range(i, j + 1)
        has_dwell = any(is_dwell(sig, runs[k], min_dwell) for k in span)
        before = _nearest_dwell(sig, i - 1, -1, min_dwell, mine, seen)
        after = _nearest_dwell(sig, j + 1, 1, min_dwell, mine, seen)
        linked = (
            before is None
            or after is None
            or (mine[runs[before].state], mine[runs[after].state]) in ref_links
            or mine[runs[before].state] == mine[runs[after].state]
        )
        if has_dwell or not linked:
            seconds = runs[j].end_time - runs[i].start_time
            out.append(
                Anomaly(
                    "new_state",
                    runs[i].start_time,
                    runs[j].end_time,
                    round(min(1.0, seconds / (2 * max(min_dwell, 0.5))), 6),
                    f"{len(span)} run(s) no reference flight saw"
                    + ("" if has_dwell else ", between places never flown in a row"),
                    tuple(sorted({runs[k].state for k in span})),
                )
            )
        i = j + 1

    # missing expected places
    counts: dict[int, int] = {}
    for seq in ref_dwell_cls:
        for c in set(seq):
            counts[c] = counts.get(c, 0) + 1
    present = {mine[r.state] for r in runs}
    best = max(
        range(len(references)),
        key=lambda k: compare(sig, references[k], max_hash=max_hash, max_hist=max_hist).similarity,
    )
    for c, k in sorted(counts.items()):
        share = k / len(references)
        if share < expected_share or c in present:
            continue
        start, end = _where_due(sig, mine, ref_dwell_cls[best], c, min_dwell)
        # name the place by where a reference dwelt there, so two missed places that are
        # due at the same time can be told apart
        r_idx = (
            best
            if c in ref_dwell_cls[best]
            else ref_dwell_cls.index(next(seq for seq in ref_dwell_cls if c in seq))
        )
        ref_run = next(
            references[r_idx].runs[i]
            for i in dwell_runs(references[r_idx], min_dwell)
            if refs[r_idx][references[r_idx].runs[i].state] == c
        )
        out.append(
            Anomaly(
                "missing_state",
                start,
                end,
                round(share, 6),
                f"a place {k} of {len(references)} reference flight(s) dwelt at was not seen "
                f"(reference {r_idx + 1}'s state {ref_run.state} at "
                f"{ref_run.start_time:.1f}-{ref_run.end_time:.1f} s)",
            )
        )

    # order deviations against the closest reference
    cmp = compare(sig, references[best], max_hash=max_hash, max_hist=max_hist, min_dwell=min_dwell)
    for oc in cmp.order_changes:
        r = next(x for x in runs if x.state == oc.a_state and x.start_time == oc.a_time)
        out.append(
            Anomaly(
                "order",
                r.start_time,
                r.end_time,
                1.0,
                f"state {oc.a_state} visited out of the reference's order "
                f"(the reference was there at {oc.b_time:.1f} s)",
                (oc.a_state,),
            )
        )
    out.sort(key=lambda x: (x.start_time, x.kind))
    return out


def _nearest_dwell(
    sig: Signature, i: int, step: int, min_dwell: float, mine: dict[int, int], seen: set[int]
) -> int | None:
    """The nearest dwell from run ``i`` on (by ``step``) at a place the references know."""
    while 0 <= i < len(sig.runs):
        r = sig.runs[i]
        if is_dwell(sig, r, min_dwell) and mine[r.state] in seen:
            return i
        i += step
    return None


def _where_due(
    sig: Signature, mine: dict[int, int], ref_seq: list[int], cls: int, min_dwell: float
) -> tuple[float, float]:
    """Between this flight's dwells at the places just before and after ``cls`` in the
    reference; the whole flight when they cannot be placed."""
    dw = dwell_runs(sig, min_dwell)
    seq = [mine[sig.runs[i].state] for i in dw]
    if cls in ref_seq:
        k = ref_seq.index(cls)
        prev = ref_seq[k - 1] if k > 0 else None
        nxt = ref_seq[k + 1] if k + 1 < len(ref_seq) else None
        start = 0.0
        end = sig.source.duration
        if prev is not None and prev in seq:
            p = seq.index(prev)
            start = sig.runs[dw[p]].end_time
            if nxt is not None and nxt in seq[p + 1 :]:
                end = sig.runs[dw[p + 1 + seq[p + 1 :].index(nxt)]].start_time
        elif nxt is not None and nxt in seq:
            end = sig.runs[dw[seq.index(nxt)]].start_time
        return start, end
    return 0.0, sig.source.duration


# ------------------------------------------------------------------------ detect


def detect(
    sig: Signature,
    references: Sequence[Signature] = (),
    *,
    profile: FrameProfile | None = None,
    **options: float,
) -> AnomalyReport:
    """All anomalies: against ``references`` (if any) and within the flight (if profiled).

    Stretches the within-flight checks explain (a blackout, a blur burst) are not also
    reported as new states: the dark or blurred frames do look like no reference.
    """
    inside = within_flight(profile) if profile is not None else []
    ref_kw = {k: v for k, v in options.items() if k in ("min_dwell", "expected_share")}
    outside = against_reference(sig, references, **ref_kw)  # type: ignore[arg-type]
    explained = [a for a in inside if a.kind in ("blackout", "blur", "exposure_jump")]

    def covered(a: Anomaly) -> bool:
        span = a.end_time - a.start_time
        inter = sum(
            max(0.0, min(a.end_time, e.end_time) - max(a.start_time, e.start_time))
            for e in explained
        )
        return span > 0 and inter >= 0.5 * span

    outside = [a for a in outside if not (a.kind == "new_state" and covered(a))]
    allx = sorted([*inside, *outside], key=lambda x: (x.start_time, x.kind))
    return AnomalyReport(
        REPORT_VERSION,
        sig.source.path,
        tuple(r.source.path for r in references),
        profile is not None,
        tuple(allx),
    )
