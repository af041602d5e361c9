"""The cross-flight index: kernels against references, MIH recall, the file, and `find` on
generated flights with known ground truth."""

from __future__ import annotations

from pathlib import Path

import flightgen as fg
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framesig import synthetic
from framesig.errors import OpenError, SettingsError
from framesig.index import (
    CHROMA_BINS,
    FlightIndex,
    chroma_of,
    features_at,
    load_index_or_signatures,
    verify,
)

hashes64 = st.integers(0, 2**64 - 1)


def _verify_ref(hashes, chroma, cand, qh, qc, max_hash, max_hist):
    out = []
    for i in cand:
        dh = bin(int(hashes[i]) ^ qh).count("1")
        if dh > max_hash:
            continue
        dc = 0.0 if chroma[i][0] < 0 or qc[0] < 0 else 0.5 * float(np.abs(chroma[i] - qc).sum())
        if dc <= max_hist:
            out.append((int(i), dh, dc))
    return out


@given(
    st.lists(hashes64, min_size=1, max_size=40),
    hashes64,
    st.integers(0, 24),
    st.floats(0, 1),
    st.integers(0, 2**32 - 1),
)
def test_verify_kernel_matches_reference(hs, qh, max_hash, max_hist, seed):
    rng = np.random.default_rng(seed)
    hashes = np.array(hs, np.uint64)
    chroma = rng.dirichlet(np.ones(CHROMA_BINS), len(hs)).astype(np.float32)
    chroma[rng.random(len(hs)) < 0.2] = -1.0  # some without a histogram
    qc = rng.dirichlet(np.ones(CHROMA_BINS)).astype(np.float32)
    cand = np.arange(len(hs))
    idx, dh, dc = verify(hashes, chroma, cand, qh, qc, max_hash=max_hash, max_hist=max_hist)
    ref = _verify_ref(hashes, chroma, cand, qh, qc, max_hash, max_hist)
    assert idx.tolist() == [r[0] for r in ref]
    assert dh.tolist() == [r[1] for r in ref]
    np.testing.assert_allclose(dc, [r[2] for r in ref], atol=1e-5)


@given(st.lists(hashes64, min_size=1, max_size=60), hashes64, st.integers(0, 24), st.data())
def test_multi_index_candidates_hold_every_match(hs, qh, max_hash, data):
    # plant near neighbours of the query so that matches exist
    flips = data.draw(st.lists(st.integers(0, 63), max_size=max_hash))
    near = qh
    for b in flips:
        near ^= 1 << b
    hashes = [*hs, near]
    index = FlightIndex()
    index._hashes.append(np.array(hashes, np.uint64))  # noqa: SLF001 - build a bare index
    index._chroma.append(np.full((len(hashes), CHROMA_BINS), -1, np.float32))
    index._flight.append(np.zeros(len(hashes), np.int32))
    index._state.append(np.arange(len(hashes), dtype=np.int32))
    index._counts.append(np.zeros(len(hashes), np.int64))
    index._starts.append(np.empty(0))
    index._ends.append(np.empty(0))
    index._view_hashes.append(np.empty(0, np.uint64))
    index._view_rows.append(np.empty(0, np.int64))
    cand = set(index.candidates(qh, max_hash=max_hash).tolist())
    brute = {i for i, h in enumerate(hashes) if bin(h ^ qh).count("1") <= max_hash}
    assert brute <= cand
    assert len(hashes) - 1 in cand


def test_limits_and_bad_files_are_clear_errors(tmp_path):
    index = FlightIndex()
    with pytest.raises(SettingsError, match="max_hash"):
        index.find(0, max_hash=40)
    with pytest.raises(OpenError, match="no such file"):
        FlightIndex.load(tmp_path / "nope.fsidx")
    bad = tmp_path / "bad.fsidx"
    bad.write_bytes(b"not an npz")
    with pytest.raises(OpenError, match="not a framesig index"):
        FlightIndex.load(bad)
    assert index.find(123) == []  # an empty index finds nothing
    with pytest.raises(ValueError, match="bins"):
        chroma_of([0.5, 0.5])


@pytest.fixture(scope="module")
def flights():
    return fg.flight_set()


