"""Quantization: frames to symbols (visual states), online.

A frame joins the current state while it stays close to the state's prototype in both
pHash and colour histogram. When frames stop being close, the change must persist for
``persist`` frames before the state changes; a shorter excursion (flash, glint, dropped
frame) is recorded as a transient and its frames stay in the current state. A persistent
change is matched against every known state through :class:`StateIndex`, so a view the
drone comes back to gets its old id; only when none is close is a new state made.

Flat frames (fog, sky, a black card) have hashes made of noise, so between two flat
frames only the histogram counts.

Examples
--------
>>> import numpy as np
>>> from framesig.settings import Settings
>>> q = Quantizer(Settings(persist=2))
>>> ph = np.array([0, 0, 0, 2**64 - 1, 2**64 - 1, 2**64 - 1, 0, 0], np.uint64)
>>> hist = np.zeros((8, 4), np.float32); hist[:, 0] = 1
>>> tex = np.ones(8, np.float32)
>>> q.push(ph, hist, tex)
>>> q.finish().labels.tolist()
[0, 0, 0, 1, 1, 1, 0, 0]
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from framesig.kernels import Y_BINS, _aligned_ncc, _hamming, _hist_distance, _state_views
from framesig.limits import MAX_HASH, MAX_HIST
from framesig.settings import Settings

__all__ = [
    "StateIndex",
    "Quantizer",
    "QuantizeResult",
    "TransitionEvent",
    "brightness_distance",
    "choose_keyframes",
    "merge_bursts",
    "state_views",
    "view_radius",
    "MAX_VIEWS",
]

_CHUNKS = 4  # multi-index hashing: the 64-bit hash as four 16-bit substrings
_CHUNK_BITS = 16
_SCAN_BELOW = 64  # below this many states a plain scan is faster than probing tables
FLAT_TEXTURE = 0.012  # luma std (0..1) under which a frame's hash is noise
_SWITCH_MARGIN = 6 / 64  # how much closer another known state must be to take over
# A frame shows the run's first view when their band-passed thumbnails correlate this well
# after the best shift, and the shifted views still share this much of their area (2/3
# keeps the intersection over union with the run's first frame above 0.5).
_VIEW_MIN_NCC = 0.6
_VIEW_MIN_OVERLAP = 0.67
_VIEW_MAX_HIST = 0.6  # a colour change this large is a new view whatever the structure
# Between textured frames the hash decides and the histogram only vetoes: an auto-exposure
# step moves most pixels to other luma bins (distance 0.6-0.9) but barely moves the hash.
_TEXTURED_JOIN_HIST = 0.92
_TEXTURED_MATCH_HIST = 0.6
_VIEW_SHIFT16 = 6  # search +-6 px of the 16x16 grid (+-12 of 32)
_VIEW_MIN_CONTINUITY = 0.8  # ... and with the state's last frame (one step of motion)
_STEP_SHIFT16 = 2
# A view has settled when it has not moved (by more than a pixel of the 32x32 detail) over
# this many joined frames; a state then takes its anchor view (and, while it is still in
# the run that made it, its prototype) from the settled frames instead of the first ones.
_SETTLE_FRAMES = 15
_SETTLED_NCC = 0.8
# A uniform brightness change (exposure, a fade) moves mass to the next luma bin, all of
# it or a share: the histogram distance allowing for that.
_SHIFT_SHARES = (0.25, 0.5, 0.75, 1.0)
_MAX_JOIN_HASH = 24  # however noisy the video, thresholds stay clear of chance (32 of 64)
_MAX_MATCH_HASH = 18
BURST_RUNS = 3  # brief new states in a row that are one burst (see merge_bursts)
MAX_VIEWS = 64  # views a state keeps beside its own hash (a bound for noisy videos)
_MIN_VIEW_RADIUS = MAX_HASH // 2  # a view's frames, and a query with as much noise again


def _copy_view(
    view: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray] | None:
    return None if view is None else (view[0].copy(), view[1].copy())


def brightness_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Histogram distance from ``a`` to ``b`` after ``a`` is made brighter or darker.

    A uniform brightness change (an exposure step, a fade) moves pixels to the next luma
    bin: all of them when it is a bin wide, a share otherwise. ``a`` is moved up or down
    by one luma bin (by a quarter, a half, three quarters or all of each bin's mass;
    mass at the end of the range stays, as pixels clip there) and the smallest total
    variation distance to ``b`` is returned. Two views of the same scene at different
    exposure are close; a change of colour or of content is not.

    Examples
    --------
    >>> import numpy as np
    >>> from framesig.kernels import HIST_BINS
    >>> grey, brighter, red = (np.zeros(HIST_BINS, np.float32) for _ in range(3))
    >>> grey[3 * 16 + 5] = brighter[4 * 16 + 5] = red[3 * 16 + 7] = 1
    >>> brightness_distance(grey, brighter), brightness_distance(grey, red)
    (0.0, 1.0)
    """
    a32 = np.asarray(a, np.float32)
    b32 = np.asarray(b, np.float32)
    step = a32.shape[0] // Y_BINS
    up = np.zeros_like(a32)
    up[step:] = a32[:-step]
    up[-step:] += a32[-step:]
    down = np.zeros_like(a32)
    down[:-step] = a32[step:]
    down[:step] += a32[:step]
    best = float(_hist_distance(a32, b32))
    for moved in (up, down):
        for share in _SHIFT_SHARES:
            mixed = ((1 - share) * a32 + share * moved).astype(np.float32)
            best = min(best, float(_hist_distance(mixed, b32)))
    return best


