"""Fuzzing: damaged variants of real files give a valid signature or a FramesigError.

The campaign's machinery is ``benchmarks/fuzz.py`` (the nightly run is that script with
``--count 5000``); here it runs 300 seeded variants, each summarized in a worker process
under a time limit. The guard itself is tested too: a worker that hangs, dies on a signal,
raises another exception or names the wrong file must be recorded as a finding, or a
campaign could pass while framesig crashes.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import REAL, REPO, ffmpeg, real_clip

import framesig
from framesig.decode import PacketInfo, open_source, read_frames_rgb, scan_keyframes

FUZZ_SEED = 5  # the campaign's RNG seed: the same 300 variants every run
FUZZ_COUNT = 300


def _load_fuzz() -> ModuleType:
    """``benchmarks/fuzz.py`` as a module (benchmarks/ is scripts, not a package)."""
    name = "framesig_benchmarks_fuzz"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The campaign's seeds: two small real clips, a real raw stream's head, 10 generated."""
    for name in fuzz.REAL_SEEDS:
        real_clip(name)  # skips (fails on CI) without ../shared
    found = fuzz.make_seeds(tmp_path_factory.mktemp("fuzz_seeds"), REAL)
    assert len(found) == 13, [p.name for p in found]
    return found


@pytest.mark.slow
def test_fuzz_campaign_300_variants(seeds, tmp_path):
    """300 mutated files: only signatures that keep the invariants, or FramesigErrors."""
    report = fuzz.campaign(seeds, tmp_path, FUZZ_COUNT, seed=FUZZ_SEED, timeout=20.0)
    print(report.table())
    assert report.tried == FUZZ_COUNT, report.table()
    assert report.findings == [], report.table()
    assert set(report.by_mutation) == set(fuzz.MUTATIONS)
    # both accepted outcomes occur, so the campaign damages files and still reads some
    assert report.outcomes["ok"] > 0 and report.outcomes["error"] > 0, report.table()
    assert report.restarts == 0


def test_guard_records_hangs_signals_and_other_exceptions(seeds, tmp_path):
    """The worker hangs, segfaults, raises, names another file: each is a finding.

    A good file after each death shows the guard started a fresh worker and went on.
    """
    good = str(next(p for p in seeds if p.name == "gen_h264.mp4"))  # 30 frames, decodes fast
    names = ["!hang", good, "!segfault", good, "!raise", "!bad-error", good]
    inputs = [fuzz.Case(i, "self-test", name.lstrip("!"), name) for i, name in enumerate(names)]
    seen: list[tuple[str, str]] = []
    report = fuzz.campaign(
        [Path(good)],
        tmp_path,
        0,
        timeout=3.0,
        inputs=inputs,
        keep=tmp_path / "kept",
        on_case=lambda case, rec: seen.append((case.path, str(rec["outcome"]))),
    )
    outcomes = [outcome for _, outcome in seen]
    assert outcomes == ["hang", "ok", "signal", "ok", "exception", "bad-error", "ok"]
    assert report.tried == len(names)
    assert [f["outcome"] for f in report.findings] == ["hang", "signal", "exception", "bad-error"]
    assert report.restarts == 2  # the hung worker was killed, the segfaulted one replaced
    signal = report.findings[1]
    assert "exit status -11" in str(signal["message"])  # SIGSEGV
    assert "RuntimeError" in str(report.findings[2]["message"])
    assert "FINDING hang" in report.table()
    assert Path(good).exists()  # inputs the caller passed are not removed


