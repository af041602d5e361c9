"""Loading plans: TOML, JSON, YAML (optional), and PlanError locations."""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import pytest

from framesig.drconfig import (
    Direction,
    PlanError,
    load_plan,
    loads_plan,
    plan_from_dict,
    plan_to_dict,
    seed_plan,
    seed_plan_text,
)

MINI = """
version = 1
[[stamps]]
id = "web"
title = "Web"
primary_region = "Central US"
[[stamps.failover]]
id = "a"
title = "A"
kind = "manual"
duration = "5m"
[[stamps.failover]]
id = "b"
title = "B"
kind = "automated"
duration = "PT10M"
timeout = "1h"
start_after = ["a"]
"""


def _err(text: str, fmt: str = "toml") -> PlanError:
    with pytest.raises(PlanError) as info:
        loads_plan(text, fmt, source="plan.toml")
    return info.value


def test_minimal_toml() -> None:
    plan = loads_plan(MINI)
    s = plan.stamps[0]
    assert s.primary_region == "centralus" and s.secondary_region == "eastus2"
    assert [st.duration_s for st in s.failover] == [300, 600]
    assert s.failover[1].timeout_s == 3600
    assert all(st.direction is Direction.FAILOVER for st in s.failover)


def test_defaults_apply() -> None:
    text = (
        'version = 1\n[defaults]\nprimary_region = "westus3"\napproach = "PILOT_LIGHT"\n'
        'tier = "Important"\n[[stamps]]\nid = "a"\n'
    )
    s = loads_plan(text).stamps[0]
    assert (s.primary_region, s.secondary_region) == ("westus3", "eastus")
    assert (s.approach.value, s.tier.value) == ("PILOT_LIGHT", "Important")


def test_packaged_seed_loads_from_file(tmp_path: Path) -> None:
    path = resources.files("framesig.drconfig").joinpath("seed_plan.toml")
    assert load_plan(str(path)) == seed_plan()
    copy = tmp_path / "plan.toml"
    copy.write_text(seed_plan_text(), encoding="utf-8")
    assert load_plan(copy) == seed_plan()


def test_dict_and_json_round_trip(tmp_path: Path) -> None:
    plan = seed_plan()
    assert plan_from_dict(plan_to_dict(plan)) == plan
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_to_dict(plan)), encoding="utf-8")
    assert load_plan(path) == plan


def test_plan_is_immutable_and_hashable() -> None:
    plan = seed_plan()
    with pytest.raises(AttributeError):
        plan.title = "x"  # type: ignore[misc]
    assert hash(plan) == hash(seed_plan())


