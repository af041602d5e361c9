"""Render plans: Markdown runbooks, JSON (with a ``version`` key), Resilience Hub policies.

Examples
--------
>>> from framesig.drconfig.load import seed_plan
>>> plan = seed_plan()
>>> md = to_markdown(plan, "genai")
>>> md.splitlines()[0]
'# DR runbook: genai — GenAI Databricks + Langfuse + remote OpenAI-style model calls'
>>> to_resilience_hub(plan.stamp("web"))["policy"]["Region"]
{'rtoInSecs': 3600, 'rpoInSecs': 1800}
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from framesig.drconfig.durations import format_duration, format_minutes
from framesig.drconfig.model import (
    Band,
    Direction,
    Disruption,
    Plan,
    Stamp,
    Step,
)
from framesig.drconfig.regions import pair_note
from framesig.drconfig.schedule import GraphError, Schedule, schedule
from framesig.drconfig.validate import Report, validate

__all__ = [
    "RUNBOOK_VERSION",
    "plan_to_dict",
    "runbook_dict",
    "to_json",
    "to_markdown",
    "stamp_markdown",
    "to_resilience_hub",
]

#: Version of the runbook JSON document (its ``version`` key).
RUNBOOK_VERSION = 1


def _fd(seconds: int) -> str:
    return format_duration(seconds)


# --------------------------------------------------------------------------------------------
# Plan <-> dict (the file schema)
# --------------------------------------------------------------------------------------------


def _step_dict(st: Step) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": st.id,
        "title": st.title,
        "kind": st.kind.value,
        "duration": _fd(st.duration_s),
    }
    if st.timeout_s is not None:
        d["timeout"] = _fd(st.timeout_s)
    for key in ("start_after", "services", "tags"):
        if getattr(st, key):
            d[key] = list(getattr(st, key))
    for key in ("owner", "notes"):
        if getattr(st, key):
            d[key] = getattr(st, key)
    return d


def _band_dict(b: Band) -> dict[str, str]:
    return {"min": _fd(b.min_s), "max": _fd(b.max_s)}


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    """The plan in the file schema (durations as strings), so it loads back unchanged.

    Examples
    --------
    >>> from framesig.drconfig.load import plan_from_dict, seed_plan
    >>> plan = seed_plan()
    >>> plan_from_dict(plan_to_dict(plan)) == plan
    True
    """
    stamps = []
    for s in plan.stamps:
        d: dict[str, Any] = {
            "id": s.id,
            "title": s.title,
            "tier": s.tier.value,
            "approach": s.approach.value,
            "primary_region": s.primary_region,
        }
        if s.secondary_region is not None:
            d["secondary_region"] = s.secondary_region
        d["use_region_pair"] = s.use_region_pair
        if s.iac.declared or s.iac.repo:
            d["iac"] = {"tool": s.iac.tool, "repo": s.iac.repo}
        d["identity_policy_parity"] = s.identity_policy_parity
        if s.notes:
            d["notes"] = s.notes
        d["failover_criteria"] = list(s.failover_criteria)
        d["failback_criteria"] = list(s.failback_criteria)
        testing: dict[str, Any] = {}
        if s.testing.cadence_s is not None:
            testing["cadence"] = _fd(s.testing.cadence_s)
        if s.testing.last_tested is not None:
            testing["last_tested"] = s.testing.last_tested.isoformat()
        d["testing"] = testing
        targets: dict[str, Any] = {}
        for dis, t in s.targets:
            td: dict[str, Any] = {"rto": _band_dict(t.rto), "rpo": _band_dict(t.rpo)}
            if t.scope:
                td["scope"] = list(t.scope)
            targets[dis.value] = td
        d["targets"] = targets
        services = []
        for sv in s.services:
            sd: dict[str, Any] = {"id": sv.id, "kind": sv.kind.value}
            if sv.title:
                sd["title"] = sv.title
            rep: dict[str, Any] = {"mode": sv.replication.mode.value}
            if sv.replication.interval_s is not None:
                rep["interval"] = _fd(sv.replication.interval_s)
            sd["replication"] = rep
            if sv.depends_on:
                sd["depends_on"] = list(sv.depends_on)
            if sv.notes:
                sd["notes"] = sv.notes
            services.append(sd)
        d["services"] = services
        degradation = []
        for dg in s.degradation:
            dd: dict[str, Any] = {"mode": dg.mode.value}
            if dg.services:
                dd["services"] = list(dg.services)
            if dg.notes:
                dd["notes"] = dg.notes
            degradation.append(dd)
        d["degradation"] = degradation
        d["failover"] = [_step_dict(st) for st in s.failover]
        d["failback"] = [_step_dict(st) for st in s.failback]
        stamps.append(d)
    return {"version": plan.version, "title": plan.title, "stamps": stamps}


def to_json(data: Any) -> str:
    """Serialize a dict from this module as stable, indented JSON (trailing newline).

    Examples
    --------
    >>> print(to_json({"version": 1}), end="")
    {
      "version": 1
    }
    """
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------------------------
# Runbook JSON
# --------------------------------------------------------------------------------------------


def _try_schedule(steps: tuple[Step, ...]) -> tuple[Schedule | None, str | None]:
    try:
        return schedule(steps), None
    except GraphError as exc:
        return None, str(exc)


def _selected(plan: Plan, stamp_id: str | None) -> tuple[Stamp, ...]:
    if stamp_id is None:
        return plan.stamps
    st = plan.stamp(stamp_id)
    if st is None:
        known = ", ".join(s.id for s in plan.stamps)
        raise KeyError(f"no stamp {stamp_id!r} in the plan (stamps: {known})")
    return (st,)


def _checklist_dict(steps: tuple[Step, ...]) -> dict[str, Any]:
    sch, err = _try_schedule(steps)
    if sch is None:
        return {"error": err, "steps": [_step_dict(st) for st in steps]}
    return {
        "critical_path_s": sch.total_s,
        "critical_path": list(sch.critical_path),
        "steps": [
            {
                **_step_dict(e.step),
                "duration_s": e.step.duration_s,
                "timeout_s": e.step.timeout_s,
                "start_s": e.start_s,
                "finish_s": e.finish_s,
                "slack_s": e.slack_s,
                "critical": e.critical,
            }
            for e in sch.steps
        ],
    }


def runbook_dict(
    plan: Plan, stamp_id: str | None = None, report: Report | None = None
) -> dict[str, Any]:
    """The runbook as a JSON-ready document with ``version`` = :data:`RUNBOOK_VERSION`.

    Parameters
    ----------
    plan : Plan
        The plan.
    stamp_id : str, optional
        Only this stamp (``KeyError`` if absent).
    report : Report, optional
        Findings to include; by default the plan is validated with today's date.

    Examples
    --------
    >>> from framesig.drconfig.load import seed_plan
    >>> doc = runbook_dict(seed_plan(), "web")
    >>> doc["version"], doc["stamps"][0]["failover"]["critical_path_s"]
    (1, 3000)
    """
    report = report if report is not None else validate(plan)
    stamps = []
    for s in _selected(plan, stamp_id):
        stamps.append(
            {
                "id": s.id,
                "title": s.title,
                "posture": s.posture,
                "approach": s.approach.value,
                "tier": s.tier.value,
                "primary_region": s.primary_region,
                "secondary_region": s.secondary_region,
                "pair_note": pair_note(s.primary_region, s.secondary_region),
                "targets": {
                    d.value: {
                        "rto_s": {"min": t.rto.min_s, "max": t.rto.max_s},
                        "rpo_s": {"min": t.rpo.min_s, "max": t.rpo.max_s},
                        "scope": list(t.scope),
                    }
                    for d, t in s.targets
                },
                "services": plan_to_dict(Plan((s,)))["stamps"][0]["services"],
                "degradation": [dg.mode.value for dg in s.degradation],
                "failover_criteria": list(s.failover_criteria),
                "failback_criteria": list(s.failback_criteria),
                "failover": _checklist_dict(s.failover),
                "failback": _checklist_dict(s.failback),
                "testing": {
                    "cadence_s": s.testing.cadence_s,
                    "last_tested": (
                        s.testing.last_tested.isoformat() if s.testing.last_tested else None
                    ),
                    "next_due": (
                        due.isoformat() if (due := s.testing.next_due()) is not None else None
                    ),
                },
                "findings": [f.to_dict() for f in report.for_stamp(s.id)],
            }
        )
    return {
        "version": RUNBOOK_VERSION,
        "kind": "framesig.drconfig.runbook",
        "schema_version": plan.version,
        "title": plan.title,
        "stamps": stamps,
    }


# --------------------------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("|", "\\|")).strip()


def _band_md(b: Band) -> str:
    return f"{_fd(b.min_s)} – {_fd(b.max_s)}"


def _checklist_md(stamp: Stamp, direction: Direction, h: str) -> list[str]:
    steps = stamp.steps(direction)
    lines = [f"{h} {direction.value.capitalize()} checklist", ""]
    if not steps:
        return [*lines, "No steps.", ""]
    sch, err = _try_schedule(steps)
    target = stamp.target(Disruption.REGION)
    if sch is None:
        lines += [f"Cannot schedule: {err}. Steps in declaration order.", ""]
        rows = [(st, "—", "—", False) for st in steps]
    else:
        objective = (
            f" (Region RTO objective {_fd(target.rto.max_s)})"
            if target is not None and direction is Direction.FAILOVER
            else ""
        )
        lines += [
            f"Critical path: **{_fd(sch.total_s)}**{objective}: {' → '.join(sch.critical_path)}.",
            "Times are offsets from the start; ● marks steps on the critical path.",
            "",
        ]
        rows = [
            (
                e.step,
                f"T+{format_minutes(e.start_s)}",
                f"T+{format_minutes(e.finish_s)}",
                e.critical,
            )
            for e in sch.steps
        ]
    lines += [
        "| # | Step | Kind | Start | Finish | Duration | After | Tags | CP |",
        "|---:|---|---|---|---|---|---|---|:---:|",
    ]
    for n, (st, start, finish, crit) in enumerate(rows, 1):
        dur = _fd(st.duration_s)
        if st.timeout_s is not None:
            dur += f" (timeout {_fd(st.timeout_s)})"
        after = ", ".join(st.start_after) or "—"
        tags = ", ".join(st.tags)
        owner = f" _(owner: {_cell(st.owner)})_" if st.owner else ""
        lines.append(
            f"| {n} | **{st.id}**: {_cell(st.title)}{owner} | {st.kind.value} | {start} | "
            f"{finish} | {dur} | {after} | {tags} | {'●' if crit else ''} |"
        )
    return [*lines, ""]


def stamp_markdown(stamp: Stamp, report: Report | None = None, level: int = 1) -> str:
    """Markdown runbook for one stamp.

    Parameters
    ----------
    stamp : Stamp
        The stamp.
    report : Report, optional
        Findings to list at the end (only those inside this stamp are shown).
    level : int
        Heading level of the title (sections use ``level + 1``).
    """
    h1 = "#" * level
    h2 = "#" * (level + 1)
    out = [f"{h1} DR runbook: {stamp.id} — {stamp.title}", ""]
    out.append(f"- **Posture:** {stamp.posture} ({stamp.approach.value}), tier {stamp.tier.value}")
    secondary = stamp.secondary_region or "none"
    out.append(
        f"- **Regions:** {stamp.primary_region} → {secondary} "
        f"({pair_note(stamp.primary_region, stamp.secondary_region)})"
    )
    iac = stamp.iac.tool + (f" ({stamp.iac.repo})" if stamp.iac.repo else "")
    out.append(
        f"- **IaC:** {iac or 'not declared'}; **identity/policy parity:** "
        f"{'yes' if stamp.identity_policy_parity else 'no'}"
    )
    if stamp.notes:
        out.append(f"- **Notes:** {stamp.notes}")
    out += ["", f"{h2} Targets", ""]
    if stamp.targets:
        out += ["| Disruption | RTO | RPO | RPO scope |", "|---|---|---|---|"]
        for d, t in stamp.targets:
            scope = ", ".join(t.scope) if t.scope else "all services"
            out.append(f"| {d.value} | {_band_md(t.rto)} | {_band_md(t.rpo)} | {scope} |")
    else:
        out.append("No targets declared.")
    out += ["", f"{h2} Services", ""]
    out += ["| Service | Kind | Replication | Depends on |", "|---|---|---|---|"]
    for sv in stamp.services:
        rep = sv.replication.mode.value
        if sv.replication.interval_s is not None:
            rep += f" every {_fd(sv.replication.interval_s)}"
        title = f": {_cell(sv.title)}" if sv.title else ""
        deps = ", ".join(sv.depends_on) or "—"
        out.append(f"| **{sv.id}**{title} | {sv.kind.value} | {rep} | {deps} |")
    if stamp.degradation:
        out += ["", f"{h2} Degradation modes", ""]
        out += ["| Mode | Services | Notes |", "|---|---|---|"]
        for dg in stamp.degradation:
            svcs = ", ".join(dg.services) or "whole stamp"
            out.append(f"| {dg.mode.value} | {svcs} | {_cell(dg.notes)} |")
    out += ["", f"{h2} Failover criteria", ""]
    out += [f"- {c}" for c in stamp.failover_criteria] or ["None declared."]
    out.append("")
    out += _checklist_md(stamp, Direction.FAILOVER, h2)
    out += [f"{h2} Failback criteria", ""]
    out += [f"- {c}" for c in stamp.failback_criteria] or ["None declared."]
    out.append("")
    out += _checklist_md(stamp, Direction.FAILBACK, h2)
    out += [f"{h2} Testing", ""]
    te = stamp.testing
    cadence = f"every {_fd(te.cadence_s)}" if te.cadence_s is not None else "not declared"
    last = te.last_tested.isoformat() if te.last_tested else "not recorded"
    due = te.next_due()
    out.append(
        f"- Cadence: {cadence}; last tested: {last}"
        + (f"; next due: {due.isoformat()}" if due else "")
    )
    out.append("")
    if report is not None:
        out += [f"{h2} Findings", ""]
        found = report.for_stamp(stamp.id).findings
        out += [f"- {f.severity.value} {f.code} `{f.loc}`: {f.message}" for f in found] or ["None."]
        out.append("")
    return "\n".join(out)


def to_markdown(plan: Plan, stamp_id: str | None = None, report: Report | None = None) -> str:
    """Markdown runbook for one stamp or for the whole plan.

    Parameters
    ----------
    plan : Plan
        The plan.
    stamp_id : str, optional
        Only this stamp (``KeyError`` if absent). Without it, every stamp, under a plan title.
    report : Report, optional
        Findings to list per stamp; by default the plan is validated with today's date.

    Examples
    --------
    >>> from framesig.drconfig.load import seed_plan
    >>> md = to_markdown(seed_plan(), "web")
    >>> "| 5 | **switch-traffic**" in md and "Critical path: **50m**" in md
    True
    """
    report = report if report is not None else validate(plan)
    stamps = _selected(plan, stamp_id)
    if stamp_id is not None:
        return stamp_markdown(stamps[0], report, level=1)
    parts = [f"# {plan.title or 'DR plan'}", ""]
    parts += [stamp_markdown(s, report, level=2) for s in stamps]
    return "\n".join(parts)


# --------------------------------------------------------------------------------------------
# AWS Resilience Hub
# --------------------------------------------------------------------------------------------


def _policy_name(stamp: Stamp) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"stamp-{stamp.id}")[:60]


def to_resilience_hub(stamp: Stamp, version: int = 1) -> dict[str, Any]:
    """The stamp's targets as an AWS Resilience Hub policy (v1 seconds, v2 minutes).

    v1 requires ``Software``, ``Hardware`` and ``AZ``; when the plan declares only a Region
    target those three reuse the Region band's objectives and a ``framesig:derived`` tag says
    so. The band's ``max`` is the objective.

    Parameters
    ----------
    stamp : Stamp
        The stamp.
    version : {1, 2}
        ``CreateResiliencyPolicy`` shape (1) or the v2 ``Policy`` shape (2).

    Examples
    --------
    >>> from framesig.drconfig.load import seed_plan
    >>> v2 = to_resilience_hub(seed_plan().stamp("k8s"), version=2)
    >>> v2["multiRegion"], v2["dataRecovery"]
    ({'disasterRecoveryApproach': 'WARM_STANDBY', 'rtoInMinutes': 180, 'rpoInMinutes': 30}, \
{'timeBetweenBackupsInMinutes': 30})
    """
    region = stamp.target(Disruption.REGION)
    if version == 1:
        policy: dict[str, dict[str, int]] = {}
        derived = []
        for d in (Disruption.SOFTWARE, Disruption.HARDWARE, Disruption.AZ, Disruption.REGION):
            t = stamp.target(d)
            if t is None and d is not Disruption.REGION and region is not None:
                t = region
                derived.append(d.value)
            if t is not None:
                policy[d.value] = {"rtoInSecs": t.rto.max_s, "rpoInSecs": t.rpo.max_s}
        tags = {"framesig:stamp": stamp.id}
        if derived:
            tags["framesig:derived"] = f"{' '.join(derived)} from Region"
        return {
            "policyName": _policy_name(stamp),
            "policyDescription": stamp.title[:500],
            "tier": stamp.tier.value,
            "policy": policy,
            "tags": tags,
        }
    if version == 2:
        doc: dict[str, Any] = {"name": _policy_name(stamp)}

        def minutes(s: int) -> int:
            return math.ceil(s / 60)

        az = stamp.target(Disruption.AZ)
        if az is not None:
            doc["multiAz"] = {
                "disasterRecoveryApproach": stamp.approach.value,
                "rtoInMinutes": minutes(az.rto.max_s),
                "rpoInMinutes": minutes(az.rpo.max_s),
            }
        if region is not None:
            doc["multiRegion"] = {
                "disasterRecoveryApproach": stamp.approach.value,
                "rtoInMinutes": minutes(region.rto.max_s),
                "rpoInMinutes": minutes(region.rpo.max_s),
            }
        backups = [
            s.replication.interval_s
            for s in stamp.services
            if s.replication.mode.value in ("backup", "geo_restore")
            and s.replication.interval_s is not None
        ]
        if backups:
            doc["dataRecovery"] = {"timeBetweenBackupsInMinutes": minutes(max(backups))}
        return doc
    raise ValueError(f"unknown Resilience Hub policy version {version} (use 1 or 2)")
