"""The KMP failure-function automaton over the run-collapsed symbol string.

Consecutive frames in one state collapse into one symbol, so the string holds one symbol
per run. Over it:

- :class:`FailureFunction` keeps the Knuth-Morris-Pratt failure function online: each
  appended symbol costs amortised O(1), and ``period`` says whether the flight so far is
  a loop flown several times.
- :func:`find` finds every occurrence of a pattern in O(n + m).
- :func:`loops` finds tandem repeats (a loop or patrol flown two or more times in a row)
  with their period, count and positions, from the failure function of each suffix.
- :func:`recurrences` finds stretches of the route flown again later (not adjacent).
- :func:`transition_graph` counts the state-to-state transitions.

Examples
--------
>>> s = [0, 1, 2, 3, 1, 2, 3, 1, 2, 3, 4]
>>> find(s, [1, 2, 3])
[1, 4, 7]
>>> [(r.start, r.period, r.count) for r in loops(s)]
[(1, 3, 3)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

__all__ = [
    "FailureFunction",
    "failure_function",
    "find",
    "Loop",
    "loops",
    "Recurrence",
    "recurrences",
    "transition_graph",
    "collapse_runs",
]


@njit(cache=True, nogil=True)
def _failure(symbols, out):  # pragma: no cover - compiled
    """``out[i]`` = length of the longest proper border of ``symbols[:i+1]``."""
    n = symbols.shape[0]
    if n == 0:
        return
    out[0] = 0
    k = 0
    for i in range(1, n):
        while k > 0 and symbols[i] != symbols[k]:
            k = out[k - 1]
        if symbols[i] == symbols[k]:
            k += 1
        out[i] = k


@njit(cache=True, nogil=True)
def _kmp_find(text, pattern, fail, out):  # pragma: no cover - compiled
    """Start positions of ``pattern`` in ``text`` (overlapping); returns how many."""
    m = pattern.shape[0]
    count = 0
    k = 0
    for i in range(text.shape[0]):
        while k > 0 and text[i] != pattern[k]:
            k = fail[k - 1]
        if text[i] == pattern[k]:
            k += 1
        if k == m:
            out[count] = i - m + 1
            count += 1
            k = fail[k - 1]
    return count


@njit(cache=True, nogil=True)
def _suffix_tandems(symbols, max_period, out):  # pragma: no cover - compiled
    """For each start s, the longest prefix of ``symbols[s:]`` that is two or more periods.

    Runs the failure function over a window of each suffix (O(n * max_period) time). Writes rows
    ``(start, period, length)``; returns the row count.
    """
    n = symbols.shape[0]
    fail = np.empty(n, np.int64)
    rows = 0
    window = 4 * max_period  # a loop is at most this long, which bounds the work per start
    for s in range(n):
        m = min(n - s, window)
        fail[0] = 0
        k = 0
        best_len = 0
        best_p = 0
        for i in range(1, m):
            while k > 0 and symbols[s + i] != symbols[s + k]:
                k = fail[k - 1]
            if symbols[s + i] == symbols[s + k]:
                k += 1
            fail[i] = k
            length = i + 1
            p = length - k  # smallest period of this prefix; never falls as i grows
            if p <= max_period and length >= 2 * p:
                best_len = length
                best_p = p
        if best_p > 0:
            out[rows, 0] = s
            out[rows, 1] = best_p
            out[rows, 2] = best_len
            rows += 1
    return rows


@njit(cache=True, nogil=True)
def _suffix_borders(symbols, min_len, out):  # pragma: no cover - compiled
    """For each start s, the longest prefix of ``symbols[s:]`` that occurs again later.

    The failure function of ``symbols[s:]`` at position i is the longest prefix that ends
    at i; its maximum over i with a non-overlapping end is the answer. Rows
    ``(start, length, later_start)``; returns the row count.
    """
    n = symbols.shape[0]
    fail = np.empty(n, np.int64)
    rows = 0
    for s in range(n):
        m = n - s
        fail[0] = 0
        k = 0
        best = 0
        where = -1
        for i in range(1, m):
            while k > 0 and symbols[s + i] != symbols[s + k]:
                k = fail[k - 1]
            if symbols[s + i] == symbols[s + k]:
                k += 1
            fail[i] = k
            # non-overlapping: the later copy starts after this one ends
            kk = k
            while kk > 0 and i - kk + 1 < kk:
                kk = fail[kk - 1]
            if kk > best:
                best = kk
                where = s + i - kk + 1
        if best >= min_len:
            out[rows, 0] = s
            out[rows, 1] = best
            out[rows, 2] = where
            rows += 1
    return rows


def _as_symbols(seq: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray(seq, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError(f"a symbol string is 1-D, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def collapse_runs(labels: Sequence[int] | np.ndarray) -> np.ndarray:
    """One symbol per run of equal labels.

    >>> collapse_runs([3, 3, 1, 1, 1, 3]).tolist()
    [3, 1, 3]
    """
    arr = _as_symbols(labels)
    if arr.size == 0:
        return arr
    keep = np.ones(arr.size, bool)
    keep[1:] = arr[1:] != arr[:-1]
    return arr[keep]


def failure_function(symbols: Sequence[int] | np.ndarray) -> np.ndarray:
    """The KMP failure function (longest proper border of each prefix).

    >>> failure_function([1, 2, 1, 2, 1]).tolist()
    [0, 0, 1, 2, 3]
    """
    arr = _as_symbols(symbols)
    out = np.zeros(arr.size, np.int64)
    _failure(arr, out)
    return out


class FailureFunction:
    """The failure function, built online one symbol at a time.

    Examples
    --------
    >>> ff = FailureFunction()
    >>> for s in [7, 8, 9, 7, 8, 9, 7]:
    ...     _ = ff.push(s)
    >>> ff.table, ff.period
    ([0, 0, 0, 1, 2, 3, 4], 3)
    """

    def __init__(self) -> None:
        self.symbols: list[int] = []
        self.table: list[int] = []

    def push(self, symbol: int) -> int:
        """Append a symbol; returns its failure value. Amortised O(1)."""
        s, t = self.symbols, self.table
        s.append(int(symbol))
        i = len(s) - 1
        if i == 0:
            t.append(0)
            return 0
        k = t[i - 1]
        while k > 0 and s[i] != s[k]:
            k = t[k - 1]
        if s[i] == s[k]:
            k += 1
        t.append(k)
        return k

    @property
    def period(self) -> int:
        """Smallest period of the string so far (its length when it has none shorter)."""
        return len(self.table) - self.table[-1] if self.table else 0


def find(text: Sequence[int] | np.ndarray, pattern: Sequence[int] | np.ndarray) -> list[int]:
    """Every start of ``pattern`` in ``text`` (overlapping matches), in O(n + m).

    >>> find([1, 1, 1], [1, 1])
    [0, 1]
    >>> find([1, 2], [])
    []
    """
    t, p = _as_symbols(text), _as_symbols(pattern)
    if p.size == 0 or p.size > t.size:
        return []
    fail = np.zeros(p.size, np.int64)
    _failure(p, fail)
    out = np.empty(t.size, np.int64)
    count = _kmp_find(t, p, fail, out)
    return out[:count].tolist()


@dataclass(frozen=True)
class Loop:
    """A stretch of the symbol string that is one cycle flown ``count`` times in a row.

    ``start`` and ``length`` index the run-collapsed string; ``pattern`` is one cycle.
    """

    start: int
    period: int
    count: int
    length: int
    pattern: tuple[int, ...]


def loops(
    symbols: Sequence[int] | np.ndarray, *, min_period: int = 2, max_period: int = 256
) -> list[Loop]:
    """Maximal tandem repeats: cycles of ``min_period``..``max_period`` symbols flown 2+ times.

    A repeat contained in a longer one of the same period is not listed again.
    """
    arr = _as_symbols(symbols)
    if arr.size < 2 * max(min_period, 1):
        return []
    out = np.zeros((arr.size, 3), np.int64)
    rows = _suffix_tandems(arr, max_period, out)
    found: list[Loop] = []
    covered_until: dict[int, int] = {}
    for s, p, length in out[:rows].tolist():
        if p < min_period:
            continue
        if covered_until.get(p, -1) >= s + length:  # inside a longer one of this period
            continue
        covered_until[p] = s + length
        count = length // p
        found.append(Loop(s, p, count, count * p, tuple(arr[s : s + p].tolist())))
    return found


@dataclass(frozen=True)
class Recurrence:
    """A stretch of the route (``length`` runs) first at ``first``, flown again at ``later``."""

    first: int
    later: int
    length: int
    pattern: tuple[int, ...]


def recurrences(symbols: Sequence[int] | np.ndarray, *, min_length: int = 3) -> list[Recurrence]:
    """Maximal stretches of at least ``min_length`` symbols that occur again later.

    A stretch inside a longer listed one (both copies shifted alike) is not listed again.
    """
    arr = _as_symbols(symbols)
    if arr.size < 2 * min_length:
        return []
    out = np.zeros((arr.size, 3), np.int64)
    rows = _suffix_borders(arr, min_length, out)
    found: list[Recurrence] = []
    for s, length, later in out[:rows].tolist():
        if any(
            r.first <= s and s + length <= r.first + r.length and later - s == r.later - r.first
            for r in found
        ):
            continue
        found.append(Recurrence(s, later, length, tuple(arr[s : s + length].tolist())))
    return found


def transition_graph(symbols: Sequence[int] | np.ndarray) -> dict[tuple[int, int], int]:
    """Counts of each ``(from, to)`` transition in a run-collapsed string.

    >>> transition_graph([0, 1, 0, 1])
    {(0, 1): 2, (1, 0): 1}
    """
    arr = _as_symbols(symbols).tolist()
    return dict(Counter(zip(arr[:-1], arr[1:], strict=False)))
