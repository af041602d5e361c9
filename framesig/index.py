"""Comparable states across flights, and a cross-flight index to find a view in thousands.

Within one flight the quantizer gives a revisited place its old state id; across flights
ids mean nothing, so states are compared by what they look like: the state's pHash
(Hamming distance, of 64 bits) and its colour histogram. A state *matches* another when
the hashes differ in at most ``max_hash`` bits **and** their chroma histograms (the joint
histogram summed over luma, 16 bins) differ by at most ``max_hist`` (total variation).
The luma part of the histogram is left out on purpose: a return on a brighter day moves
every luma bin while the view is the same (an 8 % gain gives a full-histogram distance of
0.44 on the sample terrain, against 0.01 for the chroma part).

:class:`FlightIndex` holds the states of many flights in flat arrays and finds the states
that match a query with **multi-index hashing** (Norouzi et al., 2012), like
:class:`framesig.quantize.StateIndex`: two 64-bit hashes within ``r`` bits agree to within
``r // 4`` bits on one of their four 16-bit chunks, so each chunk column is kept sorted and
a query probes only the chunk values within ``r // 4`` bits (``searchsorted``), then
verifies the candidates exactly in a numba kernel. The work grows with the number of
candidates, not with the number of indexed states.

The index file (``.fsidx``) is a NumPy ``.npz`` archive (no pickles): ``meta`` holds a
UTF-8 JSON header (format name, version, the flights with their signature and video
paths), then the arrays ``hashes`` (uint64[N]), ``chroma`` (float32[N, 16], -1 where a
signature had no histogram), ``flight`` and ``state`` (int32[N]), ``range_offsets``
(int64[N + 1]) and ``range_start``/``range_end`` (float64[R]): the runs of each state, and
``state_time`` (float64[N]): when the frame nearest each state's hash was shown, and
``view_hashes`` (uint64[V]), ``view_row`` (int64[V]), ``view_times`` (float64[V]) and
``view_chroma`` (float32[V, 16]): the states' views (:attr:`framesig.signature.State.views`),
each with its state's row, its time and its chroma histogram (a file without them has no
views, and no times). A query is matched against every state's hash
and every view; a hit says when the closest of them was shown (:attr:`Hit.seen`).

Examples
--------
>>> import numpy as np, framesig
>>> rng = np.random.default_rng(0)
>>> a, b = (rng.integers(0, 255, (90, 160, 3), dtype=np.uint8) for _ in range(2))
>>> sig = framesig.summarize([a] * 20 + [b] * 20 + [a] * 20, fps=10)
>>> index = FlightIndex.from_signatures([sig], names=["demo"])
>>> hits = index.find_image(b)
>>> [(h.flight, h.ranges) for h in hits]
[('demo', ((2.0, 4.0),))]
>>> index.find_image(rng.integers(0, 255, (90, 160, 3), dtype=np.uint8))
[]
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from framesig.errors import FramesigError, OpenError, SettingsError
from framesig.files import write_atomically
from framesig.kernels import C_BINS, HIST_BINS, Y_BINS, _hamming
from framesig.limits import MAX_HASH, MAX_HIST  # re-exported: part of this module's API
from framesig.settings import Settings
from framesig.signature import Signature

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_HASH",
    "MAX_HIST",
    "CHROMA_BINS",
    "chroma_of",
    "Hit",
    "FlightRecord",
    "FlightIndex",
    "match_matrix",
    "query_features",
    "features_at",
    "load_signatures",
    "load_index_or_signatures",
]

FORMAT = "framesig-index"
FORMAT_VERSION = 1

CHROMA_BINS = C_BINS * C_BINS
_CHUNKS = 4
_CHUNK_BITS = 16


def chroma_of(hist: Sequence[float] | np.ndarray) -> np.ndarray:
    """The chroma histogram (16 bins) of a joint Y x U x V histogram; -1s when it is empty.

    Examples
    --------
    >>> h = np.zeros(HIST_BINS, np.float32); h[5] = 0.5; h[CHROMA_BINS + 5] = 0.5
    >>> chroma_of(h)[5], chroma_of(()).tolist() == [-1.0] * CHROMA_BINS
    (np.float32(1.0), True)
    """
    arr = np.asarray(hist, np.float32)
    if arr.size == 0:
        return np.full(CHROMA_BINS, -1.0, np.float32)
    if arr.shape != (HIST_BINS,):
        raise ValueError(f"a state histogram has {HIST_BINS} bins, got shape {arr.shape}")
    return arr.reshape(Y_BINS, CHROMA_BINS).sum(axis=0).astype(np.float32)


# --------------------------------------------------------------------------- kernels


@njit(cache=True, nogil=True)
def _verify(
    hashes, chroma, cand, qhash, qchroma, max_hash, max_hist, out_idx, out_dh, out_dc
):  # pragma: no cover - compiled
    """Keep the candidates within both limits; returns how many were written.

    A histogram whose first bin is negative is missing: only the hash counts then.
    """
    n = 0
    for k in range(cand.shape[0]):
        i = cand[k]
        dh = _hamming(hashes[i], qhash)
        if dh > max_hash:
            continue
        dc = 0.0
        if chroma[i, 0] >= 0.0 and qchroma[0] >= 0.0:
            acc = 0.0
            for b in range(chroma.shape[1]):
                acc += abs(chroma[i, b] - qchroma[b])
            dc = 0.5 * acc
        if dc > max_hist:
            continue
        out_idx[n] = i
        out_dh[n] = dh
        out_dc[n] = dc
        n += 1
    return n


def _masks(radius: int) -> np.ndarray:
    """Every 16-bit value with at most ``radius`` bits set (XOR masks for the probes)."""
    values = np.arange(1 << _CHUNK_BITS, dtype=np.uint32)
    bits = np.zeros(values.shape, np.int64)
    for b in range(_CHUNK_BITS):
        bits += ((values >> b) & 1).astype(np.int64)
    return values[bits <= radius].astype(np.uint16)


_MASK_CACHE: dict[int, np.ndarray] = {}


def _check_limits(max_hash: int, max_hist: float) -> None:
    if not (isinstance(max_hash, (int, np.integer)) and 0 <= max_hash <= 24):
        raise SettingsError("index", f"max_hash must be an int in 0..24, got {max_hash!r}")
    if not (isinstance(max_hist, (int, float)) and 0 <= max_hist <= 1):
        raise SettingsError("index", f"max_hist must be in 0..1, got {max_hist!r}")


def verify(
    hashes: np.ndarray,
    chroma: np.ndarray,
    candidates: np.ndarray,
    qhash: int,
    qchroma: np.ndarray,
    *,
    max_hash: int = MAX_HASH,
    max_hist: float = MAX_HIST,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(index, hash distance, hist distance)`` of the candidates within both limits.

    Examples
    --------
    >>> hs = np.array([0, 0xFF, 2**64 - 1], np.uint64)
    >>> ch = np.full((3, CHROMA_BINS), 1 / CHROMA_BINS, np.float32)
    >>> idx, dh, dc = verify(hs, ch, np.arange(3), 0x0F, ch[0], max_hash=4)
    >>> idx.tolist(), dh.tolist()
    ([0, 1], [4, 4])
    """
    _check_limits(max_hash, max_hist)
    h = np.ascontiguousarray(hashes, np.uint64)
    c = np.ascontiguousarray(chroma, np.float32)
    cand = np.ascontiguousarray(candidates, np.int64)
    q = np.ascontiguousarray(qchroma, np.float32)
    if c.ndim != 2 or c.shape[0] != h.shape[0] or q.shape != (c.shape[1],):
        raise ValueError(f"bad shapes: hashes {h.shape}, chroma {c.shape}, query {q.shape}")
    if cand.size and (cand.min() < 0 or cand.max() >= h.shape[0]):
        raise ValueError("candidate index out of range")
    out_idx = np.empty(cand.size, np.int64)
    out_dh = np.empty(cand.size, np.int64)
    out_dc = np.empty(cand.size, np.float64)
    n = _verify(
        h, c, cand, np.uint64(qhash), q, int(max_hash), float(max_hist), out_idx, out_dh, out_dc
    )
    return out_idx[:n], out_dh[:n], out_dc[:n]


