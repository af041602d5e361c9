"""Slow, obviously correct references for the numba kernels (plain numpy and Python)."""

from __future__ import annotations

import math

import numpy as np


def area_downsample(
    plane: np.ndarray, oh: int, ow: int, offset=0.0, scale=1.0, row_step=1
) -> np.ndarray:
    h, w = plane.shape
    out = np.empty((oh, ow), np.float64)
    for i in range(oh):
        r0, r1 = i * h // oh, max((i + 1) * h // oh, i * h // oh + 1)
        for j in range(ow):
            c0, c1 = j * w // ow, max((j + 1) * w // ow, j * w // ow + 1)
            out[i, j] = plane[r0:r1:row_step, c0:c1].astype(np.float64).mean()
    return ((out - offset) * scale).astype(np.float32)


def dct_matrix(n: int) -> np.ndarray:
    d = np.empty((n, n))
    for k in range(n):
        for i in range(n):
            c = math.sqrt(1 / n) if k == 0 else math.sqrt(2 / n)
            d[k, i] = c * math.cos(math.pi * (2 * i + 1) * k / (2 * n))
    return d


def phash(thumb: np.ndarray) -> int:
    small = area_downsample(thumb, 32, 32).astype(np.float64)
    d = dct_matrix(32)
    coef = (d @ small @ d.T)[:8, :8].ravel()
    med = np.median(coef)
    return sum(1 << b for b in range(64) if coef[b] > med + 1e-4)


def dhash(thumb: np.ndarray) -> int:
    cells = area_downsample(thumb, 8, 9)
    bits = [cells[i, j] < cells[i, j + 1] for i in range(8) for j in range(8)]
    return sum(1 << b for b, on in enumerate(bits) if on)


def color_histogram(y, u, v, ybins=8, cbins=4) -> np.ndarray:
    y, u, v = (np.asarray(a, np.float64) for a in (y, u, v))  # the kernel computes in float64
    by = np.clip((y * ybins).astype(np.int64), 0, ybins - 1)
    bu = np.clip(((u + 0.5) * cbins).astype(np.int64), 0, cbins - 1)
    bv = np.clip(((v + 0.5) * cbins).astype(np.int64), 0, cbins - 1)
    idx = (by * cbins + bu) * cbins + bv
    return (np.bincount(idx.ravel(), minlength=ybins * cbins * cbins) / y.size).astype(np.float32)


def hamming(a: int, b: int) -> int:
    return bin(a ^ b).count("1")


def hist_distance(a, b) -> float:
    return 0.5 * float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).sum())


def sharpness(t: np.ndarray) -> float:
    t = t.astype(np.float64)
    lap = t[:-2, 1:-1] + t[2:, 1:-1] + t[1:-1, :-2] + t[1:-1, 2:] - 4 * t[1:-1, 1:-1]
    return float(lap.var()) if lap.size else 0.0


def failure_function(s) -> list[int]:
    out = []
    for i in range(len(s)):
        prefix = s[: i + 1]
        best = 0
        for k in range(1, i + 1):
            if prefix[:k] == prefix[-k:]:
                best = k
        out.append(best)
    return out


def find(text, pattern) -> list[int]:
    m = len(pattern)
    if m == 0:
        return []
    return [i for i in range(len(text) - m + 1) if list(text[i : i + m]) == list(pattern)]


def gauss_kernel(sigma: float) -> np.ndarray:
    radius = max(1, int(math.ceil(3 * sigma)))
    k = np.array([math.exp(-0.5 * (x / sigma) ** 2) for x in range(-radius, radius + 1)])
    return k / k.sum()


def blur(img: np.ndarray, kern: np.ndarray) -> np.ndarray:
    r = len(kern) // 2
    p = np.pad(img.astype(np.float64), r, mode="edge")
    rows = sum(kern[k] * p[:, k : k + img.shape[1]] for k in range(len(kern)))[r:-r, :]
    p2 = np.pad(rows, ((r, r), (0, 0)), mode="edge")
    return sum(kern[k] * p2[k : k + img.shape[0], :] for k in range(len(kern)))


