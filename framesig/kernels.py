"""numba kernels: thumbnails, perceptual hashes, colour histograms, distances.

Layering follows stumpy and scikit-image: the public functions here validate and convert
their input once, then call private ``_``-prefixed ``@njit(cache=True)`` kernels that only
compute, on fixed dtypes, with no Python objects. Kernels compile lazily on first call and
are cached on disk, so ``import framesig.kernels`` compiles nothing.

Conventions
-----------
- A *luma thumbnail* is ``float32[THUMB, THUMB]`` with values in [0, 1] (0 = black).
- A *chroma thumbnail* is ``float32[CHROMA, CHROMA]`` centred on 0, in [-0.5, 0.5].
- Hashes are ``uint64``; bit ``i`` (LSB = 0) is cell ``i`` in row-major order.
- A colour histogram has ``HIST_BINS`` float32 bins that sum to 1 (joint Y x U x V).

Examples
--------
>>> import numpy as np
>>> from framesig import kernels
>>> plane = np.tile(np.arange(128, dtype=np.uint8), (96, 1))
>>> thumb = kernels.area_downsample(plane, 8, 8)
>>> thumb.shape, thumb.dtype
((8, 8), dtype('float32'))
>>> bool(thumb[0, 0] < thumb[0, 7])
True
>>> kernels.hamming(0b1011, 0b0001)
2
"""

from __future__ import annotations

import math
import os

import numpy as np

# The batch kernels run in parallel between frames while FFmpeg's threads decode. OpenMP
# workers that spin after each batch (GNU OpenMP's default) take those cores from the
# decoder: 10-20% more CPU on a 2-core machine. Read when numba starts its threads; a
# user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from numba import njit, prange  # noqa: E402

__all__ = [
    "THUMB",
    "CHROMA",
    "Y_BINS",
    "C_BINS",
    "HIST_BINS",
    "area_downsample",
    "thumb_row_step",
    "thumbnails_into",
    "dhash",
    "phash",
    "color_histogram",
    "hamming",
    "hist_distance",
    "sharpness",
    "frame_features",
]

THUMB = 64  # luma analysis thumbnail side
CHROMA = 32  # chroma analysis thumbnail side
# Thumbnails sum every k-th source row, k chosen so that each block still averages at least
# this many rows: block means of smooth aerial views barely move, and reading a quarter
# of a 1080p frame's rows (an eighth of 4K's) cuts the biggest per-frame cost as much.
ROWS_PER_BLOCK = 4
Y_BINS = 8
C_BINS = 4
HIST_BINS = Y_BINS * C_BINS * C_BINS
_PHASH_SIDE = 32
_PHASH_LOW = 8
_FLAT_VAR = 1e-8  # per-pixel variance of a tile with no detail at all
_PHASH_EPS = 1e-4  # of coefficients on a 0..32 scale: below any visible structure


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix: ``D @ x`` is the DCT of ``x``."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
    d[0, :] = math.sqrt(1.0 / n)
    return d.astype(np.float64)


_DCT32 = _dct_matrix(_PHASH_SIDE)


# --------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def _area_downsample(plane, out, offset, scale):  # pragma: no cover - compiled
    """Mean of each block of ``plane`` into ``out``, as ``(mean - offset) * scale``.

    Block ``(i, j)`` spans rows ``[i*H//oh, (i+1)*H//oh)`` and columns likewise, so every
    source pixel belongs to exactly one block.
    """
    _area_downsample_rows(plane, out, offset, scale, 1)


