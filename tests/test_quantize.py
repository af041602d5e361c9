"""The state index against a brute-force scan, and the quantizer on controlled inputs."""

from __future__ import annotations

import numpy as np
import pytest
import reference as ref
from hypothesis import given
from hypothesis import strategies as st

from framesig.quantize import (
    Quantizer,
    QuantizeResult,
    StateIndex,
    TransitionEvent,
    choose_keyframes,
    merge_bursts,
    state_views,
)
from framesig.settings import Settings


def _hist(r, bins=8):
    h = r.random(bins).astype(np.float32)
    return h / h.sum()


@given(st.integers(0, 2**31 - 1), st.integers(1, 300), st.integers(0, 20))
def test_state_index_equals_brute_force(seed, n, radius):
    r = np.random.default_rng(seed)
    idx = StateIndex()
    hashes = []
    base = int(r.integers(0, 2**63))
    for _ in range(n):
        flips = r.choice(64, size=int(r.integers(0, 24)), replace=False)
        h = base
        for b in flips:
            h ^= 1 << int(b)
        hashes.append(h)
        idx.add(h, _hist(r), flat=False)
    q = hashes[int(r.integers(0, n))] ^ (1 << int(r.integers(0, 64)))
    qh = idx.hists[0]
    got = idx.nearest(q, qh, False, max_hash=radius, max_hist=1.0)
    best = (-1, 64, 0.0)
    best_score = np.inf
    for sid, h in enumerate(hashes):
        dh = ref.hamming(q, h)
        if dh > radius:
            continue
        dc = ref.hist_distance(qh, idx.hists[sid])
        score = dh / 64 + dc
        if score < best_score:
            best, best_score = (sid, dh, dc), score
    assert got[0] == best[0]


def test_state_index_pop_and_update_keep_tables_consistent():
    idx = StateIndex()
    h = np.full(4, 0.25, np.float32)
    for k in range(100):
        idx.add(k * 0x1111, h, flat=False)
    idx.update(5, 0xFFFF0000FFFF0000, h, flat=False)
    idx.pop()
    assert len(idx) == 99
    assert idx.nearest(0xFFFF0000FFFF0000, h, False, max_hash=0, max_hist=0.1)[0] == 5
    assert idx.nearest(99 * 0x1111, h, False, max_hash=0, max_hist=0.1)[0] == -1


def _frames(hash_of, n_each):
    ph, hist = [], []
    for h, c in hash_of:
        for _ in range(n_each):
            ph.append(h)
            v = np.zeros(8, np.float32)
            v[c] = 1
            hist.append(v)
    return np.array(ph, np.uint64), np.array(hist), np.ones(len(ph), np.float32)


A, B, C = 0, 0xFFFFFFFF00000000, 0x00000000FFFFFFFF


def test_quantizer_revisit_gets_old_id_and_flash_is_transient():
    ph, hist, tex = _frames([(A, 0), (B, 1), (A, 0)], 40)
    ph[10] = C  # a one-frame flash inside the first hover
    hist[10] = 0
    hist[10, 5] = 1
    q = Quantizer(Settings(prototype_frames=8))
    q.push(ph, hist, tex)
    res = q.finish()
    assert res.labels[:40].tolist() == [0] * 40
    assert set(res.labels[40:80].tolist()) == {1}
    assert res.labels[80:].tolist() == [0] * 40
    assert res.transients == ((10, 10),)
    assert [(t.frame, t.revisit) for t in res.transitions] == [(40, False), (80, True)]


def test_quantizer_batches_do_not_change_the_result():
    r = np.random.default_rng(3)
    ph, hist, tex = _frames([(A, 0), (B, 1), (C, 2), (B, 1)], 13)
    hist = hist + r.random(hist.shape).astype(np.float32) * 0.01
    whole = Quantizer()
    whole.push(ph, hist, tex)
    split = Quantizer()
    for a in range(0, len(ph), 5):
        split.push(ph[a : a + 5], hist[a : a + 5], tex[a : a + 5])
    assert whole.finish().labels.tolist() == split.finish().labels.tolist()


def test_change_shorter_than_persist_is_not_a_transition():
    ph, hist, tex = _frames([(A, 0)], 30)
    ph[12:14] = B  # two frames away
    q = Quantizer(Settings(persist=3))
    q.push(ph, hist, tex)
    res = q.finish()
    assert set(res.labels.tolist()) == {0} and res.transients == ((12, 13),)


def test_flat_frames_are_told_apart_by_histogram_only():
    ph = np.array([1, 2**40, 7] * 10, np.uint64)  # noise hashes on flat frames
    hist = np.zeros((30, 8), np.float32)
    hist[:, 0] = 1
    tex = np.zeros(30, np.float32)
    q = Quantizer()
    q.push(ph, hist, tex)
    assert set(q.finish().labels.tolist()) == {0}


