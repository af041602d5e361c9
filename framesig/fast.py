"""Fast mode: scan the keyframes, decode only the GOPs where the state may have changed.

A hovering drone shows the same view for many GOPs in a row. Fast mode decodes every
keyframe (``skip_frame = "NONKEY"``: the decoder drops all other frames unread) and reads
every packet's size and PTS. A GOP is *static* when the keyframes at both its ends show the
same view (pHash and colour histogram closer than a third of the join limits) and no packet
inside it jumps in size (a flash, a cut or a fast move makes a large P or B frame). A static
GOP is not decoded: its frames enter the ordinary pipeline as stand-ins, the thumbnail of
its keyframe under each frame's own index, PTS and time. Every other GOP is decoded in full,
so each transition is placed on its exact frame by the same quantizer as in exact mode.

After the run the result is checked: a transition or transient inside a skipped GOP, or a
skipped keyframe near the edge of its state (within twice the static limit of the join
limit), marks that GOP for decoding and the run is repeated; after three rounds, or where
the input does not allow it, fast mode falls back to exact mode by itself and says why in
``signature.settings["fast_fallback"]``.

Where fast mode cannot claim exact mode's result, and falls back:

- inputs that are not video files (image folders, arrays), and ``max_frames`` previews;
- raw elementary streams and files whose frames have no PTS (``.h264``, ``.hevc``), and
  MPEG-TS (frames are placed by PTS, and seeking must land on a keyframe);
- all-intra streams and streams whose first GOP lasts under ``MIN_GOP_SECONDS`` (nothing
  to skip: decoding the keyframes costs as much), and streams whose first GOP is longer
  than ``MAX_GOP_SECONDS`` (later long GOPs are decoded in full, never skipped);
- files that do not seek, packets without PTS or with repeated PTS, packets an edit list
  drops, corrupt packets, and a stream that does not start with a keyframe;
- any decode error, or a decoded GOP whose frames do not match its packets.

Damage that the demuxer does not flag, inside a GOP that fast mode skips, goes unseen:
exact mode drops the frames it cannot decode (``source.skipped_packets``) and numbers the
rest on, so its later frame numbers are lower by as many, while fast mode counts the frames
as the file lists them. States and times agree.

Examples
--------
>>> import numpy as np, framesig
>>> frames = [np.zeros((64, 64, 3), np.uint8)] * 8
>>> sig = framesig.summarize(frames, fps=10, fast=True)
>>> sig.settings["fast"], sig.settings["fast_fallback"]
(True, 'not a video file (fast mode reads packets and keyframes of a file)')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from framesig import kernels
from framesig.decode import (
    DecodeStats,
    Frame,
    FrameSource,
    PacketInfo,
    decode_span,
    open_source,
    scan_keyframes,
    stream_end,
    stream_time,
)
from framesig.quantize import FLAT_TEXTURE
from framesig.settings import Settings
from framesig.signature import Signature

__all__ = ["FastReport", "run_fast", "summarize_fast", "MAX_GOP_SECONDS"]

MAX_GOP_SECONDS = 10.0  # a first GOP longer than this: fall back; later ones: decode them
MIN_GOP_SECONDS = 0.5  # a first GOP shorter than this: fall back (keyframes cost as much)
SIZE_JUMP = 4.0  # a packet this many times the GOP's median size (plus SIZE_SLACK) is a jump
SIZE_SLACK = 2048  # bytes
STATIC_NCC = 0.8  # a static GOP's keyframes: their views correlate this well, unshifted
ROUNDS = 3
_RAW_CONTAINERS = frozenset({"h264", "hevc", "mpegts", "mpeg", "m4v", "rawvideo", "mjpeg"})


class FastFallback(Exception):
    """Fast mode cannot claim exact mode's result on this input."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class FastReport:
    """What a fast run did (for ``framesig bench`` and the benchmarks)."""

    frames: int = 0
    decoded_frames: int = 0  # frames decoded in full (the keyframe scan not counted)
    keyframes: int = 0
    gops: int = 0
    skipped_gops: int = 0
    rounds: int = 0
    fallback: str = ""
    forced: set[int] = field(default_factory=set)