@njit(cache=True, nogil=True)
def _area_downsample_rows(plane, out, offset, scale, row_step):  # pragma: no cover - compiled
    """:func:`_area_downsample` over every ``row_step``-th row of each block, from its first."""
    h, w = plane.shape
    oh, ow = out.shape
    if row_step == 1 and h == 2 * oh and w == 2 * ow:
        # Halving (the features' 64 -> 32 -> 16 pyramid): the same float64 sums in the
        # same order, without a chain of dependent adds through each block.
        for i in range(oh):
            top = plane[2 * i]
            bottom = plane[2 * i + 1]
            for j in range(ow):
                acc = (np.float64(top[2 * j]) + top[2 * j + 1]) + bottom[2 * j]
                out[i, j] = ((acc + bottom[2 * j + 1]) / 4 - offset) * scale
        return
    for i in range(oh):
        r0 = i * h // oh
        r1 = max((i + 1) * h // oh, r0 + 1)
        rows = (r1 - r0 + row_step - 1) // row_step
        for j in range(ow):
            c0 = j * w // ow
            c1 = max((j + 1) * w // ow, c0 + 1)
            acc = 0.0
            for r in range(r0, r1, row_step):
                for c in range(c0, c1):
                    acc += plane[r, c]
            out[i, j] = (acc / (rows * (c1 - c0)) - offset) * scale


@njit(cache=True, nogil=True)
def _area_downsample_int(plane, out, offset, scale, row_step):  # pragma: no cover - compiled
    """:func:`_area_downsample_rows` for integer planes, bit for bit, about 6x faster.

    Each block row's sampled source rows are summed column by column into one integer row
    (a contiguous, vectorised add), then the row is cut into column blocks. Integer sums
    are exact, as are the float64 sums of integers in :func:`_area_downsample_rows`, so
    the results are identical. 8-bit rows are summed in 16 bits where no block can
    overflow them: half the memory traffic of 32-bit sums, and twice the lanes.
    """
    h, w = plane.shape
    oh = out.shape[0]
    block_rows = (h + oh - 1) // oh + 1  # the most source rows a block row can span
    sampled = (block_rows + row_step - 1) // row_step
    if plane.itemsize == 1 and sampled * 255 < 65536:
        _area_downsample_acc(plane, out, offset, scale, row_step, np.uint16)
    else:
        _area_downsample_acc(plane, out, offset, scale, row_step, np.uint32)


@njit(cache=True, nogil=True)
def _area_downsample_acc(plane, out, offset, scale, row_step, acc_type):  # pragma: no cover
    """:func:`_area_downsample_int` with column sums of ``acc_type``."""
    h, w = plane.shape
    oh, ow = out.shape
    rowacc = np.empty(w, acc_type)  # made here: the compiler knows it aliases no input
    for i in range(oh):
        r0 = i * h // oh
        r1 = max((i + 1) * h // oh, r0 + 1)
        rows = (r1 - r0 + row_step - 1) // row_step
        rowacc[:] = 0
        for r in range(r0, r1, row_step):
            line = plane[r]
            for c in range(w):
                rowacc[c] += line[c]
        for j in range(ow):
            c0 = j * w // ow
            c1 = max((j + 1) * w // ow, c0 + 1)
            acc = 0
            for c in range(c0, c1):
                acc += rowacc[c]
            out[i, j] = (acc / (rows * (c1 - c0)) - offset) * scale


@njit(cache=True, nogil=True)
def _thumbnails_yuv(
    y, u, v, yo, ys, co, cs, luma_out, u_out, v_out, y_step, c_step
):  # pragma: no cover - compiled
    """The three thumbnails of one frame's integer Y, U, V planes in one call."""
    _area_downsample_int(y, luma_out, yo, ys, y_step)
    _area_downsample_int(u, u_out, co, cs, c_step)
    _area_downsample_int(v, v_out, co, cs, c_step)


@njit(cache=True, nogil=True)
def _popcount64(x):  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, nogil=True)
def _hamming(a, b):  # pragma: no cover - compiled
    return _popcount64(a ^ b)


@njit(cache=True, nogil=True)
def _chroma_apart(chroma, i, ref, r, limit):  # pragma: no cover - compiled
    """Whether frame ``i``'s chroma (uint8 x 1/255) is over ``limit`` (total variation)
    from ``ref[r]`` (float); a reference whose first bin is negative is unknown: never."""
    if ref[r, 0] < 0.0:
        return False
    acc = 0.0
    for b in range(chroma.shape[1]):
        acc += abs(chroma[i, b] / 255.0 - ref[r, b])
    return 0.5 * acc > limit


@njit(cache=True, nogil=True)
def _frames_chroma_apart(chroma, i, j, limit):  # pragma: no cover - compiled
    """Whether frames ``i`` and ``j``'s chroma (uint8 x 1/255) differ by over ``limit``."""
    acc = 0
    for b in range(chroma.shape[1]):
        acc += abs(np.int64(chroma[i, b]) - np.int64(chroma[j, b]))
    return 0.5 * acc / 255.0 > limit


@njit(cache=True, nogil=True)
def _state_views(
    labels,
    hashes,
    chroma,
    skip,
    state_hashes,
    state_chroma,
    radius,
    chroma_radius,
    max_views,
    out_state,
    out_frame,
    out_nearest,
):  # pragma: no cover - compiled
    """Greedy cover of each state's frames by views: hashes within ``radius`` bits and
    chroma within ``chroma_radius``.

    Frames are taken in order; a frame (not ``skip``) that is not within both limits of
    its state's hash and chroma, nor of any view its state has so far, becomes a view
    while the state has fewer than ``max_views``. Writes ``(state, frame)`` of each view
    in the order found and returns how many; ``out_nearest`` gets each state's first frame
    nearest its hash (-1 for a state with no frame or only ``skip`` frames).
    """
    n_states = state_hashes.shape[0]
    last = np.full(n_states, -1, np.int64)  # each state's newest view: a list through prev
    prev = np.empty(out_frame.shape[0], np.int64)
    count = np.zeros(n_states, np.int64)
    nearest = np.full(n_states, 65, np.int64)
    out_nearest[:] = -1
    m = 0
    for i in range(labels.shape[0]):
        s = labels[i]
        h = hashes[i]
        if skip[i]:
            continue
        d = _hamming(h, state_hashes[s])
        if d < nearest[s]:
            nearest[s] = d
            out_nearest[s] = i
        if count[s] >= max_views:
            continue
        if d <= radius and not _chroma_apart(chroma, i, state_chroma, s, chroma_radius):
            continue
        k = last[s]
        while k >= 0:
            f = out_frame[k]
            if _hamming(h, hashes[f]) <= radius and not _frames_chroma_apart(
                chroma, i, f, chroma_radius
            ):
                break
            k = prev[k]
        if k >= 0 or m == out_frame.shape[0]:
            continue
        out_state[m] = s
        out_frame[m] = i
        prev[m] = last[s]
        last[s] = m
        count[s] += 1
        m += 1
    return m


@njit(cache=True, nogil=True)
def _dhash(thumb):  # pragma: no cover - compiled
    """Difference hash: 8 rows x 9 columns of block means, bit = left < right."""
    cells = np.empty((8, 9), np.float32)
    _area_downsample(thumb, cells, 0.0, 1.0)
    h = np.uint64(0)
    bit = 0
    for i in range(8):
        for j in range(8):
            if cells[i, j] < cells[i, j + 1]:
                h |= np.uint64(1) << np.uint64(bit)
            bit += 1
    return h


@njit(cache=True, nogil=True)
def _phash(thumb, dct):  # pragma: no cover - compiled
    """DCT perceptual hash: bit = low-frequency coefficient above their median.

    As imagehash.phash: 32x32 block means, 2-D DCT-II, the top-left 8x8 coefficients
    (DC included), compared with their median.
    """
    n = dct.shape[0]
    small = np.empty((n, n), np.float32)
    _area_downsample(thumb, small, 0.0, 1.0)
    return _phash_of_means(small, dct)


@njit(cache=True, nogil=True)
def _phash_of_means(small, dct):  # pragma: no cover - compiled
    """:func:`_phash` from the 32x32 block means themselves (a batch has them already)."""
    n = dct.shape[0]
    low = _PHASH_LOW
    # Only the first `low` rows of D are needed: C = D[:low] @ X @ D[:low].T
    tmp = np.zeros((low, n), np.float64)
    for k in range(low):
        for i in range(n):
            dk = dct[k, i]
            for j in range(n):
                tmp[k, j] += dk * small[i, j]
    coef = np.zeros(low * low, np.float64)
    for k in range(low):
        for m in range(low):
            acc = 0.0
            for j in range(n):
                acc += tmp[k, j] * dct[m, j]
            coef[k * low + m] = acc
    med = np.median(coef)
    h = np.uint64(0)
    for b in range(low * low):
        if coef[b] > med + _PHASH_EPS:  # rounding noise around the median is no signal
            h |= np.uint64(1) << np.uint64(b)
    return h


@njit(cache=True, nogil=True)
def _color_histogram(y, u, v, out):  # pragma: no cover - compiled
    """Joint Y x U x V histogram of equally sized thumbnails, normalised to sum 1.

    ``y`` in [0, 1], ``u`` and ``v`` in [-0.5, 0.5]; values outside are clamped.
    """
    out[:] = 0.0
    h, w = y.shape
    for i in range(h):
        for j in range(w):
            by = int(y[i, j] * Y_BINS)
            bu = int((u[i, j] + 0.5) * C_BINS)
            bv = int((v[i, j] + 0.5) * C_BINS)
            by = min(max(by, 0), Y_BINS - 1)
            bu = min(max(bu, 0), C_BINS - 1)
            bv = min(max(bv, 0), C_BINS - 1)
            out[(by * C_BINS + bu) * C_BINS + bv] += 1.0
    total = h * w
    for k in range(out.shape[0]):
        out[k] /= total


@njit(cache=True, nogil=True)
def _hist_distance(a, b):  # pragma: no cover - compiled
    """Total-variation distance, half the L1 norm of the difference: in [0, 1]."""
    acc = 0.0
    for k in range(a.shape[0]):
        acc += abs(a[k] - b[k])
    return 0.5 * acc


@njit(cache=True, nogil=True)
def _sharpness(thumb):  # pragma: no cover - compiled
    """Variance of the 4-neighbour Laplacian over the interior of the thumbnail."""
    h, w = thumb.shape
    n = 0
    s = 0.0
    s2 = 0.0
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            lap = (
                thumb[i - 1, j]
                + thumb[i + 1, j]
                + thumb[i, j - 1]
                + thumb[i, j + 1]
                - 4.0 * thumb[i, j]
            )
            s += lap
            s2 += lap * lap
            n += 1
    if n == 0:
        return 0.0
    mean = s / n
    return max(s2 / n - mean * mean, 0.0)


def _gauss_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(math.ceil(3 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (x / sigma) ** 2)
    return (k / k.sum()).astype(np.float32)


# Band-pass for view matching: fine enough to place a view, coarse enough that a sub-pixel
# move of aliased fine texture (crop rows, treetops) does not decorrelate it.
_DOG32 = (_gauss_kernel(0.7), _gauss_kernel(2.0))
_DOG16 = (_gauss_kernel(0.5), _gauss_kernel(1.0))


@njit(cache=True, nogil=True)
def _blur(img, kern, tmp, out):  # pragma: no cover - compiled
    """Separable blur with clamped edges: rows into ``tmp``, then columns into ``out``.

    Each tap is added to a whole row at once, in float32 and with the edges padded
    beforehand, so the inner loops have no clamping and vectorise.
    """
    h, w = img.shape
    r = kern.shape[0] // 2
    row = np.empty(w + 2 * r, np.float32)
    acc = np.empty(w, np.float32)
    for i in range(h):
        for j in range(r):
            row[j] = img[i, 0]
            row[w + r + j] = img[i, w - 1]
        for j in range(w):
            row[j + r] = img[i, j]
        acc[:] = 0.0
        for k in range(2 * r + 1):
            c = kern[k]
            for j in range(w):
                acc[j] += c * row[j + k]
        for j in range(w):
            tmp[i, j] = acc[j]
    for i in range(h):
        acc[:] = 0.0
        for k in range(-r, r + 1):
            rr = min(max(i + k, 0), h - 1)
            c = kern[k + r]
            for j in range(w):
                acc[j] += c * tmp[rr, j]
        for j in range(w):
            out[i, j] = acc[j]


@njit(cache=True, nogil=True)
def _detail(img, fine, coarse, out):  # pragma: no cover - compiled
    """Difference of Gaussians: ``blur(img, fine) - blur(img, coarse)``."""
    tmp = np.empty_like(img)
    b2 = np.empty_like(img)
    _blur(img, fine, tmp, out)
    _blur(img, coarse, tmp, b2)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            out[i, j] -= b2[i, j]


@njit(cache=True, nogil=True)
def _ncc_at(a, b, dy, dx, blocks, drop):  # pragma: no cover - compiled
    """Robust normalised cross-correlation of ``a`` and ``b`` shifted by (dy, dx).

    ``b[i, j]`` is compared with ``a[i + dy, j + dx]`` over their overlap, cut into
    ``blocks x blocks`` tiles; the result is the mean NCC of all tiles but the ``drop``
    worst, so an object crossing part of the view (or traffic below a hover) does not
    hide that the rest of the view matches. A flat tile scores -1. ``blocks=1, drop=0``
    is the plain NCC of the overlap.
    """
    h, w = a.shape
    r0, r1 = max(0, -dy), min(h, h - dy)
    c0, c1 = max(0, -dx), min(w, w - dx)
    if r1 - r0 < 2 * blocks or c1 - c0 < 2 * blocks:
        return -1.0
    vals = np.empty(blocks * blocks, np.float64)
    k = 0
    for bi in range(blocks):
        t0 = r0 + (r1 - r0) * bi // blocks
        t1 = r0 + (r1 - r0) * (bi + 1) // blocks
        for bj in range(blocks):
            u0 = c0 + (c1 - c0) * bj // blocks
            u1 = c0 + (c1 - c0) * (bj + 1) // blocks
            n = (t1 - t0) * (u1 - u0)
            sa = 0.0
            sb = 0.0
            saa = 0.0
            sbb = 0.0
            sab = 0.0
            for i in range(t0, t1):
                for j in range(u0, u1):
                    # float64 before the products: float32 squares lose the variance
                    x = np.float64(a[i + dy, j + dx])
                    y = np.float64(b[i, j])
                    sa += x
                    sb += y
                    saa += x * x
                    sbb += y * y
                    sab += x * y
            va = saa - sa * sa / n
            vb = sbb - sb * sb / n
            if va <= _FLAT_VAR * n or vb <= _FLAT_VAR * n:
                vals[k] = -1.0
            else:
                vals[k] = (sab - sa * sb / n) / np.sqrt(va * vb)
            k += 1
    vals.sort()
    return vals[drop:].mean()


@njit(cache=True, nogil=True)
def _aligned_ncc(a16, b16, a32, b32, max_shift16):  # pragma: no cover - compiled
    """Best robust detail correlation of two views over shifts, coarse then fine.

    Every shift of the 16x16 details within ``max_shift16`` is scored (2x2 tiles, the
    worst dropped), then the 3x3 shifts of the 32x32 details around the best one
    (3x3 tiles, the 3 worst dropped). Returns ``(ncc, dy, dx)`` with the shift in 32x32
    pixels: ``b`` shows what ``a`` shows at ``(i + dy, j + dx)``.
    """
    best = -2.0
    by = 0
    bx = 0
    for dy in range(-max_shift16, max_shift16 + 1):
        for dx in range(-max_shift16, max_shift16 + 1):
            v = _ncc_at(a16, b16, dy, dx, 2, 1)
            if v > best:
                best = v
                by = dy
                bx = dx
    best = -2.0
    cy = 2 * by
    cx = 2 * bx
    fy = cy
    fx = cx
    for dy in range(cy - 1, cy + 2):
        for dx in range(cx - 1, cx + 2):
            v = _ncc_at(a32, b32, dy, dx, 3, 3)
            if v > best:
                best = v
                fy = dy
                fx = dx
    return best, fy, fx


@njit(cache=True, parallel=True)
def _frame_features(
    luma,
    cu,
    cv,
    dct,
    dog32a,
    dog32b,
    dog16a,
    dog16b,
    phashes,
    dhashes,
    hists,
    sharp,
    mean_luma,
    texture,
    detail32,
    detail16,
):
    """Features of a batch of thumbnails; each frame writes only its own rows."""  # noqa: D401
    n = luma.shape[0]
    for f in prange(n):
        # Per-iteration buffer: the chroma-sized luma the histogram pairs with U and V,
        # which is also the pHash's 32x32 block means.
        ysmall = np.empty(cu.shape[1:], np.float32)
        _area_downsample(luma[f], ysmall, 0.0, 1.0)
        if ysmall.shape[0] == dct.shape[0] and ysmall.shape[1] == dct.shape[0]:
            phashes[f] = _phash_of_means(ysmall, dct)
        else:
            phashes[f] = _phash(luma[f], dct)
        dhashes[f] = _dhash(luma[f])
        _color_histogram(ysmall, cu[f], cv[f], hists[f])
        sharp[f] = _sharpness(luma[f])
        mean_luma[f] = luma[f].mean()
        texture[f] = ysmall.std()
        _detail(ysmall, dog32a, dog32b, detail32[f])
        y16 = np.empty(detail16.shape[1:], np.float32)
        _area_downsample(ysmall, y16, 0.0, 1.0)
        _detail(y16, dog16a, dog16b, detail16[f])


# ---------------------------------------------------------------------- public API


def area_downsample(
    plane: np.ndarray,
    out_h: int,
    out_w: int,
    *,
    offset: float = 0.0,
    scale: float = 1.0,
    row_step: int = 1,
) -> np.ndarray:
    """Block-mean downsample of a 2-D plane to ``(out_h, out_w)`` float32.

    Parameters
    ----------
    plane : numpy.ndarray
        2-D array of uint8, uint16 or float32 (strided views are fine).
    out_h, out_w : int
        Output size; each at most the input size.
    offset, scale : float
        The result is ``(block_mean - offset) * scale``.
    row_step : int
        Average every ``row_step``-th row of each block, from its first (see
        :func:`thumb_row_step`).

    Examples
    --------
    >>> import numpy as np
    >>> area_downsample(np.arange(16, dtype=np.uint8).reshape(4, 4), 2, 2)
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    arr = np.asarray(plane)
    if arr.ndim != 2:
        raise ValueError(f"plane must be 2-D, got shape {arr.shape}")
    if arr.dtype not in (np.uint8, np.uint16, np.float32):
        arr = arr.astype(np.float32)
    if not (0 < out_h <= arr.shape[0] and 0 < out_w <= arr.shape[1]):
        raise ValueError(f"output {out_h}x{out_w} must be within the input {arr.shape}")
    if row_step < 1:
        raise ValueError(f"row_step must be >= 1, got {row_step}")
    out = np.empty((out_h, out_w), np.float32)
    _area_downsample_rows(arr, out, float(offset), float(scale), int(row_step))
    return out


def warm() -> None:
    """Load numba's compiled code now, on the caller's thread.

    The first call of any kernel in a process loads numba's machinery (0.1-0.2 s, many
    imports); a pipeline that then calls kernels on a helper thread warms them first, so
    that an interrupt during that load lands on the caller's thread.
    """
    _area_downsample_int(np.zeros((2, 2), np.uint8), np.empty((1, 1), np.float32), 0.0, 1.0, 1)


def thumb_row_step(height: int, out_height: int) -> int:
    """The row step of a thumbnail: every k-th row, at least ``ROWS_PER_BLOCK`` a block.

    Examples
    --------
    >>> thumb_row_step(1080, 64), thumb_row_step(720, 64), thumb_row_step(480, 64)
    (4, 2, 1)
    """
    return max(1, height // (out_height * ROWS_PER_BLOCK))


def _as_thumb(thumb: np.ndarray) -> np.ndarray:
    arr = np.ascontiguousarray(thumb, dtype=np.float32)
    if arr.ndim != 2 or min(arr.shape) < _PHASH_SIDE:
        raise ValueError(f"thumbnail must be 2-D and at least 32x32, got {arr.shape}")
    return arr


def dhash(thumb: np.ndarray) -> int:
    """64-bit difference hash of a luma thumbnail (see :func:`_dhash`).

    Examples
    --------
    >>> import numpy as np
    >>> ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (64, 1))
    >>> hex(dhash(ramp))
    '0xffffffffffffffff'
    """
    return int(_dhash(_as_thumb(thumb)))


def phash(thumb: np.ndarray) -> int:
    """64-bit DCT perceptual hash of a luma thumbnail (see :func:`_phash`)."""
    return int(_phash(_as_thumb(thumb), _DCT32))


def color_histogram(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Joint colour histogram (``HIST_BINS`` bins, sum 1) of same-sized thumbnails."""
    ys, us, vs = (np.ascontiguousarray(a, dtype=np.float32) for a in (y, u, v))
    if not (ys.shape == us.shape == vs.shape and ys.ndim == 2 and ys.size > 0):
        raise ValueError(f"y, u, v must be equal 2-D shapes, got {ys.shape} {us.shape} {vs.shape}")
    out = np.empty(HIST_BINS, np.float32)
    _color_histogram(ys, us, vs, out)
    return out


def hamming(a: int, b: int) -> int:
    """Number of differing bits between two 64-bit hashes."""
    return int(_hamming(np.uint64(a), np.uint64(b)))


def hist_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total-variation distance between two histograms of equal length, in [0, 1]."""
    x = np.ascontiguousarray(a, dtype=np.float32)
    y = np.ascontiguousarray(b, dtype=np.float32)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"histograms must be 1-D of equal length, got {x.shape} {y.shape}")
    return float(_hist_distance(x, y))


def sharpness(thumb: np.ndarray) -> float:
    """Variance of the Laplacian of a thumbnail (higher is sharper)."""
    arr = np.ascontiguousarray(thumb, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"thumbnail must be 2-D, got {arr.shape}")
    return float(_sharpness(arr))


def view_details(thumb32: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 32x32 and 16x16 detail (band-passed) thumbnails of a 32x32 luma thumbnail."""
    small = np.ascontiguousarray(thumb32, dtype=np.float32)
    if small.shape != (CHROMA, CHROMA):
        raise ValueError(f"a view thumbnail is {CHROMA}x{CHROMA}, got {small.shape}")
    d32 = np.empty_like(small)
    _detail(small, *_DOG32, d32)
    y16 = np.empty((CHROMA // 2, CHROMA // 2), np.float32)
    _area_downsample(small, y16, 0.0, 1.0)
    d16 = np.empty_like(y16)
    _detail(y16, *_DOG16, d16)
    return d32, d16


def aligned_ncc(
    a: np.ndarray, b: np.ndarray, a16: np.ndarray, b16: np.ndarray, max_shift: int = 10
) -> tuple[float, int, int]:
    """How well view ``b`` matches view ``a`` after the best shift: ``(ncc, dy, dx)``.

    ``a``, ``b`` are 32x32 detail thumbnails and ``a16``, ``b16`` their 16x16 versions (from
    :func:`frame_features`); shifts up to ``max_shift`` pixels of the 32x32 grid are tried,
    coarse to fine. ``ncc`` is -1 when a view has no detail.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.random.default_rng(0).random((40, 40)).astype(np.float32)
    >>> a, b = view_details(img[:32, :32]), view_details(img[4:36, 2:34])  # b: 4 down, 2 right
    >>> ncc, dy, dx = aligned_ncc(a[0], b[0], a[1], b[1])
    >>> (dy, dx), ncc > 0.9
    ((4, 2), True)
    """
    arrs = [np.ascontiguousarray(x, dtype=np.float32) for x in (a, b, a16, b16)]
    if arrs[0].shape != arrs[1].shape or arrs[2].shape != arrs[3].shape:
        raise ValueError("views must have equal shapes")
    ncc, dy, dx = _aligned_ncc(arrs[2], arrs[3], arrs[0], arrs[1], max(1, int(max_shift) // 2))
    return float(ncc), int(dy), int(dx)


def frame_features(
    luma: np.ndarray, chroma_u: np.ndarray, chroma_v: np.ndarray
) -> dict[str, np.ndarray]:
    """All per-frame features of a batch of thumbnails, in parallel over frames.

    Parameters
    ----------
    luma : numpy.ndarray
        ``float32[n, THUMB, THUMB]`` luma thumbnails in [0, 1].
    chroma_u, chroma_v : numpy.ndarray
        ``float32[n, CHROMA, CHROMA]`` chroma thumbnails in [-0.5, 0.5].

    Returns
    -------
    dict
        ``phash``, ``dhash`` (uint64[n]), ``hist`` (float32[n, HIST_BINS]),
        ``sharpness``, ``mean_luma`` and ``texture`` (float32[n]); ``texture`` is the
        standard deviation of the chroma-sized luma thumbnail, low for flat frames whose
        hash is noise; ``detail`` (float32[n, CHROMA, CHROMA]) and ``detail16`` (half that
        side) are high-passed luma thumbnails for :func:`aligned_ncc`.
    """
    luma = np.ascontiguousarray(luma, dtype=np.float32)
    cu = np.ascontiguousarray(chroma_u, dtype=np.float32)
    cv = np.ascontiguousarray(chroma_v, dtype=np.float32)
    if luma.ndim != 3 or cu.shape != cv.shape or cu.ndim != 3 or cu.shape[0] != luma.shape[0]:
        raise ValueError(f"bad batch shapes {luma.shape} {cu.shape} {cv.shape}")
    n = luma.shape[0]
    out: dict[str, np.ndarray] = {
        "phash": np.empty(n, np.uint64),
        "dhash": np.empty(n, np.uint64),
        "hist": np.empty((n, HIST_BINS), np.float32),
        "sharpness": np.empty(n, np.float32),
        "mean_luma": np.empty(n, np.float32),
        "texture": np.empty(n, np.float32),
        "detail": np.empty((n, CHROMA, CHROMA), np.float32),
        "detail16": np.empty((n, CHROMA // 2, CHROMA // 2), np.float32),
    }
    if n:
        _frame_features(
            luma,
            cu,
            cv,
            _DCT32,
            *_DOG32,
            *_DOG16,
            out["phash"],
            out["dhash"],
            out["hist"],
            out["sharpness"],
            out["mean_luma"],
            out["texture"],
            out["detail"],
            out["detail16"],
        )
    return out


def plane_levels(bit_depth: int, full_range: bool) -> tuple[float, float, float, float]:
    """``(y_offset, y_scale, c_offset, c_scale)`` mapping samples to [0, 1] and [-0.5, 0.5].

    Limited (TV) range puts black at 16 and white at 235 (8-bit), chroma 16..240; full
    range uses every code. Higher bit depths scale by ``2 ** (bits - 8)``.

    Examples
    --------
    >>> plane_levels(8, True)
    (0.0, 0.00392156862745098, 128.0, 0.00392156862745098)
    """
    k = float(2 ** (bit_depth - 8))
    if full_range:
        top = float(2**bit_depth - 1)
        return 0.0, 1.0 / top, 128.0 * k, 1.0 / top
    return 16.0 * k, 1.0 / (219.0 * k), 128.0 * k, 1.0 / (224.0 * k)


_INT_PLANES = (np.dtype(np.uint8), np.dtype(np.uint16))


def thumbnails_into(
    y: np.ndarray,
    u: np.ndarray | None,
    v: np.ndarray | None,
    levels: tuple[float, float, float, float],
    rotation: int,
    luma_out: np.ndarray,
    u_out: np.ndarray,
    v_out: np.ndarray,
) -> None:
    """Write the analysis thumbnails of one frame's planes into preallocated rows.

    The block means are taken on the stored planes, over every
    :func:`thumb_row_step`-th row of each block, then turned by ``rotation`` degrees
    counter-clockwise (block means commute with quarter turns, so this equals
    thumbnailing the rotated frame). Grey input gets neutral chroma.
    """
    yo, ys, co, cs = levels
    y_step = thumb_row_step(y.shape[0], luma_out.shape[0])
    if u is None or v is None:
        _area_downsample_rows(y, luma_out, yo, ys, y_step)
        u_out[:] = 0.0
        v_out[:] = 0.0
    else:
        c_step = thumb_row_step(u.shape[0], u_out.shape[0])
        if (
            y.dtype in _INT_PLANES
            and y.dtype == u.dtype == v.dtype
            and max(y.shape[0], u.shape[0]) < 65536  # integer row sums cannot overflow
        ):
            _thumbnails_yuv(y, u, v, yo, ys, co, cs, luma_out, u_out, v_out, y_step, c_step)
        else:
            _area_downsample_rows(y, luma_out, yo, ys, y_step)
            _area_downsample_rows(u, u_out, co, cs, c_step)
            _area_downsample_rows(v, v_out, co, cs, c_step)
    k = (rotation // 90) % 4
    if k:
        luma_out[:] = np.rot90(luma_out, k).copy()
        u_out[:] = np.rot90(u_out, k).copy()
        v_out[:] = np.rot90(v_out, k).copy()
