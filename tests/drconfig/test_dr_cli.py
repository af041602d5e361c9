"""CLI through main([...]) and one real `python -m framesig.drconfig` subprocess."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from framesig.drconfig import load_plan, plan_to_dict, seed_plan, seed_plan_text
from framesig.drconfig.cli import add_dr_parser, main

SEED = str(resources.files("framesig.drconfig").joinpath("seed_plan.toml"))


def _write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def _broken(tmp_path: Path) -> str:
    """The seed with the web stamp's failback steps removed (DR006 error)."""
    doc = plan_to_dict(seed_plan())
    doc["stamps"][0]["failback"] = []
    return _write(tmp_path, "broken.json", json.dumps(doc))


def _warning_only(tmp_path: Path) -> str:
    """The seed with a step timeout that pushes the worst case over the RTO (DR004 warning)."""
    return _write(
        tmp_path, "warn.toml", seed_plan_text().replace('timeout = "10m"', 'timeout = "30m"', 1)
    )


def test_validate_seed_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", SEED]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("ok: 0 errors, 0 warnings, 16 infos")
    assert main(["validate", SEED, "--strict", "-q"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{SEED}: ok: 0 errors, 0 warnings, 16 infos"]


def test_validate_errors_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _broken(tmp_path)
    assert main(["validate", path]) == 1
    out = capsys.readouterr().out
    assert f"{path}: stamps[web].failback: error DR006: no failback steps" in out
    assert "FAILED: 1 error" in out


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    path = _warning_only(tmp_path)
    assert main(["validate", path]) == 0
    assert main(["validate", path, "--strict"]) == 1


def test_validate_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", _broken(tmp_path), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == 1 and doc["ok"] is False
    assert {
        "code": "DR006",
        "severity": "error",
        "loc": "stamps[web].failback",
        "message": "no failback steps",
    } in doc["findings"]


def test_validate_today_option(tmp_path: Path) -> None:
    text = seed_plan_text().replace(
        'testing = { cadence = "P90D" }',
        'testing = { cadence = "P90D", last_tested = 2026-01-05 }',
        1,
    )
    path = _write(tmp_path, "dated.toml", text)
    assert main(["validate", path, "--today", "2026-04-01"]) == 0
    assert main(["validate", path, "--today", "2026-04-10"]) == 1
    assert main(["validate", path, "--today", "April"]) == 2


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("version = \n", "invalid TOML"),
        ('version = 1\ncolour = "red"\n', "colour: unknown field"),
        (
            'version = 1\n[[stamps]]\nid = "web"\nprimary_region = "centralus"\n'
            '[[stamps.failover]]\nid = "a"\ntitle = "A"\nkind = "manual"\nduration = "5m"\n'
            'start_after = "x"\n',
            "stamps[web].failover[0].start_after: expected a list",
        ),
    ],
)
def test_load_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, needle: str
) -> None:
    path = _write(tmp_path, "plan.toml", text)
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert path in err and needle in err


def test_missing_file_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "no/such.toml"]) == 2
    assert "no/such.toml: file not found" in capsys.readouterr().err
    assert main(["runbook", "no/such.toml"]) == 2


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["validate"]) == 2
    assert main(["runbook", SEED, "--format", "pdf"]) == 2
    assert main(["--help"]) == 0
    capsys.readouterr()


def test_runbook_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbook", SEED, "--stamp", "k8s"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# DR runbook: k8s — Heavy AKS apps")
    assert main(["runbook", SEED]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Central US workload stamps: business continuity\n")
    assert out.count("## DR runbook: ") == 4


def test_runbook_unknown_stamp(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbook", SEED, "--stamp", "mainframe"]) == 2
    assert "no stamp 'mainframe' (stamps: web, data, k8s, genai)" in capsys.readouterr().err


def test_runbook_json_and_rh(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbook", SEED, "--stamp", "web", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["version"] == 1 and doc["stamps"][0]["id"] == "web"
    assert main(["runbook", SEED, "--stamp", "web", "--format", "rh"]) == 0
    rh = json.loads(capsys.readouterr().out)
    assert rh["policy"]["Region"] == {"rtoInSecs": 3600, "rpoInSecs": 1800}
    assert main(["runbook", SEED, "--format", "rh", "--rh-version", "2"]) == 0
    policies = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in policies] == ["stamp-web", "stamp-data", "stamp-k8s", "stamp-genai"]


def test_runbook_of_broken_plan_still_renders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runbook", _broken(tmp_path), "--stamp", "web"]) == 0
    captured = capsys.readouterr()
    assert "error DR006 `stamps[web].failback`" in captured.out
    assert "has 1 error finding(s)" in captured.err


def test_runbook_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "web.md"
    assert main(["runbook", SEED, "--stamp", "web", "-o", str(out)]) == 0
    assert capsys.readouterr().out == ""
    assert out.read_text(encoding="utf-8").startswith("# DR runbook: web")
    assert main(["runbook", SEED, "-o", str(tmp_path / "missing" / "x.md")]) == 2


def test_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "dr.toml"
    assert main(["init", str(path)]) == 0
    assert load_plan(path) == seed_plan()
    assert main(["init", str(path)]) == 2
    assert "exists; use --force" in capsys.readouterr().err
    assert main(["init", str(path), "--force"]) == 0
    assert main(["init", "-"]) == 0
    assert capsys.readouterr().out.endswith(seed_plan_text())
    assert main(["init", str(tmp_path / "missing" / "x.toml")]) == 2


def test_init_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    assert (tmp_path / "dr-plan.toml").read_text(encoding="utf-8") == seed_plan_text()


def test_add_dr_parser_mounts_under_a_top_level_cli(capsys: pytest.CaptureFixture[str]) -> None:
    top = argparse.ArgumentParser(prog="framesig")
    add_dr_parser(top.add_subparsers(dest="command"))
    args = top.parse_args(["dr", "validate", SEED, "--strict"])
    assert args.func(args) == 0
    capsys.readouterr()
    args = top.parse_args(["dr"])
    assert args.func(args) == 2
    args = top.parse_args(["dr", "runbook", SEED, "--stamp", "genai", "--format", "json"])
    assert args.func(args) == 0
    assert json.loads(capsys.readouterr().out)["stamps"][0]["id"] == "genai"


def test_subprocess_exit_codes(tmp_path: Path) -> None:
    broken = _broken(tmp_path)
    bad = _write(tmp_path, "bad.toml", "version = \n")
    codes = []
    for path in (SEED, broken, bad):
        proc = subprocess.run(
            [sys.executable, "-m", "framesig.drconfig", "validate", path],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        codes.append(proc.returncode)
    assert codes == [0, 1, 2]
