"""Synthetic drone flights with exact ground truth: the project's own demo and test data.

A terrain is drawn (fields, roads, buildings, trees, water over fractal ground) and a
virtual nadir camera flies a plan over it: hovers with jitter and sensor noise, transits
with yaw and altitude change, a return to an earlier place with a slightly different pose
and brightness, and perturbations that must not change the state (a one-frame flash).
Frames are rendered with OpenCV and encoded as real H.264 with PyAV.

Examples
--------
>>> plan = sample_plan()
>>> [seg.kind for seg in plan.segments][:3]
['hover', 'transit', 'hover']
>>> frames, truth = render(plan, size=(160, 90), seed=1)
>>> len(frames) == truth.frames
True
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Pose",
    "Segment",
    "Perturbation",
    "FlightPlan",
    "GroundTruth",
    "make_terrain",
    "sample_plan",
    "render",
    "write_flight",
    "SAMPLE_NAME",
]

SAMPLE_NAME = "sample_flight"


@dataclass(frozen=True)
class Pose:
    """Camera centre on the terrain (px), yaw (degrees) and altitude (terrain px per frame px)."""

    x: float
    y: float
    yaw: float = 0.0
    scale: float = 1.0


@dataclass(frozen=True)
class Segment:
    """One leg of the plan: a hover at ``place`` or a transit to the next hover."""

    kind: str  # "hover" or "transit"
    frames: int
    start: Pose
    end: Pose
    place: int = -1  # hover place id; the same id means the same place
    gain: float = 1.0  # brightness (an exposure difference on a return)


@dataclass(frozen=True)
class Perturbation:
    """Frames that must not change the state: ``kind`` is ``flash`` (more may follow)."""

    kind: str
    frame: int
    length: int = 1


@dataclass(frozen=True)
class FlightPlan:
    segments: tuple[Segment, ...]
    perturbations: tuple[Perturbation, ...] = ()
    fps: float = 30.0
    terrain_seed: int = 7

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.segments)


@dataclass
class GroundTruth:
    """Per-frame truth of a rendered flight (lists, so it writes as JSON directly)."""

    fps: float
    frames: int
    size: tuple[int, int]
    segments: list[dict[str, object]] = field(default_factory=list)
    perturbations: list[dict[str, object]] = field(default_factory=list)
    segment: list[int] = field(default_factory=list)
    place: list[int] = field(default_factory=list)
    pose: list[tuple[float, float, float, float]] = field(default_factory=list)

    def hovers(self) -> list[dict[str, object]]:
        return [s for s in self.segments if s["kind"] == "hover"]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> GroundTruth:
        data = json.loads(text)
        data["size"] = tuple(data["size"])
        data["pose"] = [tuple(p) for p in data["pose"]]
        return cls(**data)


def _fractal(rng: np.random.Generator, h: int, w: int, octaves: int = 5) -> np.ndarray:
    import cv2

    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 4 * 2**o
        grid = rng.random((cells, max(2, cells * w // h))).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
    return out / total


def make_terrain(seed: int = 7, size: tuple[int, int] = (2400, 1600)) -> np.ndarray:
    """Draw a terrain as an RGB uint8 image of ``size`` (width, height).

    Examples
    --------
    >>> make_terrain(1, (200, 100)).shape
    (100, 200, 3)
    """
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    ground = _fractal(rng, h, w)
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 70 + 80 * ground  # R
    img[..., 1] = 95 + 90 * ground  # G
    img[..., 2] = 45 + 40 * ground  # B
    scale = max(w, h) / 2400
    # fields: rotated rectangles with stripe textures in crop colours
    for _ in range(int(40 * scale * scale) + 4):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        fw, fh = rng.uniform(80, 260) * scale, rng.uniform(60, 200) * scale
        angle = rng.uniform(0, 180)
        colour = rng.choice(
            [
                [200, 180, 90],
                [120, 160, 60],
                [160, 110, 70],
                [210, 200, 140],
                [90, 130, 50],
                [180, 140, 60],
            ]
        )
        box = cv2.boxPoints(((cx, cy), (fw, fh), angle)).astype(np.int32)
        x0, y0 = max(int(box[:, 0].min()), 0), max(int(box[:, 1].min()), 0)
        x1, y1 = min(int(box[:, 0].max()) + 1, w), min(int(box[:, 1].max()) + 1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        roi = img[y0:y1, x0:x1]
        mask = np.zeros(roi.shape[:2], np.uint8)
        cv2.fillPoly(mask, [box - [x0, y0]], 255)
        stripes = np.empty_like(roi)
        stripes[:] = [float(c) for c in colour]
        step = max(3, int(9 * scale))
        dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        span = int(max(fw, fh)) + 2
        for k in range(-span, span, step):  # crop rows across the field's long side
            px, py = cx - x0 + k * dx, cy - y0 + k * dy
            p0 = (int(px - span * dy), int(py + span * dx))
            p1 = (int(px + span * dy), int(py - span * dx))
            cv2.line(stripes, p0, p1, [float(c) * 0.82 for c in colour], max(1, int(2 * scale)))
        roi[mask > 0] = stripes[mask > 0]
    # water
    for _ in range(2):
        centre = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        axes = (int(rng.uniform(80, 220) * scale), int(rng.uniform(50, 150) * scale))
        cv2.ellipse(img, centre, axes, rng.uniform(0, 180), 0, 360, (40, 80, 150), -1)
    # roads
    for _ in range(int(7 * scale) + 2):
        pts = np.cumsum(rng.normal(0, 300 * scale, (5, 2)), axis=0) + [
            rng.uniform(0, w),
            rng.uniform(0, h),
        ]
        cv2.polylines(img, [pts.astype(np.int32)], False, (110, 110, 105), max(2, int(14 * scale)))
        cv2.polylines(img, [pts.astype(np.int32)], False, (230, 230, 220), max(1, int(scale)))
    # buildings with shadows
    for _ in range(int(140 * scale * scale) + 6):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        bw, bh = int(rng.uniform(12, 60) * scale) + 2, int(rng.uniform(12, 60) * scale) + 2
        roof = rng.choice(
            [[170, 60, 50], [200, 200, 200], [90, 90, 100], [150, 120, 90], [60, 90, 140]]
        )
        cv2.rectangle(img, (x + 4, y + 4), (x + bw + 4, y + bh + 4), (40, 45, 35), -1)
        cv2.rectangle(img, (x, y), (x + bw, y + bh), [float(c) for c in roof], -1)
    # trees
    for _ in range(int(400 * scale * scale) + 10):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        r = int(rng.uniform(4, 12) * scale) + 1
        cv2.circle(img, (x, y), r, (30, 70 + rng.uniform(0, 30), 30), -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def sample_plan(fps: float = 30.0) -> FlightPlan:
    """The demo flight: three places, a flash at B, and a return to A.

    Hover A, transit to B, hover B (a one-frame flash in the middle), transit to C with a
    yaw and altitude change, hover C, transit back to A, hover A again with a slightly
    different pose and brightness.
    """
    a, b, c = Pose(600, 500), Pose(1450, 650, 20, 1.0), Pose(1500, 1200, 60, 1.3)
    a2 = Pose(606, 497, 3, 1.02)
    f = int(round(3 * fps))
    segs = (
        Segment("hover", f, a, a, place=0),
        Segment("transit", int(2.5 * fps), a, b),
        Segment("hover", f, b, b, place=1),
        Segment("transit", int(2.5 * fps), b, c),
        Segment("hover", f, c, c, place=2),
        Segment("transit", int(3 * fps), c, a2),
        Segment("hover", f, a2, a2, place=0, gain=1.06),
    )
    flash_at = segs[0].frames + segs[1].frames + f // 2
    return FlightPlan(segs, (Perturbation("flash", flash_at, 1),), fps=fps)


def _smooth(t: float) -> float:
    return t * t * (3 - 2 * t)  # ease in and out, like a drone accelerating and braking


def _poses(plan: FlightPlan, rng: np.random.Generator) -> Iterator[tuple[int, Pose, float]]:
    for si, seg in enumerate(plan.segments):
        for k in range(seg.frames):
            if seg.kind == "hover":
                jitter = rng.normal(0, 0.6, 2)
                wobble = rng.normal(0, 0.3)
                p = Pose(
                    seg.start.x + jitter[0] + 0.02 * k,
                    seg.start.y + jitter[1],
                    seg.start.yaw + wobble,
                    seg.start.scale,
                )
            else:
                t = _smooth((k + 1) / (seg.frames + 1))
                p = Pose(
                    seg.start.x + (seg.end.x - seg.start.x) * t,
                    seg.start.y + (seg.end.y - seg.start.y) * t,
                    seg.start.yaw + (seg.end.yaw - seg.start.yaw) * t,
                    seg.start.scale + (seg.end.scale - seg.start.scale) * t,
                )
            yield si, p, seg.gain


def _view(terrain: np.ndarray, pose: Pose, size: tuple[int, int]) -> np.ndarray:
    import cv2

    w, h = size
    zoom = pose.scale * 640.0 / w  # the same ground footprint at any output size
    a = math.radians(pose.yaw)
    ca, sa = math.cos(a) * zoom, math.sin(a) * zoom
    # output (u, v) -> terrain: centre + R * zoom * (u - w/2, v - h/2)
    m = np.array(
        [[ca, -sa, pose.x - ca * w / 2 + sa * h / 2], [sa, ca, pose.y - sa * w / 2 - ca * h / 2]],
        np.float64,
    )
    return cv2.warpAffine(
        terrain,
        m,
        (w, h),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REFLECT,
    )


def render(
    plan: FlightPlan, size: tuple[int, int] = (640, 360), seed: int = 0
) -> tuple[list[np.ndarray], GroundTruth]:
    """Render every frame of a plan (RGB uint8) and its ground truth, in memory.

    For long flights use :func:`write_flight`, which streams frames to the encoder.
    """
    truth = GroundTruth(fps=plan.fps, frames=plan.frames, size=size)
    return list(_render_iter(plan, size, seed, truth)), truth


def _render_iter(
    plan: FlightPlan, size: tuple[int, int], seed: int, truth: GroundTruth
) -> Iterator[np.ndarray]:
    """Yield the frames of a plan, filling ``truth`` as it goes."""
    rng = np.random.default_rng(seed)
    terrain = make_terrain(plan.terrain_seed)
    start = 0
    for i, seg in enumerate(plan.segments):
        truth.segments.append(
            {
                "index": i,
                "kind": seg.kind,
                "place": seg.place,
                "start": start,
                "end": start + seg.frames - 1,
            }
        )
        start += seg.frames
    truth.perturbations = [asdict(p) for p in plan.perturbations]
    flashes = {
        p.frame + k for p in plan.perturbations if p.kind == "flash" for k in range(p.length)
    }
    for n, (si, pose, gain) in enumerate(_poses(plan, rng)):
        img = _view(terrain, pose, size).astype(np.float32) * gain
        img += rng.normal(0, 2.0, img.shape).astype(np.float32)  # sensor noise
        if n in flashes:
            img = img * 0.3 + 230.0
        truth.segment.append(si)
        truth.place.append(plan.segments[si].place)
        truth.pose.append(
            (round(pose.x, 3), round(pose.y, 3), round(pose.yaw, 3), round(pose.scale, 4))
        )
        yield np.clip(img, 0, 255).astype(np.uint8)


def write_flight(
    path: str | os.PathLike[str],
    plan: FlightPlan | None = None,
    *,
    size: tuple[int, int] = (640, 360),
    seed: int = 0,
    codec: str = "libx264",
    bframes: int = 2,
    crf: int = 23,
) -> GroundTruth:
    """Render a plan and encode it as H.264 (with B-frames); writes ``<path>.truth.json``.

    Returns the ground truth. Frames stream straight to the encoder.
    """
    import av

    plan = plan or sample_plan()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}{target.suffix}")
    truth = GroundTruth(fps=plan.fps, frames=plan.frames, size=size)
    with av.open(str(tmp), mode="w") as out:
        from fractions import Fraction

        stream: Any = out.add_stream(codec, rate=Fraction(plan.fps).limit_denominator(1001))
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.options = {
            "crf": str(crf),
            "preset": "veryfast",
            "bf": str(bframes),
            "g": str(int(plan.fps * 2)),
        }
        for frame in _render_iter(plan, size, seed, truth):
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            for packet in stream.encode(vf):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    os.replace(tmp, target)
    Path(f"{target}.truth.json").write_text(truth.to_json(), encoding="utf-8")
    return truth
