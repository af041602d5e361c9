"""Decoding: any input to a stream of frames in display order with true times.

One :class:`Frame` at a time comes out of :meth:`FrameSource.frames`; nothing holds the
video. A frame carries its display-order index, its presentation timestamp (an integer in
the stream's time base, and seconds from the stream's start), and views of its Y, U and V
planes straight from the decoder, so no per-frame colour conversion is made in Python.

Inputs:

- a file FFmpeg reads (mp4, mkv, webm, raw ``.h264`` elementary streams, ...);
- a folder of numbered images (natural sort order; times estimated from ``fps``);
- an iterable of numpy frames (RGB ``HxWx3`` or grey ``HxW``, uint8 or uint16).

Decoding goes packet by packet, so one bad packet costs the frames in it and no more; the
count of skipped packets is kept in :class:`DecodeStats`.

Examples
--------
>>> import numpy as np
>>> frames = [np.full((48, 64, 3), v, np.uint8) for v in (0, 128, 255)]
>>> with open_source(frames, fps=10) as src:
...     [(f.index, f.time) for f in src.frames()]
[(0, 0.0), (1, 0.1), (2, 0.2)]
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from framesig.errors import (
    CorruptVideoError,
    EmptyVideoError,
    FramesigError,
    NoVideoStreamError,
    OpenError,
    UnsupportedError,
)

__all__ = [
    "Frame",
    "VideoInfo",
    "DecodeStats",
    "FrameSource",
    "open_source",
    "read_frames_rgb",
    "read_ahead",
    "ReadAhead",
    "IMAGE_EXTENSIONS",
]

log = logging.getLogger("framesig.decode")


_Item = TypeVar("_Item")


def read_ahead(frames: Iterator[_Item], depth: int = 2) -> ReadAhead[_Item]:
    """``frames``, made on a helper thread up to ``depth`` items ahead of the caller.

    FFmpeg decodes without the GIL, and so do the numba kernels, so the caller's work on
    one frame overlaps the decoding of the next ones. The helper starts at once, so the
    first items are on their way while the caller still prepares. Errors reach the caller
    where they arose. The helper has finished with ``frames`` (closed it, where it stopped
    early) once the returned iterator is exhausted, has raised or is closed; a caller that
    may stop early closes it (``contextlib.closing``) before it closes the source
    ``frames`` reads.

    Examples
    --------
    >>> list(read_ahead(iter(range(5))))
    [0, 1, 2, 3, 4]
    """
    return ReadAhead(frames, depth)


class ReadAhead(Iterator[_Item]):
    """The iterator :func:`read_ahead` returns."""

    def __init__(self, items: Iterator[_Item], depth: int) -> None:
        import queue

        self._queue_full = queue.Full
        self._ahead: queue.Queue[tuple[str, Any]] = queue.Queue(max(1, depth))
        self._stop = threading.Event()
        self._helper = threading.Thread(
            target=self._produce, args=(items,), name="framesig-decode", daemon=True
        )
        self._helper.start()

    def _put(self, item: tuple[str, Any]) -> bool:
        while not self._stop.is_set():
            try:
                self._ahead.put(item, timeout=0.05)
                return True
            except self._queue_full:
                continue
        return False

    def _produce(self, items: Iterator[_Item]) -> None:
        try:
            for item in items:
                if not self._put(("item", item)):
                    break
            else:
                self._put(("end", None))
        except BaseException as exc:  # handed to the caller, which raises it
            self._put(("error", exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def __next__(self) -> _Item:
        if self._stop.is_set():
            raise StopIteration
        kind, item = self._ahead.get()
        if kind == "item":
            return item
        self.close()
        if kind == "error":
            raise item
        raise StopIteration

    def close(self) -> None:
        """Stop the helper and wait until it has let go of the items' source."""
        self._stop.set()
        self._helper.join()

    def __del__(self) -> None:  # not closed by its caller: at least let the helper stop
        stop = getattr(self, "_stop", None)
        if stop is not None:
            stop.set()


IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})

# Pixel formats whose planes are read as they are: (chroma shift x, chroma shift y, bits).
_PLANAR_FORMATS: dict[str, tuple[int, int, int]] = {
    "yuv420p": (1, 1, 8),
    "yuvj420p": (1, 1, 8),
    "yuv422p": (1, 0, 8),
    "yuvj422p": (1, 0, 8),
    "yuv444p": (0, 0, 8),
    "yuvj444p": (0, 0, 8),
    "yuv420p10le": (1, 1, 10),
    "yuv422p10le": (1, 0, 10),
    "yuv444p10le": (0, 0, 10),
    "yuv420p12le": (1, 1, 12),
    "gray": (0, 0, 8),
    "gray10le": (0, 0, 10),
}


@dataclass(frozen=True)
class Frame:
    """One decoded frame, as planes in the decoder's memory.

    The plane arrays are views that stay valid only until the next frame is produced; copy
    what must outlive the iteration step.

    Attributes
    ----------
    index : int
        Display-order index, from 0.
    pts : int
        Presentation timestamp in ``time_base`` units (estimated when ``estimated``).
    time : float
        Seconds since the stream's start, ``(pts - start_pts) * time_base``.
    estimated : bool
        True when the time was not read from the frame but estimated (missing or
        non-rising PTS).
    y, u, v : numpy.ndarray
        2-D planes, uint8 or uint16. For grey input ``u`` and ``v`` are None.
    bit_depth : int
        Significant bits per sample (8, 10, 12, 16).
    full_range : bool
        True for full-range (JPEG) levels, False for limited (TV) range.
    """

    index: int
    pts: int
    time: float
    estimated: bool
    y: np.ndarray
    u: np.ndarray | None
    v: np.ndarray | None
    bit_depth: int
    full_range: bool


