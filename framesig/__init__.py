"""framesig: drone flight videos to compact, searchable flight signatures.

Frames are measured by numba kernels (perceptual hashes, colour histograms), quantized into
symbols (visual states), and a KMP failure-function automaton over the symbol string finds runs,
repeats and patterns. The result is a versioned, JSON round-tripping :class:`Signature`.

Importing framesig is cheap: the heavy modules (PyAV, numba kernels) load on first use.

Examples
--------
>>> import framesig
>>> framesig.__version__
'0.1.0'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from framesig.errors import (
    CorruptVideoError,
    EmptyVideoError,
    FramesigError,
    NoVideoStreamError,
    OpenError,
    SettingsError,
    UnsupportedError,
)

__version__ = "0.1.0"

# Public names that live in heavier modules, loaded lazily (PEP 562) so that
# `import framesig` compiles nothing and imports neither PyAV nor numba.
_LAZY = {
    "summarize": "framesig.pipeline",
    "Settings": "framesig.settings",
    "Signature": "framesig.signature",
    "State": "framesig.signature",
    "ImageHash": "framesig.values",
    "open_source": "framesig.decode",
}

if TYPE_CHECKING:
    from framesig.decode import open_source
    from framesig.pipeline import summarize
    from framesig.settings import Settings
    from framesig.signature import Signature, State
    from framesig.values import ImageHash


# submodules that ``framesig.<name>`` reaches without importing them first
_SUBMODULES = frozenset(
    "anomaly automaton batch catalog compare decode evaluate fast index kernels pipeline "
    "quantize report settings signature synthetic values".split()
)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"framesig.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'framesig' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "__version__",
    "summarize",
    "Settings",
    "Signature",
    "State",
    "ImageHash",
    "open_source",
    "FramesigError",
    "OpenError",
    "NoVideoStreamError",
    "EmptyVideoError",
    "CorruptVideoError",
    "UnsupportedError",
    "SettingsError",
]