@pytest.fixture(scope="module")
def index(flights, tmp_path_factory):
    built = FlightIndex.from_signatures(
        [f.signature for f in flights], names=[f.name for f in flights]
    )
    path = tmp_path_factory.mktemp("idx") / "flights.fsidx"
    built.save(path)
    loaded = FlightIndex.load(path)
    assert loaded.flights == built.flights and len(loaded) == len(built)
    return loaded


def _frame_rgb(video, time):
    import av

    with av.open(str(video)) as c:
        for frame in c.decode(video=0):
            if frame.time is not None and frame.time >= time - 1e-9:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError("no frame")


def test_the_frame_at_a_time_is_shown_until_the_video_ends(flights):
    from framesig.decode import open_source
    from framesig.errors import FramesigError

    video = flights[0].video
    with open_source(video) as src:
        *_, last = src.frames()
        last_time = last.time
        end = src.stats.end_time
    assert end > last_time
    at_last, at_end = features_at(video, [last_time, end])
    assert at_last[0] == at_end[0] and np.array_equal(at_last[1], at_end[1])
    with pytest.raises(FramesigError, match="past the end of the video"):
        features_at(video, [1.0, end + 0.1])


def test_find_returns_the_right_flights_and_times(flights, index):
    """A frame from each hover finds its own flight first, at a range holding its time, and
    every flight that hovered at that place; flights that never went there are absent."""
    visits = {f.name: set(f.route) for f in flights}
    checked = 0
    assert index.find_frame(flights[0].video, 1.0)[0].flight == flights[0].name
    for f in flights:
        hovers = f.truth.hovers()
        mids = [sum(f.segment_span(int(str(seg["index"])))) / 2 for seg in hovers]
        for seg, t, (qh, qhist) in zip(hovers, mids, features_at(f.video, mids), strict=True):
            place = int(str(seg["place"]))
            hits = index.find(qh, qhist)
            assert hits, (f.name, t)
            own = [h for h in hits if h.flight == f.name]
            assert own and any(lo <= t < hi for lo, hi in own[0].ranges), (f.name, t, hits[:3])
            assert hits[0].hash_distance <= own[0].hash_distance
            found = {h.flight for h in hits}
            expected = {name for name, places in visits.items() if place in places}
            assert found == expected, (f.name, place, found, expected)
            checked += 1
    assert checked == sum(len(f.truth.hovers()) for f in flights)


def test_an_image_file_and_an_unseen_view(flights, index, tmp_path):
    import cv2

    f = flights[0]
    a, b = f.hover_spans(1)[0]
    rgb = _frame_rgb(f.video, (a + b) / 2)
    path = tmp_path / "q.png"
    cv2.imwrite(str(path), rgb[:, :, ::-1])
    from framesig.index import load_image

    hits = index.find_image(load_image(path))
    assert hits and hits[0].flight.startswith("patrol")
    # the hover holding the time first; the approach to it may come after (its views
    # reach the place), never closer
    own = [h for h in hits if h.flight == f.name]
    assert any(lo <= (a + b) / 2 < hi for lo, hi in own[0].ranges)
    assert all(h.score >= own[0].score for h in own)
    # a place of the same terrain that no flight went to
    frames, _ = synthetic.render(fg.route_plan((8,)), size=fg.SIZE, seed=5)
    assert index.find_image(frames[12]) == []
    # nor a view of another world
    rng = np.random.default_rng(3)
    assert index.find_image(rng.integers(0, 255, (180, 320, 3), dtype=np.uint8)) == []


def test_index_from_signature_files_and_folders(flights, tmp_path):
    (tmp_path / "one").mkdir()
    flights[0].signature.save(tmp_path / "one" / "signature.json")
    flights[2].signature.save(tmp_path / "east.sig.json")
    index = load_index_or_signatures([tmp_path])
    assert sorted(r.name for r in index.flights) == sorted(["one", "east-a.mp4"])
    with pytest.raises(OpenError, match="no such file"):
        load_index_or_signatures([tmp_path / "missing"])
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "signature.json").write_text("{}")
    with pytest.raises(OpenError, match="not a framesig signature"):
        load_index_or_signatures([tmp_path / "junk"])


