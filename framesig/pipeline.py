"""The pipeline: decode -> kernels -> quantize -> automaton -> signature.

:func:`summarize` is the one public entry point; it streams the input in batches, so
memory stays flat with video length (per frame it keeps only a hash, a sharpness and a
time: about 30 bytes).
"""

from __future__ import annotations

import itertools
import os
import time as _time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from framesig import __version__, automaton, kernels
from framesig.decode import Frame, FrameSource, ReadAhead, open_source, read_ahead
from framesig.quantize import (
    FLAT_TEXTURE,
    Quantizer,
    QuantizeResult,
    choose_keyframes,
    state_views,
    view_radius,
)
from framesig.settings import Settings
from framesig.signature import (
    SCHEMA_VERSION,
    Loop,
    Recurrence,
    Run,
    Signature,
    SourceFacts,
    State,
    Transient,
    Transition,
)

__all__ = ["summarize", "Progress"]


@dataclass(frozen=True)
class Progress:
    """Where a running summarization is: handed to the ``progress`` callback per batch."""

    frames: int
    time: float  # seconds into the video
    duration: float  # the container's claim (0 when unknown); only for display
    elapsed: float  # wall seconds so far


class _FrameLog:
    """Per-frame values kept for the whole video: pts, time, pHash, sharpness, flatness
    and chroma histogram (16 bytes: the views of drifting states need it)."""

    def __init__(self) -> None:
        self._parts: dict[str, list[np.ndarray]] = {
            "pts": [],
            "time": [],
            "phash": [],
            "sharp": [],
            "flat": [],
            "chroma": [],
        }

    def add(self, **arrays: np.ndarray) -> None:
        for k, v in arrays.items():
            self._parts[k].append(v)

    def take(self, key: str, dtype: Any) -> np.ndarray:
        """The whole column, once: its parts are let go, so memory is not held twice."""
        parts = self._parts.pop(key)
        return np.concatenate(parts) if parts else np.empty(0, dtype)


def summarize(
    source: str | os.PathLike[str] | Iterable[np.ndarray],
    settings: Settings | None = None,
    *,
    progress: Callable[[Progress], None] | None = None,
    **overrides: Any,
) -> Signature:
    """Summarize a video into a flight signature.

    Parameters
    ----------
    source : path-like or iterable of numpy.ndarray
        A video file, a folder of numbered images, or RGB/grey frames.
    settings : Settings, optional
        All settings; keyword ``overrides`` change single ones (``persist=4``).
    progress : callable, optional
        Called with a :class:`Progress` after each batch.

    Returns
    -------
    Signature

    Raises
    ------
    framesig.FramesigError
        A subclass naming the file and the cause, when no frame can be decoded.

    Examples
    --------
    >>> import numpy as np, framesig
    >>> rng = np.random.default_rng(0)
    >>> scene = rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)
    >>> flight = [scene] * 20 + [255 - scene] * 20 + [scene] * 20
    >>> sig = framesig.summarize(flight, fps=30)
    >>> sig.symbols  # the return to the first view gets its old state
    (0, 1, 0)
    """
    s = settings or Settings()
    if overrides:
        s = s.with_(**overrides)
    with _kernel_threads(s.kernel_threads):
        if s.fast:
            from framesig.fast import summarize_fast

            return summarize_fast(source, s, progress)
        with open_source(
            source, fps=s.fps, decode_threads=s.decode_threads, deblock=s.deblock
        ) as src:
            return _summarize_open(src, s, progress)


@contextmanager
def _kernel_threads(n: int) -> Iterator[None]:
    """numba threads for the batch kernels while one summarization runs (0: as they are)."""
    if n <= 0:
        yield
        return
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    try:
        yield
    finally:
        numba.set_num_threads(before)


class _Batch:
    """One batch of frames' thumbnails and times (a buffer the batches rotate through)."""

    def __init__(self, size: int) -> None:
        self.luma = np.empty((size, kernels.THUMB, kernels.THUMB), np.float32)
        self.cu = np.empty((size, kernels.CHROMA, kernels.CHROMA), np.float32)
        self.cv = np.empty_like(self.cu)
        self.pts = np.empty(size, np.int64)
        self.times = np.empty(size, np.float64)
        self.n = 0


