"""framesig bench: real processes measured, the table, and the fast-vs-exact check."""

from __future__ import annotations

import sys

import pytest
from conftest import ffmpeg

import framesig
from framesig import bench


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "clip.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=25", "-t", "3",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25", str(path),
    )  # fmt: skip
    return str(path)


def test_run_once_measures_this_process_only():
    small = bench.run_once([sys.executable, "-c", "print(1)"])
    big = bench.run_once([sys.executable, "-c", "b = bytearray(300 << 20); print(len(b))"])
    assert small[2] == 0 and small[3].strip() == "1"
    assert big[1] > small[1] + 250  # MiB: the 300 MiB buffer shows, in its own run only
    assert bench.run_once([sys.executable, "-c", "import sys; sys.exit(3)"])[2] == 3


def test_commands_and_frame_count(clip):
    cmds = bench.commands(clip, threads=2)
    assert cmds["ffmpeg"][cmds["ffmpeg"].index("-threads") + 1] == "2"
    assert "--fast" in cmds["fast"] and "--fast" not in cmds["exact"]
    assert bench.count_frames(clip) == 75


def test_measure_gives_medians_and_the_fast_check(clip):
    rows, check = bench.measure(clip, repeats=1, tools=("ffmpeg", "exact", "fast"))
    assert [m.tool for m in rows] == ["ffmpeg", "exact", "fast"]
    assert all(m.frames == 75 and m.wall > 0 and m.rss_mb > 0 and not m.error for m in rows)
    assert check.startswith("fast vs exact: the same")
    table = bench.format_table(rows)
    assert table.count("\n") == 4 and "| ffmpeg |" in table and "| 1.00 |" in table


def test_compare_signatures_sees_a_difference(clip):
    exact = framesig.summarize(clip).to_dict()
    assert "the same" in bench.compare_signatures(exact, exact)
    other = dict(exact, runs=[dict(r, state=r["state"] + 1) for r in exact["runs"]])
    assert "DIFFERENT" in bench.compare_signatures(exact, other)
    fell = dict(exact, settings=dict(exact["settings"], fast_fallback="h264 stream"))
    assert "fell back" in bench.compare_signatures(exact, fell)


def test_bench_cli(clip, capsys):
    from framesig.cli import main

    assert main(["bench", clip, "-n", "1", "--no-peers"]) == 0
    out = capsys.readouterr().out
    assert "75 frames" in out and "| exact |" in out and "| pyav |" in out
    assert "detect-content" not in out
    assert main(["bench", "/no/such/file.mp4"]) == 1


def test_bench_says_what_is_wrong_with_its_input(tmp_path, capsys):
    """Not a video, a folder, a device: one line naming the cause, exit 1, before any
    tool runs; a bad option is a usage error (exit 2)."""
    from framesig.cli import main

    notes = tmp_path / "notes.txt"
    notes.write_text("not a video\n")
    for path, cause in (
        (notes, "not a video FFmpeg can read"),
        (tmp_path, "a folder: bench times one video file"),
        ("/dev/null", "not a regular file"),
    ):
        assert main(["bench", str(path), "-n", "1", "--no-peers"]) == 1
        err = capsys.readouterr().err
        assert cause in err and "Traceback" not in err, err
    with pytest.raises(SystemExit) as exc:
        main(["bench", str(notes), "-n", "0"])
    assert exc.value.code == 2


def test_a_video_named_like_an_option_is_timed(clip, tmp_path, monkeypatch):
    import shutil

    shutil.copy(clip, tmp_path / "-n.mp4")
    monkeypatch.chdir(tmp_path)
    rows, _ = bench.measure("-n.mp4", repeats=1, tools=("ffmpeg", "exact"))
    assert all(not m.error and m.frames == 75 for m in rows), rows


def test_bench_counts_the_frames_exact_mode_decodes():
    """A raw H.264 stream holds 401 packets, of which FFmpeg shows 388 frames (those
    before the first recovery point are grey); frames/s is over the 388."""
    from conftest import real_clip

    video = str(real_clip("drone_ardrone2_indoor_yaw_640x360_raw.h264"))
    assert bench.count_frames(video) == 401
    rows, _ = bench.measure(video, repeats=1, tools=("exact",))
    assert rows[0].frames == 388 and not rows[0].error


def test_framesig_runs_are_not_shadowed_by_a_folder_named_framesig(clip, tmp_path, monkeypatch):
    # e.g. bench run beside a checkout: python -m would import the folder, not the package
    (tmp_path / "framesig").mkdir()
    monkeypatch.chdir(tmp_path)
    for tool in ("pyav", "exact"):
        run = bench.run_once(bench.commands(clip, tools=(tool,))[tool])
        assert run.status == 0, run.stderr


def test_a_failed_tool_gives_its_reason_and_exit_status_1(clip, tmp_path, monkeypatch, capsys):
    from framesig.cli import main

    broken = tmp_path / "framesig"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('broken | on purpose')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the runs import this one, not ours
    assert main(["bench", clip, "-n", "1", "--no-peers"]) == 1
    captured = capsys.readouterr()
    assert "| exact | failed: exit status 1: ImportError: broken / on purpose | | | |" in (
        captured.out
    )
    assert "| ffmpeg | " in captured.out and "| pyav | " in captured.out  # the others ran
    assert "framesig bench: fast failed: exit status 1: ImportError" in captured.err


def test_peers_not_installed_are_named_as_left_out(clip, monkeypatch, capsys):
    from framesig.cli import main

    monkeypatch.setattr(bench, "_exe", lambda name: None)  # no scenedetect anywhere
    assert main(["bench", clip, "-n", "1"]) == 0
    captured = capsys.readouterr()
    assert "detect-content, detect-adaptive not installed, left out" in captured.err
    assert "detect-content" not in captured.out
