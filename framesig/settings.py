"""Settings of a summarization run: one immutable, validated, JSON-round-tripping value."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from framesig.errors import SettingsError

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """How frames become states. The defaults need no tuning per video.

    Thresholds are floors: each video's own noise floor (the frame-to-frame distances
    while the view holds still) raises them where the footage is noisy.

    Attributes
    ----------
    join_hash : int
        Largest pHash Hamming distance (of 64 bits) at which a frame still belongs to the
        current state.
    join_hist : float
        Largest colour-histogram distance (total variation, 0..1) for the same.
    match_hash, match_hist : int, float
        The same limits for recognising a state seen before (a revisit).
    persist : int
        Frames a change must last before the state changes; shorter excursions (a flash,
        a glint, a dropped frame) stay in the current state.
    noise_factor : float
        Thresholds are at least this many times the video's noise floor.
    prototype_frames : int
        A state's prototype is the majority hash and mean histogram of its first frames.
    batch_size : int
        Frames per kernel batch.
    decode_threads : int
        FFmpeg decoder threads (0: one per core, as the full-decode limit ``ffmpeg -threads
        N``); in fast mode also the keyframe decoders that work side by side (0: one per
        core, at most 4).
    fps : float or None
        Frame rate for inputs without timestamps (image folders, arrays, raw streams
        without a declared rate). None means 25.
    max_frames : int or None
        Stop after this many frames (for previews); the result is flagged ``partial``.
    fast : bool
        Fast mode (:mod:`framesig.fast`): scan keyframes, decode in full only the GOPs
        where the state may change. Same states and transitions (to a frame) as exact
        mode where it applies; elsewhere it falls back to exact mode by itself.
    fast_fallback : str
        Set by :func:`framesig.summarize` in a fast run's result: why it fell back to
        exact mode ("" when it did not, or was not asked to run fast).
    kernel_threads : int
        numba threads for the batch kernels (0: numba's default, one per core). Decoding
        already keeps the cores busy, so 1 avoids oversubscription on small machines.
    deblock : bool
        Run the decoder's in-loop deblocking filter. Off by default: the analysis
        thumbnails average block edges away, and decoding costs 20-40% less without it.
        Keyframe images are always decoded in full.

    Examples
    --------
    >>> s = Settings(persist=4)
    >>> Settings.from_dict(s.to_dict()) == s
    True
    >>> Settings(persist=0)
    Traceback (most recent call last):
    ...
    framesig.errors.SettingsError: settings: persist must be >= 1, got 0
    """

    join_hash: int = 20
    join_hist: float = 0.35
    match_hash: int = 14
    match_hist: float = 0.35
    persist: int = 3
    noise_factor: float = 3.0
    prototype_frames: int = 30
    batch_size: int = 64
    decode_threads: int = 0
    fps: float | None = None
    max_frames: int | None = None
    fast: bool = False
    fast_fallback: str = ""
    kernel_threads: int = 0
    deblock: bool = False

    def __post_init__(self) -> None:
        def need(ok: bool, what: str, value: Any) -> None:
            if not ok:
                raise SettingsError("settings", f"{what}, got {value!r}")

        for name in ("join_hash", "match_hash"):
            v = getattr(self, name)
            need(isinstance(v, int) and 0 <= v <= 64, f"{name} must be an int in 0..64", v)
        for name in ("join_hist", "match_hist"):
            v = getattr(self, name)
            need(isinstance(v, (int, float)) and 0 <= v <= 1, f"{name} must be in 0..1", v)
        need(
            isinstance(self.persist, int) and self.persist >= 1,
            "persist must be >= 1",
            self.persist,
        )
        need(self.noise_factor >= 0, "noise_factor must be >= 0", self.noise_factor)
        need(
            isinstance(self.prototype_frames, int) and self.prototype_frames >= 1,
            "prototype_frames must be >= 1",
            self.prototype_frames,
        )
        need(
            isinstance(self.batch_size, int) and 1 <= self.batch_size <= 4096,
            "batch_size must be in 1..4096",
            self.batch_size,
        )
        need(
            isinstance(self.decode_threads, int) and self.decode_threads >= 0,
            "decode_threads must be >= 0",
            self.decode_threads,
        )
        need(
            self.fps is None or (isinstance(self.fps, (int, float)) and self.fps > 0),
            "fps must be positive",
            self.fps,
        )
        need(
            self.max_frames is None or (isinstance(self.max_frames, int) and self.max_frames > 0),
            "max_frames must be positive",
            self.max_frames,
        )
        need(isinstance(self.fast, bool), "fast must be True or False", self.fast)
        need(isinstance(self.fast_fallback, str), "fast_fallback must be a str", self.fast_fallback)
        need(
            isinstance(self.kernel_threads, int) and self.kernel_threads >= 0,
            "kernel_threads must be >= 0",
            self.kernel_threads,
        )

        need(isinstance(self.deblock, bool), "deblock must be True or False", self.deblock)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError("settings", f"unknown setting(s) {', '.join(unknown)}")
        return cls(**data)

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed (validated)."""
        try:
            return replace(self, **changes)
        except TypeError as exc:
            raise SettingsError("settings", str(exc)) from None
