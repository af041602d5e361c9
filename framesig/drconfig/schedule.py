"""Earliest-start schedule and critical path over ``start_after`` (critical-path method).

A step starts when the last of its ``start_after`` steps finishes; steps without
dependencies start at T+0. The critical-path length is the latest finish. Steps with zero
slack (delaying them delays the whole checklist) are marked critical.

Examples
--------
>>> from framesig.drconfig.model import Step
>>> steps = [Step("a", "A", duration_s=300), Step("b", "B", duration_s=600, start_after=("a",)),
...          Step("c", "C", duration_s=60, start_after=("a",))]
>>> sch = schedule(steps)
>>> sch.total_s, sch.critical_path
(900, ('a', 'b'))
>>> [(s.step.id, s.start_s, s.finish_s, s.critical) for s in sch.steps]
[('a', 0, 300, True), ('b', 300, 900, True), ('c', 300, 360, False)]
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from framesig.drconfig.model import Step

__all__ = ["GraphError", "ScheduledStep", "Schedule", "schedule", "topological_order"]


class GraphError(ValueError):
    """The step graph cannot be scheduled: duplicate ids, unknown references or a cycle."""


@dataclass(frozen=True)
class ScheduledStep:
    """A step with its earliest start/finish (seconds from T+0) and slack."""

    step: Step
    start_s: int
    finish_s: int
    slack_s: int

    @property
    def critical(self) -> bool:
        """Whether the step has no slack (it lies on a longest path)."""
        return self.slack_s == 0


@dataclass(frozen=True)
class Schedule:
    """Steps in dependency order with times, the total length and one critical path."""

    steps: tuple[ScheduledStep, ...]
    total_s: int
    critical_path: tuple[str, ...]

    def get(self, step_id: str) -> ScheduledStep:
        """The scheduled entry for ``step_id`` (``KeyError`` if absent)."""
        for s in self.steps:
            if s.step.id == step_id:
                return s
        raise KeyError(step_id)


def topological_order(steps: Sequence[Step]) -> tuple[Step, ...]:
    """Order steps so each comes after its ``start_after`` steps.

    Among steps that are ready at the same time, declaration order wins, so a checklist
    whose dependencies all point backwards keeps its written order.

    Raises
    ------
    GraphError
        On duplicate ids, references to unknown steps, or a cycle.

    Examples
    --------
    >>> from framesig.drconfig.model import Step
    >>> [s.id for s in topological_order([Step("b", "B", start_after=("a",)), Step("a", "A")])]
    ['a', 'b']
    """
    index: dict[str, int] = {}
    for i, s in enumerate(steps):
        if s.id in index:
            raise GraphError(f"duplicate step id {s.id!r}")
        index[s.id] = i
    indegree = [0] * len(steps)
    children: list[list[int]] = [[] for _ in steps]
    for i, s in enumerate(steps):
        for dep in dict.fromkeys(s.start_after):
            if dep not in index:
                raise GraphError(f"step {s.id!r} starts after unknown step {dep!r}")
            indegree[i] += 1
            children[index[dep]].append(i)
    ready = [i for i, d in enumerate(indegree) if d == 0]
    heapq.heapify(ready)
    out: list[Step] = []
    while ready:
        i = heapq.heappop(ready)
        out.append(steps[i])
        for c in children[i]:
            indegree[c] -= 1
            if indegree[c] == 0:
                heapq.heappush(ready, c)
    if len(out) != len(steps):
        stuck = [steps[i].id for i, d in enumerate(indegree) if d > 0]
        raise GraphError(f"start_after has a cycle through {', '.join(stuck)}")
    return tuple(out)


def schedule(steps: Sequence[Step], *, use_timeouts: bool = False) -> Schedule:
    """Compute the earliest-start schedule and critical path of a step graph.

    Parameters
    ----------
    steps : sequence of Step
        One direction's steps (failover or failback).
    use_timeouts : bool
        Count each step at its ``timeout_s`` where set (worst case) instead of ``duration_s``.

    Returns
    -------
    Schedule
        Steps in :func:`topological_order` with start/finish/slack; ``total_s`` is the
        critical-path length (0 for no steps).

    Raises
    ------
    GraphError
        If the graph is not a well-formed DAG.

    Examples
    --------
    >>> from framesig.drconfig.model import Step
    >>> schedule([Step("a", "A", duration_s=60, timeout_s=600)], use_timeouts=True).total_s
    600
    """
    order = topological_order(steps)

    def dur(s: Step) -> int:
        if use_timeouts and s.timeout_s is not None:
            return max(s.timeout_s, s.duration_s)
        return s.duration_s

    by_id = {s.id: s for s in order}
    start: dict[str, int] = {}
    finish: dict[str, int] = {}
    for s in order:
        start[s.id] = max((finish[d] for d in s.start_after), default=0)
        finish[s.id] = start[s.id] + dur(s)
    total = max(finish.values(), default=0)

    # Backward pass: latest finish without delaying the total.
    successors: dict[str, list[str]] = {s.id: [] for s in order}
    for s in order:
        for d in dict.fromkeys(s.start_after):
            successors[d].append(s.id)
    latest_finish: dict[str, int] = {}
    for s in reversed(order):
        latest_finish[s.id] = min(
            (latest_finish[c] - dur(by_id[c]) for c in successors[s.id]), default=total
        )
    scheduled = tuple(
        ScheduledStep(s, start[s.id], finish[s.id], latest_finish[s.id] - finish[s.id])
        for s in order
    )

    path: list[str] = []
    if order:
        pos = {s.id: i for i, s in enumerate(order)}
        # End at the last step (in order) that finishes at the total, so zero-length
        # trailing steps stay on the path.
        current: Step | None = max(
            (s for s in order if finish[s.id] == total), key=lambda s: pos[s.id]
        )
        while current is not None:
            path.append(current.id)
            preds = [d for d in current.start_after if finish[d] == start[current.id]]
            current = by_id[min(preds, key=pos.__getitem__)] if preds else None
        path.reverse()
    return Schedule(scheduled, total, tuple(path))
