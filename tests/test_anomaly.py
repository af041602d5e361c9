"""Injected anomalies (an unplanned detour, a blackout, a blur burst, dropped frames) are
flagged with the right time ranges; precision and recall per kind over generated flights.

Event matching: a flagged anomaly of the right kind matches an injected one when their time
ranges overlap with IoU >= 0.5. Clean flights count toward precision (false alarms)."""

from __future__ import annotations

import flightgen as fg
import numpy as np
import pytest

from framesig.anomaly import AnomalyReport, FrameProfile, detect, frame_profile, within_flight

FPS = fg.FPS
H, T = int(fg.HOVER_S * FPS), int(fg.TRANSIT_S * FPS)


def _seg_start(k: int) -> int:
    """First frame of segment k of a route plan (hovers at even k, transits at odd k)."""
    return (k // 2) * (H + T) + (k % 2) * H


# Flights of the east route (4, 6, 5, 4) with a detour inserted and perturbations placed
# at different moments: (route, detour place index in route, injected).
CASES = {
    "detour-1": (
        (4, 6, 8, 5, 4),
        2,
        (
            fg.Injected("blackout", 10, 17),
            fg.Injected("blur", _seg_start(6) + 8, _seg_start(6) + 14),
            fg.Injected("drop", _seg_start(8) + 5, _seg_start(8) + 8),
        ),
    ),
    "detour-2": (
        (4, 7, 6, 5, 4),
        1,
        (
            fg.Injected("blur", _seg_start(0) + 6, _seg_start(0) + 13),
            fg.Injected("blackout", _seg_start(6) + 4, _seg_start(6) + 15),
            fg.Injected("drop", _seg_start(4) + 9, _seg_start(4) + 10),
        ),
    ),
}
KIND = {"detour": "new_state", "blackout": "blackout", "blur": "blur", "drop": "decode_gap"}


def _truth(route, detour_at, injected):
    spans = {
        "detour": [((_seg_start(2 * detour_at - 1)) / FPS, _seg_start(2 * detour_at + 2) / FPS)]
    }
    for inj in injected:
        spans.setdefault(inj.kind, []).append((inj.first / FPS, (inj.last + 1) / FPS))
    return spans


@pytest.fixture(scope="module")
def evaluated():
    flights = fg.flight_set()
    refs = [f.signature for f in flights if f.name.startswith("east")]
    rows = []
    for name, (route, at, injected) in CASES.items():
        f = fg.flight(name, route, seed=50 + len(rows), injected=injected)
        rep = detect(f.signature, refs, profile=frame_profile(f.video))
        rows.append((name, rep, _truth(route, at, injected)))
    for f in flights:  # clean flights: anything flagged is a false alarm
        if f.name.startswith("east"):
            others = [r for r in refs if r is not f.signature]
            rep = detect(f.signature, others, profile=frame_profile(f.video))
            rows.append((f.name, rep, {}))
    return rows


def _precision_recall(rows, kind):
    tp = fn = fp = 0
    for _, rep, truth in rows:
        flagged = [(a.start_time, a.end_time) for a in rep.of_kind(KIND[kind])]
        spans = truth.get(kind, [])
        hit = [any(fg.interval_iou(s, f) >= 0.5 for f in flagged) for s in spans]
        tp += sum(hit)
        fn += len(hit) - sum(hit)
        fp += sum(not any(fg.interval_iou(s, f) >= 0.5 for s in spans) for f in flagged)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, tp, fp, fn


@pytest.mark.parametrize("kind", ["detour", "blackout", "blur", "drop"])
def test_injected_anomalies_are_flagged_at_the_right_times(evaluated, kind, capsys):
    precision, recall, tp, fp, fn = _precision_recall(evaluated, kind)
    with capsys.disabled():
        print(
            f"\n  {kind:9s} precision {precision:.2f} recall {recall:.2f} (tp {tp} fp {fp} fn {fn})"
        )
    assert tp == len(CASES)
    assert recall == 1.0 and precision == 1.0


def test_clean_flights_raise_no_alarm_and_reports_round_trip(evaluated):
    for name, rep, truth in evaluated:
        assert AnomalyReport.from_json(rep.to_json()) == rep
        assert rep.profiled
        if not truth:
            assert rep.anomalies == (), (name, rep.anomalies)
        for a in rep.anomalies:
            assert 0 <= a.score <= 1 and a.start_time < a.end_time, a


def test_missing_place_and_order_against_a_reference():
    flights = fg.flight_set()
    refs = [f.signature for f in flights if f.name.startswith("east")]
    skipped = fg.flight("east-skip6", (4, 5, 4), seed=61)
    rep = detect(skipped.signature, refs)
    assert not rep.profiled
    (miss,) = rep.of_kind("missing_state")
    # place 6 was due between the hover at 4 and the hover at 5
    assert miss.start_time == pytest.approx(skipped.hover_spans(4)[0][1], abs=0.6)
    assert miss.end_time == pytest.approx(skipped.hover_spans(5)[0][0], abs=0.6)
    swapped = fg.flight("east-reordered", (4, 5, 6, 4), seed=41)
    rep = detect(swapped.signature, refs)
    assert rep.of_kind("order") and not rep.of_kind("missing_state")
    assert detect(swapped.signature, []).anomalies == ()


def test_exposure_jump_and_profile_edges():
    t = np.arange(60) / 10.0
    luma = np.full(60, 0.4, np.float32)
    luma[30:] = 0.6  # a 50 % step that stays
    prof = FrameProfile(t, luma, np.full(60, 0.01, np.float32), 0.1)
    (jump,) = within_flight(prof)
    assert jump.kind == "exposure_jump" and jump.start_time == pytest.approx(3.0)
    # a constant flight has nothing
    flat = FrameProfile(t, np.full(60, 0.4, np.float32), np.full(60, 0.01, np.float32), 0.1)
    assert within_flight(flat) == []