def summarize_fast(
    source: str | os.PathLike[str] | Iterable[np.ndarray],
    s: Settings,
    progress: Callable[[Any], None] | None = None,
) -> Signature:
    """Summarize in fast mode (see the module notes); falls back to exact mode by itself."""
    return run_fast(source, s, progress)[0]


def run_fast(
    source: str | os.PathLike[str] | Iterable[np.ndarray],
    s: Settings,
    progress: Callable[[Any], None] | None = None,
) -> tuple[Signature, FastReport]:
    """:func:`summarize_fast` and a :class:`FastReport` of what it did."""
    from framesig import pipeline

    report = FastReport()
    reason = _unsuitable_input(source, s)
    forced: set[int] = set()
    while not reason:
        report.rounds += 1
        with open_source(
            source, fps=s.fps, decode_threads=s.decode_threads, deblock=s.deblock
        ) as src:
            fsrc = None
            reason = _unsuitable_source(src)
            if not reason:
                fsrc = _FastSource(src, s, forced)
                settled: list[tuple[int, int]] = []
                try:
                    sig = pipeline._summarize_open(fsrc, s, progress, settled)
                except FastFallback as exc:
                    reason = exc.reason
            if reason:
                if fsrc is None or fsrc.pristine:
                    # Nothing was decoded from src yet (a short first GOP, a raw stream):
                    # exact mode reads it from here, without opening the file again.
                    return _exact(src, s, reason, progress, report)
                break
        assert fsrc is not None
        bad = _violations(sig, fsrc, s, settled)
        if not bad:
            report.frames = sig.source.frames
            report.decoded_frames = fsrc.decoded_frames
            report.keyframes = fsrc.keyframes
            report.gops = fsrc.gops
            report.skipped_gops = len(fsrc.skipped)
            report.forced = forced
            return sig, report
        forced |= bad
        if report.rounds >= ROUNDS:
            reason = f"state changes inside skipped GOPs after {ROUNDS} rounds"
    with open_source(source, fps=s.fps, decode_threads=s.decode_threads, deblock=s.deblock) as src:
        return _exact(src, s, reason, progress, report)


def _exact(
    src: FrameSource,
    s: Settings,
    reason: str,
    progress: Callable[[Any], None] | None,
    report: FastReport,
) -> tuple[Signature, FastReport]:
    """Exact mode's result on ``src``, which says why fast mode fell back."""
    from framesig import pipeline

    report.fallback = reason
    sig = pipeline._summarize_open(src, s.with_(fast_fallback=reason), progress)
    report.frames = report.decoded_frames = sig.source.frames
    return sig, report


def _unsuitable_input(source: Any, s: Settings) -> str:
    if not isinstance(source, (str, os.PathLike)) or os.path.isdir(os.fspath(source)):
        return "not a video file (fast mode reads packets and keyframes of a file)"
    if s.max_frames is not None:
        return "max_frames: a preview decodes its first frames anyway"
    return ""


def _unsuitable_source(src: FrameSource) -> str:
    info = src.info
    if info.kind != "file":
        return "not a video file"
    if info.container in _RAW_CONTAINERS:
        return f"{info.container} stream: frames are not placed by seekable PTS"
    if src.stats.estimated_timestamps or getattr(src, "_timeline", None) is None:
        return "frames without PTS"
    if src._timeline.estimated:  # type: ignore[attr-defined]
        return "frames without PTS"
    return ""


@dataclass
class _Key:
    """A keyframe from the scan: its PTS and, once decoded, its stand-in thumbnail."""

    pts: int
    planes: tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None = None
    bits: int = 8
    full_range: bool = False
    phash: int = 0
    hist: np.ndarray | None = None
    flat: bool = False
    view: tuple[np.ndarray, np.ndarray] | None = None  # 32x32 and 16x16 detail