def match_matrix(
    a: Sequence[Any],
    b: Sequence[Any],
    *,
    max_hash: int = MAX_HASH,
    max_hist: float = MAX_HIST,
) -> dict[tuple[int, int], float]:
    """Matching state pairs of two lists of states: ``{(id_a, id_b): distance}``.

    The distance is ``hash_distance / 64 + hist_distance`` (smaller is closer); pairs
    outside either limit are absent. States are :class:`framesig.signature.State`, matched
    by their own hashes: a state's views say where its view drifted, not what it is (a
    transit's views reach towards the places at its ends).
    """
    _check_limits(max_hash, max_hist)
    if not a or not b:
        return {}
    hb = np.array([int(s.hash, 16) for s in b], np.uint64)
    cb = np.stack([chroma_of(s.hist) for s in b])
    everything = np.arange(len(b))
    out: dict[tuple[int, int], float] = {}
    for sa in a:
        idx, dh, dc = verify(
            hb,
            cb,
            everything,
            int(sa.hash, 16),
            chroma_of(sa.hist),
            max_hash=max_hash,
            max_hist=max_hist,
        )
        for i, h, c in zip(idx.tolist(), dh.tolist(), dc.tolist(), strict=True):
            out[(sa.id, b[i].id)] = h / 64.0 + c
    return out


