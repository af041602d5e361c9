"""The flight set: seeded synthetic drone flights with exact ground truth, for accuracy work.

Each flight is a :class:`~framesig.synthetic.FlightPlan` over one terrain kind (farmland,
coast, urban, forest, desert), rendered by :mod:`framesig.synthetic` and encoded as real
H.264 (some with B-frames, some without). Between them the flights hold hovers with jitter,
drift and sensor noise; transits at 3-20 px/frame with yaw and altitude change; returns to
earlier places with a slightly different pose and brightness; patrols flying one loop
several times; lawnmower surveys with no hovers; and every perturbation kind
(:data:`framesig.synthetic.PERTURBATION_KINDS`) inside hovers.

Three sizes share the same flights: ``full`` (640x360 at 30 fps, 30-90 s a flight, for
benchmarks), ``small`` (320x180 at 15 fps, shorter hovers and faster transits, 10-25 s
a flight, for tests) and ``hd`` (``full`` at 1920x1080, about 80 s of rendering a flight:
the check that nothing depends on the frame size). Speeds are terrain pixels per frame at
30 fps (a terrain pixel is an output pixel of a 640 px wide view at altitude 1), so every
size flies the same ground.

Videos go to a folder (``data/flights/`` by default, never committed) with
``<name>.mp4.truth.json`` beside each and a ``manifest.json`` that says what made them; a
later :func:`build` reuses what is there when the manifest matches.

Examples
--------
>>> specs = flight_specs("small")
>>> len(specs) >= 12, len({s.plan.terrain_kind for s in specs}) >= 3
(True, True)
>>> sorted({p.kind for s in specs for p in s.plan.perturbations})  # doctest: +NORMALIZE_WHITESPACE
['blackout', 'blur', 'double', 'drop', 'exposure', 'flash', 'occlusion']
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

from framesig.errors import SettingsError
from framesig.synthetic import FlightPlan, GroundTruth, Perturbation, Pose, Segment, write_flight

__all__ = ["SIZES", "FlightSpec", "Flight", "flight_specs", "build", "load", "DEFAULT_FOLDER"]

FLIGHTSET_VERSION = 1
DEFAULT_FOLDER = Path("data") / "flights"


@dataclass(frozen=True)
class _Size:
    frame: tuple[int, int]  # output width, height
    fps: float
    hover_scale: float  # hover durations are multiplied by this
    speed_scale: float  # transit speeds are multiplied by this


SIZES = {
    "full": _Size((640, 360), 30.0, 1.0, 1.0),
    "small": _Size((320, 180), 15.0, 0.4, 1.6),
    "hd": _Size((1920, 1080), 30.0, 1.0, 1.0),
}
"""The sizes of the set: ``full`` for benchmarks, ``small`` for tests, ``hd`` at 1080p."""


@dataclass(frozen=True)
class FlightSpec:
    """How one flight of the set is made: its plan, render seed, encoder B-frames."""

    name: str
    description: str
    plan: FlightPlan
    seed: int
    bframes: int
    size: tuple[int, int]


@dataclass(frozen=True)
class Flight:
    """One generated flight: the video, its ground truth and the spec that made it."""

    spec: FlightSpec
    video: Path
    truth: GroundTruth

    @property
    def name(self) -> str:
        return self.spec.name


class _Plan:
    """Builds a plan leg by leg, in seconds and px/frame, scaled to a size."""

    def __init__(self, size: _Size, at: Pose) -> None:
        self.size = size
        self.segments: list[Segment] = []
        self.perturbations: list[Perturbation] = []
        self.pose = at
        self.frames = 0

    def hover(
        self,
        place: int,
        seconds: float,
        pose: Pose | None = None,
        *,
        gain: float = 1.0,
        jitter: float = 0.6,
        wobble: float = 0.3,
        drift: tuple[float, float] = (0.02, 0.0),
        perturb: Sequence[tuple[str, float, int, float]] = (),
    ) -> None:
        """Hover ``seconds`` at ``pose``; ``perturb`` = (kind, where 0..1, length, amount).

        A perturbation's length is in frames at 30 fps (at least 1 frame at any rate),
        except that 1- and 2-frame kinds (flash, drop, double, exposure ramp) keep their
        frame counts. ``drift`` is px per frame at 30 fps.
        """
        pose = pose or self.pose
        n = max(int(round(seconds * self.size.hover_scale * self.size.fps)), 8)
        k = 30.0 / self.size.fps
        start = self.frames
        self.segments.append(
            Segment(
                "hover",
                n,
                pose,
                pose,
                place=place,
                gain=gain,
                jitter=jitter,
                wobble=wobble,
                drift=(drift[0] * k, drift[1] * k),
            )
        )
        for kind, where, length, amount in perturb:
            if kind in ("occlusion", "blackout", "blur"):
                length = max(1, int(round(length / k)))
            frame = start + min(max(int(where * n), 2), n - length - 2)
            self.perturbations.append(Perturbation(kind, frame, length, amount))
        self.frames += n
        self.pose = pose

    def transit(self, to: Pose, speed: float, *, gain: float = 1.0) -> None:
        """Fly to ``to`` at a mean ``speed`` px/frame (at 30 fps), easing in and out."""
        dist = math.hypot(to.x - self.pose.x, to.y - self.pose.y)
        per_frame = speed * self.size.speed_scale * 30.0 / self.size.fps
        turn = abs(to.yaw - self.pose.yaw) / 3.0 + abs(to.scale - self.pose.scale) * 100
        n = max(int(math.ceil(max(dist, turn) / per_frame)), 6)
        self.segments.append(Segment("transit", n, self.pose, to, gain=gain))
        self.frames += n
        self.pose = to

    def build(self, terrain: str, terrain_seed: int, noise: float = 2.0) -> FlightPlan:
        return FlightPlan(
            tuple(self.segments),
            tuple(self.perturbations),
            fps=self.size.fps,
            terrain_seed=terrain_seed,
            terrain_kind=terrain,
            noise=noise,
            noise_bank=8,
        )


def _again(p: Pose, dx: float, dy: float, dyaw: float, dscale: float = 1.02) -> Pose:
    """The same place flown again: a slightly different pose."""
    return Pose(p.x + dx, p.y + dy, p.yaw + dyaw, p.scale * dscale)


def _tour(
    size: _Size,
    places: Sequence[Pose],
    route: Sequence[int],
    speeds: Sequence[float],
    hover_s: float,
    perturbs: dict[int, Sequence[tuple[str, float, int, float]]] | None = None,
    **hover_kw: float | tuple[float, float],
) -> _Plan:
    """Hover at ``places[route[i]]`` in turn; a place flown again holds a shifted pose."""
    perturbs = perturbs or {}
    plan = _Plan(size, places[route[0]])
    seen: dict[int, int] = {}
    for i, place in enumerate(route):
        visits = seen.get(place, 0)
        seen[place] = visits + 1
        pose = places[place]
        gain = 1.0
        if visits:
            sign = -1 if visits % 2 else 1
            pose = _again(pose, 7 * sign * visits, -5 * visits, 3 * sign, 1 + 0.02 * visits)
            gain = 1.0 + 0.05 * sign
        if i:
            plan.transit(pose, speeds[(i - 1) % len(speeds)])
        plan.hover(place, hover_s, pose, gain=gain, perturb=perturbs.get(i, ()), **hover_kw)  # type: ignore[arg-type]
    return plan


def _lawnmower(
    size: _Size, x0: float, x1: float, y0: float, legs: int, spacing: float, speed: float
) -> _Plan:
    """A survey: parallel legs from ``x0`` to ``x1`` and back, no hovers."""
    plan = _Plan(size, Pose(x0, y0, 0.0, 1.1))
    for leg in range(legs):
        y = y0 + leg * spacing
        a, b = (x0, x1) if leg % 2 == 0 else (x1, x0)
        yaw = 0.0 if leg % 2 == 0 else 180.0
        if leg:
            plan.transit(Pose(a, y, yaw, 1.1), speed * 0.6)  # the turn onto the next leg
        plan.transit(Pose(b, y, yaw, 1.1), speed)
    return plan


def flight_specs(size: str = "full") -> list[FlightSpec]:
    """The flights of the set at ``size`` (a key of :data:`SIZES`), in a fixed order."""
    if size not in SIZES:
        raise SettingsError("flightset", f"size must be one of {', '.join(SIZES)}, got {size!r}")
    sz = SIZES[size]
    P = Pose
    out: list[FlightSpec] = []

    def add(name: str, desc: str, plan: FlightPlan, seed: int, bframes: int) -> None:
        out.append(FlightSpec(name, desc, plan, seed, bframes, sz.frame))

    farm = [P(600, 500), P(1450, 650, 20), P(1500, 1200, 60, 1.3), P(500, 1250, -30, 1.1)]
    plan = _tour(
        sz,
        farm,
        [0, 1, 2, 3, 0, 2],
        [8, 12, 10, 15, 9],
        7.0,
        {1: [("flash", 0.5, 1, 0)], 3: [("flash", 0.3, 2, 0)], 4: [("flash", 0.6, 1, 0)]},
    )
    add(
        "farm_tour",
        "farmland: four places, returns to two, flashes",
        plan.build("farmland", 7),
        1,
        2,
    )

    farm2 = [P(700, 600, 10), P(1600, 500, -20, 1.1), P(1200, 1150, 40, 0.95)]
    plan = _tour(
        sz,
        farm2,
        [0, 1, 0, 2, 1],
        [10, 14, 7, 12],
        8.0,
        {
            0: [("exposure", 0.4, 3, 0.2), ("drop", 0.75, 1, 0)],
            1: [("exposure", 0.5, 2, -0.18), ("double", 0.2, 1, 0)],
            2: [("drop", 0.5, 2, 0)],
            3: [("exposure", 0.3, 3, 0.25), ("double", 0.7, 1, 0)],
            4: [("exposure", 0.6, 3, -0.15)],
        },
        drift=(0.25, 0.1),
    )
    add(
        "farm_exposure",
        "farmland: auto-exposure steps, dropped and doubled frames while drifting, no B-frames",
        plan.build("farmland", 11),
        2,
        0,
    )

    coast = [P(900, 500, 0), P(1050, 1150, 30, 1.1), P(1700, 800, -15), P(800, 850, 80, 1.2)]
    plan = _tour(
        sz,
        coast,
        [0, 1, 2, 3, 0, 1],
        [9, 11, 6, 13, 10],
        6.0,
        {
            1: [("occlusion", 0.4, 24, 0.35)],
            2: [("flash", 0.5, 1, 0), ("occlusion", 0.2, 18, 0.25)],
            4: [("flash", 0.7, 2, 0)],
        },
    )
    add(
        "coast_tour",
        "coast: shore, cliffs, houses; returns; a crossing object; flashes",
        plan.build("coast", 3),
        3,
        2,
    )

    loop = [P(850, 450, 0), P(1500, 700, 45, 1.1), P(1000, 1150, 90, 0.95)]
    plan = _tour(sz, loop, [0, 1, 2] * 3 + [0], [12, 12, 12], 3.0, {4: [("flash", 0.5, 1, 0)]})
    add(
        "coast_patrol",
        "coast: one loop of three places flown three times",
        plan.build("coast", 5),
        4,
        3,
    )

    urban = [
        P(600, 500),
        P(1400, 450, 30, 1.15),
        P(1700, 1100, 90),
        P(900, 1150, -45, 0.9),
        P(1250, 800, 10, 1.25),
    ]
    plan = _tour(
        sz,
        urban,
        [0, 1, 2, 3, 4, 0, 2],
        [3, 10, 15, 8, 20, 12],
        6.0,
        {
            0: [("occlusion", 0.5, 20, 0.4)],
            2: [("exposure", 0.5, 3, 0.2)],
            4: [("flash", 0.4, 1, 0)],
            5: [("occlusion", 0.3, 30, 0.3)],
            6: [("exposure", 0.4, 2, -0.2)],
        },
    )
    add(
        "urban_tour",
        "urban: five places, slow and fast transits, yaw 90, returns, crossings",
        plan.build("urban", 2),
        5,
        2,
    )

    plan = _lawnmower(sz, 500, 1900, 450, 4, 240, 7)
    add(
        "urban_lawnmower",
        "urban: a survey of four parallel legs, no hovers",
        plan.build("urban", 4),
        6,
        2,
    )

    forest = [P(700, 550), P(1500, 600, 25, 1.1), P(1300, 1200, -40), P(650, 1150, 60, 0.9)]
    plan = _tour(
        sz,
        forest,
        [0, 1, 2, 3, 1],
        [10, 8, 12, 9],
        7.0,
        {2: [("flash", 0.5, 1, 0)]},
        jitter=1.5,
        wobble=0.8,
        drift=(0.1, -0.05),
    )
    add(
        "forest_tour",
        "forest: repetitive canopy, windy hovers, a return, no B-frames",
        plan.build("forest", 6),
        7,
        0,
    )

    desert = [P(700, 500), P(1550, 700, -30, 1.1), P(1100, 1200, 50, 1.3), P(1800, 1250, 0)]
    plan = _tour(
        sz,
        desert,
        [0, 1, 2, 3, 0],
        [11, 9, 14, 16],
        7.0,
        {
            1: [("exposure", 0.5, 3, 0.22)],
            2: [("flash", 0.5, 2, 0)],
            4: [("exposure", 0.3, 2, -0.16)],
        },
    )
    add(
        "desert_tour",
        "desert: low texture dunes, exposure steps, a return",
        plan.build("desert", 8),
        8,
        2,
    )

    plan = _lawnmower(sz, 550, 1850, 450, 5, 200, 8)
    add(
        "farm_lawnmower",
        "farmland: a survey of five legs, no hovers, no B-frames",
        plan.build("farmland", 9),
        9,
        0,
    )

    uloop = [P(700, 600, 0), P(1500, 550, 0, 1.1), P(1650, 1150, 0), P(800, 1150, 0, 0.95)]
    plan = _tour(sz, uloop, [0, 1, 2, 3] * 3, [14, 14, 14, 14], 2.5)
    add(
        "urban_patrol",
        "urban: a square loop of four places flown three times",
        plan.build("urban", 10),
        10,
        2,
    )

    windy = [P(800, 600, 15), P(1700, 700, -25, 1.05), P(1200, 1200, 70, 1.2)]
    plan = _tour(
        sz,
        windy,
        [0, 1, 2, 0, 1],
        [18, 20, 16, 18],
        10.0,
        {1: [("occlusion", 0.6, 15, 0.3)], 3: [("flash", 0.5, 1, 0)]},
        jitter=2.0,
        wobble=1.0,
        drift=(0.15, 0.08),
    )
    add(
        "coast_windy",
        "coast: long windy hovers, strong drift, heavy sensor noise, fast transits",
        plan.build("coast", 12, noise=4.0),
        11,
        2,
    )

    anom = [P(650, 550), P(1450, 800, 30, 1.1), P(1000, 1250, -20)]
    plan = _tour(
        sz,
        anom,
        [0, 1, 2, 0],
        [9, 11, 10],
        8.0,
        {
            0: [("blackout", 0.5, 8, 0), ("flash", 0.2, 1, 0)],
            1: [("blur", 0.4, 6, 24), ("drop", 0.8, 2, 0)],
            2: [("double", 0.3, 1, 0), ("occlusion", 0.6, 20, 0.35)],
            3: [("blackout", 0.3, 3, 0), ("blur", 0.7, 4, 16)],
        },
    )
    add(
        "farm_anomalies",
        "farmland: black frames, blurred frames, a drop, a double, a crossing",
        plan.build("farmland", 13),
        12,
        2,
    )

    dloop = [P(800, 500, 0, 1.0), P(1500, 900, 120, 1.2), P(900, 1200, 240, 1.1)]
    plan = _tour(sz, dloop, [0, 1, 2] * 3, [6, 6, 6], 3.0, {3: [("exposure", 0.5, 3, 0.18)]})
    add(
        "desert_patrol",
        "desert: a slow loop of three places with yaw, flown three times",
        plan.build("desert", 14),
        13,
        2,
    )
    return out


def _spec_key(spec: FlightSpec) -> str:
    blob = json.dumps([FLIGHTSET_VERSION, asdict(spec)], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _make(spec: FlightSpec, video: str) -> str:
    write_flight(video, spec.plan, size=spec.size, seed=spec.seed, bframes=spec.bframes)
    return video


def build(
    size: str = "full",
    folder: str | os.PathLike[str] | None = None,
    *,
    names: Sequence[str] | None = None,
    workers: int = 1,
) -> list[Flight]:
    """Generate the flights of ``size`` into ``folder`` (reusing those already made).

    ``folder`` defaults to ``data/flights/<size>``. ``names`` picks flights; ``workers`` > 1
    renders in that many processes. Returns the flights in the set's order.
    """
    specs = flight_specs(size)
    if names is not None:
        unknown = sorted(set(names) - {s.name for s in specs})
        if unknown:
            raise SettingsError("flightset", f"no flight named {', '.join(unknown)}")
        specs = [s for s in specs if s.name in set(names)]
    root = Path(folder) if folder is not None else DEFAULT_FOLDER / size
    root.mkdir(parents=True, exist_ok=True)
    manifest_path = root / "manifest.json"
    manifest: dict[str, str] = {}
    if manifest_path.exists():
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except ValueError:
            manifest = {}
    todo = [
        s
        for s in specs
        if manifest.get(s.name) != _spec_key(s)
        or not (root / f"{s.name}.mp4").exists()
        or not (root / f"{s.name}.mp4.truth.json").exists()
    ]
    if todo:
        if workers > 1 and len(todo) > 1:
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                list(pool.map(_make, todo, [str(root / f"{s.name}.mp4") for s in todo]))
        else:
            for s in todo:
                _make(s, str(root / f"{s.name}.mp4"))
        for s in todo:
            manifest[s.name] = _spec_key(s)
        manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return [_load_one(s, root) for s in specs]


def _load_one(spec: FlightSpec, root: Path) -> Flight:
    video = root / f"{spec.name}.mp4"
    truth = GroundTruth.from_json(Path(f"{video}.truth.json").read_text(encoding="utf-8"))
    return Flight(spec, video, truth)


def load(size: str = "full", folder: str | os.PathLike[str] | None = None) -> list[Flight]:
    """The flights of ``size`` already generated in ``folder`` (see :func:`build`)."""
    root = Path(folder) if folder is not None else DEFAULT_FOLDER / size
    return [_load_one(s, root) for s in flight_specs(size) if (root / f"{s.name}.mp4").exists()]
