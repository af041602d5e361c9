"""Each kernel against its slow reference, on examples and on hypothesis-drawn inputs."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from framesig import kernels

planes_u8 = st.integers(8, 90).flatmap(
    lambda h: st.integers(8, 90).flatmap(
        lambda w: arrays(np.uint8, (h, w), elements=st.integers(0, 255))
    )
)


@given(planes_u8, st.integers(1, 8), st.integers(1, 8), st.integers(1, 4))
def test_area_downsample_matches_reference(plane, oh, ow, row_step):
    got = kernels.area_downsample(plane, oh, ow, offset=16.0, scale=1 / 219, row_step=row_step)
    np.testing.assert_allclose(
        got, ref.area_downsample(plane, oh, ow, 16.0, 1 / 219, row_step), rtol=1e-5, atol=1e-5
    )


def test_thumbnails_sample_rows_of_big_frames_only():
    """Thumbnails of a 1080p frame sum every 4th row; those of 480p and smaller, all."""
    rng = np.random.default_rng(5)
    levels = kernels.plane_levels(8, True)
    for h, w, step in ((1080, 1920, 4), (720, 1280, 2), (480, 640, 1), (90, 160, 1)):
        y = rng.integers(0, 256, (h, w), dtype=np.uint8)
        u = rng.integers(0, 256, (h // 2, w // 2), dtype=np.uint8)
        lo = np.empty((kernels.THUMB, kernels.THUMB), np.float32)
        uo = np.empty((kernels.CHROMA, kernels.CHROMA), np.float32)
        vo = np.empty_like(uo)
        kernels.thumbnails_into(y, u, u, levels, 0, lo, uo, vo)
        want = ref.area_downsample(y, kernels.THUMB, kernels.THUMB, 0.0, 1 / 255, step)
        np.testing.assert_allclose(lo, want, rtol=1e-6, atol=1e-7)
        want_u = ref.area_downsample(u, kernels.CHROMA, kernels.CHROMA, 128.0, 1 / 255, step)
        np.testing.assert_allclose(uo, want_u, rtol=1e-6, atol=1e-7)


@given(arrays(np.uint16, (37, 53), elements=st.integers(0, 1023)))
def test_area_downsample_10bit(plane):
    got = kernels.area_downsample(plane, 7, 9, scale=1 / 1023)
    np.testing.assert_allclose(got, ref.area_downsample(plane, 7, 9, 0.0, 1 / 1023), atol=1e-6)


def test_area_downsample_strided_view():
    base = np.arange(40 * 64, dtype=np.uint8).reshape(40, 64)
    view = base[:, :50]  # a decoder plane with padding: line_size > width
    np.testing.assert_allclose(kernels.area_downsample(view, 5, 5), ref.area_downsample(view, 5, 5))


def test_area_downsample_rejects_bad_input():
    with pytest.raises(ValueError):
        kernels.area_downsample(np.zeros((4, 4, 3), np.uint8), 2, 2)
    with pytest.raises(ValueError):
        kernels.area_downsample(np.zeros((4, 4), np.uint8), 8, 2)
    with pytest.raises(ValueError):
        kernels.area_downsample(np.zeros((4, 4), np.uint8), 2, 2, row_step=0)


thumbs = arrays(np.float32, (64, 64), elements=st.floats(0, 1, width=32))


@given(thumbs)
def test_phash_matches_reference(thumb):
    got = kernels.phash(thumb)
    want = ref.phash(thumb)
    # float32 vs float64 DCTs may flip a coefficient lying exactly at the median
    assert ref.hamming(got, want) <= 2


@given(thumbs)
def test_dhash_matches_reference(thumb):
    assert kernels.dhash(thumb) == ref.dhash(thumb)


def test_phash_is_stable_under_noise_and_differs_between_scenes(rng):
    a = rng.random((64, 64)).astype(np.float32)
    import cv2

    a = cv2.GaussianBlur(a, (9, 9), 3)
    noisy = np.clip(a + rng.normal(0, 0.01, a.shape), 0, 1).astype(np.float32)
    other = cv2.GaussianBlur(rng.random((64, 64)).astype(np.float32), (9, 9), 3)
    assert kernels.hamming(kernels.phash(a), kernels.phash(noisy)) <= 6
    assert kernels.hamming(kernels.phash(a), kernels.phash(other)) >= 16


@given(
    arrays(np.float32, (32, 32), elements=st.floats(0, 1, width=32)),
    arrays(np.float32, (32, 32), elements=st.floats(-0.5, 0.5, width=32)),
    arrays(np.float32, (32, 32), elements=st.floats(-0.5, 0.5, width=32)),
)
def test_color_histogram_matches_reference(y, u, v):
    got = kernels.color_histogram(y, u, v)
    np.testing.assert_allclose(got, ref.color_histogram(y, u, v), atol=1e-6)
    assert got.sum() == pytest.approx(1.0, abs=1e-5)


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_hamming_matches_reference(a, b):
    assert kernels.hamming(a, b) == ref.hamming(a, b)


@given(
    arrays(np.float32, 16, elements=st.floats(0, 1, width=32)),
    arrays(np.float32, 16, elements=st.floats(0, 1, width=32)),
)
def test_hist_distance_matches_reference(a, b):
    assert kernels.hist_distance(a, b) == pytest.approx(ref.hist_distance(a, b), abs=1e-5)


@given(thumbs)
def test_sharpness_matches_reference(thumb):
    assert kernels.sharpness(thumb) == pytest.approx(ref.sharpness(thumb), rel=1e-4, abs=1e-7)


@given(st.integers(1, 12), st.integers(0, 2**31 - 1))
def test_batch_features_equal_single_frame_kernels(n, seed):
    r = np.random.default_rng(seed)
    luma = r.random((n, 64, 64), dtype=np.float32)
    cu = (r.random((n, 32, 32), dtype=np.float32) - 0.5).astype(np.float32)
    cv = (r.random((n, 32, 32), dtype=np.float32) - 0.5).astype(np.float32)
    f = kernels.frame_features(luma, cu, cv)
    for i in range(n):
        assert int(f["phash"][i]) == kernels.phash(luma[i])
        assert int(f["dhash"][i]) == kernels.dhash(luma[i])
        ysmall = ref.area_downsample(luma[i], 32, 32)
        np.testing.assert_allclose(
            f["hist"][i], ref.color_histogram(ysmall, cu[i], cv[i]), atol=1e-6
        )
        assert f["texture"][i] == pytest.approx(float(ysmall.std()), rel=1e-4)
        assert np.isfinite(f["sharpness"][i])


def test_uniform_frames_have_finite_features_and_distinct_histograms():
    """B18: solid blue, white and black hash alike; the histogram must tell them apart."""
    luma = np.stack([np.full((64, 64), v, np.float32) for v in (0.1, 1.0, 0.0)])
    cu = np.stack([np.full((32, 32), c, np.float32) for c in (0.45, 0.0, 0.0)])
    cv = np.stack([np.full((32, 32), c, np.float32) for c in (-0.1, 0.0, 0.0)])
    f = kernels.frame_features(luma, cu, cv)
    for key in ("hist", "sharpness", "texture", "mean_luma"):
        assert np.isfinite(f[key]).all()
    d = [kernels.hist_distance(f["hist"][i], f["hist"][j]) for i, j in ((0, 1), (1, 2), (0, 2))]
    assert min(d) == pytest.approx(1.0)


def test_thumbnails_apply_rotation():
    y = np.zeros((64, 128), np.uint8)
    y[:, :8] = 255  # a bright left edge
    luma = np.empty((64, 64), np.float32)
    cu = np.empty((32, 32), np.float32)
    cv = np.empty((32, 32), np.float32)
    levels = kernels.plane_levels(8, True)
    kernels.thumbnails_into(y, None, None, levels, 90, luma, cu, cv)
    # turned 90 degrees counter-clockwise, the left edge becomes the bottom edge
    assert luma[-1, :].mean() > 0.9 and luma[0, :].mean() < 0.1
    assert np.all(cu == 0)


def test_plane_levels_limited_and_ten_bit():
    yo, ys, co, cs = kernels.plane_levels(10, False)
    assert (64 - yo) * ys == pytest.approx(0.0)
    assert (940 - yo) * ys == pytest.approx(1.0)
    assert co == 512.0


@given(arrays(np.float32, (32, 32), elements=st.floats(0, 1, width=32)))
def test_view_details_are_differences_of_gaussians(img):
    d32, d16 = kernels.view_details(img)
    np.testing.assert_allclose(d32, ref.dog(img, 0.7, 2.0), atol=1e-5)
    np.testing.assert_allclose(d16, ref.dog(ref.area_downsample(img, 16, 16), 0.5, 1.0), atol=1e-5)


@given(
    arrays(np.float32, (32, 32), elements=st.floats(-1, 1, width=32)),
    arrays(np.float32, (32, 32), elements=st.floats(-1, 1, width=32)),
    st.integers(-12, 12),
    st.integers(-12, 12),
)
def test_ncc_at_matches_reference(a, b, dy, dx):
    assert kernels._ncc_at(a, b, dy, dx, 1, 0) == pytest.approx(ref.ncc_at(a, b, dy, dx), abs=1e-4)
    got = kernels._ncc_at(a, b, dy, dx, 3, 3)
    assert got == pytest.approx(ref.robust_ncc_at(a, b, dy, dx, 3, 3), abs=1e-4)


@given(st.integers(0, 2**31 - 1), st.integers(-8, 8), st.integers(-8, 8))
def test_aligned_ncc_recovers_a_shift_and_reports_its_own_score(seed, dy, dx):
    import cv2

    r = np.random.default_rng(seed)
    big = cv2.GaussianBlur(r.random((64, 64)).astype(np.float32), (0, 0), 1.0)
    a = big[16:48, 16:48]
    b = big[16 + dy : 48 + dy, 16 + dx : 48 + dx]
    (a32, a16), (b32, b16) = kernels.view_details(a), kernels.view_details(b)
    ncc, gy, gx = kernels.aligned_ncc(a32, b32, a16, b16)
    assert ncc == pytest.approx(ref.robust_ncc_at(a32, b32, gy, gx, 3, 3), abs=1e-4)
    assert (gy, gx) == (dy, dx) and ncc > 0.9


def test_aligned_ncc_of_unrelated_views_is_low(rng):
    import cv2

    a, b = (
        cv2.GaussianBlur(rng.random((32, 32)).astype(np.float32), (0, 0), 1.0) for _ in range(2)
    )
    (a32, a16), (b32, b16) = kernels.view_details(a), kernels.view_details(b)
    assert kernels.aligned_ncc(a32, b32, a16, b16)[0] < 0.55


def test_aligned_ncc_ignores_an_object_over_part_of_the_view():
    import cv2

    r = np.random.default_rng(8)
    a = cv2.GaussianBlur(r.random((32, 32)).astype(np.float32), (0, 0), 1.0)
    b = a.copy()
    b[2:9, 3:10] = 0.0  # a dark object over a corner tile
    (a32, a16), (b32, b16) = kernels.view_details(a), kernels.view_details(b)
    assert kernels.aligned_ncc(a32, b32, a16, b16)[0] > 0.9
    assert kernels._ncc_at(a32, b32, 0, 0, 1, 0) < 0.9  # the plain NCC would suffer
    flat = np.full((32, 32), 0.5, np.float32)
    f32, f16 = kernels.view_details(flat)
    assert kernels.aligned_ncc(a32, f32, a16, f16)[0] == -1.0
