"""framesig batch: a folder of flights in a worker pool, resumable through its catalogue.

The clips are made here with ffmpeg (testsrc2, cut by stream copy so each is different),
and the batch runs as users run it: the ``framesig batch`` command in its own process,
killed with a real SIGKILL in the middle of the run and started again.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ffmpeg

import framesig
from framesig.batch import (
    BatchProgress,
    content_hash,
    expand_inputs,
    run_batch,
    summarize_file,
    summarize_many,
)
from framesig.catalog import Catalog, CatalogError
from framesig.cli import main

N_CLIPS = 8


@pytest.fixture(scope="module")
def base_long(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """80 s of testsrc2 at 320x240, a keyframe every second, to cut clips from."""
    path = tmp_path_factory.mktemp("batch_base") / "long.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "80",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "30",
        "-movflags", "+faststart", str(path),
    )  # fmt: skip
    return path


def _cut(base: Path, target: Path, start: float, length: float) -> Path:
    ffmpeg(
        "-ss",
        str(start),
        "-i",
        str(base),
        "-t",
        str(length),
        "-c",
        "copy",
        "-movflags",
        "+faststart",
        str(target),
    )
    return target


@pytest.fixture(scope="module")
def clip_folder(base_long: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight different clips of 14..28 s (a few tenths of a second of work each)."""
    folder = tmp_path_factory.mktemp("flights")
    for i in range(N_CLIPS):
        _cut(base_long, folder / f"flight_{i:02d}.mp4", i * 5, 14 + (i * 5) % 15)
    return folder


