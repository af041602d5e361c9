"""The metrics of :mod:`framesig.evaluate` tested on themselves, then framesig scored by them.

Ground truth must score perfectly and the trivial labellings (one state for the whole
flight, a new state every frame) exactly as their definitions say; the expected numbers
are worked out here from the truth, independently of :func:`framesig.evaluate.score`.
The last test scores framesig on three flights of the small flight set.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import reference
from hypothesis import given
from hypothesis import strategies as st

import framesig
from framesig import flightset, synthetic
from framesig.errors import FramesigError
from framesig.evaluate import (
    BOUNDARY_TOLERANCE,
    COVERAGE_IOU,
    CutScore,
    FlightScore,
    Labelling,
    cut_f1,
    fewest_runs,
    footprint_iou,
    frames_at_times,
    most_covered,
    pool,
    score,
)
from framesig.synthetic import GroundTruth

# farm_tour: flashes and returns; coast_patrol: a loop flown three times (B-frames 3);
# farm_anomalies: black and blurred frames (the loss-of-view rules), every other kind
SMALL_FLIGHTS = ("farm_tour", "coast_patrol", "farm_anomalies")


@pytest.fixture(scope="module")
def sample_truth() -> GroundTruth:
    """The demo plan at 30 fps: hovers of 90 frames, transits of 75-90 (tiny frames)."""
    _, truth = synthetic.render(synthetic.sample_plan(fps=30), size=(64, 36), seed=3)
    return truth


@pytest.fixture(scope="module")
def small_flights(tmp_path_factory: pytest.TempPathFactory) -> list[flightset.Flight]:
    return flightset.build("small", tmp_path_factory.mktemp("flights"), names=SMALL_FLIGHTS)


@pytest.fixture(scope="module")
def truths(sample_truth: GroundTruth, small_flights: list[flightset.Flight]) -> list[GroundTruth]:
    return [sample_truth, *(f.truth for f in small_flights)]


def _hovers(truth: GroundTruth) -> list[tuple[int, int, int]]:
    return [
        (int(str(s["start"])), int(str(s["end"])), int(str(s["place"]))) for s in truth.hovers()
    ]


def _same_place_pairs(truth: GroundTruth) -> tuple[int, int]:
    """Pairs of hovers at one place, and all pairs of hovers."""
    hv = _hovers(truth)
    pairs = list(combinations(hv, 2))
    return sum(a[2] == b[2] for a, b in pairs), len(pairs)


def _boundaries(truth: GroundTruth) -> list[int]:
    return sorted({b for s, e, _ in _hovers(truth) for b in (s, e + 1) if 0 < b < truth.frames})


def _coverage_by_hand(truth: GroundTruth, key_of_frame: np.ndarray) -> float:
    aspect = truth.size[1] / truth.size[0]
    ok = sum(
        footprint_iou(truth.pose[f], truth.pose[int(key_of_frame[f])], aspect)
        >= COVERAGE_IOU - 1e-9
        for f in range(truth.frames)
    )
    return ok / truth.frames


def _has_loss(truth: GroundTruth) -> bool:
    return any(p["kind"] in ("blackout", "blur") for p in truth.perturbations)


# -- the truth scores perfectly ---------------------------------------------------------------


def test_truth_scores_perfectly(truths: list[GroundTruth]) -> None:
    for truth in truths:
        sc = score(truth, Labelling.from_truth(truth))
        assert sc.frames == truth.frames
        assert sc.hover_frames > 0
        assert sc.hover_stability == 1.0
        assert sc.false_transitions == 0 and sc.false_per_minute == 0.0
        assert sc.loss_transitions == 0
        assert sum((sc.perturbations_hit or {}).values()) == 0
        assert sc.revisit_fp == sc.revisit_fn == 0
        assert sc.revisit_precision == sc.revisit_recall == sc.revisit_f1 == 1.0
        same, _ = _same_place_pairs(truth)
        assert sc.revisit_tp == same > 0
        assert sc.boundaries == len(_boundaries(truth))
        assert sc.boundary_precision == sc.boundary_recall == sc.boundary_f1 == 1.0
        assert sc.coverage == 1.0
        assert sc.runs >= 2 * len(_hovers(truth)) - 1


def test_truth_labelling_keeps_places_and_keyframes(sample_truth: GroundTruth) -> None:
    lab = Labelling.from_truth(sample_truth)
    hv = _hovers(sample_truth)
    # a return to a place gets the place's state, keyframed at the first visit
    assert lab.states[hv[0][0]] == lab.states[hv[3][0]] == hv[0][2]
    assert lab.keyframes[hv[0][2]] == hv[0][0]
    # every transit piece holds an IoU of at least 0.5 with its keyframe
    assert score(sample_truth, lab).covered == sample_truth.frames


# -- a one-state labelling ---------------------------------------------------------------------


def test_one_state_scores_as_it_must(truths: list[GroundTruth]) -> None:
    for truth in truths:
        n = truth.frames
        lab = Labelling.from_cuts(n, [])
        sc = score(truth, lab)
        same, pairs = _same_place_pairs(truth)
        # every hover is on the one state: stable, never a false transition
        assert sc.hover_stability == 1.0 and sc.false_transitions == 0
        assert sum((sc.perturbations_hit or {}).values()) == 0
        # every pair of hovers is predicted "same place"
        assert (sc.revisit_tp, sc.revisit_fp, sc.revisit_fn) == (same, pairs - same, 0)
        assert sc.revisit_recall == 1.0
        assert sc.revisit_precision == pytest.approx(same / pairs)
        # no transition: every boundary is missed, no candidate is wrong
        assert sc.boundaries_found == 0 and sc.candidates == 0
        assert (sc.boundary_recall, sc.boundary_precision, sc.boundary_f1) == (0.0, 1.0, 0.0)
        assert (sc.runs, sc.states) == (1, 1)
        assert sc.runs_per_minute == pytest.approx(1 / (n / truth.fps / 60))
        assert sc.states_per_minute == sc.runs_per_minute
        # the keyframe is the middle frame; coverage is what overlaps it
        expected = _coverage_by_hand(truth, np.full(n, (n - 1) // 2))
        assert sc.coverage == pytest.approx(expected)
        assert sc.coverage < 0.5


def test_a_state_per_frame_scores_as_it_must(truths: list[GroundTruth]) -> None:
    for truth in truths:
        n = truth.frames
        sc = score(truth, Labelling.from_cuts(n, range(1, n)))
        hv = _hovers(truth)
        margin = int(round(0.5 * truth.fps))
        # each hover's majority is one frame; every step inside an interior is false
        assert sc.hover_majority == len(hv)
        if not _has_loss(truth):
            assert sc.hover_frames == sum(e - s - 2 * margin + 1 for s, e, _ in hv)
            assert sc.false_transitions == sum(e - s - 2 * margin for s, e, _ in hv)
        assert sc.false_per_minute > 100
        # nothing predicted the same place: precision 1 by definition, recall 0
        same, _ = _same_place_pairs(truth)
        assert (sc.revisit_tp, sc.revisit_fp, sc.revisit_fn) == (0, 0, same)
        assert (sc.revisit_precision, sc.revisit_recall, sc.revisit_f1) == (1.0, 0.0, 0.0)
        # every frame in a hover's judged zone is a candidate; those near a boundary are right
        tol, bounds = BOUNDARY_TOLERANCE, _boundaries(truth)
        judged = {f for s, e, _ in hv for f in range(max(s - tol, 1), min(e + 1 + tol, n - 1) + 1)}
        right = {f for f in judged if any(abs(f - b) <= tol for b in bounds)}
        assert (sc.candidates, sc.candidates_correct) == (len(judged), len(right))
        assert sc.boundary_recall == 1.0
        assert sc.coverage == 1.0  # every frame is its own keyframe
        assert sc.runs == sc.states == n
        inside = sum((sc.perturbations or {}).values())
        assert inside > 0 and sum((sc.perturbations_hit or {}).values()) == inside


# -- single mistakes ---------------------------------------------------------------------------


def test_a_state_change_on_a_flash_is_hit_and_false(sample_truth: GroundTruth) -> None:
    truth = sample_truth
    base = Labelling.from_truth(truth)
    (flash,) = [p for p in truth.perturbations if p["kind"] == "flash"]
    f = int(str(flash["frame"]))
    states = base.states.copy()
    new = int(states.max()) + 1
    states[f] = new
    sc = score(truth, Labelling(states, {**base.keyframes, new: f}))
    ref = score(truth, base)
    assert (sc.perturbations or {})["flash"] == 1
    assert (sc.perturbations_hit or {})["flash"] == 1
    assert (sc.perturbation_transitions or {})["flash"] == 2  # into the flash and out of it
    assert sc.false_transitions == 2
    assert sc.hover_majority == sc.hover_frames - 1
    assert sc.revisit_f1 == 1.0  # the hovers' majorities are unchanged
    # both transitions lie in the hover, far from its boundaries: two wrong candidates
    assert sc.candidates == ref.candidates + 2
    assert sc.candidates_correct == ref.candidates_correct and sc.boundary_recall == 1.0


def test_a_wrong_revisit_is_a_false_positive(sample_truth: GroundTruth) -> None:
    base = Labelling.from_truth(sample_truth)
    s, e, _ = _hovers(sample_truth)[1]
    states = base.states.copy()
    states[s : e + 1] = states[_hovers(sample_truth)[0][0]]  # hover B labelled as place A
    sc = score(sample_truth, Labelling(states, base.keyframes))
    # pairs (A, B) and (B, A') are now predicted same; (A, A') still is
    assert (sc.revisit_tp, sc.revisit_fp, sc.revisit_fn) == (1, 2, 0)
    assert sc.revisit_precision == pytest.approx(1 / 3)


def test_boundaries_are_found_within_the_tolerance_only(sample_truth: GroundTruth) -> None:
    n, bounds = sample_truth.frames, _boundaries(sample_truth)
    near = score(sample_truth, Labelling.from_cuts(n, [b + BOUNDARY_TOLERANCE for b in bounds]))
    assert near.boundary_recall == near.boundary_precision == 1.0
    far = score(sample_truth, Labelling.from_cuts(n, [b + BOUNDARY_TOLERANCE + 1 for b in bounds]))
    # segments here are 75+ frames long, so no other boundary is within reach either
    assert far.boundaries_found == 0 and far.candidates_correct == 0
    assert far.boundary_f1 == 0.0


def test_pool_adds_counts_then_divides(truths: list[GroundTruth]) -> None:
    scores = [score(t, Labelling.from_cuts(t.frames, range(1, t.frames, 7))) for t in truths]
    p = pool(scores)
    assert p.frames == sum(s.frames for s in scores)
    assert p.hover_stability == pytest.approx(
        sum(s.hover_majority for s in scores) / sum(s.hover_frames for s in scores)
    )
    assert p.revisit_tp == sum(s.revisit_tp for s in scores)
    flashes = sum((s.perturbations or {}).get("flash", 0) for s in scores)
    assert (p.perturbations or {})["flash"] == flashes
    assert p.runs_per_minute == pytest.approx(
        sum(s.runs for s in scores) / sum(s.minutes for s in scores)
    )
    assert pool([]) == FlightScore()


# -- labellings, footprints, cuts --------------------------------------------------------------


def test_labelling_is_checked(sample_truth: GroundTruth) -> None:
    with pytest.raises(FramesigError, match="no keyframe"):
        Labelling([0, 0, 1], {0: 0})
    with pytest.raises(FramesigError, match="outside"):
        Labelling([0, 0], {0: 5})
    with pytest.raises(FramesigError, match="one id per frame"):
        Labelling(np.zeros((2, 2), np.int64), {0: 0})
    with pytest.raises(FramesigError, match="flight has"):
        score(sample_truth, Labelling.from_cuts(sample_truth.frames - 1, []))


def test_labelling_from_a_signature(sample_truth: GroundTruth) -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)
    sig = framesig.summarize([a] * 10 + [255 - a] * 10 + [a] * 10, fps=30)
    lab = Labelling.from_signature(sig)
    assert lab.states.tolist() == [0] * 10 + [1] * 10 + [0] * 10
    assert lab.transitions.tolist() == [10, 20] and lab.runs == 3


def test_footprint_iou() -> None:
    assert footprint_iou((0, 0, 0, 1), (0, 0, 0, 1), 0.5625) == 1.0
    assert footprint_iou((0, 0, 0, 1), (2000, 0, 0, 1), 0.5625) == 0.0
    # a 640 x 360 view turned 90 degrees about its centre: the overlap is 360 x 360
    quarter = footprint_iou((0, 0, 0, 1), (0, 0, 90, 1), 0.5625)
    assert quarter == pytest.approx(360 * 360 / (2 * 640 * 360 - 360 * 360))
    # twice the altitude sees four times the ground, all of the lower view's inside it
    assert footprint_iou((0, 0, 0, 1), (0, 0, 0, 2), 0.5625) == pytest.approx(0.25)
    a, b = (10, 20, 15, 1.1), (200, -40, -30, 0.9)
    assert footprint_iou(a, b, 0.5625) == pytest.approx(footprint_iou(b, a, 0.5625))
    with pytest.raises(FramesigError):
        footprint_iou((0, 0, 0, 0), (0, 0, 0, 1), 0.5625)


pose_draws = st.tuples(
    st.floats(0, 900), st.floats(0, 500), st.floats(-60, 60), st.floats(0.7, 1.4)
)


@given(st.lists(pose_draws, min_size=1, max_size=8))
def test_most_covered_matches_trying_every_split(drawn: list[tuple[float, ...]]) -> None:
    truth = GroundTruth(fps=10.0, frames=len(drawn), size=(64, 36), pose=drawn)
    got = most_covered(truth).tolist()
    want = reference.most_covered(drawn, 36 / 64, COVERAGE_IOU - 1e-9)
    assert got == want[: len(got)] and got[-1] == len(drawn)  # it stops once all are covered
    assert most_covered(truth, max_runs=1).tolist() == want[:1]


def test_fewest_runs_bounds_every_labelling(truths: list[GroundTruth]) -> None:
    """No labelling covers more than the bound; the truth's needs no more runs than it has."""
    for truth in truths:
        best = most_covered(truth)
        for lab in (Labelling.from_truth(truth), Labelling.from_cuts(truth.frames, [])):
            sc = score(truth, lab)
            assert sc.covered <= best[min(sc.runs, len(best)) - 1]
        assert len(best) <= Labelling.from_truth(truth).runs
    runs, per_minute = fewest_runs(truths, 1.0)
    assert runs == sum(len(most_covered(t)) for t in truths)
    assert per_minute == pytest.approx(runs / sum(t.frames / t.fps / 60 for t in truths))
    # a lower target never needs more runs; zero needs one per flight
    assert fewest_runs(truths, 0.9)[0] <= runs and fewest_runs(truths, 0.0)[0] == len(truths)
    with pytest.raises(FramesigError, match="coverage"):
        fewest_runs(truths, 1.5)
    empty = GroundTruth(fps=10.0, frames=0, size=(64, 36))
    assert most_covered(empty).tolist() == []
    with pytest.raises(FramesigError, match="every flight needs frames"):
        fewest_runs([empty], 0.5)
    long = GroundTruth(fps=10.0, frames=10_001, size=(64, 36), pose=[(0, 0, 0, 1)] * 10_001)
    with pytest.raises(FramesigError, match="at most 10000 frames"):
        most_covered(long)
    with pytest.raises(FramesigError, match="a pose a frame"):
        most_covered(GroundTruth(fps=10.0, frames=3, size=(64, 36), pose=[(0, 0, 0, 1)]))