def dog(img: np.ndarray, s1: float, s2: float) -> np.ndarray:
    return blur(img, gauss_kernel(s1)) - blur(img, gauss_kernel(s2))


def ncc_at(a: np.ndarray, b: np.ndarray, dy: int, dx: int) -> float:
    h, w = a.shape
    r0, r1, c0, c1 = max(0, -dy), min(h, h - dy), max(0, -dx), min(w, w - dx)
    if r1 <= r0 or c1 <= c0:
        return -1.0
    x = a[r0 + dy : r1 + dy, c0 + dx : c1 + dx].astype(np.float64).ravel()
    y = b[r0:r1, c0:c1].astype(np.float64).ravel()
    x, y = x - x.mean(), y - y.mean()
    va, vb = (x * x).sum(), (y * y).sum()
    flat = 1e-8 * x.size  # as the kernel: a tile with no detail scores -1
    return -1.0 if min(va, vb) <= flat else float((x * y).sum() / math.sqrt(va * vb))


def robust_ncc_at(a, b, dy, dx, blocks, drop) -> float:
    h, w = a.shape
    r0, r1, c0, c1 = max(0, -dy), min(h, h - dy), max(0, -dx), min(w, w - dx)
    if r1 - r0 < 2 * blocks or c1 - c0 < 2 * blocks:
        return -1.0
    vals = []
    for bi in range(blocks):
        t0, t1 = r0 + (r1 - r0) * bi // blocks, r0 + (r1 - r0) * (bi + 1) // blocks
        for bj in range(blocks):
            u0, u1 = c0 + (c1 - c0) * bj // blocks, c0 + (c1 - c0) * (bj + 1) // blocks
            # the tile of b at rows t0:t1, cols u0:u1 against a moved by (dy, dx)
            sub_a = a[t0 + dy : t1 + dy, u0 + dx : u1 + dx]
            sub_b = b[t0:t1, u0:u1]
            vals.append(ncc_at(sub_a, sub_b, 0, 0))
    return float(np.mean(sorted(vals)[drop:]))


def state_views(
    labels, hashes, chroma, skip, state_hashes, state_chroma, radius, chroma_radius, max_views
):
    """Each frame in order becomes a view of its state unless some key of the state (its
    hash and chroma, or a view's) is within ``radius`` bits and ``chroma_radius`` (total
    variation; an unknown state chroma, first bin < 0, never too far), up to ``max_views``.
    Returns the views as ``(state, frame)`` and each state's first frame nearest its hash."""
    views: dict[int, list[int]] = {}
    nearest: dict[int, tuple[int, int]] = {}
    out = []

    def close(i, h, c):
        apart = c[0] >= 0 and hist_distance(chroma[i] / 255.0, c) > chroma_radius + 1e-9
        return hamming(int(hashes[i]), int(h)) <= radius and not apart

    for i, s in enumerate(labels):
        s = int(s)
        if skip[i]:
            continue
        d = hamming(int(hashes[i]), int(state_hashes[s]))
        if d < nearest.get(s, (65, -1))[0]:
            nearest[s] = (d, i)
        mine = views.setdefault(s, [])
        if len(mine) >= max_views:
            continue
        keys = [(state_hashes[s], state_chroma[s])]
        keys += [(hashes[f], chroma[f] / 255.0) for f in mine]
        if not any(close(i, h, c) for h, c in keys):
            mine.append(i)
            out.append((s, i))
    return out, [nearest.get(s, (65, -1))[1] for s in range(len(state_hashes))]


def most_covered(poses, aspect: float, iou: float) -> list[int]:
    """The most frames r runs cover, r = 1..n, by trying every split into runs and, for
    each run, every frame of the flight as its keyframe."""
    from framesig.evaluate import footprint_iou

    n = len(poses)
    ok = [[footprint_iou(poses[f], poses[k], aspect) >= iou for k in range(n)] for f in range(n)]
    best = [0] * n
    for mask in range(2 ** (n - 1)):
        bounds = [0, *[i + 1 for i in range(n - 1) if mask >> i & 1], n]
        got = sum(
            max(sum(ok[f][k] for f in range(a, b)) for k in range(n))
            for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        )
        best[len(bounds) - 2] = max(best[len(bounds) - 2], got)
    return best
