"""Every real clip in ../shared/data/real summarizes with the right facts."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ffprobe_frames, real_clip, real_videos

import framesig
from framesig.decode import open_source


@pytest.fixture(scope="module")
def signatures():
    cache: dict[str, framesig.Signature] = {}

    def get(name: str) -> framesig.Signature:
        if name not in cache:
            cache[name] = framesig.summarize(real_clip(name))
        return cache[name]

    return get


@pytest.mark.parametrize("name", real_videos() or ["<no ../shared/data/real>"])
def test_real_clip_summarizes_with_exact_frame_count(name, signatures):
    path = real_clip(name)
    sig = signatures(name)
    if path.is_dir():
        expected = len([p for p in path.iterdir() if p.suffix.lower() in {".jpg", ".png"}])
    else:
        expected = ffprobe_frames(path)
    assert sig.source.frames == expected
    # runs cover every decoded frame exactly once, in order, with rising times
    assert sig.runs[0].start_frame == 0 and sig.runs[-1].end_frame == expected - 1
    for a, b in zip(sig.runs, sig.runs[1:], strict=False):
        assert b.start_frame == a.end_frame + 1
        assert b.start_time > a.start_time and a.end_time == b.start_time
    assert sig.runs[-1].end_time == pytest.approx(sig.source.duration)
    assert len(sig.states) >= 1
    # what it names is where it says (frames in their state's runs, their PTS too): it loads
    assert framesig.Signature.from_json(sig.to_json()) == sig


@pytest.mark.parametrize("name", [n for n in real_videos() if not n.endswith("jpgseq")][:40])
def test_times_rise_strictly_frame_by_frame(name):
    times = []
    with open_source(real_clip(name)) as src:
        for f in src.frames():
            times.append(f.time)
    assert np.all(np.diff(times) > 0)
    assert times[0] >= 0


def test_cut_video_transitions_and_shared_black_card(signatures):
    sig = signatures("psd_testvideo_cuts_720p2997.mp4")
    frames = [t.frame for t in sig.transitions]
    assert any(abs(f - 30) <= 1 for f in frames)
    assert any(abs(f - 180) <= 1 for f in frames)
    assert any(abs(f - 394) <= 3 for f in frames)

    def state(frame):
        return next(r.state for r in sig.runs if r.start_frame <= frame <= r.end_frame)

    # the same black title card, before the first cut and after the second and before the third
    black = {state(f) for f in [*range(16, 30), *range(181, 200), *range(375, 394)]}
    assert len(black) == 1


def test_vfr_times_come_from_pts(signatures):
    sig = signatures("psd_goldeneye_vfr_drop3.mp4")
    times = sorted(t.time for t in sig.transitions)
    assert times == pytest.approx([3.754, 8.759], abs=0.01)


def test_rotated_clips_report_display_size_and_rotation(signatures):
    sig = signatures("psd_issue134_rotate90.mp4")
    assert (sig.source.display_width, sig.source.display_height) == (544, 1280)
    assert sig.source.rotation == 270
    hevc = signatures("phone_hevc_1080p_rot90_vfr_indoor_course.mp4")
    assert (hevc.source.display_width, hevc.source.display_height) == (1080, 1920)
    assert hevc.source.codec == "hevc" and not hevc.source.estimated_timestamps


def test_raw_h264_without_pts_is_estimated_and_flagged(signatures):
    sig = signatures("drone_ardrone2_indoor_yaw_640x360_raw.h264")
    assert sig.source.estimated_timestamps and sig.source.estimated_frames == 388
    assert sig.source.duration == pytest.approx(388 / 25)
    mid = signatures("drone_parrot_indoor_lowalt_640x368_raw_midstream.h264")
    assert mid.source.estimated_timestamps and mid.source.frames == 176
    assert mid.source.fps == pytest.approx(29.0, abs=0.1)


def test_delayed_start_is_normalised(signatures):
    sig = signatures("psd_delayed_start_offset.mp4")
    assert sig.source.start_time == pytest.approx(1.075)
    assert sig.runs[0].start_time == 0.0
    assert sig.source.duration == pytest.approx(24 / 25)


def test_anamorphic_display_aspect(signatures):
    sig = signatures("psd_issue195_anamorphic_704x576.mp4")
    assert sig.source.sample_aspect_ratio == "16:11"
    assert sig.source.display_width / sig.source.display_height == pytest.approx(16 / 9, rel=0.01)


def test_hover_clips_are_one_state(signatures):
    for name in (
        "drone_nadir_city_interchange_1080p25.mp4",
        "drone_nadir_soccer_pitch_hover_60fps_bbox_overlay.mp4",
    ):
        assert len(signatures(name).states) == 1, name


def test_cuts_and_gradual_changes_are_told_apart(signatures):
    """PySceneDetect's cut-test video: three hard cuts, and fades to and from a black card
    and a dissolve, which change the view a little each frame."""
    sig = signatures("psd_testvideo_cuts_720p2997.mp4")
    cuts = [t.frame for t in sig.transitions if t.kind == "cut"]
    gradual = [t.frame for t in sig.transitions if t.kind == "gradual"]
    assert len(cuts) == 3
    assert [any(abs(c - t) <= tol for c in cuts) for t, tol in ((30, 1), (180, 1), (394, 3))] == [
        True
    ] * 3
    assert gradual and all(abs(g - t) > 3 for g in gradual for t in (30, 180, 394))
    fades = signatures("psd_fades_480x320_mpeg4.mp4")  # fades of flat frames: no new view
    assert not [t for t in fades.transitions if t.kind == "cut"]