def _resaved(src, dst, **changes):
    with np.load(src, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays.update(changes)
    with open(dst, "wb") as fh:
        np.savez(fh, **arrays)
    return dst


def test_a_damaged_index_file_is_an_open_error_that_says_what(index, tmp_path):
    good = tmp_path / "good.fsidx"
    index.save(good)
    assert len(FlightIndex.load(good).flights) == len(index.flights)
    raw = good.read_bytes()
    (tmp_path / "cut.fsidx").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "empty.fsidx").write_bytes(b"")
    (tmp_path / "text.fsidx").write_text("not an index")
    with np.load(good) as data:
        n, chroma, flight = len(data["hashes"]), data["chroma"], data["flight"]
        start = data["range_start"]
    cases = {
        tmp_path / "cut.fsidx": "not a framesig index",
        tmp_path / "empty.fsidx": "not a framesig index",
        tmp_path / "text.fsidx": r"not a framesig index \(not a .npz file\)",
        _resaved(good, tmp_path / "c.fsidx", chroma=chroma[:, :3]): "chroma of shape",
        _resaved(good, tmp_path / "h.fsidx", hashes=np.zeros(n - 1, np.uint64)): "per-state",
        _resaved(good, tmp_path / "f.fsidx", flight=flight + 100): "flights it does not list",
        _resaved(good, tmp_path / "t.fsidx", range_start=start * np.nan): "not finite",
        _resaved(good, tmp_path / "v.fsidx", view_row=np.array([n])): "different lengths",
        _resaved(
            good,
            tmp_path / "w.fsidx",
            view_hashes=np.zeros(1, np.uint64),
            view_row=np.array([n]),
            view_times=np.zeros(1),
            view_chroma=np.zeros((1, CHROMA_BINS), np.float32),
        ): "views of states it does not hold",
        _resaved(good, tmp_path / "x.fsidx", view_hashes=np.array(["0" * 16])): "of type <U16",
        _resaved(good, tmp_path / "y.fsidx", view_row=np.array([np.nan])): "view_row of type",
        _resaved(good, tmp_path / "z.fsidx", hashes=np.zeros(n)): "hashes of type float64",
        _resaved(good, tmp_path / "i.fsidx", state_time=np.full(n, np.inf)): "not finite",
        _resaved(good, tmp_path / "o.fsidx", state_time=np.full(n, -100.0)): "times outside",
        _resaved(good, tmp_path / "s.fsidx", state_time=np.zeros(n + 1)): "per-state arrays",
    }
    for path, message in cases.items():
        with pytest.raises(OpenError, match=f"{path.name}: .*{message}"):
            FlightIndex.load(path)


def _without_views(sig):
    import dataclasses

    states = tuple(
        dataclasses.replace(st, views=(), view_frames=(), view_times=(), view_chroma=())
        for st in sig.states
    )
    return dataclasses.replace(sig, states=states)


def _self_found(index, sig, video, every):
    from framesig.evaluate import find_recall

    found, asked = find_recall(index, sig, video, every)
    return found / asked


def test_a_drifting_view_is_found_through_its_states_views(tmp_path):
    """The karma coast clip is one state for 12 s while the view drifts 27 bits from the
    state's hash: without views, half its frames could not find their own flight."""
    from conftest import real_clip

    import framesig

    video = real_clip("drone_gopro_karma_coast_cliffs_480p30.mp4")
    sig = framesig.summarize(video)
    assert len(sig.states) == 1 and len(sig.states[0].views) >= 5
    with_views = FlightIndex.from_signatures([sig])
    with_views.save(tmp_path / "coast.fsidx")
    loaded = FlightIndex.load(tmp_path / "coast.fsidx")
    assert _self_found(loaded, sig, video, 6) == 1.0
    assert _self_found(FlightIndex.from_signatures([_without_views(sig)]), sig, video, 6) < 0.7
    # an index file from before views (no view arrays) still loads, without them
    older = tmp_path / "old.fsidx"
    with np.load(tmp_path / "coast.fsidx") as data, open(older, "wb") as fh:
        old = {k: data[k] for k in data.files if not k.startswith(("view_", "state_time"))}
        np.savez(fh, **old)
    old_index = FlightIndex.load(older)
    assert _self_found(old_index, sig, video, 6) < 0.7
    assert all(h.seen is None for h in old_index.find(*features_at(video, [6.0])[0]))
    # the coast's frames asked of another flight's index: nothing is found there
    from framesig.evaluate import find_false_hits

    indoor = framesig.summarize(real_clip("drone_indoor_takeoff_hover_540p30.mp4"))
    own, asked = find_false_hits(loaded, sig, video, 6)
    assert own == asked  # of its own index, every frame finds something
    assert find_false_hits(FlightIndex.from_signatures([indoor]), sig, video, 6) == (0, asked)
    # merged into another index, the views come along
    merged = FlightIndex.from_signatures([_without_views(sig)], names=["other"])
    merged.merge(loaded)
    assert _self_found(merged, sig, video, 6) == 1.0
    hits = merged.find(*features_at(video, [11.5])[0], limit=None)
    assert [h.flight for h in hits].count(Path(video).name) == 1  # a state once
    # the state spans 0-12 s; the hit says when the closest view was shown
    own = next(h for h in hits if h.flight == Path(video).name)
    assert own.ranges == ((0.0, sig.source.duration),) and abs(own.seen - 11.5) < 1.0