def test_keyframe_is_sharp_and_typical():
    labels = np.array([0] * 10 + [1] * 5)
    ph = np.array([0] * 10 + [7] * 5, np.uint64)
    ph[5] = 2**64 - 1  # atypical frame
    sharp = np.ones(15, np.float32)
    sharp[5] = 100.0  # sharpest but atypical: not chosen
    sharp[6] = 2.0
    assert choose_keyframes(labels, ph, sharp, 2).tolist() == [6, 12]


def test_slow_pan_stays_in_a_state_while_the_view_overlaps():
    """A transit: the state holds until the view has moved by about a third of the frame."""
    import cv2

    import framesig

    r = np.random.default_rng(5)
    ground = cv2.GaussianBlur(r.integers(0, 255, (120, 600, 3), dtype=np.uint8), (0, 0), 2)
    width, step = 160, 2
    frames = [ground[:, x : x + width] for x in range(0, 600 - width, step)]
    sig = framesig.summarize(frames, fps=30)
    shift_per_state = [run.frames * step / width for run in sig.runs[:-1]]
    assert all(0.15 <= s <= 0.45 for s in shift_per_state), shift_per_state
    assert len(set(sig.symbols)) == len(sig.runs)  # never back to an old view


def _hover(n=90, seed=0, size=(320, 180)):
    from framesig import synthetic

    plan = synthetic.FlightPlan(
        (synthetic.Segment("hover", n, synthetic.Pose(600, 500), synthetic.Pose(600, 500), 0),)
    )
    return synthetic.render(plan, size=size, seed=seed)[0]


@pytest.mark.parametrize("gain", [0.6, 0.8, 1.25, 1.4])
def test_exposure_step_is_not_a_transition(gain):
    import framesig

    frames = _hover()
    stepped = [
        f if i < 45 else np.clip(f * np.float32(gain), 0, 255).astype(np.uint8)
        for i, f in enumerate(frames)
    ]
    assert framesig.summarize(stepped, fps=30).transitions == ()


def test_cut_between_shots_sharing_an_overlay_is_found():
    """Two places with the same burned-in OSD box: a cut, not a drift of one view."""
    import cv2

    import framesig
    from framesig import synthetic

    terrain = synthetic.make_terrain(3, (1200, 800))
    shots = [terrain[100:280, 100:420].copy(), terrain[500:680, 700:1020].copy()]
    for shot in shots:  # a telemetry line and a crosshair, as drone apps burn in
        cv2.putText(
            shot,
            "ALT 120m SPD 8.2 BAT 76%",
            (8, 170),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (255, 255, 255),
            1,
        )
        cv2.line(shot, (150, 90), (170, 90), (255, 255, 255), 1)
        cv2.line(shot, (160, 80), (160, 100), (255, 255, 255), 1)
    frames = [shots[0]] * 40 + [shots[1]] * 40
    sig = framesig.summarize(frames, fps=30)
    assert [t.frame for t in sig.transitions] == [40]


@given(
    st.lists(st.tuples(st.integers(0, 4), st.integers(1, 12)), min_size=1, max_size=30),
    st.integers(0, 2**32),
    st.sampled_from([1, 3, 7, 64]),
)
def test_keyframe_choice_does_not_depend_on_the_chunk(runs, seed, chunk):
    """Keyframe scores are made a chunk of frames at a time (memory stays flat with the
    length); chunk edges, state edges and ties fall anywhere, the choice is the same."""
    import framesig.quantize as q

    labels = np.repeat([s for s, _ in runs], [k for _, k in runs])
    rng = np.random.default_rng(seed)
    ph = rng.integers(0, 2**63, labels.shape[0], dtype=np.int64).astype(np.uint64)
    sharp = (rng.random(labels.shape[0]) * rng.integers(0, 2, labels.shape[0])).astype(np.float32)
    whole = choose_keyframes(labels, ph, sharp, 5)
    saved = q._KEYFRAME_CHUNK
    try:
        q._KEYFRAME_CHUNK = chunk
        assert choose_keyframes(labels, ph, sharp, 5).tolist() == whole.tolist()
    finally:
        q._KEYFRAME_CHUNK = saved