def test_most_covered_refuses_what_it_cannot_take(monkeypatch) -> None:
    still = [(0.0, 0.0, 0.0, 1.0)] * 50
    ok = GroundTruth(fps=10.0, frames=50, size=(64, 36), pose=still)
    assert most_covered(ok).tolist() == [50]  # one run covers a still hover
    for bad, match in (
        (GroundTruth(fps=10.0, frames=50, size=(0, 0), pose=still), "size must be"),
        (GroundTruth(fps=10.0, frames=2, size=(64, 36), pose=[(0, 0, 0)] * 2), "each pose"),
        (GroundTruth(fps=10.0, frames=5.0, size=(64, 36), pose=still[:5]), "frames"),  # type: ignore[arg-type]
    ):
        with pytest.raises(FramesigError, match=match):
            most_covered(bad)
    with pytest.raises(FramesigError, match="max_runs"):
        most_covered(ok, max_runs=2.5)  # type: ignore[arg-type]
    for fps in (float("inf"), float("nan"), 0.0):
        with pytest.raises(FramesigError, match="finite frame rate"):
            fewest_runs([GroundTruth(fps=fps, frames=50, size=(64, 36), pose=still)], 0.5)
    with pytest.raises(FramesigError, match="coverage"):
        fewest_runs(iter([ok]), "1")  # type: ignore[arg-type]
    assert fewest_runs(iter([ok]), 1.0)[0] == 1  # any iterable of flights
    import framesig.evaluate as ev

    monkeypatch.setattr(ev, "MOST_COVERED_WORK", 50 * 2499)  # a still hover: 50 x 2500
    with pytest.raises(FramesigError, match="50 frames with 2500 overlapping pairs"):
        most_covered(ok)
    apart = [(k * 1e5, 0.0, 0.0, 1.0) for k in range(50)]  # no two frames overlap
    spread = GroundTruth(fps=10.0, frames=50, size=(64, 36), pose=apart)
    monkeypatch.setattr(ev, "MOST_COVERED_WORK", 1250 * 10)  # 10 runs of 50^2 / 2
    with pytest.raises(FramesigError, match="takes more than 10 runs"):
        most_covered(spread)
    assert most_covered(spread, max_runs=10).tolist() == list(range(1, 11))


