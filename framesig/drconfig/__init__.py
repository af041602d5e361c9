"""Disaster-recovery plans as data: load, validate, and render runbooks.

``framesig.drconfig`` turns a business-continuity design (stamps, services, RTO/RPO bands,
failover and failback checklists) into typed, immutable data that a team can validate in CI,
review, and run from. It is independent of the video pipeline: it imports nothing else from
framesig, and only the standard library at runtime (PyYAML optionally, for YAML plans).

Examples
--------
>>> from framesig.drconfig import seed_plan, validate, critical_path
>>> plan = seed_plan()
>>> validate(plan).ok
True
>>> web = plan.stamp("web")
>>> critical_path(web.failover).total_s // 60
50
"""

from __future__ import annotations

from framesig.drconfig.durations import DurationError, format_duration, parse_duration
from framesig.drconfig.load import (
    PlanError,
    load_plan,
    loads_plan,
    plan_from_dict,
    seed_plan,
    seed_plan_text,
)
from framesig.drconfig.model import (
    SCHEMA_VERSION,
    Approach,
    Band,
    Degradation,
    DegradationMode,
    Direction,
    Disruption,
    IaC,
    Plan,
    Replication,
    ReplicationMode,
    Service,
    ServiceKind,
    Stamp,
    Step,
    StepKind,
    Target,
    Testing,
    Tier,
)
from framesig.drconfig.regions import NO_PAIR, REGION_PAIRS, normalize_region, paired_region
from framesig.drconfig.render import (
    RUNBOOK_VERSION,
    plan_to_dict,
    runbook_dict,
    to_json,
    to_markdown,
    to_resilience_hub,
)
from framesig.drconfig.schedule import GraphError, Schedule, ScheduledStep, schedule
from framesig.drconfig.validate import RULES, Finding, Report, Severity, validate

#: Alias of :func:`schedule`: the earliest-finish schedule with its critical path.
critical_path = schedule

__all__ = [
    "SCHEMA_VERSION",
    "RUNBOOK_VERSION",
    "Approach",
    "Band",
    "Degradation",
    "DegradationMode",
    "Direction",
    "Disruption",
    "IaC",
    "Plan",
    "Replication",
    "ReplicationMode",
    "Service",
    "ServiceKind",
    "Stamp",
    "Step",
    "StepKind",
    "Target",
    "Testing",
    "Tier",
    "DurationError",
    "parse_duration",
    "format_duration",
    "PlanError",
    "load_plan",
    "loads_plan",
    "plan_from_dict",
    "seed_plan",
    "seed_plan_text",
    "REGION_PAIRS",
    "NO_PAIR",
    "normalize_region",
    "paired_region",
    "GraphError",
    "Schedule",
    "ScheduledStep",
    "schedule",
    "critical_path",
    "RULES",
    "Finding",
    "Report",
    "Severity",
    "validate",
    "plan_to_dict",
    "runbook_dict",
    "to_json",
    "to_markdown",
    "to_resilience_hub",
]
