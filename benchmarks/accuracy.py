"""Accuracy of framesig and its peers against ground truth; one table (``ACCURACY.md``).

Run from the repository root (the flight set is made once under ``data/flights/``)::

    .venv/bin/python data/make_flights.py full -j 2
    .venv/bin/python benchmarks/accuracy.py --size full --markdown benchmarks/ACCURACY.md

Methods, each at its defaults, on the same files in one run:

- ``framesig``: :func:`framesig.summarize` with default :class:`~framesig.Settings`;
  its runs are the labelling (:meth:`framesig.evaluate.Labelling.from_signature`).
- ``psd-content``, ``psd-adaptive``, ``psd-hash``, ``psd-hist``: PySceneDetect's
  ``ContentDetector``, ``AdaptiveDetector``, ``HashDetector`` and ``HistogramDetector``
  through ``scenedetect.detect`` (its default OpenCV backend).
- ``ffmpeg-scdet``: ffmpeg's ``scdet`` filter at its default threshold.

A shot detector's scenes become runs with every scene a new state
(:meth:`~framesig.evaluate.Labelling.from_cuts`), so a peer never recognises a revisit and
its keyframe is the scene's middle frame. Every metric is defined in
:class:`framesig.evaluate.FlightScore`; rates are pooled over the flights (counts added,
then divided), not averaged per flight. Cut F1 is over the clips of
``../shared/data/real`` with known cuts (:data:`framesig.evaluate.REAL_CUTS`), pooled,
frame-exact and within 2 frames. Peers' cut times map to decoded frames by presentation
time (nearest frame), so variable frame rate clips are matched correctly.

The targets of issue 3 are checked below the table. "The best peer" for the compression
target is the peer with the highest coverage (ties: fewer runs per minute); framesig
must have fewer runs per minute than it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import framesig  # noqa: E402
from framesig import flightset  # noqa: E402
from framesig.evaluate import (  # noqa: E402
    REAL_CUTS,
    CutScore,
    FlightScore,
    Labelling,
    cut_f1,
    fewest_runs,
    frames_at_times,
    pool,
    score,
)

SHARED = Path(os.environ.get("FRAMESIG_SHARED", REPO.parent / "shared")) / "data" / "real"
PSD = ("content", "adaptive", "hash", "hist")
METHODS = ("framesig", *(f"psd-{d}" for d in PSD), "ffmpeg-scdet")
REFERENCE = "(truth)"  # the labelling the truth implies: what a perfect method scores
STEADY_KINDS = ("flash", "exposure")  # the target: no transition on any of these
TOLERANCES = (0, 2)

# Targets of issue 3 (full set, defaults, no per-flight tuning).
TARGET_REVISIT_F1 = 0.90
TARGET_HOVER_STABILITY = 0.97
TARGET_FALSE_PER_MINUTE = 0.5
TARGET_COVERAGE = 0.95


@dataclass
class Result:
    """What one method did: per-flight scores, pooled cut scores, wall seconds."""

    flights: dict[str, FlightScore] = field(default_factory=dict)
    cuts: dict[int, CutScore] = field(default_factory=lambda: {t: CutScore() for t in TOLERANCES})
    clip_cuts: dict[str, list[int]] = field(default_factory=dict)
    wall: float = 0.0

    @property
    def pooled(self) -> FlightScore:
        return pool(self.flights.values())


# -- frame times ----------------------------------------------------------------------------


def frame_times(path: Path) -> np.ndarray:
    """Presentation times (s, from the first frame) of a file's video frames, display order.

    From the demuxed packets, not a decode: every packet of these files is one frame.
    """
    import av

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        pts = [p.pts for p in c.demux(stream) if p.pts is not None and p.size]
        tb = float(stream.time_base or 0)
    t = np.sort(np.asarray(pts, np.float64)) * tb
    return t - t[0] if len(t) else t


# -- the methods: each returns the first frames of new scenes (framesig: its labelling) ------


def run_framesig(path: Path) -> Labelling:
    return Labelling.from_signature(framesig.summarize(path))


def psd_cut_times(path: Path, which: str) -> list[float]:
    """Seconds at which a PySceneDetect detector (at its defaults) starts new scenes."""
    from scenedetect import (
        AdaptiveDetector,
        ContentDetector,
        HashDetector,
        HistogramDetector,
        detect,
    )

    detectors: dict[str, Callable[[], object]] = {
        "content": ContentDetector,
        "adaptive": AdaptiveDetector,
        "hash": HashDetector,
        "hist": HistogramDetector,
    }
    scenes = detect(str(path), detectors[which]())
    return [float(start.seconds) for start, _ in scenes[1:]]


def scdet_cuts(path: Path) -> list[int]:
    """Frames where ffmpeg's ``scdet`` (default threshold) marks a scene change."""
    exe = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
    out = subprocess.run(
        [
            exe,
            "-hide_banner",
            "-nostats",
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-vf",
            "scdet,metadata=mode=print:key=lavfi.scd.time:file=-",
            "-f",
            "null",
            "-",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # "frame:N pts:P pts_time:T" precedes each cut's key; N counts the frames the filter
    # saw, which is the decoded frame index (nothing is dropped before the filter)
    return [int(line.split()[0].split(":")[1]) for line in out.splitlines() if line[:6] == "frame:"]


def peer_cuts(method: str, path: Path, times: np.ndarray) -> list[int]:
    """A peer's cuts as decoded frame indices."""
    if method == "ffmpeg-scdet":
        return scdet_cuts(path)
    secs = psd_cut_times(path, method.removeprefix("psd-"))
    return frames_at_times(secs, times.tolist()) if secs else []


def labelling(method: str, path: Path, times: np.ndarray) -> tuple[Labelling, float]:
    """A method's labelling of a file (one state per decoded frame) and its wall seconds."""
    started = time.perf_counter()
    if method == "framesig":
        lab = run_framesig(path)
    else:
        lab = Labelling.from_cuts(len(times), peer_cuts(method, path, times), method)
    return lab, time.perf_counter() - started


# -- the runs ---------------------------------------------------------------------------------


def run_flights(
    flights: Sequence[flightset.Flight], methods: Sequence[str], results: dict[str, Result]
) -> None:
    for fl in flights:
        truth = fl.truth
        times = frame_times(fl.video)
        if len(times) != truth.frames:
            raise SystemExit(f"{fl.video}: {len(times)} packets but the truth has {truth.frames}")
        for m in methods:
            lab, wall = labelling(m, fl.video, times)
            if len(lab) != truth.frames:
                raise SystemExit(f"{m} labelled {len(lab)} of {truth.frames} frames")
            results[m].flights[fl.name] = score(truth, lab)
            results[m].wall += wall
        if REFERENCE in results:
            results[REFERENCE].flights[fl.name] = score(truth, Labelling.from_truth(truth))
        print(f"  {fl.name}: done", file=sys.stderr, flush=True)


def run_clips(folder: Path, methods: Sequence[str], results: dict[str, Result]) -> list[str]:
    """Cut F1 on the real clips whose cuts are known; returns the clips used."""
    used = []
    for name, (unit, values) in sorted(REAL_CUTS.items()):
        path = folder / name
        if not path.exists():
            print(f"  {path} is missing: skipped", file=sys.stderr)
            continue
        used.append(name)
        times = frame_times(path)
        truth = (
            [int(v) for v in values]
            if unit == "frames"
            else frames_at_times(values, times.tolist())
        )
        for m in methods:
            lab, wall = labelling(m, path, times)
            pred = lab.cuts.tolist()
            res = results[m]
            res.clip_cuts[name] = pred
            for tol in TOLERANCES:
                res.cuts[tol] = res.cuts[tol] + cut_f1(pred, truth, tol)
            res.wall += wall
    return used


# -- the table ---------------------------------------------------------------------------------


def _hits(sc: FlightScore, kinds: Sequence[str]) -> str:
    n = sum((sc.perturbations or {}).get(k, 0) for k in kinds)
    return f"{sc.hits(kinds)} of {n}"


def table(results: dict[str, Result], clips: bool) -> list[str]:
    head = (
        "| method | hover stability | false trans. / hover min | flash+exposure hit "
        "| all perturbations hit | revisit P | revisit R | revisit F1 | boundary F1 "
        "| coverage | runs / min | states / min |"
    )
    rule = "|---|" + "---:|" * 11
    if clips:
        head += " cut F1 exact | cut F1 ±2 |"
        rule += "---:|---:|"
    head += " wall s |"
    rule += "---:|"
    lines = [head, rule]
    for m, res in results.items():
        if not res.flights and not clips:
            continue
        p = res.pooled
        kinds = sorted(p.perturbations or {})
        row = (
            f"| {m} | {p.hover_stability:.3f} | {p.false_per_minute:.2f} "
            f"| {_hits(p, STEADY_KINDS)} | {_hits(p, kinds)} "
            f"| {p.revisit_precision:.3f} | {p.revisit_recall:.3f} | {p.revisit_f1:.3f} "
            f"| {p.boundary_f1:.3f} | {p.coverage:.3f} | {p.runs_per_minute:.1f} "
            f"| {p.states_per_minute:.1f} |"
        )
        if clips and m == REFERENCE:
            row += " - | - |"
        elif clips:
            row += f" {res.cuts[0].f1:.3f} | {res.cuts[2].f1:.3f} |"
        row += " - |" if m == REFERENCE else f" {res.wall:.1f} |"
        lines.append(row)
    return lines


def per_flight(results: dict[str, Result], method: str = "framesig") -> list[str]:
    lines = [
        f"| flight ({method}) | frames | hover stability | false trans. | flash+exposure hit "
        "| revisit F1 | boundary F1 | coverage | runs / min | states |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, sc in results[method].flights.items():
        lines.append(
            f"| {name} | {sc.frames} | {sc.hover_stability:.3f} | {sc.false_transitions} "
            f"| {_hits(sc, STEADY_KINDS)} | {sc.revisit_f1:.3f} | {sc.boundary_f1:.3f} "
            f"| {sc.coverage:.3f} | {sc.runs_per_minute:.1f} | {sc.states} |"
        )
    return lines


def fewest_runs_per_minute(flights: list[flightset.Flight]) -> tuple[int, float]:
    """The fewest runs (and runs per minute) with which any labelling of the flights
    reaches the coverage target (:func:`framesig.evaluate.fewest_runs`, a lower bound
    from the true poses)."""
    return fewest_runs([f.truth for f in flights], TARGET_COVERAGE)


def targets(results: dict[str, Result], clips: bool, floor: tuple[int, float]) -> list[str]:
    """Issue 3's targets, each with its numbers and PASS or FAIL; ``floor`` is
    :func:`fewest_runs_per_minute` of the flights."""
    fs = results["framesig"].pooled
    out = []

    def check(ok: bool, text: str) -> None:
        out.append(f"- **{'PASS' if ok else 'FAIL'}** {text}")

    check(
        fs.revisit_f1 >= TARGET_REVISIT_F1,
        f"revisit F1 ≥ {TARGET_REVISIT_F1}: {fs.revisit_f1:.3f} "
        f"(P {fs.revisit_precision:.3f}, R {fs.revisit_recall:.3f}; "
        f"TP {fs.revisit_tp}, FP {fs.revisit_fp}, FN {fs.revisit_fn})",
    )
    check(
        fs.hover_stability >= TARGET_HOVER_STABILITY,
        f"hover stability ≥ {TARGET_HOVER_STABILITY}: {fs.hover_stability:.4f} "
        f"({fs.hover_majority} of {fs.hover_frames} interior hover frames)",
    )
    n_steady = sum((fs.perturbations or {}).get(k, 0) for k in STEADY_KINDS)
    check(
        fs.hits(STEADY_KINDS) == 0,
        f"no transition on any flash or exposure-step frame: {fs.hits(STEADY_KINDS)} of "
        f"{n_steady} hit ("
        + ", ".join(
            f"{k} {(fs.perturbations_hit or {}).get(k, 0)}/{(fs.perturbations or {}).get(k, 0)}"
            for k in STEADY_KINDS
        )
        + ")",
    )
    check(
        fs.false_per_minute <= TARGET_FALSE_PER_MINUTE,
        f"false transitions ≤ {TARGET_FALSE_PER_MINUTE} per minute of hover: "
        f"{fs.false_per_minute:.3f} ({fs.false_transitions} in {fs.hover_minutes:.2f} min)",
    )
    peers = {
        m: r.pooled for m, r in results.items() if m not in ("framesig", REFERENCE) and r.flights
    }
    if peers:
        best = max(peers, key=lambda m: (peers[m].coverage, -peers[m].runs_per_minute))
        bp = peers[best]
        check(
            fs.coverage >= TARGET_COVERAGE and fs.runs_per_minute < bp.runs_per_minute,
            f"coverage ≥ {TARGET_COVERAGE} with fewer runs per minute than the best peer: "
            f"coverage {fs.coverage:.3f}, {fs.runs_per_minute:.1f} runs/min; best peer "
            f"{best}: coverage {bp.coverage:.3f}, {bp.runs_per_minute:.1f} runs/min"
            + (
                f" (the truth's own labelling: coverage {results[REFERENCE].pooled.coverage:.3f}"
                f" at {results[REFERENCE].pooled.runs_per_minute:.1f} runs/min)"
                if REFERENCE in results and results[REFERENCE].flights
                else ""
            )
            + f"; no labelling at all reaches coverage {TARGET_COVERAGE} with fewer than "
            f"{floor[1]:.1f} runs/min ({floor[0]} runs over the set, "
            "`framesig.evaluate.fewest_runs` from the true poses)",
        )
    psd = {m: r for m, r in results.items() if m.startswith("psd-")}
    if clips and psd:
        fr = results["framesig"]
        for tol in TOLERANCES:
            best = max(psd, key=lambda m: psd[m].cuts[tol].f1)
            b = psd[best].cuts[tol]
            f = fr.cuts[tol]
            label = "frame-exact" if tol == 0 else f"±{tol} frames"
            check(
                f.f1 >= b.f1,
                f"cut F1 ({label}) at least the best PySceneDetect detector's: {f.f1:.3f} "
                f"(TP {f.tp}, FP {f.fp}, FN {f.fn}) vs {best} {b.f1:.3f} "
                f"(TP {b.tp}, FP {b.fp}, FN {b.fn})",
            )
    return out


def revision() -> str:
    """The commit framesig was measured at, and whether ``framesig/`` differed from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "framesig"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "an unknown commit"
    # the numbers belong to the code that ran: say so when it was not a commit
    return f"commit {head}" + (" with uncommitted changes in framesig/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(flightset.SIZES), default="full")
    ap.add_argument("--folder", type=Path, default=None, help="default data/flights/<size>")
    ap.add_argument("--names", nargs="+", default=None, help="only these flights")
    ap.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    ap.add_argument("--clips", type=Path, default=SHARED, help="folder of the real clips")
    ap.add_argument("--no-clips", action="store_true", help="skip cut F1 on real clips")
    ap.add_argument("--workers", type=int, default=1, help="processes to render missing flights")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the report here")
    ap.add_argument("--json", type=Path, default=None, help="also write every count here")
    args = ap.parse_args(argv)
    methods = ["framesig", *[m for m in args.methods if m != "framesig"]]

    folder = args.folder or REPO / "data" / "flights" / args.size
    started = time.perf_counter()
    flights = flightset.build(args.size, folder, names=args.names, workers=args.workers)
    framesig.summarize([np.zeros((64, 64, 3), np.uint8)] * 4)  # compile before timing
    results = {m: Result() for m in [*methods, REFERENCE]}
    print(f"scoring {len(flights)} flights from {folder}", file=sys.stderr)
    run_flights(flights, methods, results)
    used: list[str] = []
    if not args.no_clips:
        used = run_clips(args.clips, methods, results)
    clips = bool(used)
    total = time.perf_counter() - started

    import scenedetect

    ffv = subprocess.run(
        [shutil.which("ffmpeg") or "/usr/bin/ffmpeg", "-version"], capture_output=True, text=True
    ).stdout.split("\n")[0]
    frames = sum(f.truth.frames for f in flights)
    rev = revision()
    minutes = sum(f.truth.frames / f.truth.fps for f in flights) / 60
    terrains = sorted({f.spec.plan.terrain_kind for f in flights})
    cmd = " ".join(
        ["python benchmarks/accuracy.py", *[a if " " not in a else repr(a) for a in sys.argv[1:]]]
    )
    report = [
        "# Accuracy against ground truth",
        "",
        f"Made by `{cmd}` (after `python data/make_flights.py {args.size}`), "
        f"in {total / 60:.1f} min on {platform.machine()} with {os.cpu_count()} cores "
        f"(shared). framesig {getattr(framesig, '__version__', '?')} at {rev}, PySceneDetect "
        f"{scenedetect.__version__}, {ffv}.",
        "",
        f"Flight set `{args.size}` (flightset v{flightset.FLIGHTSET_VERSION}): {len(flights)} "
        f"flights, {frames} frames, {minutes:.1f} min, terrains {', '.join(terrains)}. "
        f"Cut F1: {', '.join(used) if used else 'not run'}. Every method at its defaults; "
        "metrics as defined in `framesig.evaluate.FlightScore`, pooled over flights. "
        "Peers' scenes are runs with every scene a new state. `(truth)` is the labelling "
        "the truth implies (`Labelling.from_truth`: hovers by place, transits cut where the "
        "view stops overlapping the piece's first frame by IoU 0.5), for reference. "
        "`flash+exposure hit` and "
        "`all perturbations hit` count perturbations inside hovers with a transition in "
        "their window. Wall seconds are this process's, over the flights and the clips.",
        "",
        *table(results, clips),
        "",
        "## Targets (issue 3)",
        "",
        *targets(results, clips, fewest_runs_per_minute(flights)),
        "",
        "## framesig per flight",
        "",
        *per_flight(results),
    ]
    if clips:
        report += ["", "## Cuts found on the edited clips", ""]
        report += ["| clip | truth | " + " | ".join(methods) + " |"]
        report += ["|---|---|" + "---|" * len(methods)]
        for name in used:
            unit, values = REAL_CUTS[name]
            truth = ", ".join(str(v) for v in values) + (" s" if unit == "times" else "")
            cells = [
                ", ".join(str(c) for c in r.clip_cuts.get(name, [])) or "-"
                for r in (results[m] for m in methods)
            ]
            report.append(f"| {name} | {truth or '-'} | " + " | ".join(cells) + " |")
    text = "\n".join(report) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        blob = {
            m: {
                "flights": {k: v.to_dict() for k, v in r.flights.items()},
                "pooled": r.pooled.to_dict(),
                "cuts": {str(t): asdict(c) for t, c in r.cuts.items()},
                "clip_cuts": r.clip_cuts,
                "wall": r.wall,
            }
            for m, r in results.items()
        }
        args.json.write_text(json.dumps(blob, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
