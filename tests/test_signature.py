"""Signatures as values: JSON round trips, runs cover every frame, hashes know their distance."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import framesig
from framesig.signature import SCHEMA_VERSION, Signature
from framesig.values import ImageHash


def _flight(r, segments):
    frames = []
    for scene, n in segments:
        for _ in range(n):
            noise = r.integers(-3, 4, scene.shape)
            frames.append(np.clip(scene.astype(int) + noise, 0, 255).astype(np.uint8))
    return frames


@pytest.fixture(scope="module")
def scenes():
    import cv2

    r = np.random.default_rng(1)
    return [
        cv2.GaussianBlur(r.integers(0, 256, (72, 128, 3), dtype=np.uint8), (7, 7), 2)
        for _ in range(4)
    ]


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 25)), min_size=1, max_size=6))
def test_runs_cover_every_frame_once_in_order(scenes, plan):
    r = np.random.default_rng(0)
    frames = _flight(r, [(scenes[i], n) for i, n in plan])
    sig = framesig.summarize(frames, fps=25)
    assert sig.source.frames == len(frames)
    expected = 0
    for run in sig.runs:
        assert run.start_frame == expected and run.end_frame >= run.start_frame
        assert run.end_time > run.start_time
        expected = run.end_frame + 1
    assert expected == len(frames)
    assert sum(s.frames for s in sig.states) == len(frames)
    assert all(a.end_time == b.start_time for a, b in zip(sig.runs, sig.runs[1:], strict=False))
    assert Signature.from_json(sig.to_json()) == sig


def test_signature_json_is_versioned_and_exact(scenes, tmp_path):
    frames = _flight(np.random.default_rng(2), [(scenes[0], 20), (scenes[1], 20), (scenes[0], 20)])
    sig = framesig.summarize(frames, fps=30)
    data = json.loads(sig.to_json())
    assert data["schema_version"] == SCHEMA_VERSION
    path = tmp_path / "sig.json"
    sig.save(path)
    assert Signature.load(path) == sig
    assert sig.symbols == (0, 1, 0)
    assert sig.find([1, 0]) == [(sig.runs[1].start_time, sig.runs[2].end_time)]
    assert sig.state_at(0.5) == 0
    data["schema_version"] = 999
    with pytest.raises(ValueError, match="schema version"):
        Signature.from_dict(data)


def test_image_hash_value():
    a, b = ImageHash(0), ImageHash.from_hex("00000000000000ff")
    assert a - b == 8 and b.hex == "00000000000000ff" and str(b) == b.hex
    with pytest.raises(ValueError):
        ImageHash(-1)
    with pytest.raises(ValueError):
        ImageHash.from_hex("abc")


def test_settings_are_validated():
    with pytest.raises(framesig.SettingsError):
        framesig.Settings(join_hist=2.0)
    with pytest.raises(framesig.SettingsError):
        framesig.Settings.from_dict({"nope": 1})
    with pytest.raises(framesig.SettingsError):
        framesig.summarize([np.zeros((8, 8, 3), np.uint8)], persist=0)


def test_a_signature_without_transition_kinds_loads_them_as_cuts(scenes, tmp_path):
    frames = _flight(np.random.default_rng(2), [(scenes[0], 12), (scenes[1], 12), (scenes[2], 12)])
    sig = framesig.summarize(frames, fps=10)
    assert sig.transitions and {t.kind for t in sig.transitions} <= {"cut", "gradual"}
    data = json.loads(sig.to_json())
    for t in data["transitions"]:
        del t["kind"]  # as written before transitions had a kind
    old = Signature.from_json(json.dumps(data))
    assert [t.kind for t in old.transitions] == ["cut"] * len(sig.transitions)


@pytest.mark.parametrize("limit", [31, 32, 33, 64, 200])
def test_max_frames_stops_at_the_limit_whatever_the_batch(limit):
    """Frames go through the pipeline a batch at a time on a helper thread; a limit on a
    batch boundary, inside a batch or past the end stops at the right frame."""
    rng = np.random.default_rng(1)
    scene = rng.integers(0, 255, (72, 128, 3), dtype=np.uint8)
    flight = [scene] * 50 + [255 - scene] * 50
    sig = framesig.summarize(flight, fps=25, max_frames=limit, batch_size=32)
    want = min(limit, 100)
    assert sig.source.frames == want
    assert sig.runs[-1].end_frame == want - 1
    assert sig.source.partial == (limit < 100)  # a limit at the last frame cut nothing
    whole = framesig.summarize(flight, fps=25, batch_size=32)
    assert [r.state for r in sig.runs] == [r.state for r in whole.runs if r.start_frame < want]


def test_frames_from_the_callers_iterable_stay_on_the_callers_thread():
    """A video file is decoded a batch ahead on a helper thread; frames the caller hands
    in (a generator over a thread-bound database, a camera API) are read where it runs."""
    import threading

    caller = threading.get_ident()
    rng = np.random.default_rng(2)
    scene = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)

    def frames():
        for i in range(150):
            assert threading.get_ident() == caller
            yield scene if i < 80 else 255 - scene

    sig = framesig.summarize(frames(), fps=25)
    assert sig.source.frames == 150 and len(sig.states) == 2


def test_result_files_are_written_whole_and_never_replace_what_is_no_file(tmp_path):
    import os

    from framesig.errors import OpenError
    from framesig.files import write_atomically

    sig = framesig.summarize([np.zeros((64, 64, 3), np.uint8)] * 5, fps=10)
    with pytest.raises(OpenError, match="is a folder"):
        sig.save(tmp_path)
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so the write can open
    try:
        sig.save(fifo)  # written through the pipe, which stays a pipe
        got = b""
        while chunk := os.read(reader, 1 << 16):
            got += chunk
    finally:
        os.close(reader)
    assert fifo.is_fifo() and framesig.Signature.from_json(got.decode()) == sig

    def fails(file):
        file.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OpenError, match=r"out.json: cannot write it \(No space left on device"):
        write_atomically(tmp_path / "out.json", fails)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.json"]  # no temp file left
    with pytest.raises(OpenError, match="not a file name"):
        write_atomically("", fails)
    with pytest.raises(OpenError, match=r"/dev/full: cannot write it \(No space left"):
        write_atomically("/dev/full", lambda file: file.write_text("x" * 100_000))


# a loop, a recurrence and a transient of the two-state signature the damage is done to
LOOP = {
    "start_run": 0, "period": 2, "count": 1, "pattern": [0, 1], "start_frame": 0,
    "end_frame": 15, "start_time": 0.0, "end_time": 1.6,
}  # fmt: skip
RECURRENCE = {
    "first_run": 0, "later_run": 1, "length": 1, "pattern": [1], "first_time": 0.0,
    "later_time": 0.8,
}  # fmt: skip
TRANSIENT = {"start_frame": 2, "end_frame": 3, "start_time": 0.2, "end_time": 0.4}


def _damaged(sig: Signature, **changes: object) -> str:
    data = json.loads(sig.to_json())
    for where, value in changes.items():
        *path, last = where.split("__")
        node: object = data
        for key in path:
            node = node[int(key)] if isinstance(node, list) else node[key]  # type: ignore[index]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value  # type: ignore[index]
    return json.dumps(data)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"states__0__hash": "zzzz"}, "16 hex digits"),
        ({"states__0__hash": 7}, "State.hash: not a valid str"),
        ({"states__0__hist": [0.5, 0.5, 0.0]}, "a histogram of 3 bins"),
        ({"runs__0__state": 42}, "state 42 is not one of the states"),
        ({"runs__0__state": "0"}, "Run.state: not a valid int"),
        ({"runs__0__start_frame": 3}, "do not follow on from frame 0"),
        ({"runs__0__end_time": float("nan")}, "Run.end_time: not a valid float"),
        ({"source__duration": float("inf")}, "SourceFacts.duration"),
        ({"source__frames": 10**6}, "the source has 1000000"),
        ({"source__path": None}, "SourceFacts.path"),
        ({"transitions__0__to_state": 99}, r"transitions\[0\]: a state that is not one"),
        ({"states__0__id": 5}, "ids must be 0, 1, 2"),
        ({"runs": {}}, "runs: missing, or not a JSON list"),
        ({"source": None}, "source: missing, or not a JSON dict"),
        ({"source__rotation": 45}, "rotation 45 is not a quarter turn"),
        ({"source__time_base": "1/0"}, "not a positive fraction"),
        ({"states__1__keyframe": 10**9}, r"states\[1\]: keyframe or counts"),
        ({"transitions__0__frame": -1}, "frame -1 is not one of the frames"),
        ({"states__0__views": ["0f"]}, "16 hex digits"),
        ({"states__0__views": ["00000000000000ff"]}, r"states\[0\]: views, view_frames and"),
        (
            {"states__0__views": ["0" * 16], "states__0__view_frames": [16]},
            r"states\[0\]: views, view_frames and",
        ),
        (
            {
                "states__0__views": ["0" * 16],
                "states__0__view_frames": [16],
                "states__0__view_times": [1.6],
            },
            r"states\[0\]: a view frame out of range",
        ),
        (
            {
                "states__0__views": ["0" * 16],
                "states__0__view_frames": [1],
                "states__0__view_times": [-100.0],
            },
            r"states\[0\]: frame 1's time -100 s is not its run's",
        ),
        (
            {
                "states__0__views": ["0" * 16],
                "states__0__view_frames": [1],
                "states__0__view_times": [0.1],
                "states__0__view_chroma": [0.5] * 15,
            },
            r"states\[0\]: view_chroma is not 16 bins a view",
        ),
        ({"states__0__views": ["+23456789abcdef0"]}, "16 hex digits"),
        ({"states__0__views": ["1234_5678_9abcde"]}, "16 hex digits"),
        ({"states__0__views": ["\u0661" * 16]}, "16 hex digits"),
        ({"states__0__keyframe_time": 10**400}, "State.keyframe_time: not a valid float"),
        ({"states__0__hash_time": "0"}, "State.hash_time: not a valid float | None"),
        ({"states__0__burst": 1}, "State.burst: not a valid bool"),
        ({"states__0__keyframe_pts": 2**70}, "State.keyframe_pts: not a valid int"),
        ({"states__0__keyframe_time": 1.0}, r"states\[0\]: frame \d's time 1 s is not its run's"),
        ({"states__0__keyframe_pts": 12}, r"states\[0\]: frame \d's PTS 12 is not its run's"),
        ({"states__0__keyframe_pts": 8}, r"states\[0\]: frame \d's PTS 8 is not its run's"),
        ({"loops": [LOOP | {"count": 0}]}, r"loops\[0\]: runs beyond the 2 there are"),
        ({"loops": [LOOP | {"start_run": 999}]}, r"loops\[0\]: runs beyond"),
        ({"loops": [LOOP | {"pattern": [0, 7]}]}, r"loops\[0\]: a pattern that is not 2"),
        ({"recurrences": [RECURRENCE | {"first_run": 1}]}, r"recurrences\[0\]: runs out of"),
        (
            {"recurrences": [RECURRENCE | {"later_time": 1e308}]},
            r"recurrences\[0\]: a time outside",
        ),
        ({"transients": [TRANSIENT | {"end_time": 1e308}]}, r"transients\[0\]: a time outside"),
        ({"transients": [TRANSIENT | {"end_frame": 16}]}, r"transients\[0\]: frames out of range"),
        ({"transitions__0__frame": 5}, r"transitions\[0\]: frame 5 is not a change between"),
        ({"transitions__0__time": 1e308}, r"transitions\[0\]: a time outside the flight"),
        ({"runs__1__end_time": 1e308}, r"runs or source: a time beyond 1e\+09 s"),
        ({"source__duration": 1e308}, r"runs or source: a time beyond"),
        ({"settings__fps": "abc"}, r"settings.fps: 'abc' is not a frame rate"),
        ({"schema_version": True}, "signature schema version True is not supported"),
        ({"runs__0__end_pts": 9}, r"runs\[0\]: it does not end where the next run starts"),
        ({"runs__0__end_time": 0.9}, r"runs\[0\]: it does not end where the next run starts"),
        ({"schema_version": 1.0}, "signature schema version 1.0 is not supported"),
        ({"states__0__keyframe_time": 0.8}, r"states\[0\]: frame \d's time 0.8 s is not its"),
        ({"states__1__keyframe": 3}, r"states\[1\]: frame 3 is in none of the state's runs"),
        ({"states__1__hash_time": 0.2}, r"states\[1\]: hash_time is in none of the state's runs"),
    ],
)
def test_a_damaged_signature_is_a_value_error_that_says_where(changes, message):
    sig = framesig.summarize(
        [np.full((64, 64, 3), v, np.uint8) for v in [0] * 8 + [255] * 8], fps=10
    )
    assert len(sig.states) == 2 and sig.transitions  # the parts the damage needs
    with pytest.raises(ValueError, match=message):
        Signature.from_json(_damaged(sig, **changes))


@pytest.mark.parametrize("text", ["[1, 2]", "null", '"x"', "[" * 100_000 + "]" * 100_000])
def test_json_that_is_no_object_is_a_value_error(text):
    with pytest.raises(ValueError):
        Signature.from_json(text)


def test_the_histogram_size_matches_the_kernels():
    from framesig import kernels, signature

    assert signature.HIST_BINS == kernels.HIST_BINS
    assert signature.CHROMA_BINS == kernels.C_BINS**2


def test_loops_recurrences_and_transients_that_fit_the_runs_load():
    sig = framesig.summarize(
        [np.full((64, 64, 3), v, np.uint8) for v in [0] * 8 + [255] * 8], fps=10
    )
    text = _damaged(sig, loops=[LOOP], recurrences=[RECURRENCE], transients=[TRANSIENT])
    back = Signature.from_json(text)
    assert len(back.loops) == len(back.recurrences) == len(back.transients) == 1


def test_a_keyframe_pts_of_another_frame_of_its_run_is_refused():
    """Within the right run, a PTS that is not the keyframe's (its time says which frame it
    is) would draw the wrong frame: refused; so is a run whose start time is not its PTS's."""
    sig = framesig.summarize(
        [np.full((64, 64, 3), v, np.uint8) for v in [0] * 8 + [255] * 8], fps=10
    )
    st = sig.states[0]
    other = (st.keyframe_pts + 1) % 8  # time base 1/10 s: PTS are frame numbers here
    with pytest.raises(ValueError, match=rf"frame {st.keyframe}'s time .* is not its PTS's"):
        Signature.from_json(_damaged(sig, states__0__keyframe_pts=other))
    with pytest.raises(ValueError, match=r"runs\[1\]: start time 0.85 s is not its PTS's"):
        Signature.from_json(_damaged(sig, runs__1__start_time=0.85, runs__0__end_time=0.85))


def test_a_flight_cut_to_one_frame_loads():
    """max_frames=1: one run that lasts no time; its keyframe is its start."""
    sig = framesig.summarize(
        [np.full((64, 64, 3), v, np.uint8) for v in [0] * 8 + [255] * 8],
        framesig.Settings(max_frames=1),
        fps=10,
    )
    assert len(sig.runs) == 1 and sig.source.partial
    assert Signature.from_json(sig.to_json()) == sig
