"""One broken plan per validator rule, asserting the finding's code, severity and location."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from framesig.drconfig import RULES, Severity, plan_from_dict, seed_plan, validate
from framesig.drconfig.validate import Finding

TODAY = dt.date(2026, 4, 10)


def good_stamp() -> dict[str, Any]:
    return {
        "id": "web",
        "title": "Web",
        "primary_region": "centralus",
        "approach": "WARM_STANDBY",
        "iac": {"tool": "terraform", "repo": "infra"},
        "identity_policy_parity": True,
        "failover_criteria": ["region down"],
        "failback_criteria": ["primary healthy"],
        "testing": {"cadence": "P90D", "last_tested": "2026-03-01"},
        "targets": {
            "Region": {"rto": {"min": "15m", "max": "60m"}, "rpo": {"min": "5m", "max": "30m"}}
        },
        "services": [
            {"id": "app", "kind": "app_service", "replication": {"mode": "redeploy"}},
            {
                "id": "db",
                "kind": "storage",
                "replication": {"mode": "async", "interval": "5m"},
                "depends_on": [],
            },
        ],
        "failover": [
            {
                "id": "check",
                "title": "Check",
                "kind": "automated",
                "duration": "5m",
                "services": ["app", "db"],
            },
            {
                "id": "canary",
                "title": "Canary",
                "kind": "automated",
                "duration": "5m",
                "start_after": ["check"],
                "tags": ["canary"],
            },
            {
                "id": "dns",
                "title": "DNS",
                "kind": "script",
                "duration": "5m",
                "start_after": ["canary"],
                "tags": ["traffic_enable"],
            },
        ],
        "failback": [
            {
                "id": "fb-canary",
                "title": "Canary in primary",
                "kind": "automated",
                "duration": "5m",
                "tags": ["canary"],
            },
            {
                "id": "fb-dns",
                "title": "DNS back",
                "kind": "script",
                "duration": "5m",
                "start_after": ["fb-canary"],
                "tags": ["traffic_enable"],
            },
        ],
    }


def run(mutate: Callable[[dict[str, Any]], None]) -> tuple[Finding, ...]:
    doc = {"version": 1, "stamps": [good_stamp()]}
    mutate(doc)
    return validate(plan_from_dict(doc), today=TODAY).findings


def st(doc: dict[str, Any]) -> dict[str, Any]:
    stamp: dict[str, Any] = doc["stamps"][0]
    return stamp


def test_good_plan_has_no_findings() -> None:
    assert run(lambda d: None) == ()


def test_seed_plan_validates_without_errors_or_warnings() -> None:
    report = validate(seed_plan(), today=TODAY)
    assert report.ok
    assert report.errors == () and report.warnings == ()
    assert report.exit_code(strict=True) == 0
    # Only informational findings remain (where values sit inside the bands, no test date).
    assert {f.code for f in report.infos} <= {"DR003", "DR004", "DR007"}


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """Mutator: set a dotted path (list indexes as integers) inside stamp 0."""

    def mutate(doc: dict[str, Any]) -> None:
        obj: Any = st(doc)
        keys = path.split(".")
        for k in keys[:-1]:
            obj = obj[int(k)] if k.isdigit() else obj[k]
        last = keys[-1]
        if value is _DELETE:
            del obj[int(last) if last.isdigit() else last]
        elif last.isdigit():
            obj[int(last)] = value
        else:
            obj[last] = value

    return mutate


_DELETE = object()


def _add_model_endpoint(scope: list[str] | None, degradation: bool) -> Callable[[dict], None]:
    def mutate(doc: dict[str, Any]) -> None:
        s = st(doc)
        s["services"].append(
            {"id": "model", "kind": "model_endpoint", "replication": {"mode": "none"}}
        )
        s["failover"][1]["services"] = ["model"]
        if scope is not None:
            s["targets"]["Region"]["scope"] = scope
        if degradation:
            s["degradation"] = [
                {"mode": "fallback_model", "services": ["model"]},
                {"mode": "retries"},
            ]

    return mutate


def _both(*muts: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        for m in muts:
            m(doc)

    return mutate


E, W, NOTE = Severity.ERROR, Severity.WARNING, Severity.INFO
S = "stamps[web]"

CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, Severity, str]] = [
    # DR001 band sanity
    (
        "rto-min-above-max",
        _set("targets.Region.rto.min", "2h"),
        "DR001",
        E,
        f"{S}.targets.Region.rto",
    ),
    (
        "rpo-zero",
        _set("targets.Region.rpo", {"min": "0s", "max": "0m"}),
        "DR001",
        W,
        f"{S}.targets.Region.rpo",
    ),
    (
        "no-region-target",
        _set(
            "targets",
            {"AZ": {"rto": {"min": "5m", "max": "10m"}, "rpo": {"min": "0s", "max": "5m"}}},
        ),
        "DR001",
        E,
        f"{S}.targets",
    ),
    # DR002 region pair
    ("secondary-not-pair", _set("secondary_region", "westus"), "DR002", E, f"{S}.secondary_region"),
    (
        "one-way-pair-reversed",
        _both(_set("primary_region", "eastus"), _set("secondary_region", "westus3")),
        "DR002",
        E,
        f"{S}.secondary_region",
    ),
    (
        "primary-without-pair",
        _set("primary_region", "polandcentral"),
        "DR002",
        E,
        f"{S}.secondary_region",
    ),
    (
        "primary-without-pair-explicit",
        _both(_set("primary_region", "polandcentral"), _set("secondary_region", "westeurope")),
        "DR002",
        E,
        f"{S}.primary_region",
    ),
    ("primary-unknown", _set("primary_region", "atlantis"), "DR002", E, f"{S}.primary_region"),
    (
        "secondary-equals-primary",
        _set("secondary_region", "centralus"),
        "DR002",
        E,
        f"{S}.secondary_region",
    ),
    (
        "custom-secondary-unknown",
        _both(_set("use_region_pair", False), _set("secondary_region", "atlantis")),
        "DR002",
        W,
        f"{S}.secondary_region",
    ),
    # DR003 RPO floor
    (
        "interval-above-rpo",
        _set("services.1.replication.interval", "45m"),
        "DR003",
        E,
        f"{S}.services[1].replication.interval",
    ),
    (
        "interval-above-band-low-end",
        _set("services.1.replication.interval", "15m"),
        "DR003",
        NOTE,
        f"{S}.services[1].replication.interval",
    ),
    (
        "interval-missing",
        _set("services.1.replication", {"mode": "backup"}),
        "DR003",
        E,
        f"{S}.services[1].replication.interval",
    ),
    (
        "mode-none-in-scope",
        _set("services.1.replication", {"mode": "none"}),
        "DR003",
        E,
        f"{S}.services[1].replication.mode",
    ),
    # DR004 RTO vs critical path
    ("critical-path-above-rto", _set("failover.0.duration", "55m"), "DR004", E, f"{S}.failover"),
    ("timeouts-above-rto", _set("failover.0.timeout", "55m"), "DR004", W, f"{S}.failover"),
    (
        "critical-path-above-band-low-end",
        _set("failover.0.duration", "10m"),
        "DR004",
        NOTE,
        f"{S}.failover",
    ),
    # DR005 graph well-formedness
    ("duplicate-step-id", _set("failover.2.id", "check"), "DR005", E, f"{S}.failover[2].id"),
    (
        "duplicate-id-across-directions",
        _set("failback.0.id", "check"),
        "DR005",
        E,
        f"{S}.failback[0].id",
    ),
    (
        "unknown-start-after",
        _set("failover.1.start_after", ["nope"]),
        "DR005",
        E,
        f"{S}.failover[1].start_after",
    ),
    (
        "start-after-other-direction",
        _set("failback.1.start_after", ["canary"]),
        "DR005",
        E,
        f"{S}.failback[1].start_after",
    ),
    ("step-cycle", _set("failover.0.start_after", ["dns"]), "DR005", E, f"{S}.failover"),
    (
        "unknown-step-service",
        _set("failover.0.services", ["app", "db", "cache"]),
        "DR005",
        E,
        f"{S}.failover[0].services",
    ),
    (
        "unknown-depends-on",
        _set("services.0.depends_on", ["cache"]),
        "DR005",
        E,
        f"{S}.services[0].depends_on",
    ),
    (
        "service-cycle",
        _both(_set("services.0.depends_on", ["db"]), _set("services.1.depends_on", ["app"])),
        "DR005",
        E,
        f"{S}.services",
    ),
    ("duplicate-service-id", _set("services.1.id", "app"), "DR005", E, f"{S}.services[1].id"),
    (
        "unknown-scope",
        _set("targets.Region.scope", ["app", "ghost"]),
        "DR005",
        E,
        f"{S}.targets.Region.scope",
    ),
    (
        "unknown-degradation-service",
        _set("degradation", [{"mode": "retries", "services": ["ghost"]}]),
        "DR005",
        E,
        f"{S}.degradation[0].services",
    ),
    # DR006 presence
    ("no-failback-steps", _set("failback", []), "DR006", E, f"{S}.failback"),
    ("no-failover-steps", _set("failover", []), "DR006", E, f"{S}.failover"),
    ("no-failover-criteria", _set("failover_criteria", []), "DR006", E, f"{S}.failover_criteria"),
    (
        "blank-failback-criteria",
        _set("failback_criteria", ["  "]),
        "DR006",
        E,
        f"{S}.failback_criteria",
    ),
    # DR007 testing
    (
        "no-cadence",
        _set("testing", {"last_tested": "2026-03-01"}),
        "DR007",
        E,
        f"{S}.testing.cadence",
    ),
    ("overdue", _set("testing.last_tested", "2025-12-01"), "DR007", E, f"{S}.testing.last_tested"),
    (
        "tested-in-future",
        _set("testing.last_tested", "2026-05-01"),
        "DR007",
        W,
        f"{S}.testing.last_tested",
    ),
    (
        "never-tested",
        _set("testing", {"cadence": "P90D"}),
        "DR007",
        NOTE,
        f"{S}.testing.last_tested",
    ),
    # DR008 canary gate
    ("no-canary-tag", _set("failover.1.tags", []), "DR008", E, f"{S}.failover[2]"),
    (
        "canary-parallel-not-before",
        _set("failover.2.start_after", ["check"]),
        "DR008",
        E,
        f"{S}.failover[2]",
    ),
    (
        "canary-after-traffic",
        _both(_set("failover.1.tags", ["traffic_enable"]), _set("failover.2.tags", ["canary"])),
        "DR008",
        E,
        f"{S}.failover[1]",
    ),
    ("failback-without-canary", _set("failback.1.start_after", []), "DR008", E, f"{S}.failback[1]"),
    # DR009 coverage
    ("service-not-covered", _set("failover.0.services", ["app"]), "DR009", E, f"{S}.services[1]"),
    # DR010 posture hygiene
    ("no-iac", _set("iac", _DELETE), "DR010", E, f"{S}.iac"),
    (
        "no-identity-parity",
        _set("identity_policy_parity", False),
        "DR010",
        E,
        f"{S}.identity_policy_parity",
    ),
    # DR011 model endpoint
    (
        "model-in-implicit-scope",
        _add_model_endpoint(None, True),
        "DR011",
        E,
        f"{S}.targets.Region.scope",
    ),
    (
        "model-in-explicit-scope",
        _add_model_endpoint(["app", "db", "model"], True),
        "DR011",
        E,
        f"{S}.targets.Region.scope",
    ),
    (
        "model-without-degradation",
        _add_model_endpoint(["app", "db"], False),
        "DR011",
        E,
        f"{S}.degradation",
    ),
    # DR012 approach heuristic
    (
        "backup-restore-fast-rto",
        _both(_set("approach", "BACKUP_AND_RESTORE"), _set("targets.Region.rto.max", "45m")),
        "DR012",
        W,
        f"{S}.approach",
    ),
    (
        "pilot-light-very-fast-rto",
        _both(
            _set("approach", "PILOT_LIGHT"),
            _set("targets.Region.rto", {"min": "5m", "max": "9m"}),
            _set("failover.0.duration", "1m"),
            _set("failover.1.duration", "1m"),
            _set("failover.2.duration", "1m"),
        ),
        "DR012",
        W,
        f"{S}.approach",
    ),
    # DR013 step timing
    (
        "timeout-below-duration",
        _set("failover.0.timeout", "1m"),
        "DR013",
        E,
        f"{S}.failover[0].timeout",
    ),
    ("zero-duration", _set("failback.0.duration", "0s"), "DR013", W, f"{S}.failback[0].duration"),
]


@pytest.mark.parametrize(
    ("mutate", "code", "severity", "loc"),
    [pytest.param(m, c, s, loc, id=f"{c}-{name}") for name, m, c, s, loc in CASES],
)
def test_rule_fires(
    mutate: Callable[[dict[str, Any]], None], code: str, severity: Severity, loc: str
) -> None:
    findings = run(mutate)
    assert (code, severity, loc) in {(f.code, f.severity, f.loc) for f in findings}, findings


def test_every_rule_has_a_breaking_case() -> None:
    assert {c for _, _, c, _, _ in CASES} == set(RULES)
    broken_by_error = {c for _, _, c, s, _ in CASES if s is Severity.ERROR}
    assert broken_by_error >= set(RULES) - {"DR012"}  # DR012 is a heuristic warning


def test_model_endpoint_outside_scope_with_degradation_is_clean() -> None:
    assert run(_add_model_endpoint(["app", "db"], True)) == ()


def test_one_way_pair_forward_is_clean() -> None:
    assert run(_both(_set("primary_region", "westus3"), _set("secondary_region", "eastus"))) == ()


def test_custom_secondary_without_pair_is_clean() -> None:
    assert (
        run(
            _both(
                _set("primary_region", "polandcentral"),
                _set("use_region_pair", False),
                _set("secondary_region", "westeurope"),
            )
        )
        == ()
    )


def test_active_active_needs_no_standby_hygiene() -> None:
    findings = run(
        _both(
            _set("approach", "ACTIVE_ACTIVE"),
            _set("iac", _DELETE),
            _set("identity_policy_parity", False),
        )
    )
    assert findings == ()


def test_returns_every_finding_at_once() -> None:
    findings = run(
        _both(
            _set("secondary_region", "westus"),
            _set("failback", []),
            _set("failover.1.tags", []),
            _set("testing", {}),
            _set("services.1.replication.interval", "2h"),
        )
    )
    assert {f.code for f in findings} >= {"DR002", "DR003", "DR006", "DR007", "DR008"}


def test_cycle_does_not_crash_other_rules() -> None:
    findings = run(_both(_set("failover.0.start_after", ["dns"]), _set("failover.2.tags", [])))
    codes = {f.code for f in findings}
    assert "DR005" in codes and "DR004" not in codes


def test_duplicate_stamp_ids() -> None:
    doc = {"version": 1, "stamps": [good_stamp(), good_stamp()]}
    report = validate(plan_from_dict(doc), today=TODAY)
    assert [(f.code, f.loc) for f in report] == [("DR005", "stamps[1].id")]


def test_empty_plan() -> None:
    report = validate(plan_from_dict({"version": 1, "stamps": []}), today=TODAY)
    assert [(f.code, f.loc) for f in report] == [("DR006", "stamps")]


def test_overdue_depends_on_today_only() -> None:
    doc = {"version": 1, "stamps": [good_stamp()]}
    plan = plan_from_dict(doc)
    assert validate(plan, today=dt.date(2026, 5, 30)).ok
    late = validate(plan, today=dt.date(2026, 5, 31))
    assert late.at("DR007") == ("stamps[web].testing.last_tested",)


def test_report_helpers() -> None:
    doc = copy.deepcopy({"version": 1, "stamps": [good_stamp()]})
    st(doc)["failback"] = []
    st(doc)["failback"] = []
    report = validate(plan_from_dict(doc), today=TODAY)
    assert not report.ok and report.exit_code() == 1
    assert len(report) == len(report.errors) == 1
    assert report.codes() == {"DR006"}
    assert report.for_stamp("web").findings == report.findings
    assert report.for_stamp("other").findings == ()
    assert report.errors[0].to_dict()["loc"] == "stamps[web].failback"