def _chunks(h: int) -> list[int]:
    return [(h >> (_CHUNK_BITS * i)) & 0xFFFF for i in range(_CHUNKS)]


def _neighbours(value: int, radius: int) -> list[int]:
    """All 16-bit values within Hamming ``radius`` of ``value``."""
    out = [value]
    for r in range(1, radius + 1):
        for bits in combinations(range(_CHUNK_BITS), r):
            flip = 0
            for b in bits:
                flip |= 1 << b
            out.append(value ^ flip)
    return out


class StateIndex:
    """Nearest known state by pHash (with a histogram check), sublinear in states.

    Multi-index hashing (Norouzi et al., 2012): if two 64-bit hashes differ in at most
    ``r`` bits, then one of their four 16-bit chunks differs in at most ``r // 4``. Each
    chunk has a table from value to states; a query probes the chunk values within
    ``r // 4`` and verifies the candidates exactly. Small indexes are scanned directly.

    Examples
    --------
    >>> import numpy as np
    >>> idx = StateIndex()
    >>> h = np.zeros(4, np.float32); h[0] = 1
    >>> idx.add(0b1111, h, flat=False)
    0
    >>> idx.nearest(0b0111, h, False, max_hash=2, max_hist=0.1)
    (0, 1, 0.0)
    >>> idx.nearest(2**64 - 1, h, False, max_hash=2, max_hist=0.1)
    (-1, 64, 0.0)
    """

    def __init__(self) -> None:
        self.hashes: list[int] = []
        self.hists: list[np.ndarray] = []
        self.flat: list[bool] = []
        self._tables: list[dict[int, list[int]]] = [{} for _ in range(_CHUNKS)]
        self._flat_ids: list[int] = []

    def __len__(self) -> int:
        return len(self.hashes)

    def add(self, phash: int, hist: np.ndarray, flat: bool) -> int:
        sid = len(self.hashes)
        self.hashes.append(int(phash))
        self.hists.append(np.asarray(hist, np.float32).copy())
        self.flat.append(bool(flat))
        for i, c in enumerate(_chunks(int(phash))):
            self._tables[i].setdefault(c, []).append(sid)
        if flat:
            self._flat_ids.append(sid)
        return sid

    def _candidates(self, phash: int, flat: bool, max_hash: int) -> set[int] | range:
        if len(self.hashes) < _SCAN_BELOW:
            return range(len(self.hashes))
        radius = max_hash // _CHUNKS
        found: set[int] = set(self._flat_ids) if flat else set()
        for i, c in enumerate(_chunks(int(phash))):
            table = self._tables[i]
            for n in _neighbours(c, radius):
                ids = table.get(n)
                if ids:
                    found.update(ids)
        return found

    def nearest(
        self,
        phash: int,
        hist: np.ndarray,
        flat: bool,
        *,
        max_hash: int,
        max_hist: float,
        max_hist_textured: float | None = None,
        exclude: int = -1,
    ) -> tuple[int, int, float]:
        """``(state, hash distance, hist distance)`` of the closest state within limits.

        Closeness is the hash distance as a share of 64 plus the histogram distance; a
        pair of flat frames is compared by histogram alone (``max_hist``), a pair with
        texture by hash with only a looser colour veto (``max_hist_textured``, default
        ``max_hist``), since exposure moves the histogram but not the hash.
        ``(-1, 64, 0.0)`` when no state is within the limits.
        """
        veto = max_hist if max_hist_textured is None else max_hist_textured
        best, best_dh, best_dc, best_score = -1, 64, 0.0, np.inf
        hist32 = np.asarray(hist, np.float32)
        ph = np.uint64(phash)
        for sid in self._candidates(phash, flat, max_hash):
            if sid == exclude:
                continue
            both_flat = flat and self.flat[sid]
            dh = 0 if both_flat else _hamming(ph, np.uint64(self.hashes[sid]))
            if dh > max_hash:
                continue
            dc = float(_hist_distance(hist32, self.hists[sid]))
            if dc > (veto if not (flat or self.flat[sid]) else max_hist):
                continue
            score = dh / 64.0 + dc
            if score < best_score or (score == best_score and sid < best):
                best, best_dh, best_dc, best_score = sid, dh, dc, score
        return best, best_dh, best_dc

    def pop(self) -> None:
        """Remove the most recently added state."""
        sid = len(self.hashes) - 1
        for i, c in enumerate(_chunks(self.hashes[sid])):
            self._tables[i][c].remove(sid)
        if self.flat[sid]:
            self._flat_ids.remove(sid)
        self.hashes.pop()
        self.hists.pop()
        self.flat.pop()

    def update(self, sid: int, phash: int, hist: np.ndarray, flat: bool) -> None:
        """Replace a state's prototype (while it is still being formed)."""
        old = self.hashes[sid]
        if old != phash:
            for i, (co, cn) in enumerate(zip(_chunks(old), _chunks(int(phash)), strict=True)):
                if co != cn:
                    self._tables[i][co].remove(sid)
                    self._tables[i].setdefault(cn, []).append(sid)
            self.hashes[sid] = int(phash)
        self.hists[sid] = np.asarray(hist, np.float32).copy()
        if flat != self.flat[sid]:
            self.flat[sid] = flat
            if flat:
                self._flat_ids.append(sid)
            else:
                self._flat_ids.remove(sid)