def _thumbnail_batches(
    frames: Iterator[Frame], rotation: int, size: int, max_frames: int | None, cut: list[bool]
) -> Generator[_Batch, None, None]:
    """The frames' thumbnails, ``size`` frames a batch, up to ``max_frames`` frames;
    ``cut[0]`` is set when frames were left after those.

    Three buffers take turns: under :func:`read_ahead` with ``depth=1`` one is being
    filled, one waits, and one is with the caller, which is done with it by the time it
    takes the next.
    """
    buffers = [_Batch(size) for _ in range(3)]
    levels: tuple[float, float, float, float] | None = None
    total = 0
    try:
        for turn in itertools.count():
            b = buffers[turn % 3]
            b.n = 0
            for frame in frames:
                if levels is None or frame.index == 0:
                    levels = kernels.plane_levels(frame.bit_depth, frame.full_range)
                k = b.n
                kernels.thumbnails_into(
                    frame.y, frame.u, frame.v, levels, rotation, b.luma[k], b.cu[k], b.cv[k]
                )
                b.pts[k] = frame.pts
                b.times[k] = frame.time
                b.n = k + 1
                total += 1
                if b.n == size or (max_frames is not None and total >= max_frames):
                    break
            if max_frames is not None and total >= max_frames:
                cut[0] = next(frames, None) is not None
            if b.n:
                yield b
            if b.n < size or (max_frames is not None and total >= max_frames):
                return
    finally:
        close = getattr(frames, "close", None)
        if close is not None:
            close()


def _chroma_u8(hist: np.ndarray) -> np.ndarray:
    """Each frame's chroma histogram (the joint histogram summed over luma) in 1/255ths."""
    chroma = hist.reshape(hist.shape[0], kernels.Y_BINS, -1).sum(axis=1)
    return np.rint(chroma * 255).astype(np.uint8)


def _summarize_open(
    src: FrameSource,
    s: Settings,
    progress: Callable[[Progress], None] | None,
    settled: list[tuple[int, int]] | None = None,
) -> Signature:
    """Run the pipeline over an open source; ``settled`` collects the quantizer's
    settled-view windows (fast mode checks them against the GOPs it stood in for)."""
    info = src.info
    quantizer = Quantizer(s)
    log = _FrameLog()
    started = _time.perf_counter()
    n_total = 0
    last_time = 0.0

    def report() -> None:
        elapsed = _time.perf_counter() - started
        progress(Progress(n_total, last_time, info.container_duration, elapsed))  # type: ignore[misc]

    cut = [False]  # set when max_frames stopped the batches before the end
    batches: Generator[_Batch, None, None] | ReadAhead[_Batch] = _thumbnail_batches(
        src.frames(), info.rotation, s.batch_size, s.max_frames, cut
    )
    if src.any_thread:
        # Decoding and thumbnails run a batch ahead on a helper thread, the features and
        # the quantizer here: both sides spend most of their time outside the GIL.
        batches = read_ahead(batches, depth=1)
    # Closed on every way out, before the caller closes the source: the helper thread
    # must have stopped decoding from it (an error here left it running into a closed
    # container).
    with closing(batches):
        if src.any_thread:
            # numba loads its machinery here, on the caller's thread (where an interrupt
            # lands), while the helper decodes the first frames
            kernels.warm()
        for b in batches:
            n = b.n
            feats = kernels.frame_features(b.luma[:n], b.cu[:n], b.cv[:n])
            quantizer.push(
                feats["phash"], feats["hist"], feats["texture"], feats["detail"], feats["detail16"]
            )
            log.add(
                pts=b.pts[:n].copy(),
                time=b.times[:n].copy(),
                phash=feats["phash"],
                sharp=feats["sharpness"],
                flat=feats["texture"] < FLAT_TEXTURE,
                chroma=_chroma_u8(feats["hist"]),
            )
            n_total += n
            last_time = float(b.times[n - 1])
            if progress is not None and n == s.batch_size:
                report()
    partial = cut[0]
    if progress is not None:
        report()
    result = quantizer.finish()
    if settled is not None:
        settled.extend(result.settled)
    return _assemble(src, s, result, log, partial)


