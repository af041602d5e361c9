"""Critical path over start_after: examples and hypothesis properties."""

from __future__ import annotations

from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framesig.drconfig.model import Step
from framesig.drconfig.schedule import GraphError, schedule, topological_order


def _s(i: str, d: int, after: tuple[str, ...] = (), timeout: int | None = None) -> Step:
    return Step(id=i, title=i.upper(), duration_s=d, start_after=after, timeout_s=timeout)


def test_empty() -> None:
    sch = schedule([])
    assert sch.total_s == 0 and sch.steps == () and sch.critical_path == ()


def test_diamond() -> None:
    steps = [_s("a", 60), _s("b", 600, ("a",)), _s("c", 60, ("a",)), _s("d", 30, ("b", "c"))]
    sch = schedule(steps)
    assert sch.total_s == 690
    assert sch.critical_path == ("a", "b", "d")
    assert sch.get("c").start_s == 60 and sch.get("c").slack_s == 540
    assert [e.step.id for e in sch.steps if e.critical] == ["a", "b", "d"]
    assert sch.get("d").start_s == 660


def test_timeouts_count_in_worst_case() -> None:
    steps = [_s("a", 60, timeout=600), _s("b", 60, ("a",))]
    assert schedule(steps).total_s == 120
    assert schedule(steps, use_timeouts=True).total_s == 660


def test_order_keeps_declaration_order_when_possible() -> None:
    steps = [_s("a", 1), _s("b", 1), _s("c", 1, ("a",)), _s("d", 1)]
    assert [s.id for s in topological_order(steps)] == ["a", "b", "c", "d"]
    steps = [_s("c", 1, ("a",)), _s("a", 1)]
    assert [s.id for s in topological_order(steps)] == ["a", "c"]


@pytest.mark.parametrize(
    ("steps", "match"),
    [
        ([_s("a", 1), _s("a", 1)], "duplicate"),
        ([_s("a", 1, ("zz",))], "unknown step 'zz'"),
        ([_s("a", 1, ("b",)), _s("b", 1, ("a",))], "cycle"),
        ([_s("a", 1, ("a",))], "cycle"),
    ],
)
def test_graph_errors(steps: list[Step], match: str) -> None:
    with pytest.raises(GraphError, match=match):
        schedule(steps)


@st.composite
def dags(draw: st.DrawFn) -> list[Step]:
    n = draw(st.integers(min_value=0, max_value=12))
    durations = draw(st.lists(st.integers(0, 100_000), min_size=n, max_size=n))
    steps = []
    for i in range(n):
        deps = draw(st.lists(st.sampled_from(range(i)), unique=True)) if i else []
        steps.append(_s(f"s{i}", durations[i], tuple(f"s{j}" for j in deps)))
    return draw(st.permutations(steps))


def _longest(steps: list[Step]) -> int:
    by_id = {s.id: s for s in steps}

    @cache
    def finish(i: str) -> int:
        s = by_id[i]
        return s.duration_s + max((finish(d) for d in s.start_after), default=0)

    return max((finish(s.id) for s in steps), default=0)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(dags())
def test_critical_path_never_exceeds_sum(steps: list[Step]) -> None:
    sch = schedule(steps)
    assert sch.total_s <= sum(s.duration_s for s in steps)
    assert sch.total_s >= max((s.duration_s for s in steps), default=0)
    assert sch.total_s == _longest(steps)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(dags())
def test_schedule_is_earliest_and_path_is_consistent(steps: list[Step]) -> None:
    sch = schedule(steps)
    pos = {e.step.id: i for i, e in enumerate(sch.steps)}
    for e in sch.steps:
        deps = [sch.get(d) for d in e.step.start_after]
        assert all(pos[d.step.id] < pos[e.step.id] for d in deps)
        assert e.start_s == max((d.finish_s for d in deps), default=0)
        assert e.finish_s == e.start_s + e.step.duration_s
        assert 0 <= e.slack_s <= sch.total_s
    path = [sch.get(i) for i in sch.critical_path]
    if steps:
        assert path[0].start_s == 0 and path[-1].finish_s == sch.total_s
        assert sum(e.step.duration_s for e in path) == sch.total_s
        assert all(e.critical for e in path)
        for prev, nxt in zip(path, path[1:], strict=False):
            assert prev.step.id in nxt.step.start_after
            assert prev.finish_s == nxt.start_s


@settings(derandomize=True, max_examples=200)
@given(st.lists(st.integers(0, 100_000), max_size=15))
def test_chain_equals_sum(durations: list[int]) -> None:
    steps = [_s(f"s{i}", d, (f"s{i - 1}",) if i else ()) for i, d in enumerate(durations)]
    sch = schedule(steps)
    assert sch.total_s == sum(durations)
    assert sch.critical_path == tuple(s.id for s in steps)


@settings(derandomize=True, max_examples=200)
@given(st.lists(st.integers(0, 100_000), max_size=15))
def test_parallel_equals_max(durations: list[int]) -> None:
    steps = [_s(f"s{i}", d) for i, d in enumerate(durations)]
    assert schedule(steps).total_s == max(durations, default=0)
