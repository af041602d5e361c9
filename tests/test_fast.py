"""Fast mode gives exact mode's states and transitions where it claims to, else falls back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import ffmpeg, real_clip
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import framesig
from framesig import kernels, synthetic
from framesig.fast import run_fast


def _flight(tmp_path_factory: pytest.TempPathFactory) -> str:
    a, b = synthetic.Pose(600, 500), synthetic.Pose(1450, 650, 20, 1.0)
    segs = (
        synthetic.Segment("hover", 300, a, a, place=0),
        synthetic.Segment("transit", 30, a, b),
        synthetic.Segment("hover", 300, b, b, place=1),
        synthetic.Segment("transit", 30, b, a),
        synthetic.Segment("hover", 180, a, a, place=0),
    )
    plan = synthetic.FlightPlan(segs, (synthetic.Perturbation("flash", 480, 1),), fps=30.0)
    path = tmp_path_factory.mktemp("fast") / "hover_flight.mp4"
    synthetic.write_flight(path, plan, size=(320, 180), seed=5)
    return str(path)


@pytest.fixture(scope="module")
def flight(tmp_path_factory):
    return _flight(tmp_path_factory)


def _same(exact: framesig.Signature, fast: framesig.Signature) -> None:
    assert fast.symbols == exact.symbols
    assert len(fast.states) == len(exact.states)
    assert fast.source.frames == exact.source.frames
    assert fast.source.duration == pytest.approx(exact.source.duration)
    assert len(fast.transitions) == len(exact.transitions)
    for e, f in zip(exact.transitions, fast.transitions, strict=True):
        assert (f.from_state, f.to_state, f.revisit) == (e.from_state, e.to_state, e.revisit)
        assert abs(f.frame - e.frame) <= 1
    for e, f in zip(exact.runs, fast.runs, strict=True):
        assert abs(f.start_frame - e.start_frame) <= 1
        assert abs(f.start_time - e.start_time) <= 0.05


def test_fast_equals_exact_on_a_hover_heavy_flight(flight):
    exact = framesig.summarize(flight)
    fast, report = run_fast(flight, framesig.Settings(fast=True))
    assert report.fallback == "" and fast.settings["fast_fallback"] == ""
    _same(exact, fast)
    assert len(exact.transitions) >= 2  # it flew somewhere: there are changes to place
    # the hovers were skipped: far fewer frames decoded than the flight holds
    assert report.skipped_gops >= 4
    assert report.decoded_frames < 0.75 * report.frames
    # the flash GOP was decoded (its packets jump), so the flash is seen as a transient
    assert [(t.start_frame, t.end_frame) for t in fast.transients] == [
        (t.start_frame, t.end_frame) for t in exact.transients
    ]


def test_fast_through_the_public_api_and_cli(flight, capsys):
    from framesig.cli import main

    sig = framesig.summarize(flight, fast=True)
    assert sig.settings["fast"] is True and sig.settings["fast_fallback"] == ""
    assert main(["summarize", flight, "--fast", "--json", "-q"]) == 0
    out = framesig.Signature.from_json(capsys.readouterr().out)
    assert out.symbols == sig.symbols and out.settings["fast"] is True


def test_the_cli_says_when_fast_mode_fell_back(capsys):
    from framesig.cli import main

    path = str(real_clip("drone_gopro_karma_coast_cliffs_480p30.mp4"))  # 8-frame GOPs
    assert main(["summarize", path, "--fast", "--json"]) == 0
    captured = capsys.readouterr()
    reason = framesig.Signature.from_json(captured.out).settings["fast_fallback"]
    assert reason and f"framesig: --fast fell back to exact mode: {reason}" in captured.err
    assert main(["summarize", path, "--fast", "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_fast_equals_exact_on_a_real_hover_clip():
    path = real_clip("drone_nadir_soccer_pitch_hover_60fps_bbox_overlay.mp4")
    exact = framesig.summarize(path)
    fast, report = run_fast(path, framesig.Settings(fast=True))
    assert report.fallback == ""
    assert report.skipped_gops >= 1 and report.decoded_frames < report.frames
    _same(exact, fast)


def test_fast_equals_exact_on_a_real_clip_with_cuts():
    path = real_clip("psd_testvideo_cuts_720p2997.mp4")
    exact = framesig.summarize(path)
    fast, report = run_fast(path, framesig.Settings(fast=True))
    _same(exact, fast)


def _exact_like(sig: framesig.Signature) -> framesig.Signature:
    from dataclasses import replace

    keep = {k: v for k, v in sig.settings.items() if k not in ("fast", "fast_fallback")}
    return replace(sig, settings=keep)


@pytest.mark.parametrize("kind", ["raw", "all_intra", "short_gops"])
def test_fast_falls_back_where_it_cannot_claim(flight, tmp_path, kind):
    if kind == "raw":
        path = tmp_path / "flight.h264"
        ffmpeg("-i", flight, "-c", "copy", "-bsf:v", "h264_mp4toannexb", "-f", "h264", str(path))
        why = "h264 stream"
    elif kind == "all_intra":
        path = tmp_path / "intra.mp4"
        ffmpeg("-i", flight, "-frames:v", "60", "-c:v", "libx264", "-g", "1", str(path))
        why = "all-intra"
    else:  # a keyframe every 8 frames: decoding keyframes would cost about all there is
        path = tmp_path / "short.mp4"
        ffmpeg("-i", flight, "-frames:v", "120", "-c:v", "libx264", "-g", "8", str(path))
        why = "leave nothing to skip"
    exact = framesig.summarize(path)
    fast, report = run_fast(path, framesig.Settings(fast=True))
    assert why in report.fallback and why in fast.settings["fast_fallback"]
    assert fast.settings["fast"] is True
    assert _exact_like(fast) == _exact_like(exact)  # the exact result, flagged


@pytest.mark.parametrize("where", [0.2, 0.35, 0.5, 0.8])
def test_fast_on_damaged_packets_equals_exact_or_says_why_plainly(flight, tmp_path, where):
    data = bytearray(Path(flight).read_bytes())
    at = int(len(data) * where)
    noise = np.random.default_rng(7).integers(0, 256, 1024, dtype=np.uint8)
    data[at : at + 1024] = noise.tobytes()
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))
    exact = framesig.summarize(path)
    fast, report = run_fast(path, framesig.Settings(fast=True))
    assert exact.source.skipped_packets > 0  # the damage was seen
    assert fast.symbols == exact.symbols
    # the same times; frame numbers only where fast mode saw the damage too (see fast.py)
    assert [t.time for t in fast.transitions] == [t.time for t in exact.transitions]
    if report.fallback or fast.source.skipped_packets == exact.source.skipped_packets:
        assert [t.frame for t in fast.transitions] == [t.frame for t in exact.transitions]
    assert "Errno" not in report.fallback and "avcodec" not in report.fallback


def test_fast_falls_back_after_decoding_began(flight, monkeypatch):
    """A reason found after GOPs were decoded from the source: exact mode on a new opening."""
    from framesig import fast

    def static(self, g, gop, nxt):  # every GOP decoded, until the third
        if g == 2:
            assert not self.pristine
            raise fast.FastFallback("a late reason")
        return False

    monkeypatch.setattr(fast._FastSource, "_static", static)
    exact = framesig.summarize(flight)
    sig, report = run_fast(flight, framesig.Settings(fast=True))
    assert report.fallback == sig.settings["fast_fallback"] == "a late reason"
    assert _exact_like(sig) == _exact_like(exact)


def test_fast_falls_back_for_arrays_and_previews(flight):
    frames = [np.full((48, 64, 3), v, np.uint8) for v in (0, 0, 0, 255, 255, 255)]
    sig = framesig.summarize(frames, fps=10, fast=True)
    assert "not a video file" in sig.settings["fast_fallback"]
    assert sig.symbols == framesig.summarize(frames, fps=10).symbols
    preview = framesig.summarize(flight, fast=True, max_frames=50)
    assert "max_frames" in preview.settings["fast_fallback"]
    assert preview.source.partial and preview.source.frames == 50


def test_kernel_threads_setting_gives_the_same_result(flight):
    one = framesig.summarize(flight, kernel_threads=1, max_frames=200)
    auto = framesig.summarize(flight, max_frames=200)
    assert one.runs == auto.runs and one.settings["kernel_threads"] == 1
    with pytest.raises(framesig.SettingsError):
        framesig.Settings(kernel_threads=-1)


strided = st.integers(1, 70).flatmap(
    lambda h: st.integers(1, 70).flatmap(
        lambda w: st.sampled_from([np.uint8, np.uint16]).flatmap(
            lambda dt: arrays(
                dt, (h, w + 5), elements=st.integers(0, 1023 if dt == np.uint16 else 255)
            )
        )
    )
)


@given(strided, st.integers(1, 64), st.integers(1, 64), st.integers(1, 5))
def test_integer_thumbnail_kernel_is_bit_identical(padded, oh, ow, row_step):
    plane = padded[:, :-5]  # a decoder plane: rows padded past the width
    a = np.empty((oh, ow), np.float32)
    b = np.empty_like(a)
    kernels._area_downsample_rows(plane, a, 16.0, 1 / 219, row_step)
    kernels._area_downsample_int(plane, b, 16.0, 1 / 219, row_step)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("h", [255, 256, 257, 300])
def test_integer_thumbnail_kernel_sums_tall_blocks_without_overflow(h):
    """8-bit column sums use 16 bits only where a block's rows cannot overflow them."""
    plane = np.full((h, 70), 255, np.uint8)
    for row_step in (1, 2):
        a = np.empty((1, 3), np.float32)
        b = np.empty_like(a)
        kernels._area_downsample_rows(plane, a, 16.0, 1 / 219, row_step)
        kernels._area_downsample_int(plane, b, 16.0, 1 / 219, row_step)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(b, (255 - 16) / 219, rtol=1e-6)


