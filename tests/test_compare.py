"""compare and repeats: the alignment kernel against a reference, and the flight set with
known routes (same-route pairs above different-route pairs, the patrol's period)."""

from __future__ import annotations

import itertools

import flightgen as fg
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from framesig.compare import (
    Comparison,
    _lis_keep,
    compare,
    local_alignment,
    repeats,
)


def _sw_reference(score, gap):
    n, m = score.shape
    h = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            h[i, j] = max(
                0.0,
                h[i - 1, j - 1] + score[i - 1, j - 1],
                h[i - 1, j] - gap,
                h[i, j - 1] - gap,
            )
    return h


scores = st.tuples(st.integers(1, 9), st.integers(1, 9)).flatmap(
    lambda s: arrays(np.float64, s, elements=st.sampled_from([-1.0, -0.5, 1.0, 1.5, 2.0]))
)


@given(scores, st.sampled_from([0.0, 0.3, 0.6, 1.0]))
def test_smith_waterman_kernel_matches_reference(score, gap):
    best, pairs, h = local_alignment(score, gap)
    ref = _sw_reference(score, gap)
    np.testing.assert_allclose(h, ref)
    assert best == pytest.approx(ref.max())
    # the path is increasing in both flights and its diagonal steps score what it says
    assert all(a[0] < b[0] and a[1] < b[1] for a, b in itertools.pairwise(pairs))
    if pairs:
        i0, j0 = pairs[0]
        i1, j1 = pairs[-1]
        skipped = (i1 - i0 + 1 - len(pairs)) + (j1 - j0 + 1 - len(pairs))
        assert sum(score[i, j] for i, j in pairs) - gap * skipped == pytest.approx(best)


@given(st.lists(st.integers(0, 30), max_size=30))
def test_longest_increasing_subsequence(values):
    keep = sorted(_lis_keep(values))
    kept = [values[k] for k in keep]
    assert all(a < b for a, b in itertools.pairwise(kept))
    # as long as the quadratic DP says
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    assert len(kept) == (max(best) if values else 0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="2-D"):
        local_alignment(np.zeros(3))
    with pytest.raises(ValueError, match="gap"):
        local_alignment(np.zeros((2, 2)), -1.0)


@pytest.fixture(scope="module")
def flights():
    return fg.flight_set()


def test_same_route_pairs_score_far_above_different_routes(flights):
    same, different = [], []
    for a, b in itertools.combinations(flights, 2):
        sim = compare(a.signature, b.signature).similarity
        assert sim == pytest.approx(compare(b.signature, a.signature).similarity, abs=0.02)
        (same if a.name.split("-")[0] == b.name.split("-")[0] else different).append(sim)
    # ranking on the whole set: every same-route pair above every different-route pair
    assert min(same) > max(different) + 0.2, (same, different)
    assert min(same) > 0.5
    # different routes share at most a place (east and west both hover at place 5)
    assert max(different) < 0.35


def test_compare_reports_segments_and_differences(flights):
    east, west = flights[2], flights[4]
    c = compare(east.signature, west.signature)
    assert Comparison.from_json(c.to_json()) == c
    # they share only place 5: one shared segment at the times both hovered there
    (seg,) = c.shared
    (e5,) = east.hover_spans(5)
    (w5,) = west.hover_spans(5)
    assert fg.interval_iou((seg.a_start, seg.a_end), e5) > 0.7
    assert fg.interval_iou((seg.b_start, seg.b_end), w5) > 0.7
    # what east saw that west never did: its hovers at 4 and 6
    only_east = [u for u in c.only_a if u.dwell]
    covered = [span for u in only_east for span in u.ranges]
    for place in (4, 6):
        for span in east.hover_spans(place):
            assert any(fg.interval_iou(span, r) > 0.6 for r in covered), (place, span, covered)
    assert c.order_changes == ()


def test_patrol_repeats_shared_and_flown_again(flights):
    a, b = flights[0], flights[1]
    c = compare(a.signature, b.signature)
    (seg,) = c.shared
    # the two-cycle flight B is flown inside the three-cycle flight A, at two offsets (KMP)
    assert len(seg.a_flown) == 2 and len(seg.b_flown) == 1
    assert not [u for u in c.only_a if u.dwell] and not [u for u in c.only_b if u.dwell]


def test_order_change_is_found(flights):
    reordered = fg.flight("east-reordered", (4, 5, 6, 4), seed=41)
    c = compare(flights[2].signature, reordered.signature)
    moved = {oc.a_state for oc in c.order_changes}
    assert len(c.order_changes) == 1
    sig = flights[2].signature
    moved_places = {
        seg["place"]
        for seg in flights[2].truth.hovers()
        if sig.state_at(sum(flights[2].segment_span(int(str(seg["index"])))) / 2) in moved
    }
    assert moved_places <= {5, 6}


def test_patrol_found_with_the_right_period_count_and_times(flights):
    a, b = flights[0], flights[1]
    for f, cycles in ((a, 3), (b, 2)):
        patrols = [p for p in repeats(f.signature) if p.basis == "dwells"]
        (p,) = patrols
        assert p.period == 3 and p.count == cycles
        # cycle k starts at the k-th hover at place 0, ends with the last hover at place 2
        starts = [lo for lo, _ in f.hover_spans(0)]
        assert np.allclose(p.cycle_starts, starts[:cycles], atol=0.6)
        assert p.end_time == pytest.approx(f.hover_spans(2)[cycles - 1][1], abs=0.6)
    # routes flown once hold no patrol
    assert not [p for p in repeats(flights[2].signature) if p.basis == "dwells"]