def _assemble(
    src: FrameSource, s: Settings, q: QuantizeResult, log: _FrameLog, partial: bool
) -> Signature:
    info, stats = src.info, src.stats
    labels = q.labels
    n = labels.shape[0]
    pts = log.take("pts", np.int64)
    times = log.take("time", np.float64)
    phash = log.take("phash", np.uint64)
    sharp = log.take("sharp", np.float32)
    flat = log.take("flat", np.bool_)
    chroma = log.take("chroma", np.uint8).reshape(-1, kernels.C_BINS**2)
    if partial:
        end_pts, end_time = int(pts[-1]), float(times[-1])
        if n > 1:
            end_pts += int(pts[-1] - pts[-2])
            end_time += float(times[-1] - times[-2])
    else:
        end_pts, end_time = stats.end_pts, stats.end_time

    # runs: consecutive equal labels
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:] - 1, n - 1]
    runs = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        e_pts = int(pts[b + 1]) if b + 1 < n else end_pts
        e_time = float(times[b + 1]) if b + 1 < n else end_time
        runs.append(Run(int(labels[a]), a, b, float(times[a]), e_time, int(pts[a]), e_pts))

    n_states = len(q.state_hashes)
    keyframes = choose_keyframes(labels, phash, sharp, n_states)
    frame_counts = np.bincount(labels, minlength=n_states)
    state_chroma = q.state_hists.reshape(n_states, kernels.Y_BINS, -1).sum(axis=1)
    view_state, view_frame, nearest = state_views(
        labels,
        phash,
        chroma,
        flat,
        np.array(q.state_hashes, np.uint64),
        state_chroma,
        *view_radius(q.noise_hash, q.noise_hist),
    )
    views: list[list[int]] = [[] for _ in range(n_states)]
    for k, sid in enumerate(view_state.tolist()):
        views[sid].append(k)
    run_counts = np.bincount(labels[starts], minlength=n_states)
    first_time: dict[int, float] = {}
    for r in runs:
        first_time.setdefault(r.state, r.start_time)
    states = tuple(
        State(
            id=sid,
            hash=f"{q.state_hashes[sid]:016x}",
            keyframe=int(keyframes[sid]),
            keyframe_time=float(times[keyframes[sid]]),
            keyframe_pts=int(pts[keyframes[sid]]),
            frames=int(frame_counts[sid]),
            runs=int(run_counts[sid]),
            first_time=first_time[sid],
            hist=tuple(round(float(x), 4) for x in q.state_hists[sid]),
            views=tuple(f"{int(phash[view_frame[k]]):016x}" for k in views[sid]),
            view_frames=tuple(int(view_frame[k]) for k in views[sid]),
            view_times=tuple(float(times[view_frame[k]]) for k in views[sid]),
            view_pts=tuple(int(pts[view_frame[k]]) for k in views[sid]),
            view_chroma=tuple(
                round(int(c) / 255, 4) for k in views[sid] for c in chroma[view_frame[k]]
            ),
            burst=sid in q.bursts,
            hash_time=float(times[nearest[sid]]) if nearest[sid] >= 0 else None,
        )
        for sid in range(n_states)
        if frame_counts[sid] > 0
    )
    transitions = tuple(
        Transition(
            t.frame,
            float(times[t.frame]),
            int(pts[t.frame]),
            t.from_state,
            t.to_state,
            t.hash_distance,
            round(t.hist_distance, 6),
            t.revisit,
            "cut" if t.abrupt else "gradual",
        )
        for t in q.transitions
    )
    transients = tuple(
        Transient(a, b, float(times[a]), float(times[b + 1]) if b + 1 < n else end_time)
        for a, b in q.transients
    )
    symbols = np.array([r.state for r in runs], np.int64)
    loops = tuple(
        Loop(
            lp.start,
            lp.period,
            lp.count,
            lp.pattern,
            runs[lp.start].start_frame,
            runs[lp.start + lp.length - 1].end_frame,
            runs[lp.start].start_time,
            runs[lp.start + lp.length - 1].end_time,
        )
        for lp in automaton.loops(symbols)
    )
    recurrences = tuple(
        Recurrence(
            r.first,
            r.later,
            r.length,
            r.pattern,
            runs[r.first].start_time,
            runs[r.later].start_time,
        )
        for r in automaton.recurrences(symbols)
    )
    skipped_frames = stats.skipped_frames  # index claims (less edit-list drops) not decoded
    facts = SourceFacts(
        path=info.path,
        kind=info.kind,
        container=info.container,
        codec=info.codec,
        pix_fmt=info.pix_fmt,
        bit_depth=info.bit_depth,
        width=info.width,
        height=info.height,
        display_width=info.display_width,
        display_height=info.display_height,
        sample_aspect_ratio=info.sample_aspect_ratio,
        rotation=info.rotation,
        fps=info.nominal_fps,
        time_base=f"{info.time_base.numerator}/{info.time_base.denominator}",
        start_time=info.start_time,
        frames=n,
        duration=end_time,
        nominal_frames=info.nominal_frames,
        truncated=stats.truncated,  # decided by the decoder: read error or cut-off file
        estimated_timestamps=stats.estimated_timestamps > 0,
        estimated_frames=stats.estimated_timestamps,
        skipped_packets=stats.skipped_packets,
        skipped_frames=0 if partial else skipped_frames,
        partial=partial,
        decode_errors=tuple(stats.decode_errors),
    )
    return Signature(
        schema_version=SCHEMA_VERSION,
        framesig_version=__version__,
        source=facts,
        settings=s.to_dict(),
        noise_floor={"hash": q.noise_hash, "hist": round(q.noise_hist, 6)},
        states=states,
        runs=tuple(runs),
        transitions=transitions,
        transients=transients,
        loops=loops,
        recurrences=recurrences,
    )