@dataclass(frozen=True)
class TransitionEvent:
    """A state change at ``frame`` (the first frame of the new state)."""

    frame: int
    from_state: int
    to_state: int
    hash_distance: int
    hist_distance: float
    revisit: bool
    abrupt: bool = True  # the first frame of the change could not join the frame before it


@dataclass(frozen=True)
class QuantizeResult:
    """Per-frame labels and the states they name."""

    labels: np.ndarray  # int32[n]
    state_hashes: tuple[int, ...]
    state_hists: np.ndarray  # float32[states, bins]
    transitions: tuple[TransitionEvent, ...]
    transients: tuple[tuple[int, int], ...]  # (first frame, last frame) of each excursion
    noise_hash: float
    noise_hist: float
    settled: tuple[tuple[int, int], ...] = ()  # frame windows where a settled view acted
    bursts: tuple[int, ...] = ()  # states made of a burst of brief views (merge_bursts)


class _Prototype:
    """Accumulates the majority hash and mean histogram of a state's first frames."""

    def __init__(self, bins: int) -> None:
        self.bit_counts = np.zeros(64, np.int32)
        self.hist_sum = np.zeros(bins, np.float64)
        self.flat_count = 0
        self.n = 0

    def add(self, phash: int, hist: np.ndarray, flat: bool) -> tuple[int, np.ndarray, bool]:
        bits = (np.uint64(phash) >> np.arange(64, dtype=np.uint64)) & np.uint64(1)
        self.bit_counts += bits.astype(np.int32)
        self.hist_sum += hist
        self.flat_count += int(flat)
        self.n += 1
        majority = self.bit_counts * 2 > self.n
        value = int((majority.astype(np.uint64) << np.arange(64, dtype=np.uint64)).sum())
        return value, (self.hist_sum / self.n).astype(np.float32), self.flat_count * 2 > self.n