def _view_chroma(state: Any) -> np.ndarray:
    """The chroma histograms of a state's views, one after another: the state's own for
    each view when the signature has none (written before views had them)."""
    if len(state.view_chroma) == CHROMA_BINS * len(state.views):
        return np.asarray(state.view_chroma, np.float32)
    return np.tile(chroma_of(state.hist), len(state.views))


# ------------------------------------------------------------------------ the index


@dataclass(frozen=True)
class FlightRecord:
    """One indexed flight: its name, where its signature and video are, and its length."""

    name: str
    signature: str
    source: str
    duration: float
    frames: int
    states: int


@dataclass(frozen=True)
class Hit:
    """A state of an indexed flight that matches the query, with the times it was shown."""

    flight: str
    signature: str
    source: str
    state: int
    hash_distance: int
    hist_distance: float
    score: float  # hash_distance / 64 + hist_distance: smaller is closer
    ranges: tuple[tuple[float, float], ...]
    # when the closest of the state's hashes was shown: the frame nearest the state's own
    # hash, or a view's (None from index files written before views)
    seen: float | None = None


class FlightIndex:
    """The states of many flights, searchable by view.

    Build it with :meth:`from_signatures` or :meth:`add`, query with :meth:`find` (a hash
    and a histogram), :meth:`find_image` (an RGB array) or :meth:`find_frame` (a frame
    of a video), and keep it with :meth:`save` / :meth:`load`.
    """

    def __init__(self) -> None:
        self.flights: list[FlightRecord] = []
        self._hashes: list[np.ndarray] = []
        self._chroma: list[np.ndarray] = []
        self._flight: list[np.ndarray] = []
        self._state: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._starts: list[np.ndarray] = []
        self._ends: list[np.ndarray] = []
        self._times: list[np.ndarray] = []  # when each state's hash was shown (nearest frame)
        self._view_hashes: list[np.ndarray] = []  # each flight's states' views ...
        self._view_rows: list[np.ndarray] = []  # ... their states' rows in the flight ...
        self._view_times: list[np.ndarray] = []  # ... when they were shown ...
        self._view_chroma: list[np.ndarray] = []  # ... and their chroma histograms
        self._frozen: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        """The number of indexed states."""
        return int(sum(h.shape[0] for h in self._hashes))

    # -- building
    @classmethod
    def from_signatures(
        cls,
        signatures: Iterable[Signature],
        *,
        names: Iterable[str] | None = None,
        paths: Iterable[str] | None = None,
    ) -> FlightIndex:
        """An index of these signatures; names default to the videos' file names."""
        index = cls()
        sigs = list(signatures)
        name_list = list(names) if names is not None else [None] * len(sigs)
        path_list = list(paths) if paths is not None else [""] * len(sigs)
        if len(name_list) != len(sigs) or len(path_list) != len(sigs):
            raise ValueError("names and paths must have one entry per signature")
        for sig, name, path in zip(sigs, name_list, path_list, strict=True):
            index.add(sig, name=name, signature_path=path)
        return index

    def add(
        self,
        sig: Signature,
        *,
        name: str | None = None,
        signature_path: str | os.PathLike[str] = "",
    ) -> int:
        """Index one flight; returns its position in :attr:`flights`."""
        fid = len(self.flights)
        label = name if name is not None else (Path(sig.source.path).name or f"flight{fid}")
        self.flights.append(
            FlightRecord(
                label,
                os.fspath(signature_path),
                sig.source.path,
                float(sig.source.duration),
                int(sig.source.frames),
                len(sig.states),
            )
        )
        ranges: dict[int, list[tuple[float, float]]] = {s.id: [] for s in sig.states}
        for r in sig.runs:
            ranges.setdefault(r.state, []).append((r.start_time, r.end_time))
        n = len(sig.states)
        self._hashes.append(np.array([int(s.hash, 16) for s in sig.states], np.uint64))
        self._chroma.append(
            np.stack([chroma_of(s.hist) for s in sig.states])
            if n
            else np.empty((0, CHROMA_BINS), np.float32)
        )
        self._flight.append(np.full(n, fid, np.int32))
        self._state.append(np.array([s.id for s in sig.states], np.int32))
        self._counts.append(np.array([len(ranges[s.id]) for s in sig.states], np.int64))
        spans = [span for s in sig.states for span in ranges[s.id]]
        self._starts.append(np.array([a for a, _ in spans], np.float64))
        self._ends.append(np.array([b for _, b in spans], np.float64))
        self._times.append(
            np.array(
                [s.keyframe_time if s.hash_time is None else s.hash_time for s in sig.states],
                np.float64,
            )
        )
        self._view_hashes.append(
            np.array([int(h, 16) for s in sig.states for h in s.views], np.uint64)
        )
        self._view_rows.append(
            np.array([row for row, s in enumerate(sig.states) for _ in s.views], np.int64)
        )
        self._view_times.append(np.array([t for s in sig.states for t in s.view_times], np.float64))
        self._view_chroma.append(
            np.array([c for s in sig.states for c in _view_chroma(s)], np.float32).reshape(
                -1, CHROMA_BINS
            )
        )
        self._frozen = None
        return fid

    def state_hashes(self) -> list[tuple[int, ...]]:
        """Each flight's state hashes, in state order (what it holds, for telling flights
        apart whatever paths they were given by), in one pass over the index."""
        arrays = self._arrays()
        order = np.lexsort((arrays["state"], arrays["flight"]))
        flights, hashes = arrays["flight"][order], arrays["hashes"][order]
        bounds = np.searchsorted(flights, np.arange(len(self.flights) + 1))
        return [
            tuple(int(h) for h in hashes[bounds[k] : bounds[k + 1]])
            for k in range(len(self.flights))
        ]

    def merge(self, other: FlightIndex, flights: Iterable[int] | None = None) -> None:
        """Add the flights of ``other`` (an index read from a file, say) after these: those
        at the positions ``flights`` in ``other.flights``, or all."""
        for k in range(len(other.flights)) if flights is None else flights:
            fid = len(self.flights)
            self.flights.append(other.flights[k])
            self._hashes.append(other._hashes[k])
            self._chroma.append(other._chroma[k])
            self._flight.append(np.full(len(other._flight[k]), fid, np.int32))
            self._state.append(other._state[k])
            self._counts.append(other._counts[k])
            self._starts.append(other._starts[k])
            self._ends.append(other._ends[k])
            self._times.append(other._times[k])
            self._view_hashes.append(other._view_hashes[k])
            self._view_rows.append(other._view_rows[k])
            self._view_times.append(other._view_times[k])
            self._view_chroma.append(other._view_chroma[k])
        self._frozen = None

    def _arrays(self) -> dict[str, np.ndarray]:
        if self._frozen is None:

            def cat(parts: list[np.ndarray], dtype: Any, shape: tuple[int, ...] = (0,)) -> Any:
                return np.concatenate(parts) if parts else np.empty(shape, dtype)

            hashes = cat(self._hashes, np.uint64)
            counts = cat(self._counts, np.int64)
            first_row = np.cumsum([0] + [len(h) for h in self._hashes])
            view_hashes = cat(self._view_hashes, np.uint64)
            view_row = cat(
                [rows + first_row[k] for k, rows in enumerate(self._view_rows)], np.int64
            )
            arrays = {
                "hashes": hashes,
                "chroma": cat(self._chroma, np.float32, (0, CHROMA_BINS)),
                "flight": cat(self._flight, np.int32),
                "state": cat(self._state, np.int32),
                "range_offsets": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
                "range_start": cat(self._starts, np.float64),
                "range_end": cat(self._ends, np.float64),
                "state_time": cat(self._times, np.float64),
                "view_hashes": view_hashes,
                "view_row": view_row,
                "view_times": cat(self._view_times, np.float64),
                "view_chroma": cat(self._view_chroma, np.float32, (0, CHROMA_BINS)),
            }
            # what a query is matched against: every state's hash, then every view
            arrays |= {
                "key_hashes": np.concatenate([hashes, view_hashes]),
                "key_row": np.concatenate([np.arange(len(hashes)), view_row]).astype(np.int64),
                "key_chroma": np.concatenate([arrays["chroma"], arrays["view_chroma"]]),
                "key_time": np.concatenate([arrays["state_time"], arrays["view_times"]]),
            }
            keys = arrays["key_hashes"]
            for i in range(_CHUNKS):
                col = ((keys >> np.uint64(_CHUNK_BITS * i)) & np.uint64(0xFFFF)).astype(np.uint16)
                order = np.argsort(col, kind="stable")
                arrays[f"order{i}"] = order.astype(np.int64)
                arrays[f"sorted{i}"] = col[order]
            self._frozen = arrays
        return self._frozen

    # -- queries
    def candidates(self, qhash: int, *, max_hash: int = MAX_HASH) -> np.ndarray:
        """Indexed states (rows) that may have a hash or a view within ``max_hash`` bits
        (a superset; sorted, unique)."""
        keys = self._candidate_keys(qhash, max_hash)
        return np.unique(self._arrays()["key_row"][keys])

    def _candidate_keys(self, qhash: int, max_hash: int) -> np.ndarray:
        """Keys (state hashes and views) that may be within ``max_hash`` bits."""
        _check_limits(max_hash, 0.0)
        arrays = self._arrays()
        radius = max_hash // _CHUNKS
        masks = _MASK_CACHE.get(radius)
        if masks is None:
            masks = _MASK_CACHE.setdefault(radius, _masks(radius))
        found: list[np.ndarray] = []
        for i in range(_CHUNKS):
            chunk = np.uint16((int(qhash) >> (_CHUNK_BITS * i)) & 0xFFFF)
            probes = np.sort(masks ^ chunk)
            col = arrays[f"sorted{i}"]
            lo = np.searchsorted(col, probes, "left")
            hi = np.searchsorted(col, probes, "right")
            keep = hi > lo
            order = arrays[f"order{i}"]
            for a, b in zip(lo[keep].tolist(), hi[keep].tolist(), strict=True):
                found.append(order[a:b])
        if not found:
            return np.empty(0, np.int64)
        return np.unique(np.concatenate(found))

    def find(
        self,
        qhash: int,
        hist: Sequence[float] | np.ndarray = (),
        *,
        max_hash: int = MAX_HASH,
        max_hist: float = MAX_HIST,
        limit: int | None = 20,
    ) -> list[Hit]:
        """States within both limits of a view's hash and histogram, closest first.

        A state is within the hash limit when its own hash or one of its views is (the
        views of a state whose view drifted); ``hash_distance`` is to the closest.

        ``hist`` is the joint histogram of :func:`framesig.kernels.color_histogram` (or
        empty: the hash alone decides).
        """
        _check_limits(max_hash, max_hist)
        arrays = self._arrays()
        keys, dh, dc = verify(
            arrays["key_hashes"],
            arrays["key_chroma"],
            self._candidate_keys(qhash, max_hash),
            qhash,
            chroma_of(hist),
            max_hash=max_hash,
            max_hist=max_hist,
        )
        idx = arrays["key_row"][keys]
        seen = arrays["key_time"][keys]
        score = dh / 64.0 + dc
        order = np.lexsort((idx, score))
        # a state once, at its closest key: the first of its keys in score order
        _, first = np.unique(idx[order], return_index=True)
        order = order[np.sort(first)]
        if limit is not None:
            order = order[:limit]
        hits = []
        offs, starts, ends = arrays["range_offsets"], arrays["range_start"], arrays["range_end"]
        for k in order.tolist():
            i = int(idx[k])
            rec = self.flights[int(arrays["flight"][i])]
            a, b = int(offs[i]), int(offs[i + 1])
            hits.append(
                Hit(
                    rec.name,
                    rec.signature,
                    rec.source,
                    int(arrays["state"][i]),
                    int(dh[k]),
                    round(float(dc[k]), 6),
                    round(float(score[k]), 6),
                    tuple(zip(starts[a:b].tolist(), ends[a:b].tolist(), strict=True)),
                    None if np.isnan(seen[k]) else float(seen[k]),
                )
            )
        return hits

    def find_image(self, rgb: np.ndarray, **limits: Any) -> list[Hit]:
        """Find an RGB (or grey) uint8 image: see :meth:`find` for the limits."""
        qhash, hist = query_features(rgb)
        return self.find(qhash, hist, **limits)

    def find_frame(
        self,
        video: str | os.PathLike[str],
        time: float,
        *,
        fps: float | None = None,
        **limits: Any,
    ) -> list[Hit]:
        """Find the frame of ``video`` shown at ``time`` seconds (``fps``: as for
        :func:`framesig.decode.open_source`, for a folder of images)."""
        qhash, hist = frame_features_at(video, time, fps=fps)
        return self.find(qhash, hist, **limits)

    # -- the file
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index as ``.npz`` (atomically: a temp file renamed into place)."""
        arrays = self._arrays()
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "flights": [vars(f) for f in self.flights],
        }
        keep = {k: v for k, v in arrays.items() if not k.startswith(("order", "sorted", "key_"))}
        meta_bytes = np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)

        def write(file: Path) -> None:
            with open(file, "wb") as fh:
                save_npz: Any = np.savez_compressed  # its stubs mistake ** for allow_pickle
                save_npz(fh, meta=meta_bytes, **keep)

        write_atomically(path, write, ".npz")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> FlightIndex:
        """Read an index written by :meth:`save`."""
        name = os.fspath(path)
        try:
            # opened here: np.load leaves its own handle open when the zip is damaged
            with open(name, "rb") as fh, np.load(fh, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode("utf-8"))
                arrays = {k: data[k] for k in data.files if k != "meta"}
        except FileNotFoundError:
            raise OpenError(name, "no such file") from None
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            cause = "not a .npz file" if "pickle" in str(exc) else str(exc) or "empty"
            raise OpenError(name, f"not a framesig index ({cause})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise OpenError(name, "not a framesig index (no framesig format record)")
        if meta.get("version") != FORMAT_VERSION:
            raise OpenError(name, f"index version {meta.get('version')!r} is not {FORMAT_VERSION}")
        index = cls()
        try:
            index.flights = [FlightRecord(**f) for f in meta["flights"]]
        except (KeyError, TypeError) as exc:
            raise OpenError(name, f"a damaged framesig index (flights: {exc})") from None
        problem = _array_problem(arrays, len(index.flights))
        if problem:
            raise OpenError(name, f"a damaged framesig index ({problem})")
        flight = arrays["flight"].astype(np.int32)
        offs = arrays["range_offsets"]
        # index files from before views have neither views nor times (NaN: not known)
        state_time = arrays.get("state_time", np.full(len(flight), np.nan)).astype(np.float64)
        view_row = arrays.get("view_row", np.empty(0, np.int64)).astype(np.int64)
        view_hashes = arrays.get("view_hashes", np.empty(0, np.uint64)).astype(np.uint64)
        view_times = arrays.get("view_times", np.empty(0)).astype(np.float64)
        view_chroma = arrays.get("view_chroma", arrays["chroma"][view_row]).astype(np.float32)
        local = np.empty(len(flight), np.int64)  # a state's row within its flight
        for fid in range(len(index.flights)):
            rows = np.flatnonzero(flight == fid)
            local[rows] = np.arange(len(rows))
            views = np.flatnonzero(flight[view_row] == fid)
            index._times.append(state_time[rows])
            index._view_hashes.append(view_hashes[views])
            index._view_rows.append(local[view_row[views]])
            index._view_times.append(view_times[views])
            index._view_chroma.append(view_chroma[views])
            index._hashes.append(arrays["hashes"][rows].astype(np.uint64))
            index._chroma.append(arrays["chroma"][rows].astype(np.float32))
            index._flight.append(flight[rows])
            index._state.append(arrays["state"][rows].astype(np.int32))
            index._counts.append((offs[rows + 1] - offs[rows]).astype(np.int64))
            spans = np.concatenate(
                [np.arange(offs[r], offs[r + 1]) for r in rows.tolist()] or [np.empty(0, int)]
            ).astype(np.int64)
            index._starts.append(arrays["range_start"][spans])
            index._ends.append(arrays["range_end"][spans])
            if index._starts[-1].size:
                lo, hi = index._starts[-1].min() - 1e-6, index._ends[-1].max() + 1e-6
                times = np.concatenate([index._times[-1], index._view_times[-1]])
                if np.any((times < lo) | (times > hi)):  # NaN (not known) compares False
                    flight_name = index.flights[fid].name
                    raise OpenError(name, f"a damaged framesig index (times outside {flight_name})")
        return index


# What each array of an index file holds: its dtype kinds ("u" unsigned, "i" signed
# integer, "f" float) and whether a file must have it (the rest came with views).
_ARRAYS = {
    "hashes": ("u", True),
    "chroma": ("f", True),
    "flight": ("iu", True),
    "state": ("iu", True),
    "range_offsets": ("iu", True),
    "range_start": ("f", True),
    "range_end": ("f", True),
    "state_time": ("f", False),
    "view_hashes": ("u", False),
    "view_row": ("iu", False),
    "view_times": ("f", False),
    "view_chroma": ("f", False),
}


def _array_problem(arrays: dict[str, np.ndarray], flights: int) -> str:
    """What is wrong with an index file's arrays ("" when nothing is)."""
    missing = [k for k, (_, needed) in _ARRAYS.items() if needed and k not in arrays]
    if missing:
        return f"no {', '.join(missing)}"
    for k, (kinds, _) in _ARRAYS.items():
        if k in arrays and arrays[k].size and arrays[k].dtype.kind not in kinds:
            return f"{k} of type {arrays[k].dtype}"
    n = len(arrays["hashes"])
    offs = arrays["range_offsets"]
    spans = len(arrays["range_start"])
    if any(arrays[k].shape != (n,) for k in ("hashes", "flight", "state")):
        return "per-state arrays of different lengths"
    if arrays["chroma"].shape != (n, CHROMA_BINS):
        return f"chroma of shape {arrays['chroma'].shape} for {n} states"
    if offs.shape != (n + 1,) or arrays["range_end"].shape != (spans,):
        return "range arrays that do not fit the states"
    if n and (offs[0] != 0 or offs[-1] != spans or np.any(np.diff(offs) < 0)):
        return "range offsets out of order"
    if n and (arrays["flight"].min() < 0 or arrays["flight"].max() >= flights):
        return "states of flights it does not list"
    ranges = np.concatenate([arrays["range_start"], arrays["range_end"]])
    if not np.all(np.isfinite(ranges.astype(np.float64))):
        return "times that are not finite"
    if arrays.get("state_time", np.empty(n)).shape != (n,):
        return "per-state arrays of different lengths"
    views = [arrays.get(k, np.empty(0)) for k in ("view_hashes", "view_row", "view_times")]
    if views[0].ndim != 1 or any(v.shape != views[0].shape for v in views):
        return "view arrays of different lengths"
    if arrays.get("view_chroma", np.empty((len(views[0]), CHROMA_BINS))).shape != (
        len(views[0]),
        CHROMA_BINS,
    ):
        return "view chroma that does not fit the views"
    if views[1].size and (views[1].min() < 0 or views[1].max() >= n):
        return "views of states it does not hold"
    times = [arrays.get(k, np.empty(0)) for k in ("state_time", "view_times")]
    if any(np.isinf(t.astype(np.float64)).any() for t in times):  # NaN: not known
        return "times that are not finite"
    return ""


