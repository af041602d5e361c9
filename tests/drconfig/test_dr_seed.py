"""The packaged seed plan follows the seed, and the module stays independent."""

from __future__ import annotations

import ast
import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from framesig.drconfig import (
    Approach,
    Band,
    DegradationMode,
    Disruption,
    ReplicationMode,
    ServiceKind,
    schedule,
    seed_plan,
    validate,
)
from framesig.drconfig.schedule import topological_order

PKG = Path(__file__).resolve().parents[2] / "framesig" / "drconfig"

BANDS = {
    "web": ((15, 60), (5, 30)),
    "data": ((30, 120), (5, 60)),
    "k8s": ((30, 180), (5, 30)),
    "genai": ((15, 90), (1, 15)),
}

FAILOVER_ORDER = {
    "web": [
        "confirm-deployed",
        "validate-replication",
        "stop-primary-writes",
        "verify-secondary-health",
        "switch-traffic",
        "test-user-paths",
        "monitor",
    ],
    "data": [
        "freeze-primary",
        "validate-source-state",
        "confirm-workspace",
        "redeploy-notebooks-jobs",
        "redeploy-pipelines",
        "validate-ir",
        "canary-job",
        "confirm-sinks",
        "verify-counts",
        "resume-batch",
    ],
    "k8s": [
        "verify-cluster",
        "restore-config",
        "database-path",
        "redeploy-airflow",
        "test-dag",
        "validate-endpoints",
        "cut-traffic",
    ],
    "genai": [
        "verify-workspace",
        "confirm-secrets",
        "validate-langfuse",
        "test-egress",
        "prompt-canary",
        "validate-fallbacks",
        "reenable-traffic",
    ],
}


def test_seed_has_the_four_stamps_in_central_us() -> None:
    plan = seed_plan()
    assert [s.id for s in plan.stamps] == ["web", "data", "k8s", "genai"]
    for s in plan.stamps:
        assert (s.primary_region, s.secondary_region) == ("centralus", "eastus2")
        assert s.approach is Approach.WARM_STANDBY and s.posture == "active-passive"
        assert s.use_region_pair and s.identity_policy_parity and s.iac.declared
        assert s.testing.cadence_s == 90 * 86400


@pytest.mark.parametrize("stamp_id", list(BANDS))
def test_seed_bands(stamp_id: str) -> None:
    stamp = seed_plan().stamp(stamp_id)
    assert stamp is not None
    target = stamp.target(Disruption.REGION)
    assert target is not None
    (rto_lo, rto_hi), (rpo_lo, rpo_hi) = BANDS[stamp_id]
    assert target.rto == Band(rto_lo * 60, rto_hi * 60)
    assert target.rpo == Band(rpo_lo * 60, rpo_hi * 60)


@pytest.mark.parametrize("stamp_id", list(FAILOVER_ORDER))
def test_seed_checklists_in_seed_order(stamp_id: str) -> None:
    stamp = seed_plan().stamp(stamp_id)
    assert stamp is not None
    assert [s.id for s in stamp.failover] == FAILOVER_ORDER[stamp_id]
    assert [s.id for s in topological_order(stamp.failover)] == FAILOVER_ORDER[stamp_id]
    target = stamp.target(Disruption.REGION)
    assert target is not None
    for steps in (stamp.failover, stamp.failback):
        tags = [s.tags for s in steps]
        first_canary = next(i for i, t in enumerate(tags) if "canary" in t)
        first_traffic = next(i for i, t in enumerate(tags) if "traffic_enable" in t)
        assert first_canary < first_traffic
    assert schedule(stamp.failover).total_s <= target.rto.max_s


def test_genai_model_path_by_degradation() -> None:
    genai = seed_plan().stamp("genai")
    assert genai is not None
    model = [s for s in genai.services if s.kind is ServiceKind.MODEL_ENDPOINT]
    assert len(model) == 1 and model[0].replication.mode is ReplicationMode.NONE
    target = genai.target(Disruption.REGION)
    assert target is not None and target.scope and not target.in_scope(model[0].id)
    assert {"langfuse", "workspace", "key-vault"} <= set(target.scope)
    modes = {d.mode for d in genai.degradation if d.covers(model[0].id)}
    assert modes == set(DegradationMode)


def test_seed_validates_clean_for_years() -> None:
    # No last_tested in the seed, so the result does not depend on the date.
    for today in (dt.date(2026, 4, 10), dt.date(2030, 1, 1)):
        report = validate(seed_plan(), today=today)
        assert report.errors == () and report.warnings == ()
        counts = {c: sum(f.code == c for f in report.infos) for c in ("DR003", "DR004", "DR007")}
        assert counts == {"DR003": 8, "DR004": 4, "DR007": 4}  # as documented


def test_no_framesig_imports_outside_drconfig() -> None:
    for path in sorted(PKG.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                if name.startswith("framesig"):
                    assert name.startswith("framesig.drconfig"), (path.name, name)


def test_import_pulls_in_no_pipeline_or_third_party_modules() -> None:
    code = (
        "import sys; import framesig.drconfig; import framesig.drconfig.cli;"
        "print(' '.join(sorted(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    framesig_mods = {m for m in out if m.startswith("framesig")}
    assert {m for m in framesig_mods if not m.startswith("framesig.drconfig")} <= {
        "framesig",
        "framesig.errors",
    }
    for heavy in ("numpy", "av", "numba", "cv2", "skimage", "yaml"):
        assert heavy not in out
