"""Resource hygiene: containers close on every path, and repeated runs keep memory level.

Open file descriptors are counted in ``/proc/self/fd``: every container FFmpeg opens holds
one, so a container left open after a success, an error, an exception raised in the middle
of decoding or a generator abandoned early shows as one more entry. Memory is the process's
resident set (``VmRSS``) over many summarizations of one tiny clip.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import ffmpeg, real_clip

import framesig
from framesig.decode import open_source, read_frames_rgb, scan_keyframes
from framesig.pipeline import Progress

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts /proc/self entries (Linux)"
)


def open_fds() -> set[str]:
    """What this process's descriptors point at (paths, pipes, sockets), by descriptor."""
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.add(f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:  # the descriptor listdir itself used, closed by now
            continue
    return fds


def rss_bytes() -> int:
    """The resident set size now (not the peak), from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1 s of 96x64 testsrc at 15 fps, H.264 with B-frames: about 40 ms to summarize."""
    path = tmp_path_factory.mktemp("hygiene") / "tiny.mp4"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc=size=96x64:rate=15", "-t", "1"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "8", "-bf", "2", str(path)),
    )
    return path


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory, tiny_clip: Path) -> dict[str, Path]:
    """Inputs that fail at each stage: open, stream setup, first frame."""
    folder = tmp_path_factory.mktemp("hygiene_bad")
    data = tiny_clip.read_bytes()
    files = {
        "not_a_video.mp4": b"these are not frames\n" * 100,
        "empty.mp4": b"",
        "cut_in_header.mp4": data[:600],  # mp4 whose index was to come after the cut
        "zeroed_body.h264": bytes(4096),
    }
    # the middle of the media data zeroed: frames decode, then packets fail, then more
    # decode (a damaged file that summarizes, with skipped packets)
    mdat, moov = data.index(b"mdat"), data.index(b"moov")
    at, stop = mdat + (moov - mdat) * 45 // 100, mdat + (moov - mdat) * 60 // 100
    files["damaged_middle.mp4"] = data[:at] + bytes(stop - at) + data[stop:]
    out = {}
    for name, blob in files.items():
        (folder / name).write_bytes(blob)
        out[name] = folder / name
    audio = folder / "audio_only.mkv"
    ffmpeg("-f", "lavfi", "-i", "sine=d=1", "-c:a", "libopus", str(audio))
    out[audio.name] = audio
    return out


def assert_no_leak(action: Callable[[], object], times: int = 3) -> None:
    """Run ``action`` a few times; each time, the open descriptors must be as before.

    The cyclic garbage collector is off while ``action`` runs and while its result (an
    exception with its traceback, which keeps the failed frames and their sources alive)
    is held: a container that was not closed explicitly shows as an open descriptor then,
    instead of being closed by a collection that happens to run in between.
    """
    action()  # warm-up: lazy imports and library state open what they keep for good
    gc.collect()
    before = open_fds()
    gc.disable()
    try:
        for _ in range(times):
            kept = action()
            after = open_fds()
            assert after == before, f"descriptors left open: {sorted(after - before)}"
            del kept
    finally:
        gc.enable()


def test_descriptors_closed_after_good_files(tiny_clip):
    assert_no_leak(lambda: framesig.summarize(tiny_clip))


def test_descriptors_closed_after_good_real_clip():
    clip = real_clip("psd_delayed_start_offset.mp4")
    assert_no_leak(lambda: framesig.summarize(clip), times=2)


def test_descriptors_closed_after_damage_mid_file(bad_files):
    path = bad_files["damaged_middle.mp4"]
    sig = framesig.summarize(path)
    assert 0 < sig.source.frames < 15 and sig.source.skipped_packets > 0
    assert_no_leak(lambda: framesig.summarize(path))
    assert_no_leak(lambda: framesig.summarize(path, fast=True))


def test_descriptors_closed_in_fast_mode(tiny_clip):
    # fast mode opens a second demuxer for its keyframe scan
    assert_no_leak(lambda: framesig.summarize(tiny_clip, fast=True))