def test_thumbnails_into_uses_the_same_values_for_every_plane_kind(rng):
    y = rng.integers(0, 1024, (90, 160), dtype=np.uint16)
    u = rng.integers(0, 1024, (45, 80), dtype=np.uint16)
    v = rng.integers(0, 1024, (45, 80), dtype=np.uint16)
    levels = kernels.plane_levels(10, False)
    outs = []
    for planes in ((y, u, v), (y.astype(np.float32), u.astype(np.float32), v.astype(np.float32))):
        lo = np.empty((kernels.THUMB, kernels.THUMB), np.float32)
        uo = np.empty((kernels.CHROMA, kernels.CHROMA), np.float32)
        vo = np.empty_like(uo)
        kernels.thumbnails_into(*planes, levels, 90, lo, uo, vo)
        outs.append((lo, uo, vo))
    for a, b in zip(*outs, strict=True):
        np.testing.assert_array_equal(a, b)


def test_stand_ins_never_settle_a_moving_view(tmp_path):
    """A slow pan between hovers: stand-ins of one keyframe look settled where the real
    frames move on; fast mode decodes those GOPs and gives exact mode's result."""
    a, b = synthetic.Pose(600, 500), synthetic.Pose(760, 520)
    segs = (
        synthetic.Segment("hover", 90, a, a, place=0),
        synthetic.Segment("transit", 240, a, b),  # 2/3 px a frame at 320 px wide
        synthetic.Segment("hover", 90, b, b, place=1),
    )
    path = tmp_path / "pan.mp4"
    synthetic.write_flight(path, synthetic.FlightPlan(segs, fps=30.0), size=(320, 180), seed=7)
    exact = framesig.summarize(path)
    fast, report = run_fast(path, framesig.Settings(fast=True))
    assert report.fallback == ""
    _same(exact, fast)


