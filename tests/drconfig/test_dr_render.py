"""Rendering: Markdown runbooks, JSON with a version key, Resilience Hub policies."""

from __future__ import annotations

import dataclasses
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from framesig.drconfig import (
    RUNBOOK_VERSION,
    Step,
    runbook_dict,
    seed_plan,
    to_json,
    to_markdown,
    to_resilience_hub,
)
from framesig.drconfig.cli import main
from framesig.drconfig.render import stamp_markdown

SEED = str(resources.files("framesig.drconfig").joinpath("seed_plan.toml"))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "drconfig.md"


def _rows(md: str, heading: str) -> list[list[str]]:
    section = md.split(heading, 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"^\| \d+ \|", line)]
    return [[c.strip() for c in r.strip("|").split(" | ")] for r in rows]


@pytest.mark.parametrize("stamp_id", ["web", "data", "k8s", "genai"])
def test_seed_runbooks_are_readable(stamp_id: str) -> None:
    plan = seed_plan()
    stamp = plan.stamp(stamp_id)
    assert stamp is not None
    md = to_markdown(plan, stamp_id)
    assert md.startswith(f"# DR runbook: {stamp_id} — {stamp.title}\n")
    for heading in (
        "## Targets",
        "## Services",
        "## Failover criteria",
        "## Failover checklist",
        "## Failback criteria",
        "## Failback checklist",
        "## Testing",
        "## Findings",
    ):
        assert f"\n{heading}\n" in md
    assert "centralus → eastus2 (documented pair of centralus, both directions)" in md
    rows = _rows(md, "## Failover checklist")
    # Numbered in dependency order, which for the seed is the seed's own order.
    assert [r[1].split("**")[1] for r in rows] == [s.id for s in stamp.failover]
    assert [r[0] for r in rows] == [str(i) for i in range(1, len(rows) + 1)]
    assert rows[0][3] == "T+0:00"
    assert any(r[-1] == "●" for r in rows)
    # The last step finishes at the critical-path length stated above the table.
    total = re.search(r"Critical path: \*\*(\w+)\*\*", md.split("## Failover checklist")[1])
    assert total is not None
    assert max(r[4] for r in rows) == max(r[4] for r in rows if r[-1] == "●")


def test_parallel_steps_are_not_all_critical() -> None:
    md = to_markdown(seed_plan(), "data")
    rows = {r[1].split("**")[1]: r for r in _rows(md, "## Failover checklist")}
    assert rows["redeploy-pipelines"][-1] == "●"
    assert rows["redeploy-notebooks-jobs"][-1] == ""
    assert rows["validate-source-state"][3:5] == ["T+0:05", "T+0:20"]
    assert "Critical path: **1h5m** (Region RTO objective 2h)" in md


def test_docs_excerpt_matches_cli_output(capsys: pytest.CaptureFixture[str]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("<!-- runbook:web:begin -->\n````markdown\n", 1)[1]
    block = block.split("````\n<!-- runbook:web:end -->", 1)[0]
    assert main(["runbook", SEED, "--stamp", "web"]) == 0
    assert capsys.readouterr().out == block


def test_docs_list_every_rule_and_exit_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    from framesig.drconfig import RULES

    for code in RULES:
        assert f"| {code} |" in text
    for code in ("`0`", "`1`", "`2`"):
        assert f"| {code} |" in text


def test_whole_plan_markdown() -> None:
    md = to_markdown(seed_plan())
    assert md.startswith("# Central US workload stamps: business continuity\n")
    assert [line for line in md.splitlines() if line.startswith("## DR runbook:")] == [
        "## DR runbook: web — Web apps + static site + API behind Application Gateway WAF",
        "## DR runbook: data — Databricks jobs, notebooks and ADF pipelines",
        "## DR runbook: k8s — Heavy AKS apps + MySQL / Cosmos DB / PostgreSQL + Airflow",
        "## DR runbook: genai — GenAI Databricks + Langfuse + remote OpenAI-style model calls",
    ]
    assert "\n### Failover checklist\n" in md


def test_unknown_stamp_raises() -> None:
    with pytest.raises(KeyError, match="no stamp 'x'"):
        to_markdown(seed_plan(), "x")


def test_malformed_graph_renders_in_declaration_order() -> None:
    stamp = seed_plan().stamp("web")
    assert stamp is not None
    first = dataclasses.replace(stamp.failover[0], start_after=("monitor",))
    broken = dataclasses.replace(stamp, failover=(first, *stamp.failover[1:]))
    md = stamp_markdown(broken)
    assert "Cannot schedule: start_after has a cycle" in md
    assert "Findings" not in md  # no report given
    doc = runbook_dict(seed_plan(), "web")
    assert "error" not in doc["stamps"][0]["failover"]


def test_cells_are_escaped() -> None:
    stamp = seed_plan().stamp("web")
    assert stamp is not None
    step = Step("pipe", "A | B\nC", duration_s=60, owner="ops")
    md = stamp_markdown(dataclasses.replace(stamp, failover=(step,)))
    assert "**pipe**: A \\| B C _(owner: ops)_" in md


def test_runbook_json() -> None:
    doc = runbook_dict(seed_plan())
    assert doc["version"] == RUNBOOK_VERSION == 1
    assert doc["kind"] == "framesig.drconfig.runbook"
    assert json.loads(to_json(doc)) == doc
    web = doc["stamps"][0]
    assert web["targets"]["Region"] == {
        "rto_s": {"min": 900, "max": 3600},
        "rpo_s": {"min": 300, "max": 1800},
        "scope": [],
    }
    fo = web["failover"]
    assert fo["critical_path_s"] == 3000 and fo["critical_path"][0] == "confirm-deployed"
    assert fo["steps"][-1]["finish_s"] == 3000 and fo["steps"][-1]["critical"] is True
    assert {f["code"] for f in web["findings"]} <= {"DR003", "DR004", "DR007"}


def test_resilience_hub_v1() -> None:
    plan = seed_plan()
    web = plan.stamp("web")
    assert web is not None
    rh = to_resilience_hub(web)
    assert rh["policyName"] == "stamp-web" and rh["tier"] == "Critical"
    assert set(rh["policy"]) == {"Software", "Hardware", "AZ", "Region"}
    assert rh["policy"]["Region"] == {"rtoInSecs": 3600, "rpoInSecs": 1800}
    assert rh["tags"]["framesig:derived"] == "Software Hardware AZ from Region"


def test_resilience_hub_v2() -> None:
    genai = seed_plan().stamp("genai")
    assert genai is not None
    rh = to_resilience_hub(genai, version=2)
    assert rh == {
        "name": "stamp-genai",
        "multiRegion": {
            "disasterRecoveryApproach": "WARM_STANDBY",
            "rtoInMinutes": 90,
            "rpoInMinutes": 15,
        },
    }
    with pytest.raises(ValueError, match="version 3"):
        to_resilience_hub(genai, version=3)
