"""Decoding: inputs of every kind, errors that name the file and the cause."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from conftest import ffmpeg

import framesig
from framesig.decode import open_source, read_frames_rgb


def test_missing_file(tmp_path):
    with pytest.raises(framesig.OpenError, match="no such file") as err:
        framesig.summarize(tmp_path / "nope.mp4")
    assert "nope.mp4" in str(err.value)


def test_paths_that_are_no_file_to_read(tmp_path):
    import os

    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)  # no writer: opening it to read would block for ever
    with pytest.raises(framesig.OpenError, match=r"pipe.mp4: not a regular file \(a named pipe\)"):
        framesig.summarize(fifo)
    with pytest.raises(framesig.OpenError, match="not a regular file"):
        framesig.summarize("/dev/zero")
    (tmp_path / "afile").write_bytes(b"x")
    with pytest.raises(framesig.OpenError, match=r"afile/v.mp4: cannot read it \(Not a directory"):
        framesig.summarize(tmp_path / "afile" / "v.mp4")
    with pytest.raises(framesig.OpenError, match='"": an empty path'):
        framesig.summarize("")  # not the current folder


def test_empty_file(tmp_path):
    p = tmp_path / "empty.mp4"
    p.write_bytes(b"")
    with pytest.raises(framesig.EmptyVideoError, match="0 bytes"):
        framesig.summarize(p)


def test_not_a_video(tmp_path):
    p = tmp_path / "notes.mp4"
    p.write_text("these are not frames\n" * 100)
    with pytest.raises(framesig.OpenError, match="notes.mp4"):
        framesig.summarize(p)


def test_audio_only(tmp_path):
    p = tmp_path / "audio_only.mp4"
    ffmpeg("-f", "lavfi", "-i", "sine=d=2", "-c:a", "aac", str(p))
    with pytest.raises(framesig.NoVideoStreamError, match="no video stream.*audio"):
        framesig.summarize(p)


def test_folder_without_images(tmp_path):
    (tmp_path / "readme.txt").write_text("x")
    with pytest.raises(framesig.OpenError, match="no images"):
        framesig.summarize(tmp_path)


def test_image_folder_natural_order(tmp_path):
    import cv2

    for i in (1, 2, 10):  # natural order: 1, 2, 10 (not 1, 10, 2)
        cv2.imwrite(str(tmp_path / f"f{i}.png"), np.full((40, 60, 3), i * 20, np.uint8))
    with open_source(tmp_path, fps=10) as src:
        means = [float(f.y.mean()) for f in src.frames()]
    assert means == sorted(means)


def test_image_folder_with_a_bad_first_image_skips_it_as_any_other(tmp_path):
    import cv2

    (tmp_path / "f1.png").write_bytes(b"")  # cut off before its first byte
    for i in (2, 3, 4):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), np.full((40, 60, 3), i * 20, np.uint8))
    with open_source(tmp_path, fps=10) as src:
        assert [f.index for f in src.frames()] == [0, 1, 2]
        assert src.stats.skipped_packets == 1 and "f1.png" in src.stats.decode_errors[0]
    for i in (2, 3, 4):
        (tmp_path / f"f{i}.png").write_bytes(b"not a picture")
    with pytest.raises(framesig.EmptyVideoError, match="no image in the folder could be read"):
        open_source(tmp_path, fps=10)


def test_array_source_checks_shapes():
    frames = [np.zeros((10, 10, 3), np.uint8), np.zeros((12, 10, 3), np.uint8)]
    with pytest.raises(framesig.UnsupportedError, match="frame 1"):
        framesig.summarize(frames)
    with pytest.raises(framesig.EmptyVideoError):
        framesig.summarize([])


def test_bframes_display_order_and_pts(sample_flight):
    """B03: with B-frames, times rise and time i is ffprobe's pts_time of presented frame i."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pts_time",
            "-of",
            "csv=p=0",
            str(sample_flight),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    expected = [float(x.strip(",")) for x in out]
    with open_source(sample_flight) as src:
        got = [f.time for f in src.frames()]
    assert got == pytest.approx(expected, abs=1e-6)


def test_ten_bit_hevc_decodes(tmp_path):
    p = tmp_path / "hevc10.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=30",
        "-t",
        "1",
        "-c:v",
        "libx265",
        "-pix_fmt",
        "yuv420p10le",
        "-x265-params",
        "log-level=error",
        str(p),
    )
    with open_source(p) as src:
        first = next(iter(src.frames()))
        assert first.bit_depth == 10 and first.y.dtype == np.uint16
    sig = framesig.summarize(p)
    assert sig.source.bit_depth == 10 and sig.source.frames == 30