class Quantizer:
    """Online frame-to-state quantizer; feed batches with :meth:`push`, then :meth:`finish`."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.index = StateIndex()
        self._labels: list[np.ndarray] = []
        self._batch_labels: list[int] = []
        self._n = 0
        self._current = -1
        self._proto: dict[int, _Prototype] = {}
        self._pending: list[tuple[int, int, np.ndarray, bool]] = []  # frame, hash, hist, flat
        self._pending_abrupt = True  # did the pending change begin with a jump?
        self._settled: list[tuple[int, int]] = []  # frame windows where settling acted
        self._transitions: list[TransitionEvent] = []
        self._transients: list[tuple[int, int]] = []
        self._prev: tuple[int, np.ndarray, bool] | None = None
        self._noise_h: deque[int] = deque(maxlen=240)
        self._noise_c: deque[float] = deque(maxlen=240)
        self._anchor: tuple[np.ndarray, np.ndarray] | None = None  # the run's first view
        self._pending_view: tuple[np.ndarray, np.ndarray] | None = None
        self._limits = (
            self.settings.join_hash,
            self.settings.join_hist,
            self.settings.match_hash,
            self.settings.match_hist,
        )
        self._last_view: tuple[np.ndarray, np.ndarray] | None = None  # last frame joined
        self._last_hist: np.ndarray | None = None  # ... and its histogram
        self._before_last_view: tuple[np.ndarray, np.ndarray] | None = None  # the one before
        # The run's latest joined frames (hash, histogram, flat, view), to tell when the
        # view has settled; and whether the current state was made in this run.
        self._recent: deque[tuple[int, np.ndarray, bool, tuple[np.ndarray, np.ndarray]]] = deque(
            maxlen=_SETTLE_FRAMES
        )
        self._own_run = False

    # -- thresholds from the video's own noise floor
    def _noise_floor(self) -> tuple[float, float]:
        """The video's own frame-to-frame noise: the lower quartile of recent distances.

        The lower quartile is the noise of the stillest stretches; motion and cuts, which
        make the upper part of the distribution, do not raise it.
        """
        if len(self._noise_h) < 8:
            return 0.0, 0.0
        nh = float(np.percentile(np.fromiter(self._noise_h, np.float64), 25))
        nc = float(np.percentile(np.fromiter(self._noise_c, np.float64), 25))
        return nh, nc

    def _update_thresholds(self) -> None:
        """Thresholds for the next batch: the settings' floors, raised by the noise floor."""
        s = self.settings
        nh, nc = self._noise_floor()
        self._limits = (
            int(min(max(s.join_hash, s.noise_factor * nh), _MAX_JOIN_HASH)),
            float(min(max(s.join_hist, s.noise_factor * nc), 0.6)),
            int(min(max(s.match_hash, s.noise_factor * nh), _MAX_MATCH_HASH)),
            float(min(max(s.match_hist, s.noise_factor * nc), 0.6)),
        )

    def _thresholds(self) -> tuple[int, float, int, float]:
        return self._limits

    def _nearest_known(
        self, phash: int, hist: np.ndarray, flat: bool, mh: int, mc: float, exclude: int
    ) -> tuple[int, int, float]:
        """The known state (other than ``exclude``) this frame is a return to, if any."""
        return self.index.nearest(
            phash,
            hist,
            flat,
            max_hash=mh,
            max_hist=mc,
            max_hist_textured=max(mc, _TEXTURED_MATCH_HIST),
            exclude=exclude,
        )

    def _distance(self, phash: int, hist: np.ndarray, flat: bool, sid: int) -> tuple[int, float]:
        both_flat = flat and self.index.flat[sid]
        dh = 0 if both_flat else _hamming(np.uint64(phash), np.uint64(self.index.hashes[sid]))
        return dh, float(_hist_distance(hist, self.index.hists[sid]))

    def _grow(self, sid: int, phash: int, hist: np.ndarray, flat: bool) -> None:
        proto = self._proto.get(sid)
        if proto is not None:
            h, m, f = proto.add(phash, hist, flat)
            self.index.update(sid, h, m, f)
            if proto.n >= self.settings.prototype_frames:
                del self._proto[sid]  # frozen from here on
            if proto.n in (8, 16) or proto.n == self.settings.prototype_frames:
                self._merge_if_known(sid, h, m, f)

    def _merge_if_known(self, sid: int, phash: int, hist: np.ndarray, flat: bool) -> None:
        """A new state whose settled prototype matches a known state is that state.

        The first frames after a transit are often still moving, so the state made from
        them can miss an earlier place the drone has come back to; once the prototype has
        settled it is compared again, and merged when it matches.
        """
        if sid != len(self.index) - 1 or sid != self._current or not self._transitions:
            return
        last = self._transitions[-1]
        if last.to_state != sid or last.revisit:
            return
        _, _, mh, mc = self._thresholds()
        known, dh, dc = self._nearest_known(phash, hist, flat, mh, mc, exclude=sid)
        if known < 0:
            return
        self.index.pop()
        self._relabel(last.frame, known)
        self._current = known
        self._own_run = False
        self._transitions.pop()
        if last.from_state != known:
            self._transitions.append(
                TransitionEvent(last.frame, last.from_state, known, dh, dc, True, last.abrupt)
            )
        elif self._transitions and self._transitions[-1].to_state == known:
            pass  # the excursion folded back into the state it left: no change at all

    def _new_state(self, phash: int, hist: np.ndarray, flat: bool) -> int:
        sid = self.index.add(phash, hist, flat)
        self._proto[sid] = _Prototype(hist.shape[0])
        self._grow(sid, phash, hist, flat)
        return sid

    def push(
        self,
        phashes: np.ndarray,
        hists: np.ndarray,
        textures: np.ndarray,
        details: np.ndarray | None = None,
        details16: np.ndarray | None = None,
    ) -> None:
        """Quantize a batch of frames given their features (see :mod:`framesig.kernels`).

        With ``details`` and ``details16`` (the band-passed view thumbnails), a frame whose
        hash has drifted still joins the current state while its view overlaps the view
        the run began with: a slow transit stays one state until the view has moved by
        about a third of the frame, instead of splitting at every few pixels of motion.
        """
        labels = self._batch_labels
        self._update_thresholds()
        views = details is not None and details16 is not None
        for k in range(phashes.shape[0]):
            ph = int(phashes[k])
            hist = hists[k]
            flat = bool(textures[k] < FLAT_TEXTURE)
            view = (details[k], details16[k]) if views else None  # type: ignore[index]
            frame = self._n
            self._n += 1
            step_h, step_c = 0, 0.0
            if self._prev is not None:
                p_ph, p_hist, p_flat = self._prev
                step_h = 0 if (flat and p_flat) else _hamming(np.uint64(ph), np.uint64(p_ph))
                step_c = float(_hist_distance(hist, p_hist))
                self._noise_h.append(step_h)
                self._noise_c.append(step_c)
            self._prev = (ph, hist, flat)
            if self._current < 0:
                self._current = self._new_state(ph, hist, flat)
                self._own_run = True
                self._anchor = _copy_view(view)
                self._last_view = _copy_view(view)
                self._last_hist = np.array(hist, np.float32)
                labels.append(self._current)
                continue
            jh, jc, mh, mc = self._thresholds()
            dh, dc = self._distance(ph, hist, flat, self._current)
            alt = -1
            if dh > mh // 2 or dc > mc / 2:
                # Drifting from the current state: is a known state much closer? (The
                # drone flew back to an earlier place while still in a transit state.)
                alt, adh, adc = self._nearest_known(ph, hist, flat, mh, mc, self._current)
                if alt >= 0 and adh / 64.0 + adc + _SWITCH_MARGIN > dh / 64.0 + dc:
                    alt = -1
            textured = not flat and not self.index.flat[self._current]
            close = dh <= jh and dc <= (_TEXTURED_JOIN_HIST if textured else jc)
            by_view = False
            if not close and alt < 0:
                close = self._same_brightness_change(hist, flat, dh, jh, jc, textured)
            if not close and alt < 0 and view is not None and self._anchor is not None:
                close = by_view = self._same_view(view, hist, dc, flat)
            if close and alt < 0:
                if self._pending:  # the excursion ended before it persisted
                    self._transients.append((self._pending[0][0], self._pending[-1][0]))
                    self._pending.clear()
                labels.append(self._current)
                self._grow(self._current, ph, hist, flat)
                self._last_hist = np.array(hist, np.float32)
                if view is not None:
                    self._before_last_view = self._last_view
                    joined = (view[0].copy(), view[1].copy())
                    self._last_view = joined
                    self._recent.append((ph, self._last_hist, flat, joined))
                    if len(self._recent) == _SETTLE_FRAMES:
                        self._settle(by_view, dh > jh)
                continue
            if not self._pending:
                # A cut jumps from one frame to the next; a fade, a dissolve or a transit
                # changes the view a little each frame, so its first frame could still
                # have joined the frame before it.
                self._pending_abrupt = step_h > jh or step_c > jc
            self._pending.append((frame, ph, hist, flat))
            self._pending_view = view
            labels.append(self._current)  # provisional; rewritten if the change persists
            if len(self._pending) >= self.settings.persist:
                self._commit(mh, mc)
        self._flush_labels()

    def _same_brightness_change(
        self, hist: np.ndarray, flat: bool, dh: int, jh: int, jc: float, textured: bool
    ) -> bool:
        """Is the frame the state's view made brighter or darker (exposure, a fade)?

        Between textured frames the structure must hold (hash within the join limit) and
        the histogram be the prototype's moved along luma. A flat frame has no structure
        to hold, so it must follow on from the state's last frame: a fade moves the
        brightness a little every frame, a cut jumps.
        """
        sid = self._current
        if textured:
            return dh <= jh and brightness_distance(self.index.hists[sid], hist) <= jc
        if flat and self.index.flat[sid] and self._last_hist is not None:
            return brightness_distance(self._last_hist, hist) <= jc
        return False

    def _settle(self, stale_view: bool, stale_prototype: bool) -> None:
        """Take the state's references from the settled view, once the view holds still.

        Called every ``_SETTLE_FRAMES`` joined frames. A state begins where its first
        frames were, often still easing out of a transit. When the view then holds still
        (the last frame shows what the first of these frames showed, at most a pixel
        away):

        - if the last frame joined only by its view (``stale_view``), the anchor view
          becomes the settled frame;
        - while the state is in the run that made it: if its frames have drifted out of
          its prototype's hash limit (``stale_prototype``), the prototype is formed again
          from the settled frames (the view a later return to this place will look
          like); otherwise the settled frames are compared with the known states, and a
          new state whose settled view matches a known one within the match limits is
          merged into it (a return to a place that began while still approaching it).
        """
        frames = list(self._recent)
        self._recent.clear()
        first, last = frames[0][3], frames[-1][3]
        ncc, sy, sx = _aligned_ncc(first[1], last[1], first[0], last[0], _STEP_SHIFT16)
        if ncc < _SETTLED_NCC or max(abs(sy), abs(sx)) > 1:
            return
        # Where a settled view changed the state's references: fast mode must not have
        # stood in for those frames (stand-ins of one keyframe always look settled).
        window = (max(self._n - 2 * _SETTLE_FRAMES, 0), self._n - 1)
        if stale_view:
            self._anchor = _copy_view(last)
            self._settled.append(window)
        if not self._own_run:
            return
        sid = self._current
        if stale_prototype:
            self._settled.append(window)
            self._proto[sid] = _Prototype(self.index.hists[sid].shape[0])
            for ph, hist, flat, _ in frames:
                self._grow(sid, ph, hist, flat)
                if self._current != sid:  # merged into the known state it turned out to be
                    break
            return
        settled = _Prototype(self.index.hists[sid].shape[0])
        for ph, hist, flat, _ in frames:
            h, m, f = settled.add(ph, hist, flat)
        self._merge_if_known(sid, h, m, f)
        if self._current != sid:
            self._settled.append(window)

    def _same_view(
        self, view: tuple[np.ndarray, np.ndarray], hist: np.ndarray, dc: float, flat: bool
    ) -> bool:
        """Does the frame show what the run's first frame showed, moved by a little?

        It must also follow on from one of the state's last two frames (one odd frame,
        a noise burst, does not break the chain): a drift is continuous, a cut is not,
        even when two shots happen to share structure (a similar composition, a
        burned-in overlay).
        """
        if flat or self._last_view is None:
            return False
        if dc > _VIEW_MAX_HIST and (
            brightness_distance(self.index.hists[self._current], hist) > _VIEW_MAX_HIST
        ):
            return False
        assert self._anchor is not None
        if not self._follows(self._last_view, view) and not self._follows(
            self._before_last_view, view
        ):
            return False
        anchor = self._anchor
        ncc, dy, dx = _aligned_ncc(anchor[1], view[1], anchor[0], view[0], _VIEW_SHIFT16)
        side = view[0].shape[0]
        return self._view_ok(ncc, dy, dx, side)

    @staticmethod
    def _follows(
        last: tuple[np.ndarray, np.ndarray] | None, view: tuple[np.ndarray, np.ndarray]
    ) -> bool:
        """Is ``view`` one step of motion on from ``last``?"""
        if last is None:
            return False
        follows, _, _ = _aligned_ncc(last[1], view[1], last[0], view[0], _STEP_SHIFT16)
        return bool(follows >= _VIEW_MIN_CONTINUITY)

    @staticmethod
    def _view_ok(ncc: float, dy: int, dx: int, side: int) -> bool:
        overlap = (1 - abs(dy) / side) * (1 - abs(dx) / side)
        return bool(ncc >= _VIEW_MIN_NCC and overlap >= _VIEW_MIN_OVERLAP)

    def _commit(self, mh: int, mc: float) -> None:
        first, ph, hist, flat = self._pending[0][0], *self._pending[-1][1:]
        sid, dh, dc = self._nearest_known(ph, hist, flat, mh, mc, self._current)
        revisit = sid >= 0
        if not revisit:
            sid = self._new_state(ph, hist, flat)
            dh, dc = self._distance(ph, hist, flat, self._current)
        self._own_run = not revisit
        self._recent.clear()
        self._last_hist = np.array(hist, np.float32)
        self._transitions.append(
            TransitionEvent(first, self._current, sid, dh, dc, revisit, self._pending_abrupt)
        )
        self._relabel(first, sid)
        self._current = sid
        self._anchor = _copy_view(self._pending_view)
        self._last_view = _copy_view(self._pending_view)
        self._before_last_view = None
        for _, p_ph, p_hist, p_flat in self._pending:
            self._grow(sid, p_ph, p_hist, p_flat)
        self._pending.clear()

    def _relabel(self, first: int, sid: int) -> None:
        # Pending frames are the last few; they sit in the open batch or the last flushed one.
        done = self._n - len(self._batch_labels)
        for f in range(first, self._n):
            if f >= done:
                self._batch_labels[f - done] = sid
            else:
                self._relabel_flushed(f, sid)

    def _relabel_flushed(self, frame: int, sid: int) -> None:
        pos = frame
        for chunk in self._labels:
            if pos < chunk.shape[0]:
                chunk[pos] = sid
                return
            pos -= chunk.shape[0]

    def _flush_labels(self) -> None:
        if self._batch_labels:
            self._labels.append(np.asarray(self._batch_labels, np.int32))
            self._batch_labels = []
            if len(self._labels) > 64:  # keep the relabel walk short
                self._labels = [np.concatenate(self._labels)]

    def finish(self) -> QuantizeResult:
        """Close the stream: a pending excursion at the very end stays transient."""
        if self._pending:
            self._transients.append((self._pending[0][0], self._pending[-1][0]))
            self._pending.clear()
        self._flush_labels()
        labels = np.concatenate(self._labels) if self._labels else np.empty(0, np.int32)
        bins = self.index.hists[0].shape[0] if self.index.hists else 0
        nh, nc = self._noise_floor()
        result = QuantizeResult(
            labels=labels,
            state_hashes=tuple(self.index.hashes),
            state_hists=np.array(self.index.hists, np.float32).reshape(len(self.index), bins),
            transitions=tuple(self._transitions),
            transients=tuple(self._transients),
            settled=tuple(self._settled),
            noise_hash=nh,
            noise_hist=nc,
        )
        return merge_bursts(result, 2 * self.settings.persist)


