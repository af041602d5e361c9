"""Kernel-only throughput per core: frames/s of the batch kernels at analysis size.

    NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/kernels_bench.py

Times :func:`framesig.kernels.frame_features` on batches of 64 analysis thumbnails (64x64
luma, 32x32 chroma), the thumbnail kernel on 1080p and 4K planes, and the quantizer's push.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from framesig import kernels  # noqa: E402
from framesig.quantize import Quantizer  # noqa: E402


def rate(fn, frames: int, seconds: float = 2.0) -> float:
    fn()  # compile / load from cache
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += frames
    return n / (time.perf_counter() - t0)


def main() -> None:
    import numba

    rng = np.random.default_rng(0)
    bs = 64
    luma = rng.random((bs, kernels.THUMB, kernels.THUMB), dtype=np.float32)
    cu = rng.random((bs, kernels.CHROMA, kernels.CHROMA), dtype=np.float32) - 0.5
    cv = rng.random((bs, kernels.CHROMA, kernels.CHROMA), dtype=np.float32) - 0.5
    threads = numba.get_num_threads()
    feats = rate(lambda: kernels.frame_features(luma, cu, cv), bs)
    print(f"numba threads {threads} (cores {os.cpu_count()})")
    print(f"frame_features: {feats:,.0f} frames/s ({feats / threads:,.0f} per thread)")
    f = kernels.frame_features(luma, cu, cv)

    def push() -> None:
        q = Quantizer()
        q.push(f["phash"], f["hist"], f["texture"], f["detail"], f["detail16"])

    print(f"quantizer push: {rate(push, bs):,.0f} frames/s")
    for name, (w, h) in (("1080p", (1920, 1080)), ("4K", (3840, 2160))):
        y = rng.integers(0, 256, (h, w), dtype=np.uint8)
        u = rng.integers(0, 256, (h // 2, w // 2), dtype=np.uint8)
        v = rng.integers(0, 256, (h // 2, w // 2), dtype=np.uint8)
        args = (y, u, v, kernels.plane_levels(8, False), 0, luma[0], cu[0], cv[0])
        r = rate(lambda args=args: kernels.thumbnails_into(*args), 1)
        print(f"thumbnails_into {name} yuv420p: {r:,.0f} frames/s")


if __name__ == "__main__":
    main()