@dataclass(frozen=True)
class VideoInfo:
    """Facts about the input known before decoding (container claims are not trusted).

    ``display_width`` and ``display_height`` are the size a player shows: the coded size
    scaled by the sample aspect ratio and turned by ``rotation``.
    """

    path: str
    kind: str  # "file", "images" or "arrays"
    container: str
    codec: str
    pix_fmt: str
    bit_depth: int
    width: int
    height: int
    display_width: int
    display_height: int
    sample_aspect_ratio: str
    rotation: int  # degrees counter-clockwise to apply for display: 0, 90, 180, 270
    nominal_fps: float
    time_base: Fraction
    start_time: float
    nominal_frames: int  # what the container claims; 0 when unknown. Never sizes a loop.
    container_duration: float  # seconds, 0.0 when unknown


@dataclass
class DecodeStats:
    """What happened while decoding (filled in as frames come out, final at the end).

    ``truncated`` is set when demuxing stopped on a read error, when the demuxer met the
    end of the file before the packets its index lists, or when the file ends
    inside the media data its container declares (an ISO-BMFF box or a Matroska segment
    runs past the end of the file) and video is missing: fewer frames than the index
    lists, a short last packet, or a video end before the container's duration. A healthy
    file whose container is longer than its video (longer audio, an edit list) is not.
    ``skipped_frames`` is how many frames the container's index lists (less those its
    edit list discards) that did not decode; 0 when the container keeps no count.
    """

    frames: int = 0
    skipped_packets: int = 0
    estimated_timestamps: int = 0
    demux_error: str = ""
    decode_errors: list[str] = field(default_factory=list)
    end_time: float = 0.0  # end of the last frame: its time plus its duration
    end_pts: int = 0
    truncated: bool = False
    skipped_frames: int = 0
    packets: int = 0  # video packets demuxed (not empty)
    discarded_packets: int = 0  # packets the container's edit list drops from display
    short_packets: int = 0  # packets cut short by the end of the file (corrupt flag)


def _natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _rotation_quarter_turns(degrees: float) -> int:
    """Display-matrix angle (counter-clockwise) to a multiple of 90 in [0, 360)."""
    return int(round(degrees / 90.0)) % 4 * 90