def merge_bursts(result: QuantizeResult, brief: int) -> QuantizeResult:
    """One state for each burst of brief new states: at least :data:`BURST_RUNS` runs in
    a row, each shorter than ``brief`` frames and its state's only run, the view jumping
    (an abrupt transition) from each to the next.

    A drone that tumbles changes view faster than views can settle: every few frames a
    new state persists just long enough to be made. Those states hold no place anyone
    will return to; the burst becomes its first state (whose views then cover where the
    burst went), as a shot detector's minimum scene length would merge it, and is listed
    in ``bursts``: it is no place, however long it lasted. A fast transit is left alone:
    its views follow on from each other (gradual transitions). State ids stay 0, 1, 2,
    ... in order of first appearance.

    Examples
    --------
    >>> labels = np.array([0] * 9 + [1, 1, 2, 2, 3, 3] + [4] * 9, np.int32)
    >>> jumps = tuple(TransitionEvent(f, s, s + 1, 30, 0.5, False) for s, f in enumerate(
    ...     [9, 11, 13, 15]))
    >>> r = QuantizeResult(labels, tuple(range(5)), np.zeros((5, 2), np.float32), jumps, (), 0, 0)
    >>> merged = merge_bursts(r, 6)
    >>> merged.labels.tolist()[8:16], merged.state_hashes, merged.bursts
    ([0, 1, 1, 1, 1, 1, 1, 2], (0, 1, 4), (1,))
    """
    labels = result.labels
    n = labels.shape[0]
    n_states = len(result.state_hashes)
    if len(result.state_hists) != n_states or (
        n and (labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n_states)
    ):
        raise ValueError("labels and histograms must be of the result's states")
    if any(
        not (0 <= t.from_state < n_states and 0 <= t.to_state < n_states)
        for t in result.transitions
    ):
        raise ValueError("a transition between states the result does not have")
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]]) if n else np.empty(0, int)
    states = labels[starts].astype(np.int64)
    runs_of_state = np.bincount(states, minlength=n_states)
    short = (np.diff(np.r_[starts, n]) < brief) & (runs_of_state[states] == 1)
    abrupt = {t.frame for t in result.transitions if t.abrupt}
    into = np.arange(n_states)  # each state: the state it becomes
    dropped: set[int] = set()  # transitions inside bursts, by frame
    firsts: list[int] = []  # the first state of each burst
    k = 0
    while k < len(starts):
        j = k
        while j < len(starts) and short[j] and (j == k or int(starts[j]) in abrupt):
            j += 1
        if j - k >= BURST_RUNS:
            into[states[k + 1 : j]] = states[k]
            dropped.update(starts[k + 1 : j].tolist())
            firsts.append(int(states[k]))
        k = max(j, k + 1)
    if not dropped:
        return result
    keep = np.unique(into)
    new_id = np.searchsorted(keep, into)  # ids stay in order of first appearance
    transitions = tuple(
        TransitionEvent(
            t.frame,
            int(new_id[t.from_state]),
            int(new_id[t.to_state]),
            t.hash_distance,
            t.hist_distance,
            t.revisit,
            t.abrupt,
        )
        for t in result.transitions
        if t.frame not in dropped
    )
    return QuantizeResult(
        labels=new_id[labels].astype(np.int32),
        state_hashes=tuple(result.state_hashes[k] for k in keep.tolist()),
        state_hists=result.state_hists[keep],
        transitions=transitions,
        transients=result.transients,
        noise_hash=result.noise_hash,
        noise_hist=result.noise_hist,
        settled=result.settled,
        bursts=tuple(sorted({int(new_id[x]) for x in (*result.bursts, *firsts)})),
    )


