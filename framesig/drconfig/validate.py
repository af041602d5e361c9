"""Validate a plan and return every finding at once (code, severity, location, message).

Rules (see ``docs/drconfig.md`` for the full table):

========  ==================================================================================
DR001     band sanity: ``min <= max`` (error), zero objective (warning), Region target present
DR002     secondary region equals the documented (directed) pair of the primary
DR003     RPO floor: declared replication interval within the Region RPO for in-scope services
DR004     RTO: failover critical path (earliest finish over ``start_after``) within Region RTO
DR005     well-formed graphs: unique ids, references resolve, no cycles (steps and services)
DR006     failover steps, failback steps, failover and failback criteria are present
DR007     test cadence declared and the last test not overdue (relative to ``today``)
DR008     a ``canary`` step precedes (is an ancestor of) every ``traffic_enable`` step
DR009     every service is acted on by at least one failover step
DR010     standby approaches declare IaC and identity/policy parity
DR011     a ``model_endpoint`` is outside every RPO scope and has a degradation mode
DR012     approach consistent with the targets (heuristic, warning)
DR013     step timing: timeout not below duration, non-zero durations
========  ==================================================================================

Locations are paths into the plan file, e.g. ``stamps[web].failover[3].start_after``
(stamps named by id, list indexes 0-based).

Examples
--------
>>> from framesig.drconfig.load import seed_plan
>>> report = validate(seed_plan())
>>> report.ok, len(report.errors), len(report.warnings)
(True, 0, 0)
"""

from __future__ import annotations

import datetime as _dt
import graphlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from framesig.drconfig.durations import format_duration
from framesig.drconfig.model import (
    STANDBY_APPROACHES,
    TAG_CANARY,
    TAG_TRAFFIC_ENABLE,
    Approach,
    Direction,
    Disruption,
    Plan,
    ServiceKind,
    Stamp,
    Step,
)
from framesig.drconfig.regions import is_known_region, normalize_region, paired_region
from framesig.drconfig.schedule import GraphError, schedule

__all__ = ["Severity", "Finding", "Report", "RULES", "validate", "validate_stamp"]