@pytest.fixture(scope="module")
def mixed_folder(base_long: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two good clips, an empty file, a text file named .mp4 and a clip cut in half."""
    folder = tmp_path_factory.mktemp("mixed")
    _cut(base_long, folder / "good_a.mp4", 0, 4)
    _cut(base_long, folder / "good_b.mp4", 10, 5)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "notes.mp4").write_text("flight notes, not a video\n", encoding="utf-8")
    whole = _cut(base_long, folder.parent / f"{folder.name}_whole.mp4", 20, 6).read_bytes()
    (folder / "cut_short.mp4").write_bytes(whole[: len(whole) // 2])
    (folder / "readme.txt").write_text("not an input: no video suffix", encoding="utf-8")
    return folder


def _rows(db: Path) -> list[dict]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM flights ORDER BY path")]
    finally:
        con.close()


def _assert_catalogue_consistent(out: Path) -> list[dict]:
    """Every ok flight: its outputs complete and equal to its row; child rows match."""
    with Catalog(out / "framesig.db", readonly=True) as db:
        assert db.check() == []
        rows = db.flights()
        assert len({r["path"] for r in rows}) == len(rows)  # one row per input
        for r in rows:
            if r["status"] != "ok":
                assert r["error_type"] and r["error"] and db.signature(r["id"]) is None
                continue
            sig = db.signature(r["id"])
            assert sig is not None
            on_disk = framesig.Signature.load(out / r["name"] / "signature.json")
            assert on_disk == sig
            jpgs = sorted((out / r["name"] / "keyframes").glob("state_*.jpg"))
            assert len(jpgs) == len(sig.states) == r["n_states"]
            assert (out / r["name"] / "contact_sheet.png").stat().st_size > 0
            counts = {
                t: next(db.execute(f"SELECT count(*) FROM {t} WHERE flight_id = ?", [r["id"]]))[0]
                for t in ("states", "runs", "transitions", "keyframes")
            }
            assert counts == {
                "states": len(sig.states),
                "runs": len(sig.runs),
                "transitions": len(sig.transitions),
                "keyframes": len(sig.states),
            }
            files = [
                k["file"]
                for k in db.execute("SELECT file FROM keyframes WHERE flight_id=?", [r["id"]])
            ]
            assert all((out / f).is_file() for f in files)
    assert not (out / ".partial").exists()
    return rows


def test_mixed_folder_ends_with_the_right_statuses(mixed_folder, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["batch", str(mixed_folder), "-o", str(out), "-j", "2", "-q"])
    assert code == 1  # some inputs are in error
    _assert_catalogue_consistent(out)
    rows = {Path(r["path"]).name: r for r in _rows(out / "framesig.db")}
    assert sorted(rows) == ["cut_short.mp4", "empty.mp4", "good_a.mp4", "good_b.mp4", "notes.mp4"]
    assert (rows["empty.mp4"]["status"], rows["empty.mp4"]["error_type"]) == (
        "error",
        "EmptyVideoError",
    )
    assert (rows["notes.mp4"]["status"], rows["notes.mp4"]["error_type"]) == ("error", "OpenError")
    assert "notes.mp4" in rows["notes.mp4"]["error"]
    for name in ("good_a.mp4", "good_b.mp4", "cut_short.mp4"):
        direct = framesig.summarize(mixed_folder / name)
        assert rows[name]["status"] == "ok"
        # the batch's signature is the one framesig.summarize gives, in every field
        assert framesig.Signature.from_json(rows[name]["signature"]) == direct
        facts = json.loads(rows[name]["facts"])
        assert facts["truncated"] == direct.source.truncated == bool(rows[name]["truncated"])
    assert rows["cut_short.mp4"]["truncated"] == 1
    assert rows["good_a.mp4"]["truncated"] == 0
    assert rows["good_a.mp4"]["content_hash"] == content_hash(mixed_folder / "good_a.mp4")


def test_rerun_skips_changed_file_is_redone_and_retry_failed(mixed_folder, base_long, tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(mixed_folder, folder)
    out = tmp_path / "out"
    first = run_batch([folder], out, workers=2)
    assert (first.summarized, first.failed, first.skipped) == (3, 2, 0)
    before = {r["path"]: r for r in _rows(out / "framesig.db")}

    again = run_batch([folder], out, workers=1)  # nothing to do
    assert (again.summarized, again.failed, again.skipped) == (0, 0, 5)
    assert {r["path"]: r for r in _rows(out / "framesig.db")} == before

    target = folder / "good_a.mp4"
    os.utime(target, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same bytes
    touched = run_batch([folder], out, workers=1)
    assert touched.summarized == 0 and touched.skipped == 5
    _cut(base_long, folder / "changed.mp4", 40, 3)
    os.replace(folder / "changed.mp4", target)  # new content under the same name
    changed = run_batch([folder], out, workers=1)
    assert (changed.summarized, changed.failed, changed.skipped) == (1, 0, 4)
    after = {r["path"]: r for r in _rows(out / "framesig.db")}
    assert len(after) == 5
    assert after[str(target)]["content_hash"] == content_hash(target)
    assert after[str(target)]["content_hash"] != before[str(target)]["content_hash"]
    assert after[str(target)]["batch_id"] == changed.batch_id
    assert framesig.Signature.load(out / "good_a" / "signature.json") == framesig.summarize(target)
    for path, row in before.items():
        if path != str(target):
            assert after[path] == row

    retry = run_batch([folder], out, workers=2, retry_failed=True)
    assert (retry.summarized, retry.failed, retry.skipped) == (0, 2, 3)
    failed = [r for r in _rows(out / "framesig.db") if r["status"] == "error"]
    assert {r["batch_id"] for r in failed} == {retry.batch_id}
    _assert_catalogue_consistent(out)

    with pytest.raises(CatalogError, match="other settings"):
        run_batch([folder], out, workers=1, settings=framesig.Settings(persist=5))


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def test_sigkill_mid_run_then_rerun_does_each_file_exactly_once(clip_folder, tmp_path):
    out = tmp_path / "out"
    db = out / "framesig.db"
    cmd = [sys.executable, "-m", "framesig.cli", "batch", str(clip_folder), "-o", str(out)]
    cmd += ["-j", "2", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    committed, workers = 0, []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid) or workers
            if db.exists():
                try:
                    committed = len(_rows(db))
                except sqlite3.OperationalError:  # the schema is being created
                    committed = 0
            if committed >= 1:
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"the batch ended before the kill: {proc.stderr}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, stderr
    killed = {r["path"]: r for r in _rows(db)}
    assert 1 <= len(killed) < N_CLIPS
    # the orphaned workers notice their batch died and stop by themselves
    end = time.monotonic() + 10
    while time.monotonic() < end and not all(_gone(w) for w in workers):
        time.sleep(0.1)
    assert all(_gone(w) for w in workers), workers

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    rows = _assert_catalogue_consistent(out)
    assert len(rows) == N_CLIPS and all(r["status"] == "ok" for r in rows)
    assert sorted(Path(r["path"]).name for r in rows) == sorted(
        p.name for p in clip_folder.glob("*.mp4")
    )
    rows = _rows(db)
    for r in rows:  # what was committed before the kill was not done again
        if r["path"] in killed:
            assert r == killed[r["path"]]
        else:
            assert r["batch_id"] == 2
    con = sqlite3.connect(db)
    try:
        batches = con.execute("SELECT id, summarized, skipped, finished_at FROM batches").fetchall()
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    assert batches[0][0] == 1 and batches[0][3] is None  # the killed run never finished
    assert batches[1][:3] == (2, N_CLIPS - len(killed), len(killed))
    names = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert names == sorted(r["name"] for r in rows)  # no half-written folder left behind
    sample = rows[-1]
    assert framesig.Signature.load(out / sample["name"] / "signature.json") == framesig.summarize(
        sample["path"]
    )


def test_summarize_many_yields_as_files_finish(base_long, mixed_folder):
    # 80 s against 4 s and an empty file: the long one ends last however the workers start
    paths = [base_long, mixed_folder / "empty.mp4", mixed_folder / "good_a.mp4"]
    gen = summarize_many(paths, workers=2)
    assert iter(gen) is gen  # a generator: results come as they finish
    results = list(gen)
    assert sorted(r.path for r in results) == sorted(str(p) for p in paths)
    # the long flight was started first, so a short one finished before it
    assert results[-1].path == str(paths[0])
    by_path = {Path(r.path).name: r for r in results}
    assert by_path["empty.mp4"].error_type == "EmptyVideoError"
    inline = {Path(r.path).name: r for r in summarize_many(paths, workers=0)}
    assert by_path["good_a.mp4"].signature == framesig.summarize(paths[2])
    for name in ("long.mp4", "good_a.mp4"):
        assert by_path[name].signature == inline[name].signature
        assert by_path[name].content_hash == inline[name].content_hash


def test_a_worker_that_dies_is_replaced_and_its_file_retried_then_failed(base_long, tmp_path):
    # 80 s of video: long enough that the parent sees the worker's progress before it ends
    target = base_long
    kills: list[int] = []

    def kill_busy_workers(limit: int):
        def progress(p: BatchProgress) -> None:
            if p.running and p.frames > 0 and len(kills) < limit:
                for child in multiprocessing.active_children():
                    os.kill(child.pid, signal.SIGKILL)
                    kills.append(child.pid)

        return progress

    once = run_batch([target], tmp_path / "once", workers=1, progress=kill_busy_workers(1))
    assert len(kills) == 1
    assert once.files[0].status == "ok"
    assert framesig.Signature.load(tmp_path / "once" / "long" / "signature.json") == (
        framesig.summarize(target)
    )
    kills.clear()
    twice = run_batch([target], tmp_path / "twice", workers=1, progress=kill_busy_workers(2))
    assert len(kills) == 2
    assert (twice.files[0].status, twice.files[0].error_type) == ("error", "WorkerCrash")
    assert "died while summarizing it" in (twice.files[0].error or "")
    _assert_catalogue_consistent(tmp_path / "twice")


def test_inputs_folders_lists_globs_and_missing(tmp_path, mixed_folder):
    listing = tmp_path / "inputs.txt"
    listing.write_text(
        f"# flights\n{mixed_folder / 'good_a.mp4'}\n\nmissing.mp4\n", encoding="utf-8"
    )
    got = expand_inputs([f"@{listing}", str(mixed_folder / "good_*.mp4"), str(mixed_folder)])
    names = [Path(p).name for p in got]
    assert names == [
        "good_a.mp4",
        "missing.mp4",
        "good_b.mp4",
        "cut_short.mp4",
        "empty.mp4",
        "notes.mp4",
    ]
    assert got[1] == str(tmp_path / "missing.mp4")  # relative to the list
    images = tmp_path / "frames"
    images.mkdir()
    (images / "0001.png").write_bytes(b"")
    assert expand_inputs([tmp_path], recursive=True)[-1] == str(images)
    missing = summarize_file(tmp_path / "missing.mp4")
    assert (missing.status, missing.error_type, missing.content_hash) == ("error", "OpenError", "")


def test_a_named_pipe_is_recorded_as_failed_and_an_empty_pattern_is_named(
    tmp_path, mixed_folder, capsys
):
    import os

    fifo = tmp_path / "pipe.mp4"
    os.mkfifo(fifo)  # no writer: reading it would block for ever
    pattern = str(tmp_path / "nomatch*.mp4")
    good = str(mixed_folder / "good_a.mp4")
    empty = tmp_path / "nothing_here"
    empty.mkdir()
    argv = [
        "batch", str(fifo), good, pattern, str(empty), "-o", str(tmp_path / "out"), "-j", "1", "-q"
    ]  # fmt: skip
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert f"framesig batch: {pattern} matches no file" in err
    assert f"framesig batch: {empty} holds no video" in err
    report = run_batch([str(fifo), good], tmp_path / "out", workers=1)
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["good_a.mp4"].status == "ok"
    assert by_name["pipe.mp4"].status == "error"
    assert "not a regular file" in str(by_name["pipe.mp4"].error)


def test_a_folder_that_cannot_be_listed_is_recorded_and_the_rest_done(tmp_path, mixed_folder):
    folder = tmp_path / "in"
    for sub in ("locked", "ok"):
        (folder / sub).mkdir(parents=True)
        shutil.copy(mixed_folder / "good_a.mp4", folder / sub / f"{sub}.mp4")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "framesig.cli", "batch", str(folder), "-r", "-o", str(out)]
    if os.geteuid() == 0:  # root reads any folder: run without that power
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        drop = "-dac_override,-dac_read_search"
        cmd = [setpriv, "--bounding-set", drop, "--inh-caps", drop, *cmd]
    (folder / "locked").chmod(0)
    try:
        run = subprocess.run([*cmd, "-j", "1", "-q"], capture_output=True, text=True, timeout=300)
    finally:
        (folder / "locked").chmod(0o755)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    rows = {Path(r["path"]).name: r for r in _rows(out / "framesig.db")}
    assert rows["ok.mp4"]["status"] == "ok"
    assert rows["locked"]["status"] == "error" and "Permission denied" in rows["locked"]["error"]


def test_cli_batch_usage_and_lock(tmp_path, mixed_folder, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(mixed_folder)])  # -o is required
    assert exc.value.code == 2
    assert main(["batch", str(tmp_path / "nothing_*.mp4"), "-o", str(tmp_path / "o")]) == 2
    out = tmp_path / "held"
    out.mkdir()
    import fcntl

    with open(out / ".lock", "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        assert main(["batch", str(mixed_folder / "good_a.mp4"), "-o", str(out), "-q"]) == 1
    assert "another framesig batch" in capsys.readouterr().err
    assert main(["batch", str(mixed_folder / "good_a.mp4"), "-o", str(out), "-j", "1"]) == 0
    text = capsys.readouterr().out
    assert "1 inputs: 1 summarized, 0 failed, 0 done before" in text


def test_inputs_named_like_the_catalogue_get_other_folders(tmp_path, mixed_folder, capsys):
    """framesig.db.mp4 and framesig.db-wal.mp4 would have been written over the catalogue."""
    from framesig.cli import main

    src = tmp_path / "in"
    src.mkdir()
    for name in ("framesig.db.mp4", "framesig.db-wal.mp4", "partial.mp4"):
        shutil.copy(mixed_folder / "good_a.mp4", src / name)
    out = tmp_path / "out"
    assert main(["batch", str(src), "-o", str(out), "-q"]) == 0
    assert (out / "framesig.db").is_file() and not (out / "framesig.db-wal").is_dir()
    rows = _assert_catalogue_consistent(out)
    assert len(rows) == 3 and all(r["status"] == "ok" for r in rows)
    assert all(r["name"].startswith(("framesig.db-", "framesig.db.", "partial-")) for r in rows)
    assert main(["batch", str(src), "-o", str(out), "-q"]) == 0  # and it opens again


def test_a_version_1_catalogue_is_upgraded_in_place(tmp_path):
    """Version 2 added transitions.kind; a version 1 file gains it, its rows read 'cut'."""
    from framesig.catalog import SCHEMA_VERSION

    db = tmp_path / "framesig.db"
    Catalog(db).close()
    con = sqlite3.connect(db)
    con.execute("ALTER TABLE transitions DROP COLUMN kind")  # as version 1 made it
    con.execute("DROP TABLE views")
    con.execute(
        "INSERT INTO flights (id, path, name, content_hash, size, mtime_ns, settings_hash, "
        "status, framesig_version, finished_at) VALUES (1, 'a.mp4', 'a', 'h', 1, 1, 's', "
        "'ok', '0.1.0', '2026-12-04')"
    )
    con.execute("INSERT INTO transitions VALUES (1, 0, 5, 0.5, 5, 0, 1, 30, 0.4, 0)")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    Catalog(db).close()
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert con.execute("SELECT kind FROM transitions").fetchall() == [("cut",)]
        assert con.execute("SELECT COUNT(*) FROM views").fetchone() == (0,)
    finally:
        con.close()


def test_views_are_rows_that_states_near_finds_and_a_version_2_catalogue_gains_them(tmp_path):
    """The coast clip is one state whose view drifted: each view is a row, a search by a
    view's hash finds the state (naming the view), by its own hash names none; a version 2
    catalogue (no views table) is given the table, filled from its stored signatures."""
    from conftest import real_clip

    from framesig.catalog import settings_hash

    sig = framesig.summarize(real_clip("drone_gopro_karma_coast_cliffs_480p30.mp4"))
    (state,) = sig.states
    own = int(state.hash, 16)
    far = [k for k, h in enumerate(state.views) if (int(h, 16) ^ own).bit_count() > 3]
    assert far  # views the state's own hash does not reach
    db_path = tmp_path / "framesig.db"
    with Catalog(db_path) as db:
        fid = db.record(
            path="/v/coast.mp4",
            name="coast",
            content_hash="ab" * 16,
            size=1,
            mtime_ns=1,
            settings_hash=settings_hash(sig.settings),
            signature=sig,
        )
        assert db.count("views") == len(state.views)
        view = state.views[far[-1]]
        (hit,) = db.states_near(view, 0)
        assert (hit["flight_id"], hit["state"], hit["distance"]) == (fid, 0, 0)
        assert hit["view"] == state.views.index(view)
        assert db.states_near(state.hash, 3)[0]["view"] is None
        assert [r["view"] for r in db.states_near(view, 3)] == [hit["view"]]
    con = sqlite3.connect(db_path)
    con.execute("DROP TABLE views")
    con.execute("PRAGMA user_version = 2")
    con.commit()
    con.close()
    with Catalog(db_path) as db:
        assert db.schema_version == 3 and db.count("views") == len(state.views)
        assert db.states_near(view, 0)[0]["view"] == hit["view"]
        assert db.check() == []


def test_a_catalogue_of_another_program_or_with_a_damaged_signature_is_a_catalog_error(
    tmp_path, mixed_folder
):
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE foo (x)")
    con.close()
    with pytest.raises(CatalogError, match="not a framesig catalogue"):
        Catalog(other, readonly=True)
    out = tmp_path / "out"
    run_batch([mixed_folder / "good_a.mp4"], out, workers=1)
    with sqlite3.connect(out / "framesig.db") as con:
        con.execute("UPDATE flights SET signature = '[1, 2]'")
    con.close()
    db = Catalog(out / "framesig.db", readonly=True)
    try:
        (row,) = db.flights()
        with pytest.raises(CatalogError, match=r"a damaged signature \(a JSON object was expected"):
            db.signature(int(row["id"]))
    finally:
        db.close()


def test_catalogue_damage_is_a_catalog_error_and_an_upgrade_skips_a_damaged_signature(
    tmp_path, mixed_folder
):
    """A lost table, another program's file that claims a version, a views row of no
    state or with a bad hash: CatalogError or a named problem, never sqlite3's own error.
    A version 2 file holding a damaged signature still upgrades (that flight gets no
    views; reading it stays a CatalogError)."""
    out = tmp_path / "out"
    run_batch([mixed_folder / "good_a.mp4", mixed_folder / "good_b.mp4"], out, workers=1)
    db_path = out / "framesig.db"
    lost = tmp_path / "lost.db"
    shutil.copy(db_path, lost)
    with sqlite3.connect(lost) as con:
        con.execute("DROP TABLE batches")
    con.close()
    for readonly in (True, False):
        with pytest.raises(CatalogError, match=r"table\(s\) batches missing"):
            Catalog(lost, readonly=readonly)
    claims = tmp_path / "claims.db"
    with sqlite3.connect(claims) as con:
        con.execute("CREATE TABLE foo (x)")
        con.execute("PRAGMA user_version = 3")
    con.close()
    with pytest.raises(CatalogError, match="missing: damaged, or not a framesig catalogue"):
        Catalog(claims, readonly=True)

    with sqlite3.connect(db_path) as con:
        first = con.execute("SELECT id FROM flights WHERE status = 'ok' ORDER BY id").fetchone()[0]
        con.execute("UPDATE flights SET signature = '{bad' WHERE id = ?", (first,))
        con.execute("DROP TABLE views")
        con.execute("PRAGMA user_version = 2")
    con.close()
    with Catalog(db_path, readonly=True) as db:  # not upgraded: searched without views
        some = db.flights(status="ok")[-1]
        state = next(db.execute("SELECT hash FROM states WHERE flight_id = ?", [some["id"]]))
        assert db.states_near(state["hash"], 0)
    with Catalog(db_path) as db:
        assert db.schema_version == 3 and db.check() == []
        with pytest.raises(CatalogError, match="damaged signature"):
            db.signature(first)
        for bad in ("", "ab", "1" + state["hash"], "-" + state["hash"][1:], "\u0661" * 16):
            with pytest.raises(ValueError, match="16 hex digits"):
                db.states_near(bad)
        for bad_distance in (4, 2.5, "3", True):
            with pytest.raises(ValueError, match="max_distance"):
                db.states_near(state["hash"], bad_distance)  # type: ignore[arg-type]
        import numpy as np

        assert db.states_near(state["hash"], np.int64(2)) == db.states_near(state["hash"], 2)
        db.execute(
            "INSERT INTO views VALUES (?, 999, 0, ?, 0, 0, 0, 0, 0, 0, 0.0, 0)",
            (some["id"], state["hash"]),
        )
        db.execute(
            "INSERT INTO views VALUES (?, 998, 0, 'zzzzzzzzzzzzzzzz', 0, 0, 0, 0, 0, 0, 0.0, 0)",
            (some["id"],),
        )
        assert all(r["state"] < 998 for r in db.states_near(state["hash"], 3))
        problems = db.check()
        assert any("state 999 view 0 is of no state" in p for p in problems)
    with Catalog(db_path, readonly=True) as db:  # SQLite refusing a write: CatalogError
        with pytest.raises(CatalogError, match="record: attempt to write a readonly database"):
            db.record(
                path="x.mp4", name="x", content_hash="c", size=1, mtime_ns=1, settings_hash="s"
            )


def test_a_damaged_record_is_left_out_of_an_index_and_a_lost_one_redone_by_the_next_batch(
    tmp_path, mixed_folder, capsys
):
    from framesig.use import load_index

    out = tmp_path / "out"
    inputs = [mixed_folder / "good_a.mp4", mixed_folder / "good_b.mp4"]
    run_batch(inputs, out, workers=1)
    with sqlite3.connect(out / "framesig.db") as con:
        con.execute("UPDATE flights SET signature = '{bad' WHERE name = 'good_a'")
    con.close()
    index = load_index([str(out / "framesig.db")])
    assert [f.name for f in index.flights] == ["good_b"]
    assert "damaged signature" in capsys.readouterr().err
    report = run_batch(inputs, out, workers=1, force=True)  # as the note says
    assert all(f.done_now for f in report.files)
    assert len(load_index([str(out / "framesig.db")]).flights) == 2
    with sqlite3.connect(out / "framesig.db") as con:  # no signature at all: the same
        con.execute("UPDATE flights SET signature = NULL WHERE name = 'good_b'")
    con.close()
    assert [f.name for f in load_index([str(out / "framesig.db")]).flights] == ["good_a"]
    assert "no signature is stored" in capsys.readouterr().err
    report = run_batch(inputs, out, workers=1)
    assert {Path(f.path).name: f.done_now for f in report.files}["good_b.mp4"] is True
    with Catalog(out / "framesig.db", readonly=True) as db:
        assert db.signature(2**70) is None


def test_batch_never_writes_over_a_folder_it_did_not_make(tmp_path, mixed_folder):
    """An input inside the output folder (a folder of images) and a user's folder that has
    an input's name: both are left as they were; the outputs go beside them."""
    from conftest import real_clip

    out = tmp_path / "out"
    seq = out / "seq"
    seq.mkdir(parents=True)
    images = sorted(real_clip("drone_uav123_boat1_10fps_jpgseq").iterdir())[:12]
    for image in images:
        shutil.copy(image, seq / image.name)
    (out / "good_a").mkdir()
    (out / "good_a" / "notes.txt").write_text("mine", encoding="utf-8")
    report = run_batch([seq, mixed_folder / "good_a.mp4"], out, workers=1)
    assert all(f.status == "ok" for f in report.files)
    assert sorted(p.name for p in seq.iterdir()) == sorted(p.name for p in images)
    assert (out / "good_a" / "notes.txt").read_text(encoding="utf-8") == "mine"
    names = {f.name for f in report.files}
    assert "seq" not in names and "good_a" not in names
    assert all((out / n / "signature.json").is_file() for n in names)


def test_a_users_folder_under_a_name_the_catalogue_gave_is_kept(tmp_path, mixed_folder):
    """The catalogue named a failed input's folder `bad` and a finished one's `good_b`; the
    user then made folders of those names. A rerun redoes both elsewhere and keeps them."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "bad.mp4").write_bytes(b"")
    shutil.copy(mixed_folder / "good_b.mp4", src / "good_b.mp4")
    out = tmp_path / "out"
    first = run_batch([src], out, workers=1)
    assert {Path(f.path).name: f.status for f in first.files} == {
        "bad.mp4": "error", "good_b.mp4": "ok"
    }  # fmt: skip
    shutil.rmtree(out / "good_b")
    for name in ("bad", "good_b"):
        (out / name).mkdir()
        (out / name / "notes.txt").write_text("mine", encoding="utf-8")
    shutil.copy(mixed_folder / "good_a.mp4", src / "bad.mp4")  # now a good video
    again = run_batch([src], out, workers=1)
    assert all(f.status == "ok" and f.done_now for f in again.files)
    for name in ("bad", "good_b"):
        assert (out / name / "notes.txt").read_text(encoding="utf-8") == "mine"
        assert not (out / name / "signature.json").exists()
    assert all((out / f.name / "signature.json").is_file() for f in again.files)
    _assert_catalogue_consistent(out)


def test_an_output_moved_into_place_by_a_killed_run_is_taken_back(tmp_path, mixed_folder):
    """Killed after moving an input's outputs into place but before recording them: the
    rerun writes that input into the same folder (it is this batch's, not a user's)."""
    out = tmp_path / "out"
    run_batch([mixed_folder / "good_a.mp4"], out, workers=1)
    with sqlite3.connect(out / "framesig.db") as con:
        con.execute("PRAGMA foreign_keys = ON")  # its rows go with it
        con.execute("DELETE FROM flights")  # as if killed before the row was written
    con.close()
    again = run_batch([mixed_folder / "good_a.mp4"], out, workers=1)
    (f,) = again.files
    assert f.status == "ok" and f.done_now and f.name == "good_a"
    assert sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != ".partial") == [
        "good_a"
    ]