_KEYFRAME_CHUNK = 8192  # frames whose hash bits are unpacked at once


def choose_keyframes(
    labels: np.ndarray, phashes: np.ndarray, sharpness: np.ndarray, n_states: int
) -> np.ndarray:
    """One representative frame per state: sharp and typical, not merely the first.

    Typical means close to the state's majority hash over all its frames; sharp means a
    high Laplacian variance relative to the state's sharpest frame. The score is
    ``sharpness / max_sharpness - hamming(frame, majority) / 16``; frames next to a
    state change (mixed, blurred) are used only when the state has no others.

    Returns
    -------
    numpy.ndarray
        int64[n_states]: the chosen frame index of each state.
    """
    labels = np.asarray(labels, np.int64)
    phashes = np.asarray(phashes, np.uint64)
    n = labels.shape[0]
    little = phashes.astype("<u8", copy=False)

    def bits(a: int) -> np.ndarray:
        # 64 bits per frame take 8x the hash's memory: unpacked a chunk at a time, so
        # memory stays flat with the length of the video; bit k of a hash is column k
        chunk = little[a : a + _KEYFRAME_CHUNK].reshape(-1, 1).view(np.uint8)
        return np.unpackbits(chunk, axis=1, bitorder="little").view(bool)

    counts = np.zeros((n_states, 64), np.int64)
    for a in range(0, n, _KEYFRAME_CHUNK):
        np.add.at(counts, labels[a : a + _KEYFRAME_CHUNK], bits(a))
    sizes = np.bincount(labels, minlength=n_states)
    majority = counts * 2 > sizes[:, None]
    change = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    max_sharp = np.zeros(n_states)
    for a in range(0, n, _KEYFRAME_CHUNK):
        chunk = slice(a, a + _KEYFRAME_CHUNK)
        np.maximum.at(max_sharp, labels[chunk], np.asarray(sharpness[chunk], np.float64))

    def scores(a: int) -> np.ndarray:
        # every per-frame term a chunk at a time, so memory stays flat with the length
        lab = labels[a : a + _KEYFRAME_CHUNK]
        m = lab.shape[0]
        dist = (bits(a) != majority[lab]).sum(axis=1)
        edge = np.zeros(m, bool)
        near = change[np.searchsorted(change, a - 1) : np.searchsorted(change, a + m + 2)]
        for c in near.tolist():
            edge[max(c - 2 - a, 0) : max(min(c + 2 - a, m), 0)] = True
        sharp = np.asarray(sharpness[a : a + m], np.float64)
        return sharp / np.maximum(max_sharp[lab], 1e-12) - dist / 16.0 - edge * 1.0

    best = np.full(n_states, -np.inf)
    for a in range(0, n, _KEYFRAME_CHUNK):
        np.maximum.at(best, labels[a : a + _KEYFRAME_CHUNK], scores(a))
    chosen = np.full(n_states, n, np.int64)
    for a in range(0, n, _KEYFRAME_CHUNK):
        lab = labels[a : a + _KEYFRAME_CHUNK]
        winners = np.flatnonzero(scores(a) >= best[lab])  # each state's best score
        np.minimum.at(chosen, lab[winners], winners + a)  # the earliest of equals
    chosen[chosen == n] = -1  # states with no frame
    return chosen


