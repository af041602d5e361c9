"""Synthetic drone flights with exact ground truth: the project's own demo and test data.

A terrain is drawn (fields, roads, buildings, trees, water over fractal ground) and a
virtual nadir camera flies a plan over it: hovers with jitter and sensor noise, transits
with yaw and altitude change, a return to an earlier place with a slightly different pose
and brightness, and perturbations with exact ground truth of the frames they touch (see
:class:`Perturbation`: a flash, a dropped or doubled frame, an auto-exposure step, an object
crossing the view, black frames, blurred frames). Terrains come in several kinds
(:data:`TERRAIN_KINDS`: farmland, coast, urban, forest, desert). Frames are rendered with
OpenCV and encoded as real H.264 with PyAV.

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
    "PERTURBATION_KINDS",
    "TERRAIN_KINDS",
    "perturbation_frames",
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
    """One leg of the plan: a hover at ``place`` or a transit to the next hover.

    A hover holds ``start`` with random jitter (``jitter`` px and ``wobble`` degrees, normal
    standard deviations per frame) and a steady ``drift`` (px per frame in x and y).
    """

    kind: str  # "hover" or "transit"
    frames: int
    start: Pose
    end: Pose
    place: int = -1  # hover place id; the same id means the same place
    gain: float = 1.0  # brightness (an exposure difference on a return)
    jitter: float = 0.6
    wobble: float = 0.3
    drift: tuple[float, float] = (0.02, 0.0)


PERTURBATION_KINDS = ("flash", "drop", "double", "exposure", "occlusion", "blackout", "blur")
"""The kinds of :class:`Perturbation`."""

# kind -> the strength used when ``amount`` is 0
_DEFAULT_AMOUNT = {"exposure": 0.2, "occlusion": 0.35, "blur": 24.0}


@dataclass(frozen=True)
class Perturbation:
    """Frames ``frame`` .. ``frame + length - 1`` are perturbed; ``kind`` says how.

    - ``flash``: the frames are washed out (a glint or a strobe).
    - ``drop``: ``length`` frames were lost before ``frame``: from ``frame`` on, the rest of
      the segment is ``length`` steps ahead (the pose jumps by ``length + 1`` steps). The
      perturbed frame is ``frame`` alone.
    - ``double``: the frames repeat the frame before them exactly (pixels and pose); the
      frame after them jumps to where the flight is by then.
    - ``exposure``: an auto-exposure step: brightness changes by the factor ``1 + amount``
      (default +20 %; negative darkens), ramped linearly over the ``length`` frames, and
      stays changed for the rest of the segment. The perturbed frames are the ramp.
    - ``occlusion``: an object ``amount`` of the view's height across (default 0.35)
      crosses the view from left to right over the frames.
    - ``blackout``: the frames are black.
    - ``blur``: the frames are smeared by a motion blur ``amount`` px long (at 640 px width,
      default 24).
    """

    kind: str
    frame: int
    length: int = 1
    amount: float = 0.0

    def __post_init__(self) -> None:
        from framesig.errors import SettingsError

        if self.kind not in PERTURBATION_KINDS:
            raise SettingsError(
                "perturbation",
                f"kind must be one of {', '.join(PERTURBATION_KINDS)}, got {self.kind!r}",
            )
        if self.frame < 0 or self.length < 1:
            raise SettingsError(
                "perturbation",
                f"frame must be >= 0 and length >= 1, got {self.frame}, {self.length}",
            )
        if self.kind == "double" and self.frame < 1:
            raise SettingsError("perturbation", "a doubled frame needs a frame before it")

    @property
    def strength(self) -> float:
        """``amount``, or the kind's default when it is 0."""
        return self.amount or _DEFAULT_AMOUNT.get(self.kind, 0.0)

    @property
    def frames(self) -> range:
        """The perturbed frames."""
        return perturbation_frames(asdict(self))


def perturbation_frames(p: dict[str, Any]) -> range:
    """The frames a perturbation (as written in :class:`GroundTruth`) touches.

    Examples
    --------
    >>> perturbation_frames({"kind": "flash", "frame": 10, "length": 2})
    range(10, 12)
    >>> perturbation_frames({"kind": "drop", "frame": 10, "length": 2})
    range(10, 11)
    """
    start, length = int(p["frame"]), int(p.get("length", 1))
    return range(start, start + 1) if p["kind"] == "drop" else range(start, start + length)


