"""Result files written whole or not at all.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> target = Path(tempfile.mkdtemp()) / "note.txt"
>>> write_atomically(target, lambda p: p.write_text("done", encoding="utf-8"))
>>> target.read_text(encoding="utf-8"), sorted(q.name for q in target.parent.iterdir())
('done', ['note.txt'])
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from framesig.errors import OpenError

__all__ = ["write_atomically"]


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[Path], object], suffix: str = ""
) -> None:
    """Have ``write`` write ``path``: into a temporary file beside it, renamed into place,
    so that a reader never sees half a file and a failed write leaves no file behind.

    A device or named pipe at ``path`` is written through, never replaced (``-o
    /dev/null`` stays a device); a folder there is an OpenError, as is an empty name.
    ``suffix`` ends the temporary file's name, for writers that add one otherwise.
    """
    target = Path(path)
    if not target.name or target.name in (".", ".."):
        raise OpenError(os.fspath(path), "not a file name")
    try:
        mode: int | None = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OpenError(str(target), f"cannot write it ({exc.strerror or exc})") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OpenError(str(target), "is a folder: give a file name")
    if mode is not None and not stat.S_ISREG(mode):
        try:
            write(target)
        except OSError as exc:  # /dev/full: said of the device asked for
            raise OpenError(str(target), f"cannot write it ({exc.strerror or exc})") from None
        return
    if not target.parent.is_dir():
        raise OpenError(str(target), f"its folder {str(target.parent)!r} does not exist")
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}{suffix}")
    try:
        write(tmp)
        os.replace(tmp, target)
    except OSError as exc:  # a full disk, no permission: said of the file asked for
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise OpenError(str(target), f"cannot write it ({exc.strerror or exc})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