# ------------------------------------------------------------------ query features


class _Thumbs:
    """Analysis thumbnails of one frame, as the pipeline makes them."""

    def __init__(self) -> None:
        from framesig import kernels

        self.luma = np.empty((1, kernels.THUMB, kernels.THUMB), np.float32)
        self.cu = np.empty((1, kernels.CHROMA, kernels.CHROMA), np.float32)
        self.cv = np.empty_like(self.cu)
        self._feats: tuple[int, np.ndarray] | None = None

    def fill(self, frame: Any, rotation: int) -> None:
        from framesig import kernels

        levels = kernels.plane_levels(frame.bit_depth, frame.full_range)
        kernels.thumbnails_into(
            frame.y, frame.u, frame.v, levels, rotation, self.luma[0], self.cu[0], self.cv[0]
        )
        self._feats = None

    def features(self) -> tuple[int, np.ndarray]:
        from framesig import kernels

        if self._feats is None:
            feats = kernels.frame_features(self.luma, self.cu, self.cv)
            self._feats = (int(feats["phash"][0]), feats["hist"][0].copy())
        return self._feats


def _features(frame: Any, rotation: int) -> tuple[int, np.ndarray]:
    thumbs = _Thumbs()
    thumbs.fill(frame, rotation)
    return thumbs.features()