@given(
    st.integers(1, 4),
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 2**64 - 1), st.booleans(), st.integers(0, 3)),
        max_size=80,
    ),
    st.integers(0, 20),
    st.sampled_from([0.0, 0.05, 0.125, 0.3]),
    st.integers(0, 5),
    st.integers(0, 2**32 - 1),
)
def test_state_views_kernel_matches_reference(
    n_states, frames, radius, chroma_radius, max_views, seed
):
    rng = np.random.default_rng(seed)
    # near copies of a few hashes and histograms, so that frames fall inside and outside
    base = rng.integers(0, 2**63, 3, dtype=np.uint64)
    labels = np.array([s % n_states for s, *_ in frames], np.int64)
    flips = np.array([h for _, h, *_ in frames], np.uint64) & np.uint64(rng.integers(0, 2**63))
    hashes = base[labels % 3] ^ flips
    skip = np.array([k for _, _, k, _ in frames], bool)
    palettes = rng.dirichlet(np.ones(16), 4)
    chroma = np.rint(np.array([palettes[c] for *_, c in frames]).reshape(-1, 16) * 255)
    chroma = chroma.astype(np.uint8)
    state_hashes = rng.integers(0, 2**63, n_states, dtype=np.uint64)
    state_chroma = palettes[rng.integers(0, 4, n_states)].astype(np.float32)
    state_chroma[0, 0] = -1  # state 0's colours unknown: its hash alone decides
    args = (labels, hashes, chroma, skip, state_hashes, state_chroma, radius, chroma_radius)
    got_state, got_frame, got_nearest = state_views(*args, max_views)
    want, nearest = ref.state_views(*args, max_views)
    assert list(zip(got_state.tolist(), got_frame.tolist(), strict=True)) == want
    assert got_nearest.tolist() == nearest


@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=60), st.integers(0, 16))
def test_state_views_cover_every_frame(hashes, radius):
    """Uncapped, every frame is within the radius of its state's hash or of a view."""
    h = np.array(hashes, np.uint64)
    n = len(h)
    chroma = np.full((n, 16), 16, np.uint8)
    labels = np.zeros(n, np.int64)
    _, frames, _ = state_views(
        labels, h, chroma, np.zeros(n, bool), h[:1], chroma[:1] / 255, radius, 0.1, n
    )
    keys = [int(h[0]), *h[frames].tolist()]
    assert all(min(ref.hamming(int(x), k) for k in keys) <= radius for x in h)


def test_state_views_reject_bad_input():
    ones = np.ones(3, np.int64)
    c3 = np.zeros((3, 16), np.uint8)
    s2 = np.zeros((2, 16), np.float32)
    h3 = np.zeros(3, np.uint64)

    def views(labels=ones, hashes=h3, chroma=c3, states=2, **kw):
        args = dict(radius=8, chroma_radius=0.1) | kw
        return state_views(
            labels,
            hashes,
            chroma,
            np.zeros(3, bool),
            np.zeros(states, np.uint64),
            s2[:states],
            **args,
        )

    with pytest.raises(ValueError, match="one entry per frame"):
        views(hashes=np.zeros(2, np.uint64))
    with pytest.raises(ValueError, match="not one of the states"):
        views(states=1)
    with pytest.raises(ValueError, match="radius"):
        views(radius=65)
    with pytest.raises(ValueError, match="radius"):
        views(radius="3")
    with pytest.raises(ValueError, match="max_views"):
        views(max_views=float("nan"))
    with pytest.raises(ValueError, match="hashes must be a 1-D array of integers"):
        views(hashes=np.zeros(3, np.float64))
    with pytest.raises(ValueError, match="hashes: values outside"):
        views(hashes=np.array([-1, 0, 0]))
    with pytest.raises(ValueError, match="labels must be"):
        views(labels=np.ones((3, 1), np.int64))
    with pytest.raises(ValueError, match="chroma_radius"):
        views(chroma_radius=float("nan"))
    assert views(max_views=2**70)[0].size == 0  # all frames at state 1's own hash


def test_a_drifting_state_keeps_views_of_where_it_went():
    """A slow pan held in one state: its views lie along the pan, flat frames give none."""
    import cv2

    import framesig

    r = np.random.default_rng(5)
    ground = cv2.GaussianBlur(r.integers(0, 255, (120, 600, 3), dtype=np.uint8), (0, 0), 2)
    frames = [ground[:, x : x + 160] for x in range(0, 50)]  # 50 px of a 160 px view
    frames += [np.full((120, 160, 3), 90, np.uint8)] * 3  # a flat blackout, held as transient
    sig = framesig.summarize(frames, fps=30)
    held = sig.states[sig.runs[0].state]
    assert held.frames >= 50 and held.views  # one state, drifted far enough for views
    assert list(held.view_frames) == sorted(held.view_frames)
    assert all(f < 50 for f in held.view_frames)


