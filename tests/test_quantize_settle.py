"""Gradual changes: fades of flat frames, exposure, and hovers entered by a slow ease-in."""

from __future__ import annotations

import numpy as np

import framesig
from framesig.kernels import HIST_BINS
from framesig.quantize import brightness_distance


def _flat(level: float, size=(90, 160)) -> np.ndarray:
    return np.full((*size, 3), int(round(level)), np.uint8)


def test_brightness_distance_allows_a_luma_shift_not_a_colour_change():
    r = np.random.default_rng(0)
    a = np.zeros(HIST_BINS, np.float32)
    a[r.choice(HIST_BINS // 2, 6, replace=False)] = 1 / 6  # luma bins 0..3
    brighter = np.roll(a, HIST_BINS // 8)  # every pixel one luma bin up
    half = (0.5 * a + 0.5 * brighter).astype(np.float32)  # half of them
    assert brightness_distance(a, brighter) < 1e-6
    assert brightness_distance(brighter, a) < 1e-6
    assert brightness_distance(a, half) < 1e-6
    other = np.roll(a, 1)  # same luma, other chroma
    assert brightness_distance(a, other) > 0.5
    assert brightness_distance(a, a) == 0.0


def test_fade_between_flat_frames_is_not_a_cut_every_few_frames():
    """Black, fade to white (one level every frame), hold, fade back: one view at most."""
    levels = [16.0] * 20 + list(np.linspace(16, 235, 60)) + [235.0] * 20
    levels += list(np.linspace(235, 16, 60)) + [16.0] * 20
    sig = framesig.summarize([_flat(v) for v in levels], fps=30)
    assert len(sig.transitions) <= 1, sig.transitions


def test_cut_between_flat_frames_is_still_found():
    sig = framesig.summarize([_flat(16)] * 30 + [_flat(200)] * 30, fps=30)
    assert [t.frame for t in sig.transitions] == [30]


def test_hover_entered_by_a_slow_ease_in_stays_one_state():
    """The camera eases into a hover; the still frames stay in one state throughout."""
    from framesig import synthetic

    terrain = synthetic.make_terrain(4, (1400, 600))
    r = np.random.default_rng(1)
    w, h, travel, ease = 320, 180, 150, 60
    xs = [travel * (1 - (1 - t / ease) ** 3) for t in range(ease)] + [travel] * 240
    frames = []
    for x in xs:
        f = terrain[200 : 200 + h, 100 + int(round(x)) : 100 + int(round(x)) + w].astype(np.int16)
        f = f + r.integers(-6, 7, f.shape)  # sensor noise
        frames.append(np.clip(f, 0, 255).astype(np.uint8))
    sig = framesig.summarize(frames, fps=30)
    hover = [t.frame for t in sig.transitions if t.frame > ease]
    assert hover == [], sig.transitions