def query_features(rgb: np.ndarray) -> tuple[int, np.ndarray]:
    """``(pHash, joint histogram)`` of one RGB or grey uint8 image, as the pipeline measures.

    Examples
    --------
    >>> h, hist = query_features(np.zeros((64, 64, 3), np.uint8))
    >>> hist.shape, round(float(hist.sum()), 3)
    ((128,), 1.0)
    """
    from framesig.decode import open_source

    arr = np.asarray(rgb)
    with open_source([arr]) as src:
        frame = next(iter(src.frames()))
        return _features(frame, 0)


def frame_features_at(
    video: str | os.PathLike[str], time: float, *, fps: float | None = None
) -> tuple[int, np.ndarray]:
    """``(pHash, histogram)`` of the frame of ``video`` shown at ``time`` seconds."""
    return features_at(video, [time], fps=fps)[0]


def features_at(
    video: str | os.PathLike[str], times: Sequence[float], *, fps: float | None = None
) -> list[tuple[int, np.ndarray]]:
    """``(pHash, histogram)`` of the frames shown at each of ``times``, in one decode
    (``fps``: as for :func:`framesig.decode.open_source`, for a folder of images).

    The frame shown at ``t`` is the last one starting at or before ``t`` (the first frame
    for an earlier ``t``). A ``t`` after the end of the last frame is an error, not that
    frame: nothing is shown then.

    Raises
    ------
    FramesigError
        A time is past the end of the video (the message gives the end).
    """
    from framesig.decode import open_source

    order = sorted(range(len(times)), key=lambda k: times[k])
    out: list[tuple[int, np.ndarray] | None] = [None] * len(times)
    bufs = (_Thumbs(), _Thumbs())  # the last frame's thumbnails and the current one's
    last = -1
    # decoded as summarize decodes (no deblocking by default): a frame's query hash is
    # then the hash its flight's views were taken from
    with open_source(video, fps=fps, deblock=Settings().deblock) as src:
        pending = list(order)
        for frame in src.frames():
            while pending and frame.time > times[pending[0]] + 1e-9 and last >= 0:
                out[pending.pop(0)] = bufs[last].features()
            if not pending:
                break
            last = 1 - last if last >= 0 else 0
            bufs[last].fill(frame, src.info.rotation)
        if pending:  # past the last frame's start: it is shown until its end
            end = src.stats.end_time
            late = max(times[k] for k in pending)
            if late > end + 1e-6:
                raise FramesigError(
                    os.fspath(video), f"{late:g} s is past the end of the video ({end:.3f} s)"
                )
        for k in pending:
            out[k] = bufs[last].features()
    if any(o is None for o in out):  # pragma: no cover - open_source raises on no frame
        raise FramesigError(os.fspath(video), "no frame")
    return [o for o in out if o is not None]