def _merge_bursts_ref(labels, jumps, brief):
    """Runs as a list; three or more brief one-run states in a row, each jumped into from
    the one before (``jumps``: the frames of abrupt transitions), become the first.
    Returns the labels and the burst states."""
    runs = []  # [state, length, first frame]
    for f, x in enumerate(labels):
        if runs and runs[-1][0] == x:
            runs[-1][1] += 1
        else:
            runs.append([x, 1, f])
    once = {x for x in {r[0] for r in runs} if sum(r[0] == x for r in runs) == 1}
    out, firsts, k = [], [], 0
    while k < len(runs):
        j = k
        while (
            j < len(runs)
            and runs[j][1] < brief
            and runs[j][0] in once
            and (j == k or runs[j][2] in jumps)
        ):
            j += 1
        if j - k >= 3:
            out += [runs[k][0]] * sum(r[1] for r in runs[k:j])
            firsts.append(runs[k][0])
            k = j
        else:
            out += [runs[k][0]] * runs[k][1]
            k += 1
    order = sorted(set(out))
    return [order.index(x) for x in out], [order.index(x) for x in firsts]


@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(1, 8), st.booleans()), max_size=30),
    st.integers(1, 7),
)
def test_merge_bursts_matches_reference(runs, brief):
    labels, transitions, new = [], [], 0
    for state, length, jump in runs:
        state = new if state == 0 or not labels else min(state - 1, max(labels))
        if labels and state == labels[-1]:
            state = new  # a run of its own
        if state == new:
            new += 1
        if labels:
            transitions.append(TransitionEvent(len(labels), labels[-1], state, 9, 0.5, False, jump))
        labels += [state] * length
    r = QuantizeResult(
        np.array(labels, np.int32),
        tuple(range(100, 100 + new)),
        np.arange(new * 2, dtype=np.float32).reshape(new, 2),
        tuple(transitions),
        (),
        0.0,
        0.0,
    )
    got = merge_bursts(r, brief)
    want, bursts = _merge_bursts_ref(labels, {t.frame for t in transitions if t.abrupt}, brief)
    assert got.labels.tolist() == want and list(got.bursts) == bursts
    # what the states and the transitions say follows the labels
    change = [f for f in range(1, len(want)) if want[f] != want[f - 1]]
    assert [t.frame for t in got.transitions] == change
    assert all(
        (t.from_state, t.to_state) == (want[t.frame - 1], want[t.frame]) for t in got.transitions
    )
    kept = sorted({labels[f] for f in range(len(labels)) if want[f] != (want[f - 1] if f else -1)})
    assert got.state_hashes == tuple(100 + k for k in kept) or not labels
    assert len(got.state_hashes) == len(got.state_hists)


def test_a_tumble_is_one_state_not_a_string_of_three_frame_states():
    """The indoor takeoff clip ends with a 1.6 s tumble: each view lasted only the 3 frames
    a change must persist, 16 states in a row. It is two states now (the view followed on
    once, at 25.67 s), and their views still find their frames."""
    from conftest import real_clip

    import framesig
    from framesig.compare import MIN_DWELL, is_dwell
    from framesig.index import FlightIndex, features_at

    video = real_clip("drone_indoor_takeoff_hover_540p30.mp4")
    sig = framesig.summarize(video)
    tumble = [r for r in sig.runs if r.start_time >= 25.0 and r.end_time <= 26.95]
    assert len(tumble) == 2 and sum(r.frames for r in tumble) >= 45
    assert [sig.states[r.state].burst for r in tumble] == [True, True]
    assert sum(st.burst for st in sig.states) == 2
    # no place: compare and anomalies never take it for a dwell, though it lasted > 1 s
    longest = max(tumble, key=lambda r: r.frames)
    assert longest.end_time - longest.start_time > MIN_DWELL and not is_dwell(sig, longest)
    assert all(r.frames >= 2 * sig.settings["persist"] for r in sig.runs[:-1])
    index = FlightIndex.from_signatures([sig])
    times = [25.3 + 0.1 * k for k in range(15)]
    found = [
        any(h.state == sig.state_at(t) for h in index.find(qh, qhist, limit=None))
        for t, (qh, qhist) in zip(times, features_at(video, times), strict=True)
    ]
    assert sum(found) >= 13, found


def test_merge_bursts_keeps_earlier_bursts_and_rejects_foreign_states():
    labels = np.array([0] * 9 + [1, 1, 2, 2, 3, 3] + [4] * 9, np.int32)
    jumps = tuple(
        TransitionEvent(f, s, s + 1, 30, 0.5, False) for s, f in enumerate([9, 11, 13, 15])
    )
    hists = np.zeros((5, 2), np.float32)
    r = QuantizeResult(labels, tuple(range(5)), hists, jumps, (), 0, 0, bursts=(4,))
    assert merge_bursts(r, 6).bursts == (1, 2)  # the new burst, and state 4 (now 2)
    with pytest.raises(ValueError, match="labels and histograms"):
        merge_bursts(QuantizeResult(labels, (0, 1), hists[:2], (), (), 0, 0), 6)
    bad = (TransitionEvent(9, -1, 1, 30, 0.5, False),)
    with pytest.raises(ValueError, match="a transition between states"):
        merge_bursts(QuantizeResult(labels, tuple(range(5)), hists, bad, (), 0, 0), 6)