@dataclass
class _Gop:
    key: _Key
    pts: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # non-key packets only
    durations: dict[int, int | None] = field(default_factory=dict)


class _FastSource(FrameSource):
    """Every frame in display order: decoded in changing GOPs, stand-ins in static ones."""

    def __init__(self, src: FrameSource, s: Settings, forced: set[int]) -> None:
        self.src = src
        self.s = s
        self.forced = forced
        self.info = src.info
        self.stats = DecodeStats()
        nf = s.noise_factor if s.noise_factor >= 1 else 3.0
        self.static_hash = int(min(s.join_hash, s.match_hash) / nf)
        self.static_hist = min(s.join_hist, s.match_hist) / nf
        # skipped GOPs: (gop, first frame, next keyframe's frame, keyframes' hashes)
        self.skipped: list[tuple[int, int, int, int, int]] = []
        self.decoded_frames = 0
        self.keyframes = 0
        self.gops = 0
        self._levels: tuple[float, float, float, float] | None = None
        self._luma = np.empty((1, kernels.THUMB, kernels.THUMB), np.float32)
        self._cu = np.empty((1, kernels.CHROMA, kernels.CHROMA), np.float32)
        self._cv = np.empty_like(self._cu)
        self._reader = _SpanReader(src)

    @property
    def pristine(self) -> bool:
        """Nothing decoded from the source yet (the keyframe scan has its own demuxer)."""
        return self._reader._it is None

    # -- the keyframe scan, grouped into complete GOPs
    def _complete_gops(self) -> Iterator[tuple[_Gop, _Key | None]]:
        keys: list[_Key] = []
        gops: list[_Gop] = []
        by_pts: dict[int, _Key] = {}
        emitted = 0
        first_packets = 0
        all_key = True
        for item in scan_keyframes(self.src, threads=self.s.decode_threads):
            if isinstance(item, Frame):
                key = by_pts.get(item.pts)
                if key is not None and key.planes is None:
                    self._stand_in(key, item)
            else:
                self._check_packet(item)
                assert item.pts is not None
                if first_packets < 16:
                    first_packets += 1
                    all_key = all_key and item.key
                    if first_packets == 16 and all_key:
                        raise FastFallback("all-intra stream: every frame is a keyframe")
                if item.key:
                    key = _Key(item.pts)
                    keys.append(key)
                    by_pts[item.pts] = key
                    gops.append(_Gop(key))
                    self.keyframes += 1
                if not gops:
                    raise FastFallback("the stream does not start with a keyframe")
                g = len(gops) - 1
                while g >= 0 and item.pts < gops[g].key.pts:
                    g -= 1
                if g < 0 or g < emitted:
                    raise FastFallback("a frame is shown before the keyframe it follows")
                gop = gops[g]
                gop.pts.append(item.pts)
                gop.durations[item.pts] = item.duration
                if not item.key:
                    gop.sizes.append(item.size)
                if len(gops) == 2 and emitted == 0 and item.key:
                    if not self._gop_short(gops[0], item.pts):
                        raise FastFallback(f"the first GOP is longer than {MAX_GOP_SECONDS:g} s")
                    seconds = stream_time(self.src, item.pts) - stream_time(
                        self.src, gops[0].key.pts
                    )
                    if seconds < MIN_GOP_SECONDS and len(gops[0].pts) > 1:  # 1: all-intra?
                        raise FastFallback(
                            f"the first GOP lasts {seconds:.2f} s: keyframes this close "
                            "leave nothing to skip"
                        )
            # GOP e is complete once keyframe e + 2 is read and keyframes e, e + 1 decoded
            while emitted + 2 < len(gops) and all(
                k.planes is not None for k in keys[emitted : emitted + 2]
            ):
                yield gops[emitted], keys[emitted + 1]
                by_pts.pop(keys[emitted].pts, None)
                gops[emitted] = None  # type: ignore[call-overload]
                keys[emitted] = None  # type: ignore[call-overload]
                emitted += 1
        if not gops:
            raise FastFallback("no keyframe in the stream")
        if first_packets < 16 and all_key and first_packets > 1:
            raise FastFallback("all-intra stream: every frame is a keyframe")
        for e in range(emitted, len(gops)):
            yield gops[e], (keys[e + 1] if e + 1 < len(gops) else None)

    def _check_packet(self, p: PacketInfo) -> None:
        if p.pts is None:
            raise FastFallback("a packet without PTS")
        if p.discard:
            raise FastFallback("the edit list drops packets")
        if p.corrupt:
            raise FastFallback("a corrupt packet")

    def _gop_short(self, gop: _Gop, next_pts: int) -> bool:
        return stream_time(self.src, next_pts) - stream_time(self.src, gop.key.pts) <= (
            MAX_GOP_SECONDS
        )

    def _stand_in(self, key: _Key, frame: Frame) -> None:
        """Keep a keyframe's block means (sample units) and its features."""
        y64 = np.empty((kernels.THUMB, kernels.THUMB), np.float32)
        _block_means(frame.y, y64)
        u32 = v32 = None
        if frame.u is not None and frame.v is not None:
            u32 = np.empty((kernels.CHROMA, kernels.CHROMA), np.float32)
            v32 = np.empty_like(u32)
            _block_means(frame.u, u32)
            _block_means(frame.v, v32)
        key.planes = (y64, u32, v32)
        key.bits, key.full_range = frame.bit_depth, frame.full_range
        if self._levels is None:
            self._levels = kernels.plane_levels(frame.bit_depth, frame.full_range)
        kernels.thumbnails_into(
            y64, u32, v32, self._levels, self.info.rotation, self._luma[0], self._cu[0], self._cv[0]
        )
        f = kernels.frame_features(self._luma, self._cu, self._cv)
        key.phash = int(f["phash"][0])
        key.hist = f["hist"][0].copy()
        key.flat = bool(f["texture"][0] < FLAT_TEXTURE)
        key.view = (f["detail"][0].copy(), f["detail16"][0].copy())

    def _static(self, g: int, gop: _Gop, nxt: _Key | None) -> bool:
        key = gop.key
        if nxt is None or g in self.forced or key.hist is None or nxt.hist is None:
            return False
        if len(gop.pts) < 2 or not self._gop_short(gop, nxt.pts):
            return False
        if key.flat != nxt.flat:
            return False
        dh = 0 if key.flat else kernels.hamming(key.phash, nxt.phash)
        dc = kernels.hist_distance(key.hist, nxt.hist)
        if dh > self.static_hash or dc > self.static_hist:
            return False
        if not key.flat and key.view is not None and nxt.view is not None:
            # The view must hold still, not merely look alike: in a slow pan every frame
            # is a little further on, and the quantizer follows (and re-anchors on) the
            # view itself, so stand-ins that do not move would change its course.
            ncc, dy, dx = kernels.aligned_ncc(
                key.view[0], nxt.view[0], *key.view[1:], *nxt.view[1:]
            )
            if ncc < STATIC_NCC or dy or dx:
                return False
        if gop.sizes:
            med = float(np.median(gop.sizes))
            if max(gop.sizes) > SIZE_JUMP * med + SIZE_SLACK:
                return False
        return True

    def frames(self) -> Iterator[Frame]:
        import av

        index = 0
        last_pts, last_duration = 0, None
        try:
            for g, (gop, nxt) in enumerate(self._complete_gops()):
                self.gops += 1
                pts = sorted(gop.pts)
                if len(set(pts)) != len(pts):
                    raise FastFallback("repeated PTS")
                if self._static(g, gop, nxt):
                    assert gop.key.planes is not None and nxt is not None
                    y, u, v = gop.key.planes
                    self.skipped.append((g, index, index + len(pts), gop.key.phash, nxt.phash))
                    for p in pts:
                        yield Frame(
                            index,
                            p,
                            stream_time(self.src, p),
                            False,
                            y,
                            u,
                            v,
                            gop.key.bits,
                            gop.key.full_range,
                        )
                        index += 1
                else:
                    stop = None if nxt is None else nxt.pts
                    got = 0
                    for frame in self._reader.frames(gop.key.pts, stop):
                        if got >= len(pts) or frame.pts != pts[got]:
                            raise FastFallback(
                                f"decoded frames do not match the packets near pts {frame.pts}"
                            )
                        got += 1
                        self.decoded_frames += 1
                        yield Frame(
                            index,
                            frame.pts,
                            frame.time,
                            False,
                            frame.y,
                            frame.u,
                            frame.v,
                            frame.bit_depth,
                            frame.full_range,
                        )
                        index += 1
                    if got != len(pts):
                        raise FastFallback(
                            f"a GOP decoded {got} of its {len(pts)} frames (pts {gop.key.pts})"
                        )
                last_pts = pts[-1]
                last_duration = gop.durations.get(last_pts)
        except av.error.FFmpegError as exc:
            raise FastFallback(f"decode error: {exc.strerror or exc}") from exc
        self.stats.frames = index
        self.stats.end_pts, self.stats.end_time = stream_end(self.src, last_pts, last_duration)
        nominal = self.info.nominal_frames
        self.stats.skipped_frames = max(nominal - index, 0) if nominal else 0
        if self.stats.skipped_frames:
            raise FastFallback(f"the container lists {nominal} frames, {index} were found")