def test_keyframes_read_by_seek_equal_sequential(sample_flight):
    sig = framesig.summarize(sample_flight)
    wanted = [(s.keyframe, s.keyframe_pts) for s in sig.states[:4]]
    by_seek = dict(read_frames_rgb(sample_flight, wanted))
    in_order = dict(read_frames_rgb(sample_flight, wanted, seek=False))
    assert set(by_seek) == set(in_order) == {w[0] for w in wanted}
    for k in by_seek:
        assert np.abs(by_seek[k].astype(int) - in_order[k]).mean() < 3


def test_keyframes_read_by_seek_are_handed_on_one_at_a_time(sample_flight, monkeypatch):
    # Each is a full-size RGB frame: 56 held at once from a 1080p clip were 350 MB.
    from framesig import decode

    sig = framesig.summarize(sample_flight)
    wanted = [(s.keyframe, s.keyframe_pts) for s in sig.states]
    seeks: list[int] = []
    seek_frames = decode._seek_frames

    def counted(src, targets):  # the real seeks, counted as they finish
        for index, rgb in seek_frames(src, targets):
            seeks.append(index)
            yield index, rgb

    monkeypatch.setattr(decode, "_seek_frames", counted)
    frames = read_frames_rgb(sample_flight, wanted)
    first, _ = next(frames)
    assert seeks == [first]
    assert len(list(frames)) == len(wanted) - 1


def test_import_compiles_nothing_and_loads_no_decoder():
    code = (
        "import sys, framesig; print(sorted(m for m in ('av', 'numba', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("damage", ["noise", "cut"])
def test_frame_threads_fall_back_to_slice_threads_on_damage(tmp_path, caplog, damage):
    """Frame threads lose the frames in flight at a bad packet, so damage means a second
    pass with slice threads: the frames and their PTS equal a slice-threaded decode's."""
    import logging

    base = tmp_path / "base.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=30", "-t", "4",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "30", "-movflags", "+faststart",
        str(base),
    )  # fmt: skip
    path = tmp_path / f"{damage}.mp4"
    if damage == "noise":
        ffmpeg("-i", str(base), "-c", "copy", "-bsf:v", "noise=amount=200", str(path))
    else:
        path.write_bytes(base.read_bytes()[: base.stat().st_size * 6 // 10])

    def decode(threads: int) -> tuple[list[int], int, bool]:
        with open_source(path, decode_threads=threads) as src:
            pts = [f.pts for f in src.frames()]
            return pts, src.stats.skipped_packets, src.stats.truncated

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="framesig.decode"):
        framed = decode(2)
    assert any("slice threads" in r.getMessage() for r in caplog.records)
    sliced = decode(1)
    assert framed == sliced
    assert framed[1] > 0 or framed[2]  # the damage is reported, not hidden
    # an undamaged file stays on frame threads and gives the same frames as slice threads
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="framesig.decode"):
        with open_source(base, decode_threads=2) as src:
            whole = [f.pts for f in src.frames()]
    assert not any("slice threads" in r.getMessage() for r in caplog.records)
    with open_source(base, decode_threads=1) as src:
        assert whole == [f.pts for f in src.frames()] and len(whole) == 120


def test_skipping_the_deblocking_filter_keeps_frames_and_times(tmp_path):
    """Analysis decodes without the in-loop deblocking filter: the same frames at the same
    times, pixels a little blockier (not worse than a few levels on average)."""
    path = tmp_path / "mobile.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
        "-c:v", "libx264", "-crf", "35", "-pix_fmt", "yuv420p", "-g", "60", str(path),
    )  # fmt: skip

    def planes(deblock: bool) -> tuple[list[int], np.ndarray]:
        with open_source(path, deblock=deblock) as src:
            frames = [(f.pts, f.y.astype(np.int16)) for f in src.frames()]
        return [p for p, _ in frames], np.stack([y for _, y in frames])

    pts_full, full = planes(True)
    pts_fast, fast = planes(False)
    assert pts_full == pts_fast and len(pts_full) == 90
    diff = np.abs(full - fast)
    assert 0 < diff.mean() < 3  # the filter was really skipped, and it matters little
    a = framesig.summarize(path, deblock=True)
    assert a.settings["deblock"] is True and framesig.summarize(path).settings["deblock"] is False