def test_the_contact_sheet_shows_where_a_drifting_state_went(tmp_path):
    """The coast clip is one state for 12 s: the sheet has its keyframe and the views it
    drifted to (a dwell apart, another view by find's standard), and keyframes/ still holds
    one JPEG a state, as batch and report read it."""
    import cv2
    from conftest import real_clip

    import framesig
    from framesig.limits import MAX_HASH, MIN_DWELL
    from framesig.outputs import sheet_views, write_keyframes

    video = real_clip("drone_gopro_karma_coast_cliffs_480p30.mp4")
    sig = framesig.summarize(video)
    (state,) = sig.states
    shown = sheet_views(state)
    assert 1 <= len(shown) <= 3
    times = [state.keyframe_time, *(state.view_times[k] for k in shown)]
    assert all(abs(a - b) >= MIN_DWELL for i, a in enumerate(times) for b in times[:i])
    hashes = [int(state.hash, 16), *(int(state.views[k], 16) for k in shown)]
    assert all((a ^ b).bit_count() > MAX_HASH for i, a in enumerate(hashes) for b in hashes[:i])
    written = write_keyframes(sig, video, tmp_path)
    assert [p.name for p in written] == ["state_0000.jpg", "contact_sheet.png"]
    sheet = cv2.imread(str(tmp_path / "contact_sheet.png"))
    cell = 240 + 4  # thumbnail width and gap
    assert sheet.shape[1] == 4 + cell * (1 + len(shown))  # one row: keyframe, then views


def test_frames_read_again_in_order_each_once_and_an_old_runs_keyframes_go(tmp_path):
    """Reading frames again without seeking (raw streams): a wanted index given twice (with
    two PTS) is read once and the frames after it are still read; a later run's
    keyframes/ holds only its own states."""
    from conftest import real_clip

    import framesig
    from framesig.decode import read_frames_rgb
    from framesig.outputs import write_keyframes

    video = real_clip("drone_ardrone2_indoor_yaw_640x360_raw.h264")
    wanted = [(3, 3), (3, 999), (10, 10), (10_000, 1)]  # the last one is past the end
    assert [i for i, _ in read_frames_rgb(video, wanted, seek=False)] == [3, 10]
    frames = [np.full((64, 64, 3), v, np.uint8) for v in [0] * 8 + [255] * 8 + [90] * 8]
    write_keyframes(framesig.summarize(frames, fps=10), frames, tmp_path)
    assert len(list((tmp_path / "keyframes").glob("state_*.jpg"))) == 3
    write_keyframes(framesig.summarize(frames[:8], fps=10), frames[:8], tmp_path)
    assert [p.name for p in (tmp_path / "keyframes").iterdir()] == ["state_0000.jpg"]


def test_keyframes_of_a_video_cut_short_since_are_an_error_after_the_rest(tmp_path):
    """Keyframes read again from a shorter video than the signature's: the ones it has and
    the sheet are written, the others (and an earlier run's pictures of them) are not,
    and the error names the input and the states."""
    import framesig
    from framesig.errors import FramesigError
    from framesig.outputs import write_keyframes

    frames = [np.full((64, 64, 3), v, np.uint8) for v in [0] * 8 + [255] * 8 + [90] * 8]
    sig = framesig.summarize(frames, fps=10)
    write_keyframes(sig, frames, tmp_path)
    with pytest.raises(FramesigError, match=r"frames: the keyframes of 2 state\(s\) \(1, 2\)"):
        write_keyframes(sig, frames[:8], tmp_path)
    assert [p.name for p in (tmp_path / "keyframes").iterdir()] == ["state_0000.jpg"]
    assert (tmp_path / "contact_sheet.png").exists()