def view_radius(noise_hash: float, noise_hist: float = 0.0) -> tuple[int, float]:
    """How far a state's frames may be from one of its views, in hash bits and in chroma
    (total variation): half the find limits, raised by the video's frame-to-frame noise so
    that noise alone makes no views.

    Examples
    --------
    >>> view_radius(0.0), view_radius(5.0, 0.1), view_radius(30.0, 1.0)
    ((8, 0.125), (10, 0.2), (16, 0.25))
    """
    bits = int(min(max(_MIN_VIEW_RADIUS, round(2 * noise_hash)), MAX_HASH))
    return bits, float(min(max(MAX_HIST / 2, 2 * noise_hist), MAX_HIST))


def _integers(name: str, values: object, dtype: type, ndim: int = 1) -> np.ndarray:
    """``values`` as a contiguous integer array of ``dtype`` (ValueError when it holds
    anything else, or numbers out of the type's range)."""
    arr = np.asarray(values)
    if arr.ndim != ndim or (arr.size and arr.dtype.kind not in "ui"):
        raise ValueError(
            f"{name} must be a {ndim}-D array of integers, got {arr.dtype} {arr.shape}"
        )
    info = np.iinfo(dtype)
    if arr.size and (int(arr.min()) < info.min or int(arr.max()) > info.max):
        raise ValueError(f"{name}: values outside {info.min}..{info.max}")
    return np.ascontiguousarray(arr, dtype)