@pytest.mark.parametrize(
    "name, error",
    [
        ("not_a_video.mp4", framesig.OpenError),
        ("empty.mp4", framesig.EmptyVideoError),
        ("cut_in_header.mp4", framesig.FramesigError),
        ("zeroed_body.h264", framesig.FramesigError),
        ("audio_only.mkv", framesig.NoVideoStreamError),
    ],
)
def test_descriptors_closed_after_errors(bad_files, name, error):
    def fail() -> object:
        with pytest.raises(error, match=name.replace(".", r"\.")) as err:
            framesig.summarize(bad_files[name])
        return err  # its traceback holds the source that failed

    assert_no_leak(fail)


def test_descriptors_closed_after_an_error_mid_decode(tiny_clip):
    """An exception from a progress callback, after some frames, unwinds and closes."""

    class Stop(Exception):
        pass

    def progress(p: Progress) -> None:
        if p.frames >= 4:
            raise Stop

    def interrupted() -> object:
        with pytest.raises(Stop) as err:
            framesig.summarize(tiny_clip, batch_size=4, progress=progress)
        return err  # its traceback holds the source, mid-file

    assert_no_leak(interrupted)


def test_descriptors_closed_when_generators_are_abandoned(tiny_clip):
    def frames_abandoned() -> None:
        with open_source(tiny_clip) as src:
            it = src.frames()
            next(it)
            next(it)  # decoding has started: the demuxer is mid-file
        # the source is closed while its frame generator is still suspended
        del it

    def keyframes_abandoned() -> None:
        with open_source(tiny_clip) as src:
            scan: Iterator[object] = scan_keyframes(src)
            next(scan)  # the scan's own demuxer is open now
            del scan

    def rgb_abandoned() -> None:
        frames = read_frames_rgb(tiny_clip, [(0, 0), (5, 5), (9, 9)], seek=False)
        next(frames)
        del frames

    for action in (frames_abandoned, keyframes_abandoned, rgb_abandoned):
        assert_no_leak(action)


def test_source_dropped_unclosed_is_released(tiny_clip):
    """A source dropped mid-file without close() holds its file only until it is collected.

    (The source and its suspended frame generator refer to each other, so the cyclic
    collector, not reference counting, frees them; ``with`` or ``close()`` is prompt.)
    """

    def dropped() -> None:
        src = open_source(tiny_clip)
        it = src.frames()
        next(it)
        del it, src

    dropped()
    gc.collect()
    before = open_fds()
    for _ in range(3):
        dropped()
    gc.collect()
    assert open_fds() == before


def assert_rss_level(action: Callable[[], object], times: int = 300) -> None:
    """``action`` ``times`` times in this process: the resident set grows under 4 MB."""
    for _ in range(30):  # warm-up: numba dispatch, FFmpeg's pools, Python's arenas
        action()
    gc.collect()
    before = rss_bytes()
    for _ in range(times):
        action()
    gc.collect()
    growth = rss_bytes() - before
    assert growth < 4 * 2**20, f"RSS grew {growth / 2**20:.1f} MB over {times} runs"


def test_rss_level_over_300_summaries(tiny_clip):
    """300 summarizations of one clip in one process (about 0.4 MB is normal)."""
    sig = framesig.summarize(tiny_clip)
    assert sig.source.frames == 15
    assert_rss_level(lambda: framesig.summarize(tiny_clip))


def test_rss_level_over_300_errors(bad_files):
    """300 failed opens (a cut-off mp4): the errors and their tracebacks are released."""

    def fail() -> None:
        with pytest.raises(framesig.CorruptVideoError):
            framesig.summarize(bad_files["cut_in_header.mp4"])

    assert_rss_level(fail)


def test_the_decode_helper_stops_before_the_source_closes(tiny_clip):
    """An error in the caller's loop (here, its progress callback) stops the helper thread
    before the source is closed under it, even while the error's traceback, which holds
    the suspended pipeline, is kept (a helper decoding from a closed container crashes)."""
    import threading

    class Stop(Exception):
        pass

    def progress(p: Progress) -> None:
        if p.frames >= 4:
            raise Stop

    with pytest.raises(Stop) as err:
        framesig.summarize(tiny_clip, batch_size=4, progress=progress)
    assert err.value is not None
    assert not [t for t in threading.enumerate() if t.name == "framesig-decode"]
