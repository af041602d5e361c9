"""The failure-function automaton against brute force."""

from __future__ import annotations

import reference as ref
from hypothesis import given
from hypothesis import strategies as st

from framesig import automaton

strings = st.lists(st.integers(0, 3), min_size=0, max_size=40)


@given(strings)
def test_failure_function_matches_brute_force(s):
    assert automaton.failure_function(s).tolist() == ref.failure_function(s)


@given(strings)
def test_online_failure_function_equals_batch(s):
    ff = automaton.FailureFunction()
    for x in s:
        ff.push(x)
    assert ff.table == automaton.failure_function(s).tolist()


@given(strings, st.lists(st.integers(0, 3), min_size=1, max_size=5))
def test_find_matches_brute_force(text, pattern):
    assert automaton.find(text, pattern) == ref.find(text, pattern)


def _is_tandem(s, start, period, count):
    block = s[start : start + period]
    return count >= 2 and all(
        s[start + k * period : start + (k + 1) * period] == block for k in range(count)
    )


@given(st.lists(st.integers(0, 4), min_size=0, max_size=30))
def test_loops_are_real_tandem_repeats_and_maximal(s):
    for lp in automaton.loops(s, min_period=1):
        assert _is_tandem(s, lp.start, lp.period, lp.count)
        assert lp.length == lp.period * lp.count
        assert list(lp.pattern) == s[lp.start : lp.start + lp.period]
        # maximal to the right: one more copy would not match
        assert not _is_tandem(s, lp.start, lp.period, lp.count + 1)


@given(st.lists(st.integers(0, 4), min_size=0, max_size=30))
def test_every_square_is_covered_by_some_loop(raw):
    """Brute force: each square (ww) in a run-collapsed string lies in a reported loop."""
    s = automaton.collapse_runs(raw).tolist()
    found = automaton.loops(s, min_period=2)
    n = len(s)
    for p in range(2, n // 2 + 1):
        for i in range(n - 2 * p + 1):
            if s[i : i + p] == s[i + p : i + 2 * p]:
                assert any(
                    lp.start <= i and i + 2 * p <= lp.start + lp.length + lp.period - 1
                    for lp in found
                ), (s, i, p)


def test_patrol_loop_found_with_period_and_count():
    route = [9, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 8]
    (lp,) = automaton.loops(route)
    assert (lp.start, lp.period, lp.count, lp.pattern) == (1, 4, 3, (1, 2, 3, 4))


@given(st.lists(st.integers(0, 3), min_size=0, max_size=30), st.integers(2, 5))
def test_recurrences_occur_twice_without_overlap(s, min_length):
    for r in automaton.recurrences(s, min_length=min_length):
        assert r.length >= min_length
        assert s[r.first : r.first + r.length] == s[r.later : r.later + r.length]
        assert r.later >= r.first + r.length


def test_recurrence_of_a_route_flown_again_later():
    s = [0, 5, 6, 7, 1, 2, 5, 6, 7, 3]
    assert [(r.first, r.later, r.length) for r in automaton.recurrences(s)] == [(1, 6, 3)]


def test_collapse_runs_and_graph():
    assert automaton.collapse_runs([1, 1, 2, 2, 1]).tolist() == [1, 2, 1]
    assert automaton.transition_graph([1, 2, 1, 2]) == {(1, 2): 2, (2, 1): 1}
    assert automaton.collapse_runs([]).tolist() == []