def state_views(
    labels: np.ndarray,
    hashes: np.ndarray,
    chroma: np.ndarray,
    skip: np.ndarray,
    state_hashes: np.ndarray,
    state_chroma: np.ndarray,
    radius: int,
    chroma_radius: float,
    max_views: int = MAX_VIEWS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The views of each state: frames that, with the state itself, come within ``radius``
    bits of hash and ``chroma_radius`` of chroma of every frame of the state.

    A state whose view drifts (a slow pan, a long coast, a tumble) holds frames far from
    its own hash or colours; a search for one of those frames finds the state through the
    view near it. Frames are covered greedily in order: the first frame not within both
    limits of the state and of its views so far becomes a view, up to ``max_views`` a
    state. ``skip`` frames (flat ones, whose hash is noise) never become views.

    Parameters
    ----------
    labels, hashes : numpy.ndarray
        Each frame's state and pHash.
    chroma : numpy.ndarray
        uint8[frames, 16]: each frame's chroma histogram (:func:`framesig.index.chroma_of`)
        in 1/255ths.
    skip : numpy.ndarray
        bool per frame: frames that never become views.
    state_hashes, state_chroma : numpy.ndarray
        Each state's hash and chroma histogram (float[states, 16]; a row whose first bin
        is negative is unknown, and only the hash counts against it).
    radius, chroma_radius : int, float
        The limits (:func:`view_radius`).
    max_views : int
        At most this many views a state.

    Returns
    -------
    state, frame : numpy.ndarray
        int64 arrays, one entry per view, in the order found.
    nearest : numpy.ndarray
        int64[states]: each state's first frame nearest its own hash (-1 when it has no
        frame that is not ``skip``).

    Examples
    --------
    >>> labels = np.zeros(4, np.int64)
    >>> hashes = np.array([0, 0b1111, 0b1110, 0b11111111], np.uint64)
    >>> chroma = np.zeros((4, 16), np.uint8); chroma[:, 0] = 255
    >>> st, f, near = state_views(labels, hashes, chroma, np.zeros(4, bool),
    ...                           np.zeros(1, np.uint64), chroma[:1] / 255, 2, 0.1)
    >>> f.tolist(), near.tolist()
    ([1, 3], [0])
    """
    labels = _integers("labels", labels, np.int64)
    hashes = _integers("hashes", hashes, np.uint64)
    state_hashes = _integers("state_hashes", state_hashes, np.uint64)
    chroma = _integers("chroma", chroma, np.uint8, ndim=2)
    skip = np.ascontiguousarray(skip, np.bool_)
    state_chroma = np.ascontiguousarray(state_chroma, np.float32)
    n, n_states = labels.shape[0], state_hashes.shape[0]
    if hashes.shape != (n,) or skip.shape != (n,) or chroma.shape[0] != n:
        raise ValueError("labels, hashes, chroma and skip must have one entry per frame")
    if state_chroma.shape != (n_states, chroma.shape[1]):
        raise ValueError(f"state_chroma must be {(n_states, chroma.shape[1])}")
    if n and (labels.min() < 0 or labels.max() >= n_states):
        raise ValueError("a label is not one of the states")
    if not (isinstance(radius, int | np.integer) and 0 <= radius <= 64):
        raise ValueError(f"radius must be an integer 0..64, got {radius!r}")
    if not (isinstance(max_views, int | np.integer) and max_views >= 0):
        raise ValueError(f"max_views must be an integer >= 0, got {max_views!r}")
    if not 0.0 <= chroma_radius <= 1.0:
        raise ValueError(f"chroma_radius must be in 0..1, got {chroma_radius!r}")
    max_views = min(int(max_views), n)  # no state has more views than frames
    size = min(n, n_states * max_views)
    out_state = np.empty(size, np.int64)
    out_frame = np.empty(size, np.int64)
    nearest = np.empty(n_states, np.int64)
    m = _state_views(
        labels,
        hashes,
        chroma,
        skip,
        state_hashes,
        state_chroma,
        int(radius),
        float(chroma_radius),
        max_views,
        out_state,
        out_frame,
        nearest,
    )
    return out_state[:m], out_frame[:m], nearest
