"""The sample flight against its ground truth, and the CLI as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import framesig
from framesig import synthetic
from framesig.cli import main


def _state_at(sig, frame):
    return next(r.state for r in sig.runs if r.start_frame <= frame <= r.end_frame)


def test_demo_flight_return_and_flash(sample_flight):
    truth = synthetic.GroundTruth.from_json(
        (sample_flight.parent / f"{sample_flight.name}.truth.json").read_text()
    )
    sig = framesig.summarize(sample_flight)
    hovers = truth.hovers()
    first_a, back_a = hovers[0], hovers[-1]
    assert first_a["place"] == back_a["place"]

    def hover_state(h):
        frames = range(int(h["start"]) + 5, int(h["end"]) - 5)
        states = {_state_at(sig, f) for f in frames}
        assert len(states) == 1, (h, states)  # the hover is one state
        return states.pop()

    assert hover_state(first_a) == hover_state(back_a)
    assert len({hover_state(h) for h in hovers}) == 3  # three places, three states
    flash = truth.perturbations[0]["frame"]
    assert all(abs(t.frame - flash) > 2 for t in sig.transitions)
    assert any(tr.start_frame <= flash <= tr.end_frame for tr in sig.transients)


def test_cli_summarize_writes_outputs(sample_flight, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["summarize", str(sample_flight), "-o", str(out), "-q"]) == 0
    sig = framesig.Signature.load(out / "signature.json")
    jpgs = sorted((out / "keyframes").glob("state_*.jpg"))
    assert len(jpgs) == len(sig.states)
    assert (out / "contact_sheet.png").stat().st_size > 1000


def test_cli_json_and_errors(sample_flight, tmp_path, capsys):
    assert main(["summarize", str(sample_flight), "--json", "-q", "--max-frames", "50"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["source"]["frames"] == 50 and data["source"]["partial"] is True
    assert main(["summarize", str(tmp_path / "missing.mp4")]) == 1
    assert "missing.mp4: no such file" in capsys.readouterr().err


def test_cli_demo_runs_in_a_fresh_process(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "framesig.cli", "demo", "-o", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "the state of the first visit (a return)" in out.stdout
    assert "no transition (transient)" in out.stdout


def test_the_command_exits_with_its_code_after_a_summary(sample_flight, tmp_path):
    """The console entry (main, then a frozen-heap exit) keeps main's exit code and output."""
    ok = subprocess.run(
        [sys.executable, "-m", "framesig.cli", "summarize", str(sample_flight), "--json", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["source"]["frames"] > 0
    bad = subprocess.run(
        [sys.executable, "-m", "framesig.cli", "summarize", str(tmp_path / "missing.mp4")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 1
    assert "missing.mp4: no such file" in bad.stderr


@pytest.mark.parametrize("bad", [["summarize"], ["nope"]])
def test_cli_usage_errors_exit_2(bad):
    with pytest.raises(SystemExit) as exc:
        main(bad)
    assert exc.value.code == 2


def test_the_command_line_is_built_without_numba():
    """`framesig --help` and `framesig dr ...` stay quick: no numba until a video needs it."""
    code = (
        "import sys; from framesig.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('numba', 'av', 'cv2') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_progress_eta_leaves_out_the_time_before_the_first_batch(capsys):
    from framesig.cli import _ProgressBar
    from framesig.pipeline import Progress

    bar = _ProgressBar(enabled=True)
    bar(Progress(64, 2.0, 100.0, 10.0))  # a first run: 10 s compiling before 2 s of video
    bar.last = float("-inf")  # the display is not due yet: make it so
    bar(Progress(640, 20.0, 100.0, 13.0))  # then 18 s of video in 3 s
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "20.0%" in line and "ETA   13s" in line  # 80 s left at 6 s of video a second


def test_outputs_that_cannot_be_written_are_errors_not_tracebacks(sample_flight, tmp_path):
    cmd = [sys.executable, "-m", "framesig.cli", "summarize", str(sample_flight)]
    blocker = tmp_path / "afile"
    blocker.write_text("in the way")
    bad_out = subprocess.run([*cmd, "-o", str(blocker)], capture_output=True, text=True)
    assert bad_out.returncode == 1 and "Traceback" not in bad_out.stderr
    assert f"framesig: error: {blocker}: a file is there: -o names the folder" in bad_out.stderr
    # a report into a folder that is not there names the file asked for, not a temp file
    sig_dir = tmp_path / "sig"
    assert subprocess.run([*cmd, "-o", str(sig_dir), "-q"]).returncode == 0
    nowhere = tmp_path / "no" / "such" / "report.html"
    rep = subprocess.run(
        [sys.executable, "-m", "framesig.cli", "report", str(sig_dir), "-o", str(nowhere)],
        capture_output=True,
        text=True,
    )
    assert rep.returncode == 1 and ".tmp" not in rep.stderr, rep.stderr
    assert f"{nowhere}: its folder '{nowhere.parent}' does not exist" in rep.stderr
    with open("/dev/full", "w") as full:  # every write: no space left on the device
        no_space = subprocess.run(
            [*cmd, "--json", "-q"], stdout=full, stderr=subprocess.PIPE, text=True
        )
    assert no_space.returncode == 1 and "Traceback" not in no_space.stderr
    assert "No space left on device" in no_space.stderr
    reader = subprocess.Popen(
        [*cmd, "--json", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert reader.stdout is not None
    reader.stdout.close()  # the reader leaves before the signature is written
    _, err = reader.communicate()
    assert reader.returncode == 1 and "Traceback" not in err and "Exception" not in err