def load_image(path: str | os.PathLike[str]) -> np.ndarray:
    """An image file as RGB uint8 (OpenError when it cannot be read)."""
    import cv2

    name = os.fspath(path)
    if not os.path.isfile(name):
        raise OpenError(name, "no such file")
    img = cv2.imread(name, cv2.IMREAD_COLOR)
    if img is None:
        raise OpenError(name, "not an image OpenCV can read")
    return np.ascontiguousarray(img[:, :, ::-1])


# ------------------------------------------------------------------------- loading


def _signature_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*.json") if p.name == "signature.json" or ".sig" in p.name
        )
    return [path]


def load_signatures(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[Path, Signature]]:
    """Signatures from files and folders (``signature.json`` and ``*.sig*.json`` inside)."""
    out: list[tuple[Path, Signature]] = []
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise OpenError(str(path), "no such file or folder")
        for f in _signature_files(path):
            try:
                out.append((f, Signature.load(f)))
            except (ValueError, KeyError, TypeError) as exc:
                raise OpenError(str(f), f"not a framesig signature ({exc})") from None
    return out


def load_index_or_signatures(paths: Sequence[str | os.PathLike[str]]) -> FlightIndex:
    """An index file as it is, or an index built from signature files and folders."""
    if len(paths) == 1 and Path(paths[0]).is_file() and not str(paths[0]).endswith(".json"):
        return FlightIndex.load(paths[0])
    found = load_signatures(paths)
    if not found:
        raise OpenError(", ".join(map(str, paths)), "no signature files found")
    names = [_flight_name(f, sig) for f, sig in found]
    return FlightIndex.from_signatures(
        [s for _, s in found], names=names, paths=[str(f) for f, _ in found]
    )


def _flight_name(path: Path, sig: Signature) -> str:
    if path.name == "signature.json":
        return path.parent.name
    return Path(sig.source.path).name or path.stem