class Severity(StrEnum):
    """How bad a finding is. Only errors fail ``dr validate`` (warnings too with ``--strict``)."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


#: Rule code -> one-line description.
RULES: dict[str, str] = {
    "DR001": "RTO/RPO bands are sane (0 <= min <= max, non-zero objective, Region target present)",
    "DR002": "secondary region is the documented pair of the primary (directed lookup)",
    "DR003": "declared replication interval within the Region RPO for services in scope",
    "DR004": "failover critical path within the Region RTO",
    "DR005": "step and service graphs are well-formed (unique ids, references resolve, acyclic)",
    "DR006": "failover and failback steps and criteria are present",
    "DR007": "test cadence is declared and the last test is not overdue",
    "DR008": "a canary step precedes every traffic-enabling step",
    "DR009": "every service is covered by a failover step",
    "DR010": "standby approaches declare IaC and identity/policy parity",
    "DR011": "model endpoints are outside RPO scope and have a degradation mode",
    "DR012": "approach is consistent with the targets (heuristic)",
    "DR013": "step timeouts are not below durations; durations are non-zero",
}


@dataclass(frozen=True)
class Finding:
    """One validation finding.

    Examples
    --------
    >>> str(Finding("DR006", Severity.ERROR, "stamps[web].failback", "no failback steps"))
    'stamps[web].failback: error DR006: no failback steps'
    """

    code: str
    severity: Severity
    loc: str
    message: str

    def __str__(self) -> str:
        return f"{self.loc}: {self.severity.value} {self.code}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready mapping."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "loc": self.loc,
            "message": self.message,
        }


@dataclass(frozen=True)
class Report:
    """All findings of one validation run, in rule order per stamp."""

    findings: tuple[Finding, ...]

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def _of(self, sev: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is sev)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Findings of severity error."""
        return self._of(Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Findings of severity warning."""
        return self._of(Severity.WARNING)

    @property
    def infos(self) -> tuple[Finding, ...]:
        """Findings of severity info (never fail a run)."""
        return self._of(Severity.INFO)

    @property
    def ok(self) -> bool:
        """Whether there are no errors."""
        return not self.errors

    def codes(self) -> set[str]:
        """The set of rule codes that fired."""
        return {f.code for f in self.findings}

    def at(self, code: str) -> tuple[str, ...]:
        """Locations of the findings with ``code``."""
        return tuple(f.loc for f in self.findings if f.code == code)

    def for_stamp(self, stamp_id: str) -> Report:
        """Only the findings located inside ``stamps[stamp_id]``."""
        prefix = f"stamps[{stamp_id}]"
        return Report(tuple(f for f in self.findings if f.loc.startswith(prefix)))

    def exit_code(self, strict: bool = False) -> int:
        """``1`` if there are errors (or warnings when ``strict``), else ``0``."""
        return 1 if self.errors or (strict and self.warnings) else 0


class _Collector:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def add(self, code: str, sev: Severity, loc: str, msg: str) -> None:
        self.items.append(Finding(code, sev, loc, msg))

    def error(self, code: str, loc: str, msg: str) -> None:
        self.add(code, Severity.ERROR, loc, msg)

    def warn(self, code: str, loc: str, msg: str) -> None:
        self.add(code, Severity.WARNING, loc, msg)

    def info(self, code: str, loc: str, msg: str) -> None:
        self.add(code, Severity.INFO, loc, msg)


def _fd(seconds: int) -> str:
    return format_duration(seconds)


def validate(plan: Plan, *, today: _dt.date | None = None) -> Report:
    """Check a plan against every rule and return all findings.

    Parameters
    ----------
    plan : Plan
        The plan to check.
    today : datetime.date, optional
        Reference date for the test-cadence rule (default ``date.today()``).

    Returns
    -------
    Report
        All findings; ``report.ok`` is true when none is an error.

    Examples
    --------
    >>> from framesig.drconfig.model import Plan
    >>> [str(f) for f in validate(Plan(stamps=()))]
    ['stamps: error DR006: the plan has no stamps']
    """
    out = _Collector()
    if not plan.stamps:
        out.error("DR006", "stamps", "the plan has no stamps")
    seen: dict[str, int] = {}
    for i, stamp in enumerate(plan.stamps):
        if stamp.id in seen:
            out.error(
                "DR005",
                f"stamps[{i}].id",
                f"duplicate stamp id {stamp.id!r} (first at stamps[{seen[stamp.id]}])",
            )
            continue
        seen[stamp.id] = i
        out.items.extend(validate_stamp(stamp, today=today).findings)
    return Report(tuple(out.items))


def validate_stamp(stamp: Stamp, *, today: _dt.date | None = None) -> Report:
    """Check one stamp (all rules except plan-level ones).

    Examples
    --------
    >>> from framesig.drconfig.load import seed_plan
    >>> validate_stamp(seed_plan().stamp("genai")).ok
    True
    """
    out = _Collector()
    today = today or _dt.date.today()
    here = f"stamps[{stamp.id}]"
    _bands(stamp, here, out)
    _region_pair(stamp, here, out)
    _graphs(stamp, here, out)
    _rpo_floor(stamp, here, out)
    _rto_path(stamp, here, out)
    _presence(stamp, here, out)
    _testing(stamp, here, out, today)
    _canary(stamp, here, out)
    _coverage(stamp, here, out)
    _posture(stamp, here, out)
    _model_endpoint(stamp, here, out)
    _approach_heuristic(stamp, here, out)
    _step_timing(stamp, here, out)
    order = {code: n for n, code in enumerate(RULES)}
    return Report(tuple(sorted(out.items, key=lambda f: order.get(f.code, len(order)))))


def _bands(stamp: Stamp, here: str, out: _Collector) -> None:
    if stamp.target(Disruption.REGION) is None:
        out.error(
            "DR001",
            f"{here}.targets",
            "no Region target: declare [stamps.targets.Region] rto/rpo bands",
        )
    for d, t in stamp.targets:
        for name, band in (("rto", t.rto), ("rpo", t.rpo)):
            loc = f"{here}.targets.{d.value}.{name}"
            if band.min_s < 0 or band.max_s < 0:
                out.error("DR001", loc, "band values must not be negative")
            elif band.min_s > band.max_s:
                out.error(
                    "DR001",
                    loc,
                    f"min {_fd(band.min_s)} is above max {_fd(band.max_s)}",
                )
            elif band.max_s == 0:
                out.warn(
                    "DR001",
                    loc,
                    f"a zero {name.upper()} objective can never be met in practice",
                )


def _region_pair(stamp: Stamp, here: str, out: _Collector) -> None:
    primary = normalize_region(stamp.primary_region)
    secondary = normalize_region(stamp.secondary_region) if stamp.secondary_region else None
    if not is_known_region(primary):
        sev = Severity.ERROR if stamp.use_region_pair else Severity.WARNING
        out.add(
            "DR002",
            sev,
            f"{here}.primary_region",
            f"{primary!r} is not in framesig's region table; its pair cannot be checked",
        )
        if stamp.use_region_pair:
            return
    if secondary is None:
        out.error(
            "DR002",
            f"{here}.secondary_region",
            f"{primary} has no documented pair; declare secondary_region and set "
            "use_region_pair = false",
        )
        return
    if secondary == primary:
        out.error("DR002", f"{here}.secondary_region", "secondary region equals the primary region")
        return
    if stamp.use_region_pair:
        pair = paired_region(primary)
        if pair is None:
            out.error(
                "DR002",
                f"{here}.primary_region",
                f"{primary} has no documented pair; set use_region_pair = false and choose "
                "a secondary explicitly",
            )
        elif pair != secondary:
            back = paired_region(secondary)
            hint = f" ({secondary} pairs one way to {primary})" if back == primary else ""
            out.error(
                "DR002",
                f"{here}.secondary_region",
                f"{secondary} is not the documented pair of {primary} (expected {pair}){hint}",
            )
    elif not is_known_region(secondary):
        out.warn(
            "DR002",
            f"{here}.secondary_region",
            f"{secondary!r} is not in framesig's region table",
        )


def _graphs(stamp: Stamp, here: str, out: _Collector) -> None:
    service_ids: dict[str, int] = {}
    for i, s in enumerate(stamp.services):
        if s.id in service_ids:
            out.error(
                "DR005",
                f"{here}.services[{i}].id",
                f"duplicate service id {s.id!r} (first at services[{service_ids[s.id]}])",
            )
        else:
            service_ids.setdefault(s.id, i)
    for i, s in enumerate(stamp.services):
        for dep in s.depends_on:
            if dep not in service_ids:
                out.error(
                    "DR005",
                    f"{here}.services[{i}].depends_on",
                    f"service {s.id!r} depends on unknown service {dep!r}",
                )
    svc_graph = {s.id: [d for d in s.depends_on if d in service_ids] for s in stamp.services}
    _cycle(svc_graph, f"{here}.services", "depends_on", out)

    step_dir: dict[str, tuple[Direction, int]] = {}
    for direction in Direction:
        for i, st in enumerate(stamp.steps(direction)):
            loc = f"{here}.{direction.value}[{i}]"
            if st.id in step_dir:
                d0, i0 = step_dir[st.id]
                out.error(
                    "DR005",
                    f"{loc}.id",
                    f"duplicate step id {st.id!r} (first at {d0.value}[{i0}])",
                )
            else:
                step_dir[st.id] = (direction, i)
    for direction in Direction:
        steps = stamp.steps(direction)
        for i, st in enumerate(steps):
            loc = f"{here}.{direction.value}[{i}]"
            for dep in st.start_after:
                if dep not in step_dir:
                    out.error(
                        "DR005",
                        f"{loc}.start_after",
                        f"step {st.id!r} starts after unknown step {dep!r}",
                    )
                elif step_dir[dep][0] is not direction:
                    out.error(
                        "DR005",
                        f"{loc}.start_after",
                        f"step {st.id!r} starts after {dep!r}, a {step_dir[dep][0].value} step; "
                        f"start_after must stay within {direction.value}",
                    )
            for sid in st.services:
                if sid not in service_ids:
                    out.error(
                        "DR005",
                        f"{loc}.services",
                        f"step {st.id!r} refers to unknown service {sid!r}",
                    )
        local = {st.id for st in steps}
        graph = {st.id: [d for d in st.start_after if d in local] for st in steps}
        _cycle(graph, f"{here}.{direction.value}", "start_after", out)
    for d, t in stamp.targets:
        for sid in t.scope:
            if sid not in service_ids:
                out.error(
                    "DR005",
                    f"{here}.targets.{d.value}.scope",
                    f"scope refers to unknown service {sid!r}",
                )
    for i, dg in enumerate(stamp.degradation):
        for sid in dg.services:
            if sid not in service_ids:
                out.error(
                    "DR005",
                    f"{here}.degradation[{i}].services",
                    f"degradation mode {dg.mode.value!r} refers to unknown service {sid!r}",
                )


def _cycle(graph: dict[str, list[str]], loc: str, what: str, out: _Collector) -> None:
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        out.error("DR005", loc, f"{what} has a cycle: {' -> '.join(reversed(cycle))}")


def _rpo_floor(stamp: Stamp, here: str, out: _Collector) -> None:
    t = stamp.target(Disruption.REGION)
    if t is None:
        return
    for i, s in enumerate(stamp.services):
        if not t.in_scope(s.id):
            continue
        loc = f"{here}.services[{i}].replication"
        mode = s.replication.mode
        interval = s.replication.interval_s
        if mode.value == "none":
            out.error(
                "DR003",
                f"{loc}.mode",
                f"service {s.id!r} has replication mode 'none' but is inside the Region RPO "
                "scope; replicate it or take it out of targets.Region.scope",
            )
        elif mode.needs_interval and interval is None:
            out.error(
                "DR003",
                f"{loc}.interval",
                f"service {s.id!r} replicates by {mode.value} but declares no interval, so "
                "its RPO floor is unknown",
            )
        elif mode.needs_interval and interval is not None:
            if interval > t.rpo.max_s:
                out.error(
                    "DR003",
                    f"{loc}.interval",
                    f"service {s.id!r} replicates every {_fd(interval)}, above the Region "
                    f"RPO objective {_fd(t.rpo.max_s)}",
                )
            elif interval > t.rpo.min_s:
                out.info(
                    "DR003",
                    f"{loc}.interval",
                    f"service {s.id!r} replicates every {_fd(interval)}: within the RPO "
                    f"objective {_fd(t.rpo.max_s)}, above the band's low end {_fd(t.rpo.min_s)}",
                )


def _rto_path(stamp: Stamp, here: str, out: _Collector) -> None:
    t = stamp.target(Disruption.REGION)
    if t is None or not stamp.failover:
        return
    try:
        sch = schedule(stamp.failover)
        worst = schedule(stamp.failover, use_timeouts=True)
    except GraphError:
        return  # reported by DR005
    loc = f"{here}.failover"
    path = " -> ".join(sch.critical_path)
    if sch.total_s > t.rto.max_s:
        out.error(
            "DR004",
            loc,
            f"failover critical path {_fd(sch.total_s)} ({path}) exceeds the Region RTO "
            f"objective {_fd(t.rto.max_s)}",
        )
        return
    if worst.total_s > t.rto.max_s:
        out.warn(
            "DR004",
            loc,
            f"counting step timeouts the failover can take {_fd(worst.total_s)}, above the "
            f"Region RTO objective {_fd(t.rto.max_s)}",
        )
    if sch.total_s > t.rto.min_s:
        out.info(
            "DR004",
            loc,
            f"failover critical path {_fd(sch.total_s)} is within the RTO objective "
            f"{_fd(t.rto.max_s)}, above the band's low end {_fd(t.rto.min_s)}",
        )


def _presence(stamp: Stamp, here: str, out: _Collector) -> None:
    if not stamp.failover:
        out.error("DR006", f"{here}.failover", "no failover steps")
    if not stamp.failback:
        out.error("DR006", f"{here}.failback", "no failback steps")
    if not [c for c in stamp.failover_criteria if c.strip()]:
        out.error("DR006", f"{here}.failover_criteria", "no failover criteria")
    if not [c for c in stamp.failback_criteria if c.strip()]:
        out.error("DR006", f"{here}.failback_criteria", "no failback criteria")


def _testing(stamp: Stamp, here: str, out: _Collector, today: _dt.date) -> None:
    te = stamp.testing
    if te.cadence_s is None or te.cadence_s <= 0:
        out.error(
            "DR007",
            f"{here}.testing.cadence",
            "no test cadence: declare testing.cadence, e.g. 'P90D'",
        )
        return
    if te.last_tested is None:
        out.info(
            "DR007",
            f"{here}.testing.last_tested",
            f"no test run recorded; rehearse every {_fd(te.cadence_s)} and record "
            "testing.last_tested",
        )
        return
    if te.last_tested > today:
        out.warn(
            "DR007",
            f"{here}.testing.last_tested",
            f"last test date {te.last_tested.isoformat()} is in the future",
        )
        return
    due = te.next_due()
    if due is not None and due < today:
        out.error(
            "DR007",
            f"{here}.testing.last_tested",
            f"test overdue: last tested {te.last_tested.isoformat()}, cadence "
            f"{_fd(te.cadence_s)}, due {due.isoformat()}",
        )


def _ancestors(steps: Sequence[Step], step: Step) -> set[str]:
    by_id = {s.id: s for s in steps}
    seen: set[str] = set()
    todo = list(step.start_after)
    while todo:
        sid = todo.pop()
        if sid in seen or sid not in by_id:
            continue
        seen.add(sid)
        todo.extend(by_id[sid].start_after)
    return seen


def _canary(stamp: Stamp, here: str, out: _Collector) -> None:
    for direction in Direction:
        steps = stamp.steps(direction)
        canaries = {s.id for s in steps if s.has_tag(TAG_CANARY)}
        for i, st in enumerate(steps):
            if st.has_tag(TAG_TRAFFIC_ENABLE) and not (_ancestors(steps, st) & canaries):
                out.error(
                    "DR008",
                    f"{here}.{direction.value}[{i}]",
                    f"traffic-enabling step {st.id!r} has no 'canary' step before it "
                    "(among its start_after ancestors)",
                )


def _coverage(stamp: Stamp, here: str, out: _Collector) -> None:
    covered = {sid for st in stamp.failover for sid in st.services}
    for i, s in enumerate(stamp.services):
        if s.id not in covered:
            out.error(
                "DR009",
                f"{here}.services[{i}]",
                f"service {s.id!r} is not acted on by any failover step",
            )


def _posture(stamp: Stamp, here: str, out: _Collector) -> None:
    if stamp.approach not in STANDBY_APPROACHES:
        return
    if not stamp.iac.declared:
        out.error(
            "DR010",
            f"{here}.iac",
            f"{stamp.approach.value} needs the standby side defined as code: declare iac.tool",
        )
    if not stamp.identity_policy_parity:
        out.error(
            "DR010",
            f"{here}.identity_policy_parity",
            f"{stamp.approach.value} needs identical identity and policy posture in both "
            "regions: set identity_policy_parity = true once it holds",
        )


def _model_endpoint(stamp: Stamp, here: str, out: _Collector) -> None:
    for s in stamp.services:
        if s.kind is not ServiceKind.MODEL_ENDPOINT:
            continue
        for d, t in stamp.targets:
            if t.in_scope(s.id):
                how = "listed in" if t.scope else "implicitly in (empty scope = all services)"
                out.error(
                    "DR011",
                    f"{here}.targets.{d.value}.scope",
                    f"model endpoint {s.id!r} is {how} the {d.value} RPO scope; the remote "
                    "model is outside regional control: list the other services explicitly",
                )
        if not any(dg.covers(s.id) for dg in stamp.degradation):
            out.error(
                "DR011",
                f"{here}.degradation",
                f"model endpoint {s.id!r} has no degradation mode (e.g. retries, "
                "circuit_breaker, fallback_model, cached_responses, queued_processing, read_only)",
            )


def _approach_heuristic(stamp: Stamp, here: str, out: _Collector) -> None:
    t = stamp.target(Disruption.REGION)
    if t is None:
        return
    if stamp.approach is Approach.BACKUP_AND_RESTORE and t.rto.max_s < 3600:
        out.warn(
            "DR012",
            f"{here}.approach",
            f"BACKUP_AND_RESTORE rarely meets a Region RTO under 1h (objective "
            f"{_fd(t.rto.max_s)}); consider PILOT_LIGHT or WARM_STANDBY",
        )
    if stamp.approach is Approach.PILOT_LIGHT and t.rto.max_s < 600:
        out.warn(
            "DR012",
            f"{here}.approach",
            f"PILOT_LIGHT rarely meets a Region RTO under 10m (objective {_fd(t.rto.max_s)})",
        )


def _step_timing(stamp: Stamp, here: str, out: _Collector) -> None:
    for direction in Direction:
        for i, st in enumerate(stamp.steps(direction)):
            loc = f"{here}.{direction.value}[{i}]"
            if st.timeout_s is not None and st.timeout_s < st.duration_s:
                out.error(
                    "DR013",
                    f"{loc}.timeout",
                    f"timeout {_fd(st.timeout_s)} is below the expected duration "
                    f"{_fd(st.duration_s)}",
                )
            if st.duration_s == 0:
                out.warn("DR013", f"{loc}.duration", f"step {st.id!r} has a zero duration")