def test_a_settled_window_inside_a_skipped_gop_sends_it_to_be_decoded():
    from types import SimpleNamespace

    from framesig.fast import _violations

    frames = [np.full((64, 64, 3), 90, np.uint8)] * 40
    sig = framesig.summarize(frames, fps=10)
    h = int(sig.states[0].hash, 16)
    fsrc = SimpleNamespace(skipped=[(3, 10, 20, h, h)], static_hash=4)
    s = framesig.Settings()
    assert _violations(sig, fsrc, s, []) == set()
    assert _violations(sig, fsrc, s, [(30, 39)]) == set()  # after the GOP
    assert _violations(sig, fsrc, s, [(12, 25)]) == {3}


@pytest.mark.parametrize(
    "name",
    [
        "phone_hevc_1080p_rot90_vfr_indoor_course.mp4",  # HEVC, B-frames, VFR
        "moviepy_big_buck_bunny_0_30_vp8.webm",
        "psd_testvideo_cuts_720p2997.mp4",
    ],
)
def test_keyframes_decoded_side_by_side_equal_one_decoder(name):
    """The keyframe scan's decoders, one or several, give the same packets and pictures;
    a sequential decode of the whole stream agrees on every keyframe's pixels."""
    from framesig.decode import Frame, PacketInfo, open_source, scan_keyframes

    path = real_clip(name)
    with open_source(path, deblock=True) as src:
        one = list(scan_keyframes(src, threads=1))
        three = list(scan_keyframes(src, threads=3))
        full = {f.pts: f.y.copy() for f in src.frames()}
    assert [p for p in one if isinstance(p, PacketInfo)] == [
        p for p in three if isinstance(p, PacketInfo)
    ]
    keys = [p.pts for p in one if isinstance(p, PacketInfo) and p.key]
    frames_one = [f for f in one if isinstance(f, Frame)]
    frames_three = [f for f in three if isinstance(f, Frame)]
    assert [f.pts for f in frames_one] == [f.pts for f in frames_three] == keys
    for a, b in zip(frames_one, frames_three, strict=True):
        np.testing.assert_array_equal(a.y, b.y)
        np.testing.assert_array_equal(a.y, full[a.pts])
