"""The exceptions framesig raises.

Every error names the file and the cause, so a batch log line is enough to act on.

Hierarchy::

    FramesigError
    ├── OpenError            the file is missing, unreadable or not a container FFmpeg knows
    ├── NoVideoStreamError   the container has no video stream (audio-only, data-only)
    ├── EmptyVideoError      a video stream exists but no frame could be decoded
    ├── CorruptVideoError    the stream is damaged beyond recovery before any frame
    ├── UnsupportedError     a codec, pixel format or input kind framesig cannot handle
    └── SettingsError        an invalid setting (ValueError too)
"""

from __future__ import annotations

__all__ = [
    "FramesigError",
    "OpenError",
    "NoVideoStreamError",
    "EmptyVideoError",
    "CorruptVideoError",
    "UnsupportedError",
    "SettingsError",
]


class FramesigError(Exception):
    """Base of every framesig error.

    Parameters
    ----------
    source : str
        The file (or a description of the input) the error is about.
    cause : str
        What went wrong, in words a user can act on.

    Examples
    --------
    >>> err = EmptyVideoError("clip.mp4", "no frame could be decoded")
    >>> str(err)
    'clip.mp4: no frame could be decoded'
    >>> isinstance(err, FramesigError)
    True
    """

    def __init__(self, source: str, cause: str) -> None:
        self.source = str(source)
        self.cause = cause
        super().__init__(f"{self.source}: {cause}")

    def __reduce__(self):  # keep pickling working across process pools
        return (type(self), (self.source, self.cause))


class OpenError(FramesigError):
    """The input could not be opened (missing, unreadable, not a known container)."""


class NoVideoStreamError(FramesigError):
    """The container holds no video stream."""


class EmptyVideoError(FramesigError):
    """A video stream exists but not one frame could be decoded."""


class CorruptVideoError(FramesigError):
    """The stream is damaged so that decoding cannot start."""


class UnsupportedError(FramesigError):
    """A codec, pixel format or kind of input framesig does not handle."""


class SettingsError(FramesigError, ValueError):
    """A setting is out of range or of the wrong type."""