@pytest.mark.parametrize(
    ("text", "loc", "cause"),
    [
        (
            MINI.replace('start_after = ["a"]', 'start_after = "a"'),
            "stamps[web].failover[1].start_after",
            "expected a list of strings",
        ),
        (
            MINI.replace('timeout = "1h"', 'timeout = "soon"'),
            "stamps[web].failover[1].timeout",
            "invalid duration 'soon'",
        ),
        (
            MINI.replace('duration = "5m"', "duration = 5"),
            "stamps[web].failover[0].duration",
            "expected a string",
        ),
        (
            MINI.replace('kind = "manual"', 'kind = "magic"'),
            "stamps[web].failover[0].kind",
            "unknown value 'magic' (allowed: automated, manual",
        ),
        (
            MINI.replace('title = "A"', 'title = "A"\ncolour = "red"'),
            "stamps[web].failover[0].colour",
            "unknown field",
        ),
        (
            MINI.replace('title = "A"\n', ""),
            "stamps[web].failover[0].title",
            "required field is missing",
        ),
        (MINI.replace('id = "a"', 'id = "Bad Id"'), "stamps[web].failover[0].id", "invalid id"),
        (
            MINI.replace('primary_region = "Central US"', ""),
            "stamps[web].primary_region",
            "required field",
        ),
        (
            MINI.replace('id = "web"', 'id = "web"\ntier = "Gold"'),
            "stamps[web].tier",
            "unknown value 'Gold'",
        ),
        (
            MINI + '[[stamps.failback]]\nid = "c"\ntitle = "C"\nkind = "manual"\n'
            'duration = "1m"\ndirection = "failover"\n',
            "stamps[web].failback[0].direction",
            "listed under failback",
        ),
        (
            MINI + '[stamps.testing]\ncadence = "P3M"\n',
            "stamps[web].testing.cadence",
            "years and months",
        ),
        (
            MINI + "[stamps.testing]\nlast_tested = 2026-01-01T10:00:00\n",
            "stamps[web].testing.last_tested",
            "date-time",
        ),
        (
            MINI + '[stamps.testing]\nlast_tested = "yesterday"\n',
            "stamps[web].testing.last_tested",
            "expected a date",
        ),
        (
            MINI + '[stamps.targets.Galaxy]\nrto = {min = "1m", max = "2m"}\n',
            "stamps[web].targets.Galaxy",
            "unknown field (allowed: Region, AZ, Software, Hardware)",
        ),
        (
            MINI + '[stamps.targets.Region]\nrto = {min = "1m"}\nrpo = {min = "1m", max = "2m"}\n',
            "stamps[web].targets.Region.rto.max",
            "required duration is missing",
        ),
        (
            MINI + '[[stamps.services]]\nid = "s"\nkind = "mainframe"\n',
            "stamps[web].services[0].kind",
            "unknown value 'mainframe'",
        ),
        (
            MINI + '[[stamps.services]]\nid = "s"\nkind = "storage"\n'
            'replication = {mode = "async", interval = "often"}\n',
            "stamps[web].services[0].replication.interval",
            "invalid duration",
        ),
        (MINI.replace("version = 1", "version = 3"), "version", "unsupported schema version 3"),
        ("version = 1\nstamps = 5\n", "stamps", "expected a list"),
        (
            'version = 1\n[[stamps]]\nid = 7\nprimary_region = "centralus"\n',
            "stamps[0].id",
            "expected a string",
        ),
        ("version = 1\nstamps = [1]\n", "stamps[0]", "expected a table"),
        ('version = 1\n[defaults]\nregion = "x"\n', "defaults.region", "unknown field"),
        ('version = 1\nauthor = "me"\n', "author", "unknown field"),
    ],
)
def test_plan_errors_have_locations(text: str, loc: str, cause: str) -> None:
    exc = _err(text)
    assert exc.loc == loc
    assert cause in exc.cause
    assert str(exc).startswith(f"plan.toml: {loc}: ")
    assert isinstance(exc, ValueError)


def test_bad_toml_names_file() -> None:
    exc = _err("version = \n")
    assert exc.loc == "" and "invalid TOML" in str(exc) and str(exc).startswith("plan.toml: ")


def test_bad_json() -> None:
    assert "invalid JSON" in str(_err("{", "json"))


def test_unknown_format() -> None:
    assert "unknown plan format" in str(_err("", "ini"))


def test_missing_file_and_bad_suffix(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="file not found") as info:
        load_plan(tmp_path / "nope.toml")
    assert info.value.source.endswith("nope.toml")
    (tmp_path / "plan.ini").write_text("x", encoding="utf-8")
    with pytest.raises(PlanError, match="unknown plan file type"):
        load_plan(tmp_path / "plan.ini")
    bad = tmp_path / "bin.toml"
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PlanError, match="cannot read file"):
        load_plan(bad)


def test_yaml_round_trip(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    plan = seed_plan()
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan_to_dict(plan), sort_keys=False), encoding="utf-8")
    assert load_plan(path) == plan
    # YAML dates come back as datetime.date and are accepted too.
    text = (
        "version: 1\nstamps:\n- id: web\n  primary_region: centralus\n"
        "  testing: {cadence: P90D, last_tested: 2026-03-01}\n"
    )
    s = loads_plan(text, "yaml").stamps[0]
    assert s.testing.last_tested is not None and s.testing.last_tested.isoformat() == "2026-03-01"


def test_yaml_syntax_error() -> None:
    pytest.importorskip("yaml")
    assert "invalid YAML" in str(_err("a: [1, 2", "yaml"))


def test_yaml_missing_gives_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)  # makes `import yaml` raise ImportError
    path = tmp_path / "plan.yml"
    path.write_text("version: 1\nstamps: []\n", encoding="utf-8")
    with pytest.raises(PlanError, match=r"needs PyYAML.*framesig\[yaml\]") as info:
        load_plan(path)
    assert info.value.source == str(path)