class FrameSource:
    """An opened input. Use :func:`open_source`; close it (or use ``with``)."""

    info: VideoInfo
    stats: DecodeStats
    # Whether :meth:`frames` may run on a helper thread (see :func:`read_ahead`): not for
    # frames from the caller's own iterable, which may be tied to the caller's thread.
    any_thread: bool = True

    def frames(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release the container and decoder (safe to call twice)."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _TimeLine:
    """Assigns each frame a strictly rising PTS, from its own PTS where it has one.

    A frame without PTS, or with one not above the last, gets the last PTS plus one frame
    duration, and is counted as estimated. That duration is the stream's own per-frame
    duration when it is plausible (raw H.264 carries one in its timing info), else the
    nominal rate's.
    """

    def __init__(self, time_base: Fraction, start_pts: int | None, nominal_duration: int) -> None:
        self.time_base = time_base
        self.start_pts = start_pts
        self.nominal = max(1, nominal_duration)
        self.step: int | None = None  # the estimate's frame duration, fixed at first use
        self.last_pts: int | None = None
        self.last_duration = self.nominal
        self.estimated = 0
        # Plausible durations, between 1/1000 s and 10 s and within a factor of 8 of the
        # nominal rate, as whole ticks: integer tests per frame, not Fraction arithmetic.
        num, den = time_base.numerator, time_base.denominator
        self._shortest = max(-(-den // (1000 * num)), -(-self.nominal // 8))
        self._longest = min(10 * den // num, self.nominal * 8)

    def _plausible(self, duration: int | None) -> bool:
        return bool(duration) and self._shortest <= duration <= self._longest  # type: ignore[operator]

    def _seconds(self, ticks: int) -> float:
        # int / int rounds once, as float(Fraction) does
        return ticks * self.time_base.numerator / self.time_base.denominator

    def assign(self, pts: int | None, duration: int | None) -> tuple[int, float, bool]:
        estimated = False
        if pts is None or (self.last_pts is not None and pts <= self.last_pts):
            estimated = True
            if self.step is None:
                self.step = duration if self._plausible(duration) else self.nominal
            assert self.step is not None
            pts = 0 if self.last_pts is None else self.last_pts + self.step
            self.estimated += 1
        if self.last_pts is None and (self.start_pts is None or pts < self.start_pts):
            self.start_pts = pts  # the origin is the stream's start, or the first frame
        self.last_pts = pts
        if self._plausible(duration):
            assert duration is not None
            self.last_duration = duration
        else:
            self.last_duration = self.step or self.nominal
        start = self.start_pts if self.start_pts is not None else 0
        return pts, self._seconds(pts - start), estimated

    @property
    def frame_seconds(self) -> float:
        """The frame duration used for estimates, in seconds."""
        return self._seconds(self.step or self.nominal)

    def end(self) -> tuple[int, float]:
        if self.last_pts is None:
            return 0, 0.0
        end_pts = self.last_pts + self.last_duration
        start = self.start_pts if self.start_pts is not None else 0
        return end_pts, self._seconds(end_pts - start)


class _Damaged(Exception):
    """Frame-threaded decoding met damage after giving out ``frames`` frames."""

    def __init__(self, frames: int) -> None:
        super().__init__(frames)
        self.frames = frames


class _ContainerSource(FrameSource):
    def __init__(
        self, path: str, decode_threads: int, fps_fallback: float, deblock: bool = True
    ) -> None:
        import av  # local: `import framesig` must stay cheap
        import av.stream

        self._av = av
        self.path = path
        self._deblock = deblock
        self.stats = DecodeStats()
        self._container: Any = None
        self._first_rotation = 0
        size = os.stat(path).st_size  # a regular file: open_source checked (_checked_path)
        if size == 0:
            raise EmptyVideoError(path, "the file is empty (0 bytes)")
        self._file_size = size
        self._nominal_frames = 0
        self._container_duration = 0.0
        try:
            self._container = av.open(path, mode="r", metadata_errors="ignore")
        except av.error.FFmpegError as exc:  # e.g. InvalidDataError for a non-video file
            cause = _ffmpeg_cause(exc)
            cut = self._cut_short()
            if cut:  # e.g. an mp4 whose index (moov) was to come after the cut
                raise CorruptVideoError(
                    path, f"the file is cut short ({cut}) and FFmpeg cannot open it ({cause})"
                ) from exc
            if isinstance(exc, av.error.EOFError):  # headers, then nothing (e.g. no cluster)
                raise EmptyVideoError(
                    path, f"the file ends before its first frame (FFmpeg: {cause})"
                ) from exc
            raise OpenError(path, f"FFmpeg cannot open it ({cause})") from exc
        except (OSError, ValueError) as exc:
            raise OpenError(path, f"cannot open it ({exc})") from exc
        try:
            self._setup(decode_threads, fps_fallback)
        except BaseException:
            self.close()
            raise

    def _setup(self, decode_threads: int, fps_fallback: float) -> None:
        c = self._container
        if not c.streams.video:
            kinds = sorted({s.type for s in c.streams}) or ["none"]
            raise NoVideoStreamError(self.path, f"no video stream (streams: {', '.join(kinds)})")
        # one per core, as the full-decode limit (ffmpeg -threads N); FFmpeg's own choice
        # is one more, which holds one more picture in flight for no speed on 2 cores
        self._decode_threads = int(decode_threads) or (os.cpu_count() or 1)
        self._frame_threads = self._decode_threads != 1
        stream, cc = self._open_stream(self._decode_threads, frame_threads=self._frame_threads)
        pix_fmt = cc.pix_fmt or "unknown"
        bits = _PLANAR_FORMATS.get(pix_fmt, (1, 1, 10 if "10" in pix_fmt else 8))[2]
        width, height = int(cc.width or stream.width or 0), int(cc.height or stream.height or 0)
        sar = stream.sample_aspect_ratio or cc.sample_aspect_ratio
        sar_f = Fraction(sar) if sar and Fraction(sar) > 0 else Fraction(1)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        nominal_fps = float(rate) if rate and float(rate) > 0 else float(fps_fallback)
        if nominal_fps > 1000:  # a time base mistaken for a rate (raw streams)
            nominal_fps = float(fps_fallback)
        tb = Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000)
        start_pts = stream.start_time
        self._timeline_args = (tb, start_pts, round(1 / (nominal_fps * tb)))
        self._timeline = _TimeLine(*self._timeline_args)
        self._nominal_frames = int(stream.frames or 0)
        if stream.duration and stream.time_base:
            self._container_duration = float(stream.duration * stream.time_base)
        elif c.duration:
            self._container_duration = c.duration / 1_000_000
        # Decode the first frame now: its display matrix gives the rotation, and an input
        # with no decodable frame fails at open, not halfway through a pipeline.
        self._decoder = self._decode()
        try:
            self._first: Frame | None = next(self._decoder)
        except StopIteration:  # pragma: no cover - _decode raises instead
            raise EmptyVideoError(self.path, "the video stream holds no decodable frame") from None
        rotation = self._first_rotation
        if self._timeline.estimated:  # no timestamps: the rate is what the estimate used
            nominal_fps = 1.0 / self._timeline.frame_seconds
        dw, dh = round(width * sar_f), height
        if rotation in (90, 270):
            dw, dh = dh, dw
        duration = self._container_duration
        self.info = VideoInfo(
            path=self.path,
            kind="file",
            container=c.format.name,
            codec=cc.name,
            pix_fmt=pix_fmt,
            bit_depth=bits,
            width=width,
            height=height,
            display_width=int(dw),
            display_height=int(dh),
            sample_aspect_ratio=f"{sar_f.numerator}:{sar_f.denominator}",
            rotation=rotation,
            nominal_fps=nominal_fps,
            time_base=tb,
            start_time=float(start_pts * tb) if start_pts is not None else 0.0,
            nominal_frames=self._nominal_frames,
            container_duration=duration,
        )

    def _open_stream(self, decode_threads: int, *, frame_threads: bool) -> tuple[Any, Any]:
        """Set up the video stream of ``self._container`` for decoding; other streams off."""
        stream = self._stream = _video_stream(self._container)
        cc = stream.codec_context
        if cc is None or cc.name is None:
            raise CorruptVideoError(self.path, "the video stream has no codec context")
        # Frame threads decode several frames at once (about 2x on 2 cores for H.264, whose
        # files rarely have slices to share out), but when a packet fails FFmpeg drops the
        # frames in flight without an error and reports the error against a later packet.
        # So a damaged file is decoded again with slice threads (see _decode).
        stream.thread_type = "FRAME" if frame_threads else "SLICE"
        _set_up_decoder(cc, decode_threads, self._deblock)
        return stream, cc

    def frames(self) -> Iterator[Frame]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._decoder

    def _decode(self) -> Iterator[Frame]:
        try:
            index = yield from self._decode_pass(skip=0)
        except _Damaged as damaged:
            # Start again with slice threads, which lose no frame to a bad packet; the
            # frames already given out are decoded again (for the timeline) and dropped.
            log.info("%s: damage seen; decoding again with slice threads", self.path)
            self.close()
            av = self._av
            try:
                self._container = av.open(self.path, mode="r", metadata_errors="ignore")
                self._open_stream(self._decode_threads, frame_threads=False)
            except av.error.FFmpegError as exc:  # pragma: no cover - it opened a moment ago
                raise OpenError(self.path, f"FFmpeg cannot open it ({_ffmpeg_cause(exc)})") from exc
            self._frame_threads = False
            self.stats.__dict__.update(DecodeStats().__dict__)
            self._timeline = _TimeLine(*self._timeline_args)
            index = yield from self._decode_pass(skip=damaged.frames)
        self._end(index)

    def _decode_pass(self, skip: int) -> Generator[Frame, None, int]:
        """Decode packet by packet, giving out frames after the first ``skip``.

        With frame threads, the first sign of damage raises :class:`_Damaged` instead.
        """
        av = self._av
        stream = self._stream
        frame_threads = self._frame_threads
        index = 0
        packets = _demux(self._container, stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.EOFError:
                break
            except av.error.FFmpegError as exc:
                if frame_threads:
                    raise _Damaged(index) from exc
                # A read error mid-file: the file ends early or is damaged past here.
                self.stats.demux_error = _ffmpeg_cause(exc)
                log.warning("%s: demuxing stopped: %s", self.path, self.stats.demux_error)
                packet = None
            if packet is not None and packet.size:
                self.stats.packets += 1
                if packet.is_discard:
                    self.stats.discarded_packets += 1
                if packet.is_corrupt:
                    if frame_threads:
                        raise _Damaged(index)
                    self.stats.short_packets += 1
            try:
                decoded = stream.decode(packet) if packet is not None else stream.decode(None)
            except av.error.EOFError:
                decoded = []
            except av.error.FFmpegError as exc:
                if frame_threads:
                    raise _Damaged(index) from exc
                self.stats.skipped_packets += 1
                pts = None if packet is None else packet.pts
                cause = _ffmpeg_cause(exc)
                if len(self.stats.decode_errors) < 20:
                    self.stats.decode_errors.append(f"pts={pts}: {cause}")
                log.warning("%s: skipped a bad packet (pts=%s): %s", self.path, pts, cause)
                decoded = []
            for vf in decoded:
                frame = self._to_frame(vf, index)
                if frame is None:
                    continue
                index += 1
                self.stats.frames = index
                if index > skip:
                    yield frame
            if packet is None:
                break
        if frame_threads and self._cut_short():
            raise _Damaged(index)  # frames in flight at a cut-off end go without an error
        return index

    def _end(self, index: int) -> None:
        self.stats.estimated_timestamps = self._timeline.estimated
        self.stats.end_pts, self.stats.end_time = self._timeline.end()
        cut = self._finish(index)
        if index == 0:
            if cut:
                raise CorruptVideoError(
                    self.path, f"the file is cut short ({cut}) before its first complete frame"
                )
            if self.stats.skipped_packets or self.stats.demux_error:
                first = (self.stats.decode_errors or [self.stats.demux_error])[0]
                raise CorruptVideoError(self.path, f"no frame could be decoded ({first})")
            raise EmptyVideoError(self.path, "the video stream holds no decodable frame")

    def _cut_short(self) -> str:
        """'N of M bytes' when the file ends inside the media data it declares, else ''."""
        declared = _declared_size(self.path)
        if declared is None or declared <= self._file_size:
            return ""
        return f"{self._file_size} of {declared} bytes"

    def _finish(self, index: int) -> str:
        """Settle ``truncated`` and ``skipped_frames`` once the stream has ended."""
        st = self.stats
        expected = max(self._nominal_frames - st.discarded_packets, 0)
        st.skipped_frames = max(expected - index, 0)
        cut = self._cut_short()
        frame = self._timeline.frame_seconds
        start = float(self._timeline.start_pts or 0) * float(self._timeline.time_base)
        missing = (
            st.skipped_frames > 0
            or st.short_packets > 0
            or (
                expected == 0
                and self._container_duration > 0
                and st.end_time + 2 * frame < self._container_duration - max(start, 0.0)
            )
        )
        # the index lists samples the demuxer never reached: it met the end of the file
        unread = self._nominal_frames > 0 and st.packets < self._nominal_frames
        st.truncated = bool(st.demux_error) or unread or bool(cut and missing)
        if cut and st.truncated and index:
            log.warning(
                "%s: the file is cut short (%s): truncated after %d frames", self.path, cut, index
            )
        return cut

    def _to_frame(self, vf: Any, index: int) -> Frame | None:
        pix_fmt = vf.format.name
        if pix_fmt not in _PLANAR_FORMATS:
            high = any(t in pix_fmt for t in ("10", "12", "16"))
            try:
                vf = vf.reformat(format="yuv420p10le" if high else "yuv420p")
            except (self._av.error.FFmpegError, ValueError) as exc:
                if index == 0:
                    raise UnsupportedError(self.path, f"pixel format {pix_fmt!r}: {exc}") from exc
                self.stats.skipped_packets += 1  # one odd frame mid-stream costs that frame
                log.warning("%s: skipped frame pts=%s (%s): %s", self.path, vf.pts, pix_fmt, exc)
                return None
            pix_fmt = vf.format.name
        _, _, bits = _PLANAR_FORMATS[pix_fmt]
        dtype = np.uint8 if bits == 8 else np.dtype("<u2")
        if index == 0:
            self._first_rotation = _rotation_quarter_turns(vf.rotation or 0)
        planes = [_plane_view(pl, dtype) for pl in vf.planes]
        y = planes[0]
        u = planes[1] if len(planes) >= 3 else None
        v = planes[2] if len(planes) >= 3 else None
        full_range = pix_fmt.startswith("yuvj") or vf.color_range == 2
        pts, time, estimated = self._timeline.assign(vf.pts, vf.duration)
        return Frame(index, pts, time, estimated, y, u, v, bits, full_range)

    def close(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            finally:
                self._container = None


def _video_stream(container: Any) -> Any:
    """The container's first video stream; every other stream is not even demuxed."""
    stream = container.streams.video[0]
    discard_all = av_stream_discard_all()
    for other in container.streams:
        if other is not stream:
            other.discard = discard_all  # never demux audio, subtitles or telemetry
    return stream


def _set_up_decoder(cc: Any, threads: int, deblock: bool) -> None:
    cc.thread_count = int(threads)
    cc.options = {**dict(cc.options or {}), **_codec_options(cc.name, deblock)}


def _codec_options(codec: str, deblock: bool) -> dict[str, str]:
    """Decoder options: what to keep, and the work analysis can do without."""
    options = {}
    # Keep HEVC frames whose references were damaged (FFmpeg 8's HEVC decoder drops them
    # silently otherwise: 39 of 120 frames of a noisy clip instead of 106). Not for H.264:
    # there the flag also emits the grey frames before a stream's first recovery point
    # (401 frames of a raw drone stream where ffmpeg shows 388).
    if codec == "hevc":
        options["flags"] = "output_corrupt"
    if not deblock:
        # The in-loop deblocking filter smooths block edges that the analysis thumbnails
        # average away; skipping it costs 20-40% less decoding (H.264, HEVC, VP9).
        options["skip_loop_filter"] = "all"
    return options


def _demux(container: Any, stream: Any) -> Iterator[Any]:
    """``container.demux(stream)``, ending cleanly where PyAV's own end breaks.

    PyAV (up to 18 at least) sizes its table of wanted streams when demuxing starts. When
    the file adds a stream later (MPEG-TS: a PES packet on a PID the programme table did
    not list, as one flipped bit in a TS header makes), its final flush reads past that
    table and raises IndexError for the stream it never listed. Every packet was given
    out by then, the flush packet of ``stream`` included (streams flush in index order,
    and a new stream's index is above all the others), so the demux has simply ended.
    FFmpeg's own errors pass through.
    """
    packets = container.demux(stream)
    try:
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                return
            except IndexError:
                log.info("%s: a stream appeared after open; demuxing ended", container.name)
                return
            yield packet
    finally:
        packets.close()  # its read buffer now, not when the generator is collected


def av_stream_discard_all() -> Any:
    """PyAV's ``Discard.all`` (the enum moved between PyAV versions)."""
    import av.stream

    discard = getattr(av.stream, "Discard", None)
    return discard.all if discard is not None else "all"


def _plane_view(plane: Any, dtype: Any) -> np.ndarray:
    itemsize = np.dtype(dtype).itemsize
    buf = np.frombuffer(plane, dtype=dtype)
    stride = plane.line_size // itemsize
    rows = buf.size // stride
    return buf.reshape(rows, stride)[: plane.height, : plane.width]


_ISO_TOP_BOXES = frozenset(
    {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"styp", b"sidx"}
)


def _declared_size(path: str) -> int | None:
    """The byte length a file's container says it has, when it says one.

    ISO-BMFF (mp4, mov, 3gp, m4v): the end of the last top-level box; Matroska and WebM:
    the end of the Segment. None where the format declares no length (MPEG-TS, raw
    streams), the last box or segment is open-ended, or the header is not well formed.

    Examples
    --------
    >>> import tempfile, os
    >>> box = (16).to_bytes(4, "big") + b"ftyp" + b"isom" + bytes(4)
    >>> mdat = (1000).to_bytes(4, "big") + b"mdat" + bytes(100)  # declares 1000 bytes
    >>> with tempfile.NamedTemporaryFile(suffix=".mp4", delete=False) as fh:
    ...     _ = fh.write(box + mdat)
    >>> _declared_size(fh.name), os.path.getsize(fh.name)
    (1016, 124)
    >>> os.remove(fh.name)
    """
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(8)
            if len(head) == 8 and head[4:8] in _ISO_TOP_BOXES:
                return _iso_declared_size(fh, size)
            if head[:4] == b"\x1a\x45\xdf\xa3":
                return _matroska_declared_size(fh)
    except (OSError, IndexError, ValueError):
        return None
    return None


def _iso_declared_size(fh: Any, size: int) -> int | None:
    pos = 0
    for _ in range(100_000):  # bounded: a fragmented file has two boxes per fragment
        if pos >= size:
            return pos
        fh.seek(pos)
        hdr = fh.read(16)
        if len(hdr) < 8:
            return pos + 8  # the file ends inside a box header
        n = int.from_bytes(hdr[:4], "big")
        if n == 1:  # 64-bit size
            if len(hdr) < 16:
                return pos + 16
            n = int.from_bytes(hdr[8:16], "big")
        elif n == 0:  # the box runs to the end of the file
            return None
        if n < 8 or not hdr[4:8].isascii():
            return None  # not a box: the structure says nothing reliable
        pos += n
    return None


def _ebml_size(buf: bytes, i: int) -> tuple[int | None, int]:
    """An EBML variable-length size at ``buf[i]``: (value or None if unknown, next index)."""
    first = buf[i]
    if first == 0:
        raise ValueError("invalid EBML size")
    length = 9 - first.bit_length()
    value = first & ((1 << (8 - length)) - 1)
    for k in range(1, length):
        value = (value << 8) | buf[i + k]
    unknown = value == (1 << (7 * length)) - 1
    return (None if unknown else value), i + length


def _matroska_declared_size(fh: Any) -> int | None:
    fh.seek(0)
    buf = fh.read(64)
    header, i = _ebml_size(buf, 4)  # after the 4-byte EBML header ID
    if header is None:
        return None
    seg_at = i + header
    fh.seek(seg_at)
    seg = fh.read(12)
    if seg[:4] != b"\x18\x53\x80\x67":  # Segment
        return None
    body, j = _ebml_size(seg, 4)
    return None if body is None else seg_at + j + body


def _ffmpeg_cause(exc: BaseException) -> str:
    msg = getattr(exc, "strerror", None) or str(exc)
    return str(msg).strip() or type(exc).__name__


class _ImageFolderSource(FrameSource):
    def __init__(self, path: str, fps: float) -> None:
        import cv2  # local: `import framesig` must stay cheap

        self._cv2 = cv2
        self.path = path
        self.stats = DecodeStats()
        try:
            entries = os.listdir(path)
        except OSError as exc:
            raise OpenError(path, f"cannot list the folder ({exc.strerror or exc})") from None
        names = [
            n
            for n in entries
            if Path(n).suffix.lower() in IMAGE_EXTENSIONS and not n.startswith(".")
        ]
        if not names:
            raise OpenError(path, "is a folder with no images in it")
        self._files = [os.path.join(path, n) for n in sorted(names, key=_natural_key)]
        first = None
        for file in self._files:  # the first image that reads gives the size (frames()
            try:  # skips and counts the ones before it, as it does later bad ones)
                first = self._read(file)
                break
            except OpenError:
                continue
        if first is None:
            raise EmptyVideoError(path, "no image in the folder could be read")
        h, w = first.shape[:2]
        tb = Fraction(1, 1) / Fraction(fps).limit_denominator(100000)
        self.info = VideoInfo(
            path=path,
            kind="images",
            container="image2",
            codec=Path(self._files[0]).suffix.lower().lstrip("."),
            pix_fmt="bgr24" if first.dtype == np.uint8 else "bgr48",
            bit_depth=8 if first.dtype == np.uint8 else 16,
            width=w,
            height=h,
            display_width=w,
            display_height=h,
            sample_aspect_ratio="1:1",
            rotation=0,
            nominal_fps=float(fps),
            time_base=tb,
            start_time=0.0,
            nominal_frames=len(self._files),
            container_duration=len(self._files) / fps,
        )

    def _read(self, file: str) -> np.ndarray:
        img = self._cv2.imread(file, self._cv2.IMREAD_ANYDEPTH | self._cv2.IMREAD_COLOR)
        if img is None:
            raise OpenError(file, "not a readable image")
        return img

    def frames(self) -> Iterator[Frame]:
        index = 0
        for file in self._files:
            try:
                img = self._read(file)
            except OpenError as exc:
                self.stats.skipped_packets += 1
                self.stats.decode_errors.append(str(exc))
                log.warning("%s", exc)
                continue
            yield _frame_from_bgr(img, index, self.info.time_base)
            index += 1
            self.stats.frames = index
        self.stats.estimated_timestamps = index
        self.stats.end_pts = index
        self.stats.end_time = float(index * self.info.time_base)
        if index == 0:
            raise EmptyVideoError(self.path, "no image in the folder could be read")


def _frame_from_bgr(img: np.ndarray, index: int, time_base: Fraction) -> Frame:
    import cv2

    bits = 8 if img.dtype == np.uint8 else 16
    if img.ndim == 2:
        return Frame(index, index, float(index * time_base), True, img, None, None, bits, True)
    ycrcb = cv2.cvtColor(img[:, :, :3], cv2.COLOR_BGR2YCrCb)
    y, cr, cb = ycrcb[:, :, 0], ycrcb[:, :, 1], ycrcb[:, :, 2]
    return Frame(index, index, float(index * time_base), True, y, cb, cr, bits, True)


class _ArraySource(FrameSource):
    any_thread = False

    def __init__(self, frames: Iterable[np.ndarray], fps: float, name: str) -> None:
        self.path = name
        self.stats = DecodeStats()
        self._iter = iter(frames)
        try:
            first = np.asarray(next(self._iter))
        except StopIteration:
            raise EmptyVideoError(name, "the frame iterable is empty") from None
        self._first: np.ndarray | None = first
        if first.ndim not in (2, 3) or first.dtype not in (np.uint8, np.uint16):
            raise UnsupportedError(
                name, f"frames must be HxW or HxWx3 uint8/uint16, got {first.shape} {first.dtype}"
            )
        h, w = first.shape[:2]
        tb = Fraction(1, 1) / Fraction(fps).limit_denominator(100000)
        self.info = VideoInfo(
            path=name,
            kind="arrays",
            container="numpy",
            codec="raw",
            pix_fmt="rgb24" if first.ndim == 3 else "gray",
            bit_depth=8 if first.dtype == np.uint8 else 16,
            width=w,
            height=h,
            display_width=w,
            display_height=h,
            sample_aspect_ratio="1:1",
            rotation=0,
            nominal_fps=float(fps),
            time_base=tb,
            start_time=0.0,
            nominal_frames=0,
            container_duration=0.0,
        )

    def frames(self) -> Iterator[Frame]:
        index = 0
        pending = [self._first] if self._first is not None else []
        self._first = None
        shape = (self.info.height, self.info.width)
        for arr in _chain(pending, self._iter):
            a = np.asarray(arr)
            if a.shape[:2] != shape:
                raise UnsupportedError(
                    self.path, f"frame {index} is {a.shape[:2]}, the first frame was {shape}"
                )
            bgr = a[:, :, 2::-1] if a.ndim == 3 else a
            yield _frame_from_bgr(np.ascontiguousarray(bgr), index, self.info.time_base)
            index += 1
            self.stats.frames = index
        self.stats.estimated_timestamps = index
        self.stats.end_pts = index
        self.stats.end_time = float(index * self.info.time_base)


def _chain(first: list[Any], rest: Iterator[Any]) -> Iterator[Any]:
    yield from first
    yield from rest


def open_source(
    source: str | os.PathLike[str] | Iterable[np.ndarray],
    *,
    fps: float | None = None,
    decode_threads: int = 0,
    deblock: bool = True,
) -> FrameSource:
    """Open a video file, an image folder or an iterable of frames.

    Parameters
    ----------
    source : path-like or iterable of numpy.ndarray
        A file FFmpeg can read, a folder of numbered images, or frames (RGB or grey).
    fps : float, optional
        Frame rate for inputs without timestamps (image folders, arrays, and raw streams
        that declare none). Defaults to 25.
    decode_threads : int
        FFmpeg decoder threads; 0: one per core.
    deblock : bool
        Run the decoder's in-loop deblocking filter (as a player does). Without it decoding
        is cheaper and frames show faint block edges (later frames of a GOP a little more:
        the references are not deblocked either), which analysis thumbnails average away.

    Returns
    -------
    FrameSource
        Iterate ``source.frames()``; ``source.info`` and ``source.stats`` hold the facts.

    Raises
    ------
    OpenError, NoVideoStreamError, EmptyVideoError, CorruptVideoError, UnsupportedError
        Each names the file and the cause.
    """
    fps_value = 25.0 if fps is None else float(fps)
    if not fps_value > 0:
        from framesig.errors import SettingsError

        raise SettingsError(str(source), f"fps must be positive, got {fps!r}")
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if os.path.isdir(_checked_path(path)):
            return _ImageFolderSource(path, fps_value)
        return _ContainerSource(path, decode_threads, fps_value, deblock)
    if isinstance(source, np.ndarray) and source.ndim in (2, 3) and source.dtype != object:
        raise UnsupportedError("<array>", "pass an iterable of frames (e.g. a list), not one frame")
    if isinstance(source, Iterable):
        return _ArraySource(source, fps_value, "<frames>")
    raise FramesigError(repr(source)[:80], "not a path, a folder or an iterable of frames")


def _checked_path(path: str) -> str:
    """``path`` when it names a regular file or a folder; else OpenError.

    A named pipe or a device would be read for ever (or block with no writer), and a
    path that cannot be searched raises PermissionError from ``os.stat``.
    """
    import stat

    if not path:
        raise OpenError('""', "an empty path")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise OpenError(path, "no such file") from None
    except OSError as exc:  # EACCES on a folder above it, ENOTDIR, ELOOP, ENAMETOOLONG
        raise OpenError(path, f"cannot read it ({exc.strerror or exc})") from None
    if not stat.S_ISDIR(mode) and not stat.S_ISREG(mode):
        kind = "a named pipe" if stat.S_ISFIFO(mode) else "a device or socket"
        raise OpenError(path, f"not a regular file ({kind})")
    return path


def read_frames_rgb(
    source: str | os.PathLike[str] | Iterable[np.ndarray],
    wanted: Iterable[tuple[int, int]],
    *,
    fps: float | None = None,
    seek: bool = True,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(index, rgb)`` for the wanted ``(index, pts)`` frames, in index order.

    Frames come out as display shows them: rotated, and stretched to the display aspect
    ratio for anamorphic pixels. In a file with true timestamps each frame is found by
    seeking to its PTS (decoding from the keyframe before it); otherwise, or when a
    seek misses, by decoding in order up to it.

    Parameters
    ----------
    source
        The input that was summarized.
    wanted : iterable of (int, int)
        Display-order indices with their PTS (as in a signature's states).
    fps : float, optional
        As for :func:`open_source`.
    seek : bool
        Allow seeking; False always decodes in order.
    """
    import cv2

    targets = sorted(set(wanted))
    if not targets:
        return
    with open_source(source, fps=fps) as src:
        info = src.info
        seekable = (
            seek
            and isinstance(src, _ContainerSource)
            and src._timeline.estimated == 0
            and info.container not in ("h264", "hevc", "mpegts")
        )
        if seekable:
            assert isinstance(src, _ContainerSource)
            found: set[int] = set()
            for idx, rgb in _seek_frames(src, targets):  # one full-size frame at a time
                found.add(idx)
                yield idx, _display(rgb, info, cv2)
            targets = [t for t in targets if t[0] not in found]
        if not targets:
            return
    with open_source(source, fps=fps) as src:
        pending = iter(sorted({index for index, _ in targets}))  # each index once
        nxt = next(pending, None)
        for frame in src.frames():
            while nxt is not None and nxt < frame.index:  # not decoded: never shown
                nxt = next(pending, None)
            if nxt is None:
                break
            if frame.index == nxt:
                yield frame.index, _display(_frame_rgb(frame, cv2), src.info, cv2)
                nxt = next(pending, None)


def _seek_frames(
    src: _ContainerSource, targets: list[tuple[int, int]]
) -> Iterator[tuple[int, Any]]:
    """Decode the target PTS by seeking; yields (index, rgb ndarray) for those found."""
    av = src._av
    container, stream = src._container, src._stream
    for idx, pts in targets:
        try:
            container.seek(int(pts), stream=stream, backward=True, any_frame=False)
            for packet in _demux(container, stream):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    continue
                done = False
                for vf in frames:
                    if vf.pts is None or vf.pts < pts:
                        continue
                    if vf.pts == pts:
                        yield idx, vf.to_ndarray(format="rgb24")
                    done = True
                    break
                if done:
                    break
        except av.error.FFmpegError:
            continue


def _frame_rgb(frame: Frame, cv2: Any) -> np.ndarray:
    """RGB from a frame's planes (only for the few frames written out as keyframes)."""
    y = frame.y
    if frame.bit_depth > 8:
        shift = frame.bit_depth - 8
        y = (y >> shift).astype(np.uint8)
    if frame.u is None or frame.v is None:
        return np.repeat(np.asarray(y)[:, :, None], 3, axis=2)
    u, v = frame.u, frame.v
    if frame.bit_depth > 8:
        shift = frame.bit_depth - 8
        u, v = (u >> shift).astype(np.uint8), (v >> shift).astype(np.uint8)
    size = (y.shape[1], y.shape[0])
    u = cv2.resize(np.ascontiguousarray(u), size, interpolation=cv2.INTER_LINEAR)
    v = cv2.resize(np.ascontiguousarray(v), size, interpolation=cv2.INTER_LINEAR)
    ycrcb = np.dstack([np.asarray(y), v, u])
    if not frame.full_range:
        ycrcb = np.clip(
            (ycrcb.astype(np.float32) - [16, 128, 128]) * [255 / 219, 255 / 224, 255 / 224]
            + [0, 128, 128],
            0,
            255,
        ).astype(np.uint8)
    return cv2.cvtColor(ycrcb, cv2.COLOR_YCrCb2RGB)


def _display(rgb: np.ndarray, info: VideoInfo, cv2: Any) -> np.ndarray:
    h, w = rgb.shape[:2]
    num, den = (int(x) for x in info.sample_aspect_ratio.split(":"))
    if num != den and den > 0:
        rgb = cv2.resize(rgb, (max(1, round(w * num / den)), h), interpolation=cv2.INTER_AREA)
    k = (info.rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


# ------------------------------------------------- keyframe scan and ranged decode (fast mode)


@dataclass(frozen=True)
class PacketInfo:
    """One demuxed video packet, in decode order (see :func:`scan_keyframes`)."""

    pts: int | None
    size: int
    key: bool
    duration: int | None
    discard: bool  # the container's edit list drops it from display
    corrupt: bool


def scan_keyframes(src: FrameSource, *, threads: int = 0) -> Iterator[PacketInfo | Frame]:
    """Every video packet of a file, and its keyframes decoded; nothing else is decoded.

    A second demuxer on ``src``'s file reads the video packets in decode order and yields
    a :class:`PacketInfo` for each. Each keyframe packet goes to one of ``threads``
    decoders (0: one per core; at most 4), which decode keyframes side by side: a
    keyframe needs no other frame. The decoders have no demuxer of their own (an mp4's
    demuxer holds its whole index: 8 MB for an hour of 30 fps video). Each decoded keyframe
    is yielded as a :class:`Frame` once it is ready, in keyframe order, a few packets
    after its own and always before the scan ends (its ``index`` is -1: display indices
    are the caller's to count; its time is from its own PTS, as in
    :meth:`FrameSource.frames`).

    Raises
    ------
    UnsupportedError
        ``src`` is not a container file, or its frames have no PTS.
    """
    if not isinstance(src, _ContainerSource):
        raise UnsupportedError(src.info.path, "a keyframe scan needs a video file")
    import queue
    from collections import deque
    from concurrent.futures import Future, ThreadPoolExecutor

    av = src._av
    n = min(threads if threads > 0 else (os.cpu_count() or 1), 4)
    free: queue.Queue[Any] = queue.Queue()

    def new_decoder(template: Any) -> Any:
        cc = av.CodecContext.create(template.name, "r")
        if template.extradata:
            cc.extradata = template.extradata  # e.g. H.264's SPS and PPS (avcC)
        cc.width, cc.height = template.width, template.height
        _set_up_decoder(cc, 1, src._deblock)
        return cc

    def decode_key(packet: Any) -> list[Any]:
        cc = free.get()
        try:
            out = list(cc.decode(packet))
            out += cc.decode(None)  # the decoder's reorder delay: drain it
            return out
        finally:
            cc.flush_buffers()
            free.put(cc)

    pool = ThreadPoolExecutor(n, thread_name_prefix="framesig-keyframes")
    pending: deque[Future[list[Any]]] = deque()
    container = None
    try:
        container = av.open(src.path, mode="r", metadata_errors="ignore")
        stream = _video_stream(container)
        for _ in range(n):
            free.put(new_decoder(stream.codec_context))
        for packet in _demux(container, stream):
            if packet.size == 0 and packet.pts is None:
                continue  # the demuxer's flush packet: no decoder holds anything back
            yield PacketInfo(
                None if packet.pts is None else int(packet.pts),
                int(packet.size),
                bool(packet.is_keyframe),
                None if packet.duration is None else int(packet.duration),
                bool(packet.is_discard),
                bool(packet.is_corrupt),
            )
            if packet.is_keyframe:
                pending.append(pool.submit(decode_key, packet))
            # keyframes are handed on in order: the ready ones now, the oldest once every
            # decoder has one (each holds a whole picture: 12 MB at 4K; twice as many ahead
            # cost 25 MB there and gained nothing)
            while pending and (pending[0].done() or len(pending) > n):
                yield from _key_frames(src, pending.popleft().result())
        while pending:
            yield from _key_frames(src, pending.popleft().result())
    finally:
        for job in pending:
            job.cancel()
        pool.shutdown(wait=True)  # no decoder may run on a closed container
        if container is not None:
            container.close()


def _key_frames(src: _ContainerSource, decoded: list[Any]) -> Iterator[Frame]:
    for vf in decoded:
        frame = _span_frame(src, vf)
        if frame is not None:
            yield frame


def decode_span(src: FrameSource, start_pts: int, stop_pts: int | None) -> Iterator[Frame]:
    """Frames with ``start_pts <= pts < stop_pts`` (to the end when None), in display order.

    Seeks ``src``'s own container to the keyframe at ``start_pts`` and decodes from there,
    so the caller must not also iterate :meth:`FrameSource.frames`. Frames carry index -1.

    Raises
    ------
    UnsupportedError
        ``src`` is not a container file, or it cannot seek.
    """
    if not isinstance(src, _ContainerSource):
        raise UnsupportedError(src.info.path, "a ranged decode needs a video file")
    av = src._av
    container, stream = src._container, src._stream
    stream.codec_context.skip_frame = "DEFAULT"
    try:
        container.seek(int(start_pts), stream=stream, backward=True, any_frame=False)
    except (av.error.FFmpegError, OSError) as exc:
        raise UnsupportedError(src.path, f"cannot seek ({_ffmpeg_cause(exc)})") from exc
    for packet in _demux(container, stream):
        for vf in packet.decode():
            if vf.pts is None or vf.pts < start_pts:
                continue
            if stop_pts is not None and vf.pts >= stop_pts:
                return
            frame = _span_frame(src, vf)
            if frame is not None:
                yield frame


def stream_time(src: FrameSource, pts: int) -> float:
    """Seconds from the stream's start of a PTS, exactly as :meth:`FrameSource.frames` says."""
    if not isinstance(src, _ContainerSource):
        return float(pts * src.info.time_base)
    tl = src._timeline
    start = tl.start_pts if tl.start_pts is not None else 0
    return float((pts - start) * tl.time_base)


def stream_end(src: FrameSource, last_pts: int, last_duration: int | None) -> tuple[int, float]:
    """``(end_pts, end_time)`` of a stream whose last frame has this PTS and duration."""
    if not isinstance(src, _ContainerSource):
        raise UnsupportedError(src.info.path, "the stream end is computed for video files")
    tl = src._timeline
    line = _TimeLine(tl.time_base, tl.start_pts, tl.nominal)
    line.start_pts = tl.start_pts
    line.last_pts = last_pts
    line.last_duration = (
        int(last_duration) if line._plausible(last_duration) and last_duration else tl.nominal
    )
    return line.end()


def _span_frame(src: _ContainerSource, vf: Any) -> Frame | None:
    """A decoded frame as planes, with its time from its PTS (no timeline bookkeeping)."""
    if vf.pts is None:
        return None
    pix_fmt = vf.format.name
    if pix_fmt not in _PLANAR_FORMATS:
        high = any(t in pix_fmt for t in ("10", "12", "16"))
        try:
            vf = vf.reformat(format="yuv420p10le" if high else "yuv420p")
        except (src._av.error.FFmpegError, ValueError):
            return None
        pix_fmt = vf.format.name
    bits = _PLANAR_FORMATS[pix_fmt][2]
    dtype = np.uint8 if bits == 8 else np.dtype("<u2")
    planes = [_plane_view(pl, dtype) for pl in vf.planes]
    u = planes[1] if len(planes) >= 3 else None
    v = planes[2] if len(planes) >= 3 else None
    full_range = pix_fmt.startswith("yuvj") or vf.color_range == 2
    pts = int(vf.pts)
    return Frame(-1, pts, stream_time(src, pts), False, planes[0], u, v, bits, full_range)