def test_check_catches_broken_signatures():
    """The invariants the campaign checks fail on signatures that break them."""
    rng = np.random.default_rng(1)
    scene = rng.integers(0, 255, (90, 160, 3), dtype=np.uint8)
    sig = framesig.summarize([scene] * 10 + [255 - scene] * 10 + [scene] * 10, fps=10)
    assert fuzz._check(sig) == ""
    runs = sig.runs
    assert len(runs) == 3

    def with_runs(*new: object) -> framesig.Signature:
        return dataclasses.replace(sig, runs=tuple(new))

    gap = dataclasses.replace(runs[1], start_frame=runs[1].start_frame + 1)
    assert "out of order" in fuzz._check(with_runs(runs[0], gap, runs[2]))
    early = dataclasses.replace(runs[1], start_time=runs[0].start_time)
    assert "out of order" in fuzz._check(with_runs(runs[0], early, runs[2]))
    short = dataclasses.replace(runs[2], end_frame=runs[2].end_frame - 1)
    assert "cover" in fuzz._check(with_runs(runs[0], runs[1], short))
    nan = dataclasses.replace(runs[2], end_time=float("nan"))
    assert "finite" in fuzz._check(with_runs(runs[0], runs[1], nan))
    backwards = dataclasses.replace(runs[2], end_time=runs[2].start_time)
    assert "ends before" in fuzz._check(with_runs(runs[0], runs[1], backwards))
    assert "no frame" in fuzz._check(with_runs())


def test_variants_are_reproducible(seeds, tmp_path):
    """Variant i depends only on the seed and i: a finding's input can be made again."""

    def variants(seed: int, folder: Path) -> list[tuple[str, bytes]]:
        folder.mkdir()
        return [
            (c.mutation, Path(c.path).read_bytes()) for c in fuzz.cases(seeds, folder, 12, seed)
        ]

    first = variants(FUZZ_SEED, tmp_path / "a")
    assert first == variants(FUZZ_SEED, tmp_path / "b")
    assert first != variants(FUZZ_SEED + 1, tmp_path / "c")
    kinds = Counter(kind for kind, _ in first)
    assert set(kinds) <= set(fuzz.MUTATIONS)


# ------------------------------------------------------- faults the campaigns found


def _relabel_late_pes(ts: bytes, pid: int, new_pid: int, from_end: int) -> bytes:
    """``ts`` with the ``from_end``-th last PES start of ``pid`` moved to ``new_pid``."""
    data = bytearray(ts)
    starts = [
        i
        for i in range(0, len(data) - 187, 188)
        if data[i] == 0x47 and data[i + 1] & 0x40 and (data[i + 1] & 0x1F) << 8 | data[i + 2] == pid
    ]
    at = starts[-from_end]
    data[at + 1] = (data[at + 1] & 0xE0) | (new_pid >> 8)
    data[at + 2] = new_pid & 0xFF
    return bytes(data)


@pytest.fixture(scope="module")
def ts_new_stream_late(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MPEG-TS whose late PES packet is on a PID the programme table never listed.

    FFmpeg adds a stream for it after the file was opened (a flipped bit in a TS header
    does the same: fuzz campaign seed 2, variant 1983 of gen_h264.ts, fast mode).
    """
    folder = tmp_path_factory.mktemp("ts_new_stream")
    clean = folder / "clean.ts"
    ffmpeg(
        *("-f", "lavfi", "-i", "testsrc=size=160x120:rate=15", "-t", "4"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10", "-bf", "2", "-f", "mpegts"),
        str(clean),
    )
    path = folder / "new_stream_late.ts"
    path.write_bytes(_relabel_late_pes(clean.read_bytes(), 0x100, 0x101, from_end=3))
    return path


def test_stream_added_after_open_ends_the_demux_cleanly(ts_new_stream_late):
    """PyAV's demux ends with IndexError when the file added a stream after open.

    It sizes its table of wanted streams when demuxing starts and, at its final flush,
    reads past it for the new stream. Every packet was given out by then: the video is
    whole but for the relabelled packet, in exact mode, fast mode and keyframe reads.
    """
    import av

    with av.open(str(ts_new_stream_late)) as c:
        assert len(c.streams) == 1  # the stray PID is not known at open
    sig = framesig.summarize(ts_new_stream_late)
    assert fuzz._check(sig) == ""
    assert 55 <= sig.source.frames <= 60  # 60 frames less the relabelled packet's
    fast = framesig.summarize(ts_new_stream_late, fast=True)
    assert fast.source.frames == sig.source.frames
    wanted = [(st.keyframe, st.keyframe_pts) for st in sig.states]
    got = dict(read_frames_rgb(ts_new_stream_late, wanted))
    assert sorted(got) == sorted(i for i, _ in wanted)
    with open_source(ts_new_stream_late) as src:
        scanned = list(scan_keyframes(src))
    assert sum(isinstance(x, PacketInfo) for x in scanned) >= 55