def test_cut_f1() -> None:
    assert cut_f1([], []) == CutScore(0, 0, 0) and cut_f1([], []).f1 == 1.0
    assert cut_f1([5, 9], [5, 9]).f1 == 1.0
    assert (cut_f1([6], [5]).f1, cut_f1([6], [5], tolerance=1).f1) == (0.0, 1.0)
    # one to one: two predictions near one cut are one hit and one false cut
    assert cut_f1([4, 6], [5], tolerance=1) == CutScore(1, 1, 0)
    assert cut_f1([3, 4], [4, 5], tolerance=1) == CutScore(2, 0, 0)
    assert cut_f1([10], []).precision == 0.0 and cut_f1([], [10]).recall == 0.0
    assert cut_f1([1], [1]) + cut_f1([9], []) == CutScore(1, 1, 0)
    with pytest.raises(FramesigError):
        cut_f1([1], [1], tolerance=-1)


def test_frames_at_times_follows_variable_rate() -> None:
    pts = [0.0, 1 / 24, 3 / 24, 4 / 24, 6 / 24]  # every third frame of 24 fps dropped
    assert frames_at_times([0.0, 0.125, 0.17, 0.26], pts) == [0, 2, 3, 4]


# -- framesig on the small flight set ---------------------------------------------------------


def test_framesig_on_small_flights(small_flights: list[flightset.Flight]) -> None:
    """Sane floors on three small flights (well under what the full set reaches)."""
    scores = []
    for fl in small_flights:
        lab = Labelling.from_signature(framesig.summarize(fl.video))
        assert len(lab) == fl.truth.frames, fl.name
        sc = score(fl.truth, lab)
        scores.append(sc)
        assert sc.hits(("flash", "exposure")) == 0, fl.name
        assert sc.hover_stability >= 0.95, fl.name
        assert sc.coverage >= 0.9, fl.name
    p = pool(scores)
    assert p.false_per_minute <= 1.0
    assert p.revisit_f1 >= 0.8
    assert p.boundary_f1 >= 0.8
    # framesig recognises returns; a one-state-per-scene detector cannot
    assert p.revisit_tp > 0 and p.states < p.runs


def test_small_set_is_a_flight_set(small_flights: list[flightset.Flight]) -> None:
    for fl in small_flights:
        assert fl.video.exists() and Path(f"{fl.video}.truth.json").exists()
        assert fl.truth.fps == flightset.SIZES["small"].fps
        assert fl.truth.size == flightset.SIZES["small"].frame
