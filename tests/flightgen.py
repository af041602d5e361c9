"""Generated flights with known ground truth for the signature-using tests (index, compare,
anomalies, report): routes over fixed places of the synthetic terrain, rendered with
:mod:`framesig.synthetic` and encoded as real H.264, plus injected anomalies (a blackout,
a blur burst, dropped frames) applied to the rendered frames before encoding.

Flights are made once per test session and cached in a temporary folder.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np

import framesig
from framesig import synthetic
from framesig.synthetic import FlightPlan, GroundTruth, Pose, Segment

SIZE = (320, 180)
FPS = 10.0
HOVER_S = 2.5
TRANSIT_S = 1.5

# Places on the 2400 x 1600 terrain (terrain seed 7), far enough apart to be distinct views.
PLACES = {
    0: Pose(600, 500),
    1: Pose(1450, 650, 20),
    2: Pose(1500, 1200, 60, 1.3),
    3: Pose(400, 1300, 0, 1.1),
    4: Pose(2000, 400, 10, 1.0),
    5: Pose(1000, 1050, 30, 1.2),
    6: Pose(2050, 1250, 45, 1.0),
    7: Pose(250, 250, 80, 1.1),
    8: Pose(1200, 250, 15, 0.9),  # never flown in the flight set: the unseen view
}

_DIR = Path(tempfile.mkdtemp(prefix="framesig-flights-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)


def route_plan(
    route: tuple[int, ...],
    *,
    gain: float = 1.0,
    hover_s: float = HOVER_S,
    fps: float = FPS,
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> FlightPlan:
    """Hover at each place of ``route`` in turn, with a transit between consecutive ones.

    ``offset`` moves every hover by (dx, dy) terrain pixels and turns it by a yaw in
    degrees: another flight of the same route never holds exactly the same pose.
    """
    dx, dy, dyaw = offset
    places = {
        k: Pose(p.x + dx, p.y + dy, p.yaw + dyaw, p.scale * (1 + abs(dyaw) / 150))
        for k, p in PLACES.items()
    }
    segs: list[Segment] = []
    h, t = int(round(hover_s * fps)), int(round(TRANSIT_S * fps))
    for k, p in enumerate(route):
        segs.append(Segment("hover", h, places[p], places[p], place=p, gain=gain))
        if k + 1 < len(route):
            segs.append(Segment("transit", t, places[p], places[route[k + 1]], gain=gain))
    return FlightPlan(tuple(segs), fps=fps)


@dataclass(frozen=True)
class Injected:
    """An anomaly put into a flight: ``kind`` over frames ``first``..``last`` (inclusive)."""

    kind: str  # "blackout", "blur", "drop"
    first: int
    last: int


Signature_t = framesig.Signature


@dataclass(frozen=True)
class Flight:
    name: str
    route: tuple[int, ...]
    video: Path
    truth: GroundTruth
    signature: Signature_t
    injected: tuple[Injected, ...]
    times: tuple[float, ...]  # the presentation time of each rendered frame (drops removed)

    def frame_time(self, frame: int) -> float:
        return frame / self.truth.fps

    def segment_span(self, index: int) -> tuple[float, float]:
        seg = self.truth.segments[index]
        return int(str(seg["start"])) / self.truth.fps, (int(str(seg["end"])) + 1) / self.truth.fps

    def hover_spans(self, place: int) -> list[tuple[float, float]]:
        return [
            self.segment_span(int(str(s["index"])))
            for s in self.truth.segments
            if s["kind"] == "hover" and s["place"] == place
        ]


def _encode(frames: list[np.ndarray], path: Path, fps: float, pts: list[int]) -> None:
    import av

    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, int(fps))
        stream.options = {"crf": "23", "preset": "veryfast", "bf": "0", "g": str(int(fps * 2))}
        for img, p in zip(frames, pts, strict=True):
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pts = p
            vf.time_base = Fraction(1, int(fps))
            for packet in stream.encode(vf):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


@cache
def flight(
    name: str,
    route: tuple[int, ...],
    seed: int,
    gain: float = 1.0,
    injected: tuple[Injected, ...] = (),
    hover_s: float = HOVER_S,
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> Flight:
    """Render, perturb, encode and summarize one flight (cached for the session)."""
    import cv2

    plan = route_plan(route, gain=gain, hover_s=hover_s, offset=offset)
    frames, truth = synthetic.render(plan, size=SIZE, seed=seed)
    dropped: set[int] = set()
    for inj in injected:
        for f in range(inj.first, inj.last + 1):
            if inj.kind == "blackout":
                frames[f] = (frames[f].astype(np.float32) * 0.03).astype(np.uint8)
            elif inj.kind == "blur":
                frames[f] = cv2.GaussianBlur(frames[f], (0, 0), 3.0)
            elif inj.kind == "drop":
                dropped.add(f)
            else:
                raise ValueError(inj.kind)
    keep = [f for f in range(len(frames)) if f not in dropped]
    video = _DIR / f"{name}.mp4"
    _encode([frames[f] for f in keep], video, plan.fps, keep)
    sig = framesig.summarize(video)
    return Flight(name, route, video, truth, sig, injected, tuple(f / plan.fps for f in keep))


# The small flight set: three routes (east and west share place 5), each flown twice; the
# second flight holds other poses, hovers longer, is 5 % brighter and has other sensor
# noise, and the patrol is flown three times in the first flight and twice in the second.
ROUTES = {
    "patrol": ((0, 1, 2) * 3, (0, 1, 2) * 2),
    "east": ((4, 6, 5, 4), (4, 6, 5, 4)),
    "west": ((7, 3, 5, 7), (7, 3, 5, 7)),
}


def flight_set() -> list[Flight]:
    out = []
    for k, (route_name, (first, second)) in enumerate(ROUTES.items()):
        out.append(flight(f"{route_name}-a", first, seed=10 + k))
        out.append(
            flight(
                f"{route_name}-b", second, seed=20 + k, gain=1.05, hover_s=3.0, offset=(5, -4, 3)
            )
        )
    return out


def interval_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0