def _perturbation_dict(p: Perturbation) -> dict[str, object]:
    out: dict[str, object] = {"kind": p.kind, "frame": p.frame, "length": p.length}
    if p.amount:
        out["amount"] = p.amount
    return out


@dataclass(frozen=True)
class FlightPlan:
    """Segments flown in order over one terrain, and the perturbations on the way.

    ``noise`` is the sensor noise (standard deviation in 8-bit levels). ``noise_bank`` > 0
    draws that many noise fields once and adds a randomly offset window of one of them to
    each frame (several times faster for long flights; 0 draws fresh noise per frame).
    """

    segments: tuple[Segment, ...]
    perturbations: tuple[Perturbation, ...] = ()
    fps: float = 30.0
    terrain_seed: int = 7
    terrain_kind: str = "farmland"
    terrain_size: tuple[int, int] = (2400, 1600)
    noise: float = 2.0
    noise_bank: int = 0

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

    def perturbed_frames(self, kinds: tuple[str, ...] | None = None) -> set[int]:
        """The frames touched by perturbations (of ``kinds``, or of every kind)."""
        return {
            f
            for p in self.perturbations
            if kinds is None or p["kind"] in kinds
            for f in perturbation_frames(p)
        }

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


TERRAIN_KINDS = ("farmland", "coast", "urban", "forest", "desert")
"""The kinds of terrain :func:`make_terrain` draws."""


def make_terrain(
    seed: int = 7, size: tuple[int, int] = (2400, 1600), kind: str = "farmland"
) -> np.ndarray:
    """Draw a terrain of ``kind`` (see :data:`TERRAIN_KINDS`) as an RGB uint8 image.

    ``size`` is (width, height). ``farmland``: fields with crop rows, roads, buildings,
    trees, ponds. ``coast``: sea with waves, a beach, cliffs, and land with houses behind.
    ``urban``: a street grid of dense roofs with shadows, cars, a park. ``forest``: dense
    canopy with clearings and a track (repetitive texture). ``desert``: dunes, rocks and a
    track (little texture).

    Examples
    --------
    >>> make_terrain(1, (200, 100)).shape
    (100, 200, 3)
    >>> make_terrain(1, (200, 100), kind="coast").dtype
    dtype('uint8')
    """
    from framesig.errors import SettingsError

    draw = {
        "farmland": _farmland,
        "coast": _coast,
        "urban": _urban,
        "forest": _forest,
        "desert": _desert,
    }.get(kind)
    if draw is None:
        raise SettingsError(
            "terrain", f"kind must be one of {', '.join(TERRAIN_KINDS)}, got {kind!r}"
        )
    return draw(seed, size)


def _farmland(seed: int, size: tuple[int, int]) -> np.ndarray:
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