class _SpanReader:
    """Consecutive decoded GOPs continue one decode; a gap seeks to the next keyframe."""

    def __init__(self, src: FrameSource) -> None:
        self.src = src
        self._it: Iterator[Frame] | None = None
        self._ahead: Frame | None = None

    def frames(self, start: int, stop: int | None) -> Iterator[Frame]:
        if self._ahead is None or self._ahead.pts != start:
            self._it = decode_span(self.src, start, None)
            self._ahead = next(self._it, None)
        assert self._it is not None
        while self._ahead is not None and (stop is None or self._ahead.pts < stop):
            frame, self._ahead = self._ahead, None
            yield frame
            self._ahead = next(self._it, None)


def _block_means(plane: np.ndarray, out: np.ndarray) -> None:
    """Block means as :func:`kernels.thumbnails_into` takes them (the same row step)."""
    step = kernels.thumb_row_step(plane.shape[0], out.shape[0])
    if plane.dtype in (np.uint8, np.uint16) and plane.shape[0] < 65536:
        kernels._area_downsample_int(plane, out, 0.0, 1.0, step)
    else:
        out[:] = kernels.area_downsample(plane, out.shape[0], out.shape[1], row_step=step)


def _violations(
    sig: Signature, fsrc: _FastSource, s: Settings, settled: list[tuple[int, int]]
) -> set[int]:
    """GOPs that were skipped but where the state may change: decode them next round.

    That is: a transition or transient inside the GOP, a keyframe near the edge of its
    state, or a window where the quantizer re-anchored on a settled view (stand-ins of one
    keyframe always look settled; the real frames may not be).
    """
    if not fsrc.skipped:
        return set()
    changes = sorted([t.frame for t in sig.transitions] + [t.start_frame for t in sig.transients])
    starts = np.array([r.start_frame for r in sig.runs], np.int64)
    run_state = [r.state for r in sig.runs]
    hashes = {st.id: int(st.hash, 16) for st in sig.states}
    edge = max(s.join_hash, s.match_hash) - 2 * fsrc.static_hash
    bad: set[int] = set()
    arr = np.array(changes, np.int64)
    for g, a, b, ha, hb in fsrc.skipped:
        if arr.size and np.any((arr > a) & (arr <= b)):
            bad.add(g)
            continue
        if any(lo < b and a <= hi for lo, hi in settled):
            bad.add(g)
            continue
        state = run_state[int(np.searchsorted(starts, a, side="right")) - 1]
        proto = hashes.get(state)
        if proto is None:
            continue
        if kernels.hamming(ha, proto) > edge or kernels.hamming(hb, proto) > edge:
            bad.add(g)
    return bad