def _buildings(
    img: np.ndarray, rng: np.random.Generator, n: int, scale: float, mask: np.ndarray | None
) -> None:
    """Roofs with drop shadows at random places (where ``mask`` allows, if given)."""
    import cv2

    h, w = img.shape[:2]
    roofs = [[170, 60, 50], [200, 200, 200], [90, 90, 100], [150, 120, 90], [60, 90, 140]]
    for _ in range(n):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        if mask is not None and not mask[min(y, h - 1), min(x, w - 1)]:
            continue
        bw, bh = int(rng.uniform(12, 50) * scale) + 2, int(rng.uniform(12, 50) * scale) + 2
        roof = [float(c) for c in roofs[int(rng.integers(len(roofs)))]]
        cv2.rectangle(img, (x + 4, y + 4), (x + bw + 4, y + bh + 4), (40, 45, 35), -1)
        cv2.rectangle(img, (x, y), (x + bw, y + bh), roof, -1)
        cv2.line(img, (x, y + bh // 2), (x + bw, y + bh // 2), [c * 0.8 for c in roof], 1)


def _coast(seed: int, size: tuple[int, int]) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    scale = max(w, h) / 2400
    ground = _fractal(rng, h, w)
    fine = _fractal(rng, h, w, octaves=7)
    # the shoreline: a fractal curve across the terrain, sea on the left
    xs = np.arange(w, dtype=np.float32)[None, :]
    wander = (_fractal(rng, h, 8, octaves=4)[:, :1] - 0.5) * 0.5 * w
    shore = 0.42 * w + wander  # per row
    dist = xs - shore  # < 0 in the sea
    img = np.empty((h, w, 3), np.float32)
    sea = dist < 0
    depth = np.clip(-dist / (0.25 * w), 0, 1)
    yy = np.arange(h, dtype=np.float32)[:, None]
    waves = 0.5 + 0.5 * np.sin((yy * 0.9 + xs * 0.35 + 25 * fine) * 0.18 / max(scale, 0.3))
    img[..., 0] = np.where(sea, 30 + 40 * (1 - depth) + 12 * waves, 0)
    img[..., 1] = np.where(sea, 80 + 60 * (1 - depth) + 14 * waves, 0)
    img[..., 2] = np.where(sea, 120 + 50 * (1 - depth) + 16 * waves, 0)
    # surf line, beach, cliffs, land
    beach = (dist >= 0) & (dist < 60 * scale + 40 * scale * ground)
    surf = (dist >= -12 * scale) & (dist < 0)
    cliff = (dist >= 60 * scale + 40 * scale * ground) & (dist < 150 * scale + 60 * scale * fine)
    land = ~(sea | beach | cliff)
    for c, (r, g, b) in enumerate([(215, 200, 160), (120, 105, 90), (85, 120, 60)]):
        region = [beach, cliff, land][c]
        tone = [20 * fine, 70 * ground + 40 * fine, 80 * ground][c]
        img[..., 0] = np.where(region, r + tone - 20, img[..., 0])
        img[..., 1] = np.where(region, g + tone - 20, img[..., 1])
        img[..., 2] = np.where(region, b + 0.6 * tone - 20, img[..., 2])
    img[surf] = [235.0, 240.0, 240.0]
    # rocks in the surf and on the cliffs
    for _ in range(int(300 * scale * scale) + 8):
        y = int(rng.uniform(0, h))
        x = int(shore[y, 0] + rng.normal(60 * scale, 60 * scale))
        r = int(rng.uniform(3, 14) * scale) + 1
        grey = float(rng.uniform(60, 120))
        cv2.circle(img, (x, y), r, (grey, grey * 0.95, grey * 0.9), -1)
    # roads and houses on the land
    for _ in range(int(4 * scale) + 2):
        y0 = rng.uniform(0, h)
        pts = np.array(
            [
                [
                    shore[int(min(max(y0 + k * 200 * scale, 0), h - 1)), 0]
                    + 200 * scale
                    + rng.uniform(0, 700) * scale,
                    y0 + k * 200 * scale,
                ]
                for k in range(6)
            ],
            np.int32,
        )
        cv2.polylines(img, [pts], False, (110, 110, 105), max(2, int(12 * scale)))
    _buildings(img, rng, int(120 * scale * scale) + 4, scale, land & (dist > 250 * scale))
    for _ in range(int(250 * scale * scale) + 6):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        if land[min(y, h - 1), min(x, w - 1)]:
            cv2.circle(img, (x, y), int(rng.uniform(4, 11) * scale) + 1, (30, 75, 35), -1)
    # boats
    for _ in range(int(6 * scale) + 2):
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        if sea[min(y, h - 1), min(x, w - 1)]:
            box = cv2.boxPoints(((x, y), (34 * scale + 4, 11 * scale + 3), rng.uniform(0, 180)))
            cv2.fillPoly(img, [box.astype(np.int32)], (240, 240, 235))
    return np.clip(img, 0, 255).astype(np.uint8)


def _urban(seed: int, size: tuple[int, int]) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    scale = max(w, h) / 2400
    ground = _fractal(rng, h, w)
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 120 + 40 * ground
    img[..., 1] = 118 + 40 * ground
    img[..., 2] = 112 + 38 * ground
    # dense blocks of roofs
    block = int(rng.uniform(150, 220) * scale) + 20
    street = max(4, int(22 * scale))
    palette = [
        [165, 70, 55],
        [195, 195, 190],
        [95, 95, 105],
        [150, 125, 95],
        [70, 95, 130],
        [180, 150, 110],
        [120, 60, 50],
        [215, 210, 200],
    ]
    for by in range(0, h, block):
        for bx in range(0, w, block):
            if rng.random() < 0.08:  # a park
                cv2.rectangle(
                    img, (bx + street, by + street), (bx + block, by + block), (70, 120, 55), -1
                )
                for _ in range(int(12 * scale * scale) + 3):
                    cx = int(bx + street + rng.uniform(0, block - street))
                    cy = int(by + street + rng.uniform(0, block - street))
                    cv2.circle(img, (cx, cy), int(rng.uniform(4, 10) * scale) + 1, (35, 80, 35), -1)
                continue
            y = by + street
            while y < by + block - 4:
                rh = int(rng.uniform(18, 50) * scale) + 3
                x = bx + street
                while x < bx + block - 4:
                    rw = int(rng.uniform(16, 60) * scale) + 3
                    x1, y1 = min(x + rw, bx + block), min(y + rh, by + block)
                    roof = [
                        float(c) * rng.uniform(0.85, 1.1)
                        for c in palette[int(rng.integers(len(palette)))]
                    ]
                    cv2.rectangle(img, (x + 3, y + 3), (x1 + 3, y1 + 3), (45, 45, 48), -1)
                    cv2.rectangle(img, (x, y), (x1, y1), roof, -1)
                    if rng.random() < 0.5:  # a ridge
                        cv2.line(
                            img,
                            (x, (y + y1) // 2),
                            (x1, (y + y1) // 2),
                            [c * 0.75 for c in roof],
                            1,
                        )
                    x = x1 + int(rng.uniform(1, 4) * scale)
                y = y + rh + int(rng.uniform(1, 5) * scale)
    # streets: asphalt with centre lines and cars
    for by in range(0, h, block):
        cv2.rectangle(img, (0, by), (w, by + street), (75, 75, 78), -1)
        cv2.line(img, (0, by + street // 2), (w, by + street // 2), (220, 220, 200), 1)
    for bx in range(0, w, block):
        cv2.rectangle(img, (bx, 0), (bx + street, h), (75, 75, 78), -1)
        cv2.line(img, (bx + street // 2, 0), (bx + street // 2, h), (220, 220, 200), 1)
    for _ in range(int(500 * scale * scale) + 10):
        cl = [float(c) for c in palette[int(rng.integers(len(palette)))]]
        if rng.random() < 0.5:
            x = int(rng.uniform(0, w))
            y = int(rng.integers(0, h // block + 1) * block + street * rng.choice([0.25, 0.7]))
            cv2.rectangle(img, (x, y), (x + int(9 * scale) + 3, y + int(4 * scale) + 2), cl, -1)
        else:
            y = int(rng.uniform(0, h))
            x = int(rng.integers(0, w // block + 1) * block + street * rng.choice([0.25, 0.7]))
            cv2.rectangle(img, (x, y), (x + int(4 * scale) + 2, y + int(9 * scale) + 3), cl, -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def _forest(seed: int, size: tuple[int, int]) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    scale = max(w, h) / 2400
    ground = _fractal(rng, h, w)
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 35 + 30 * ground
    img[..., 1] = 60 + 40 * ground
    img[..., 2] = 30 + 20 * ground
    # clearings
    for _ in range(int(8 * scale * scale) + 2):
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        ax = (int(rng.uniform(40, 160) * scale) + 5, int(rng.uniform(30, 120) * scale) + 5)
        cv2.ellipse(img, c, ax, rng.uniform(0, 180), 0, 360, (130, 150, 80), -1)
    # a track and a stream
    for colour, width in (((150, 125, 90), 8), ((50, 80, 120), 6)):
        pts = np.cumsum(rng.normal(0, 250 * scale, (8, 2)), axis=0) + [
            rng.uniform(0, w),
            rng.uniform(0, h),
        ]
        cv2.polylines(img, [pts.astype(np.int32)], False, colour, max(2, int(width * scale)))
    # canopy: many overlapping crowns with a highlight, denser where the fractal says so
    crowns = int(9000 * scale * scale) + 30
    xs, ys = rng.uniform(0, w, crowns), rng.uniform(0, h, crowns)
    rs = rng.uniform(5, 15, crowns) * scale + 1
    tones = rng.uniform(0, 1, crowns)
    for x, y, r, t in zip(xs, ys, rs, tones, strict=True):
        if ground[int(y) % h, int(x) % w] < 0.3 and t < 0.5:
            continue  # a gap
        base = (25 + 35 * t, 60 + 60 * t, 25 + 25 * t)
        cv2.circle(img, (int(x) + 2, int(y) + 2), int(r), (15, 30, 15), -1)
        cv2.circle(img, (int(x), int(y)), int(r), base, -1)
        cv2.circle(
            img, (int(x - r / 3), int(y - r / 3)), max(1, int(r / 3)), [c * 1.35 for c in base], -1
        )
    return np.clip(img, 0, 255).astype(np.uint8)


def _desert(seed: int, size: tuple[int, int]) -> np.ndarray:
    import cv2

    rng = np.random.default_rng(seed)
    w, h = size
    scale = max(w, h) / 2400
    ground = _fractal(rng, h, w)
    warp = _fractal(rng, h, w, octaves=3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    u = (xx * np.cos(angle) + yy * np.sin(angle)) / max(scale, 0.1) + 300 * warp
    dunes = np.sin(u / 45.0) * 0.5 + 0.5
    ripples = np.sin(u / 6.0 + 10 * ground) * 0.5 + 0.5
    shade = 0.75 * dunes + 0.1 * ripples + 0.15 * ground
    img = np.empty((h, w, 3), np.float32)
    img[..., 0] = 170 + 60 * shade
    img[..., 1] = 140 + 50 * shade
    img[..., 2] = 95 + 35 * shade
    for _ in range(int(200 * scale * scale) + 6):  # rocks and shrubs
        x, y = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        r = int(rng.uniform(2, 9) * scale) + 1
        if rng.random() < 0.5:
            cv2.circle(img, (x + 2, y + 2), r, (110, 90, 60), -1)
            cv2.circle(img, (x, y), r, (125, 100, 80), -1)
        else:
            cv2.circle(img, (x, y), r, (95, 110, 60), -1)
    pts = np.cumsum(rng.normal(0, 300 * scale, (8, 2)), axis=0) + [
        rng.uniform(0, w),
        rng.uniform(0, h),
    ]
    cv2.polylines(img, [pts.astype(np.int32)], False, (150, 125, 90), max(2, int(7 * scale)))
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
    # dropped frames: from a drop on, the rest of its segment runs ahead
    ahead = np.zeros(plan.frames, np.int64)
    bounds = np.cumsum([0] + [s.frames for s in plan.segments])
    for pert in plan.perturbations:
        if pert.kind == "drop" and pert.frame < plan.frames:
            si = int(np.searchsorted(bounds, pert.frame, side="right")) - 1
            ahead[pert.frame : bounds[si + 1]] += pert.length
    n = 0
    for si, seg in enumerate(plan.segments):
        for k in range(seg.frames):
            step = k + int(ahead[n])
            if seg.kind == "hover":
                jitter = rng.normal(0, seg.jitter, 2)
                wobble = rng.normal(0, seg.wobble)
                p = Pose(
                    seg.start.x + jitter[0] + seg.drift[0] * step,
                    seg.start.y + jitter[1] + seg.drift[1] * step,
                    seg.start.yaw + wobble,
                    seg.start.scale,
                )
            else:
                t = _smooth(min(1.0, (step + 1) / (seg.frames + 1)))
                p = Pose(
                    seg.start.x + (seg.end.x - seg.start.x) * t,
                    seg.start.y + (seg.end.y - seg.start.y) * t,
                    seg.start.yaw + (seg.end.yaw - seg.start.yaw) * t,
                    seg.start.scale + (seg.end.scale - seg.start.scale) * t,
                )
            n += 1
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
    terrain = make_terrain(plan.terrain_seed, plan.terrain_size, kind=plan.terrain_kind)
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
    truth.perturbations = [_perturbation_dict(p) for p in plan.perturbations]
    for p in plan.perturbations:
        if p.frame + (1 if p.kind == "drop" else p.length) > plan.frames:
            from framesig.errors import SettingsError

            raise SettingsError("perturbation", f"{p} runs past the plan's {plan.frames} frames")
    by_frame: dict[int, list[tuple[Perturbation, int]]] = {}
    for p in plan.perturbations:
        if p.kind not in ("drop", "exposure"):
            for k in range(p.length):
                by_frame.setdefault(p.frame + k, []).append((p, k))
    exposure = _exposure_gains(plan)
    w, h = size
    bank: list[np.ndarray] = []
    if plan.noise_bank > 0:
        bank = [
            rng.standard_normal((h + 32, w + 32, 3), dtype=np.float32) * np.float32(plan.noise)
            for _ in range(plan.noise_bank)
        ]
    last: np.ndarray | None = None
    last_pose: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)
    for n, (si, pose, gain) in enumerate(_poses(plan, rng)):
        here = by_frame.get(n, [])
        kinds = {p.kind for p, _ in here}
        view = _view(terrain, pose, size)
        for p, k in here:
            if p.kind == "occlusion":
                _occlude(view, p, k)
            elif p.kind == "blur":
                view = _motion_blur(view, p)
        img = view.astype(np.float32) * gain
        if exposure[n] != 1.0:
            img *= np.float32(exposure[n])
        if bank:
            i, oy, ox = int(rng.integers(len(bank))), int(rng.integers(33)), int(rng.integers(33))
            img += bank[i][oy : oy + h, ox : ox + w]
        else:
            img += rng.normal(0, plan.noise, img.shape).astype(np.float32)  # sensor noise
        if "flash" in kinds:
            img = img * 0.3 + 230.0
        if "blackout" in kinds:
            img = img * 0.02 + 4.0
        frame_pose = (round(pose.x, 3), round(pose.y, 3), round(pose.yaw, 3), round(pose.scale, 4))
        out = np.clip(img, 0, 255).astype(np.uint8)
        if "double" in kinds and last is not None:
            out, frame_pose = last, last_pose  # the frame before, again
        truth.segment.append(si)
        truth.place.append(plan.segments[si].place)
        truth.pose.append(frame_pose)
        last, last_pose = out, frame_pose
        yield out


def _exposure_gains(plan: FlightPlan) -> np.ndarray:
    """Per frame, the factor of every auto-exposure step so far in the frame's segment."""
    gains = np.ones(plan.frames, np.float64)
    bounds = np.cumsum([0] + [s.frames for s in plan.segments])
    for p in plan.perturbations:
        if p.kind != "exposure":
            continue
        si = int(np.searchsorted(bounds, p.frame, side="right")) - 1
        for f in range(p.frame, int(bounds[si + 1])):
            gains[f] *= 1.0 + p.strength * min(1.0, (f - p.frame + 1) / p.length)
    return gains


def _occlude(view: np.ndarray, p: Perturbation, k: int) -> None:
    """Draw frame ``k`` of an object crossing the view left to right (in place)."""
    import cv2

    h, w = view.shape[:2]
    rng = np.random.default_rng(p.frame)
    size = p.strength * h
    colour = [float(c) for c in rng.uniform(20, 90, 3)]
    y = int(h * rng.uniform(0.3, 0.7))
    t = (k + 0.5) / p.length
    x = int(-size + t * (w + 2 * size))
    axes = (max(1, int(size * 0.75)), max(1, int(size * 0.5)))
    cv2.ellipse(view, (x, y), axes, float(rng.uniform(-30, 30)), 0, 360, colour, -1)
    cv2.ellipse(
        view,
        (x, y),
        (max(1, axes[0] // 2), max(1, axes[1] // 3)),
        0,
        0,
        360,
        [c * 1.8 for c in colour],
        -1,
    )


def _motion_blur(view: np.ndarray, p: Perturbation) -> np.ndarray:
    import cv2

    h, w = view.shape[:2]
    length = max(3, int(round(p.strength * w / 640)))
    kernel = np.zeros((length, length), np.float32)
    angle = float(np.random.default_rng(p.frame).uniform(0, 180))
    c = (length - 1) / 2
    dx, dy = math.cos(math.radians(angle)) * c, math.sin(math.radians(angle)) * c
    cv2.line(
        kernel,
        (int(round(c - dx)), int(round(c - dy))),
        (int(round(c + dx)), int(round(c + dy))),
        1.0,
        1,
    )
    kernel /= kernel.sum()
    return cv2.filter2D(view, -1, kernel, borderType=cv2.BORDER_REFLECT)


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
