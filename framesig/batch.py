"""Batch summarization: many flights in parallel, resumable, with a SQLite catalogue.

Three layers, each usable alone:

- :func:`summarize_file` is the per-video function: it hashes the file, summarizes it,
  optionally writes the outputs (``signature.json``, ``keyframes/``, ``contact_sheet.png``)
  and returns a :class:`FileResult`. It never raises for a bad input: the error is in the
  result. The process pool here and the Spark tasks (:mod:`framesig.spark`) both call it.
- :func:`summarize_many` runs it over many paths in a pool of worker processes and yields
  the results as they finish.
- :func:`run_batch` (``framesig batch INPUTS... -o OUT``) adds the output folder and the
  catalogue ``OUT/framesig.db`` (:mod:`framesig.catalog`): finished files are skipped on a
  rerun, a changed file (a new content hash) is redone, and each finished file is committed
  in one transaction after its outputs were moved into place, so a run killed at any moment
  loses at most the files in flight.

Workers are started with the ``spawn`` method (PyAV and numba are not fork-safe). Each one
gets ``cores // workers`` threads for FFmpeg's decoder and for numba, so the pool does not
oversubscribe the machine. A worker that dies (a crash in a native library, the OOM killer)
is replaced; the file it held is tried once more and then recorded as a ``WorkerCrash``.

Examples
--------
>>> import framesig.batch as fb
>>> [r.status for r in fb.summarize_many(["/no/such/flight.mp4"], workers=0)]
['error']
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import logging
import os
import secrets
import shutil
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framesig.catalog import Catalog
from framesig.errors import FramesigError, OpenError, SettingsError
from framesig.settings import Settings

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from framesig.pipeline import Progress
    from framesig.signature import Signature

__all__ = [
    "VIDEO_EXTENSIONS",
    "FileResult",
    "BatchProgress",
    "BatchFile",
    "BatchReport",
    "expand_inputs",
    "content_hash",
    "summarize_file",
    "summarize_many",
    "run_batch",
    "add_batch_parser",
]

VIDEO_EXTENSIONS = frozenset(
    {
        ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mts", ".m2ts", ".ts", ".mpg",
        ".mpeg", ".flv", ".wmv", ".3gp", ".mxf", ".h264", ".264", ".h265", ".265", ".hevc",
    }
)  # fmt: skip
"""File suffixes a folder given to ``framesig batch`` is searched for."""

_CHUNK = 1 << 20
_MAX_CRASHES = 2  # a file whose worker died this many times is recorded as failed
_PARTIAL = ".partial"  # OUT/.partial/: outputs being written (cleaned at each start)
_DB_NAME = "framesig.db"


# --------------------------------------------------------------------------- inputs


def expand_inputs(
    inputs: Iterable[str | os.PathLike[str]], *, recursive: bool = False
) -> list[str]:
    """The files a batch works on, as absolute paths, each once, in the order given.

    Parameters
    ----------
    inputs : iterable of path-like
        Each is a video file (any name: a bad file is recorded, not dropped), a folder (its
        files with a :data:`VIDEO_EXTENSIONS` suffix; a folder with no videos but images is
        one image-sequence flight), ``@list.txt`` (one input per line; ``#`` comments;
        relative paths are relative to the list), or a glob pattern (``**`` allowed).
        A path that does not exist and is no pattern is kept: it is recorded as failed.
        So is a folder that cannot be listed.
    recursive : bool
        Search folders' subfolders too.

    Raises
    ------
    OpenError
        A list file cannot be read.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> for n in ("b.mp4", "a.MOV", "notes.txt"):
    ...     Path(d, n).touch()
    >>> [os.path.basename(p) for p in expand_inputs([d])]
    ['a.MOV', 'b.mp4']
    >>> [os.path.basename(p) for p in expand_inputs([os.path.join(d, "*.mp4"), d])]
    ['b.mp4', 'a.MOV']
    """
    from framesig.decode import IMAGE_EXTENSIONS

    out: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        full = os.path.abspath(path)
        if full not in seen:
            seen.add(full)
            out.append(full)

    def walk(folder: str) -> None:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            add(folder)  # recorded as failed, with the reason, when it is summarized
            return
        videos = [n for n in names if Path(n).suffix.lower() in VIDEO_EXTENSIONS]
        subdirs = [n for n in names if os.path.isdir(os.path.join(folder, n))]
        if (
            not videos
            and not subdirs
            and any(Path(n).suffix.lower() in IMAGE_EXTENSIONS for n in names)
        ):
            add(folder)  # a folder of numbered images is one flight
            return
        for n in videos:
            if os.path.isfile(os.path.join(folder, n)):
                add(os.path.join(folder, n))
        if recursive:
            for n in subdirs:
                if not n.startswith("."):
                    walk(os.path.join(folder, n))

    def one(item: str, base: str | None) -> None:
        if item.startswith("@"):
            listing = item[1:]
            if base is not None and not os.path.isabs(listing):
                listing = os.path.join(base, listing)
            try:
                lines = Path(listing).read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise OpenError(listing, f"cannot read the list ({exc.strerror})") from None
            for line in lines:
                line = line.strip()
                if line and not line.startswith("#"):
                    if not os.path.isabs(line) and not line.startswith("@"):
                        line = os.path.join(os.path.dirname(listing), line)
                    one(line, os.path.dirname(listing))
            return
        if base is not None and not os.path.isabs(item):
            item = os.path.join(base, item)
        if os.path.isdir(item):
            walk(item)
        elif os.path.exists(item) or not glob.has_magic(item):
            add(item)
        else:
            for match in sorted(glob.glob(item, recursive=True)):
                if os.path.isdir(match):
                    walk(match)
                else:
                    add(match)

    for item in inputs:
        one(os.fspath(item), None)
    return out


def content_hash(path: str | os.PathLike[str]) -> str:
    """BLAKE2b-128 of the whole file, read in 1 MiB chunks (hex).

    For a folder of images: the hash of each image's name, size and bytes, in order. The
    full-file hash costs one sequential read (about 1 GB/s per core), a small fraction of
    decoding the same file (``benchmarks/batch_scaling.py`` measures both).

    Raises
    ------
    OSError
        The file cannot be read.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.bin")
    >>> _ = Path(p).write_bytes(b"abc")
    >>> content_hash(p)
    'cf4ab791c62b8d2b2109c90275287816'
    """
    path = os.fspath(path)
    h = hashlib.blake2b(digest_size=16)
    if os.path.isdir(path):
        from framesig.decode import IMAGE_EXTENSIONS

        for name in sorted(os.listdir(path)):
            if Path(name).suffix.lower() in IMAGE_EXTENSIONS and not name.startswith("."):
                file = os.path.join(path, name)
                h.update(f"{name}\0{os.path.getsize(file)}\0".encode())
                _hash_file(file, h)
        return h.hexdigest()
    _hash_file(path, h)
    return h.hexdigest()


def _hash_file(path: str, h: Any) -> None:
    import errno
    import stat

    if not stat.S_ISREG(os.stat(path).st_mode):  # a named pipe would block the read for ever
        raise OSError(errno.EINVAL, "not a regular file", path)
    with open(path, "rb") as f:
        buf = bytearray(_CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])


def _stat(path: str) -> tuple[int, int] | None:
    """(size, mtime_ns) of a file; for a folder, the total size and latest mtime of it and its
    entries. None when it does not exist."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not os.path.isdir(path):
        return st.st_size, st.st_mtime_ns
    size, mtime = 0, st.st_mtime_ns
    try:
        with os.scandir(path) as entries:
            for e in entries:
                with contextlib.suppress(OSError):
                    est = e.stat()
                    size += est.st_size
                    mtime = max(mtime, est.st_mtime_ns)
    except OSError:  # it cannot be listed: its own stat is all there is (it will fail)
        pass
    return size, mtime


# --------------------------------------------------------------------------- one file


@dataclass(frozen=True)
class FileResult:
    """What became of one input.

    Attributes
    ----------
    path : str
        The input.
    status : str
        ``"ok"`` (``signature`` is set) or ``"error"`` (``error_type`` and ``error`` are).
    content_hash : str
        :func:`content_hash` of the input ("" when it could not be read).
    size, mtime_ns : int or None
        The input's size and modification time when it was read.
    signature : Signature or None
    error_type : str or None
        The exception's class name (``OpenError``, ``EmptyVideoError``, ``WorkerCrash``...).
    error : str or None
        The message, naming the file and the cause.
    wall_s : float
        Seconds spent on it (hash, summary and outputs).
    out_dir : str or None
        The folder the outputs were written to, if any.
    keyframes : tuple of (int, str)
        ``(state, file)`` for each keyframe written, ``file`` relative to ``out_dir``.
    """

    path: str
    status: str
    content_hash: str
    size: int | None
    mtime_ns: int | None
    signature: Signature | None = None
    error_type: str | None = None
    error: str | None = None
    wall_s: float = 0.0
    out_dir: str | None = None
    keyframes: tuple[tuple[int, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def frames(self) -> int:
        return self.signature.source.frames if self.signature is not None else 0


def _threads_per_worker(workers: int) -> int:
    return max(1, _cores() // max(1, workers))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def summarize_file(
    path: str | os.PathLike[str],
    settings: Settings | None = None,
    *,
    out_dir: str | os.PathLike[str] | None = None,
    decode_threads: int | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> FileResult:
    """Hash and summarize one input; write its outputs; never raise for a bad input.

    Parameters
    ----------
    path : path-like
        A video file or a folder of numbered images.
    settings : Settings, optional
    out_dir : path-like, optional
        Write ``signature.json``, ``keyframes/state_NNNN.jpg`` and ``contact_sheet.png``
        here, as ``framesig summarize -o`` does.
    decode_threads : int, optional
        Decoder threads to use when ``settings.decode_threads`` is 0 (automatic). The
        signature records the settings as given, so the result does not depend on it.
    progress : callable, optional
        Handed to :func:`framesig.summarize`.

    Returns
    -------
    FileResult
        ``status`` ``"ok"`` with the signature, or ``"error"`` with the error's type and
        message (a :class:`framesig.FramesigError`, or any other exception, with the last
        lines of its traceback).

    Examples
    --------
    >>> r = summarize_file("/no/such/flight.mp4")
    >>> r.status, r.error_type, r.error
    ('error', 'OpenError', '/no/such/flight.mp4: no such file')
    """
    s = settings or Settings()
    started = time.perf_counter()
    path = os.fspath(path)
    st = _stat(path)
    size, mtime = st if st is not None else (None, None)
    digest = ""

    def failed(kind: str, message: str) -> FileResult:
        return FileResult(
            path,
            "error",
            digest,
            size,
            mtime,
            error_type=kind,
            error=message,
            wall_s=time.perf_counter() - started,
        )

    try:
        if st is not None:
            try:
                digest = content_hash(path)
            except OSError as exc:
                raise OpenError(path, f"cannot be read ({exc.strerror or exc})") from None
        from framesig.pipeline import summarize

        run_settings = s
        if decode_threads and s.decode_threads == 0:
            run_settings = s.with_(decode_threads=int(decode_threads))
        sig = summarize(path, run_settings, progress=progress)
        if run_settings is not s:
            sig = replace(sig, settings=s.to_dict())
        keyframes: tuple[tuple[int, str], ...] = ()
        if out_dir is not None:
            keyframes = _write_outputs(sig, path, Path(out_dir))
    except FramesigError as exc:
        return failed(type(exc).__name__, str(exc))
    except Exception as exc:  # isolation: one bad file must not end the batch
        tail = "".join(traceback.format_exception(exc)[-3:]).strip()
        return failed(type(exc).__name__, f"{path}: unexpected {type(exc).__name__}: {tail}")
    return FileResult(
        path,
        "ok",
        digest,
        size,
        mtime,
        signature=sig,
        wall_s=time.perf_counter() - started,
        out_dir=None if out_dir is None else os.fspath(out_dir),
        keyframes=keyframes,
    )


def _write_outputs(sig: Signature, path: str, target: Path) -> tuple[tuple[int, str], ...]:
    from framesig.outputs import write_keyframes

    target.mkdir(parents=True, exist_ok=True)
    sig.save(target / "signature.json")
    written = write_keyframes(sig, path, target)
    out = []
    for file in written:
        if file.parent.name == "keyframes" and file.stem.startswith("state_"):
            out.append((int(file.stem[len("state_") :]), f"keyframes/{file.name}"))
    return tuple(sorted(out))


# --------------------------------------------------------------------------- worker pool


@dataclass
class _Task:
    key: int
    path: str
    size: int
    out_dir: str | None = None
    crashes: int = 0
    frames: int = 0
    share: float = 0.0


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:  # the batch process died (SIGKILL): stop at once
            os._exit(70)


def _worker_main(conn: Connection, parent: int, threads: int, settings: dict[str, Any]) -> None:
    """A pool worker: summarize the paths it is sent until it gets None or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch process handles Ctrl-C
    os.environ["NUMBA_NUM_THREADS"] = str(threads)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    import cv2
    import numba

    # decode warnings (a skipped packet) are kept in the signature's decode_errors; printed
    # from many workers they would only break the progress line
    logging.getLogger("framesig").setLevel(logging.ERROR)

    numba.set_num_threads(min(threads, int(getattr(numba.config, "NUMBA_NUM_THREADS", threads))))
    cv2.setNumThreads(threads)
    s = Settings.from_dict(settings)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        key, path, out_dir = msg
        last = [0.0]

        def progress(p: Progress, key: int = key, last: list[float] = last) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.25:
                last[0] = now
                share = min(p.time / p.duration, 1.0) if p.duration > 0 else 0.0
                conn.send(("progress", key, p.frames, share))

        result = summarize_file(path, s, out_dir=out_dir, decode_threads=threads, progress=progress)
        try:
            conn.send(("done", key, result))
        except (BrokenPipeError, OSError):
            return


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    task: _Task | None = None
    ready: bool = False


class _Pool:
    """Worker processes, one task each at a time, over private pipes (a dead worker cannot
    leave a shared queue locked); results come back in the order they finish."""

    def __init__(
        self,
        workers: int,
        settings: Settings,
        on_progress: Callable[[list[_Task], _Task | None], None] | None = None,
    ) -> None:
        import multiprocessing

        self.ctx = multiprocessing.get_context("spawn")
        self.workers = max(1, workers)
        self.threads = _threads_per_worker(self.workers)
        self.settings = settings.to_dict()
        self.on_progress = on_progress
        self.startup_failures = 0

    def _start(self) -> _Slot:
        parent_end, child_end = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(
            target=_worker_main,
            args=(child_end, os.getpid(), self.threads, self.settings),
            name="framesig-batch-worker",
            daemon=True,
        )
        proc.start()
        child_end.close()
        return _Slot(proc, parent_end)

    def run(self, tasks: Iterable[_Task]) -> Iterator[tuple[_Task, FileResult]]:
        from multiprocessing.connection import wait

        queue = deque(tasks)
        slots: list[_Slot] = []
        running: list[_Task] = []
        try:
            for _ in range(min(self.workers, len(queue))):
                slots.append(self._start())
            last_tick = 0.0
            while queue or any(s.task is not None for s in slots):
                for s in slots:
                    if s.ready and s.task is None and queue:
                        task = queue.popleft()
                        s.conn.send((task.key, task.path, task.out_dir))
                        s.task = task
                        running.append(task)
                waitables: list[Any] = [s.conn for s in slots] + [s.process.sentinel for s in slots]
                ready = set(wait(waitables, timeout=0.25))
                for i, s in enumerate(list(slots)):
                    if s.conn not in ready and s.process.sentinel not in ready:
                        continue
                    dead = False
                    try:
                        while s.conn.poll():
                            msg = s.conn.recv()
                            if msg[0] == "ready":
                                s.ready = True
                            elif msg[0] == "progress" and s.task is not None:
                                s.task.frames, s.task.share = msg[2], msg[3]
                            elif msg[0] == "done" and s.task is not None:
                                task, s.task = s.task, None
                                running.remove(task)
                                if self.on_progress:
                                    self.on_progress(running, task)
                                yield task, msg[2]
                    except Exception:  # EOF, or a message cut off by the worker's death
                        dead = True
                    if dead or not s.process.is_alive():
                        crashed = self._replace(i, slots, queue)
                        if crashed is not None:
                            running.remove(crashed[0])
                            if self.on_progress:
                                self.on_progress(running, crashed[0])
                            yield crashed
                now = time.monotonic()
                if self.on_progress and now - last_tick > 0.2:
                    last_tick = now
                    self.on_progress(running, None)
        finally:
            self._stop(slots)

    def _replace(
        self, i: int, slots: list[_Slot], queue: deque[_Task]
    ) -> tuple[_Task, FileResult] | None:
        s = slots[i]
        s.process.join(timeout=5)
        code = s.process.exitcode
        s.conn.close()
        result = None
        if not s.ready:
            self.startup_failures += 1
            if self.startup_failures > 3:
                raise FramesigError(
                    "batch", f"worker processes die as they start (exit code {code})"
                )
        task = s.task
        if task is not None:
            task.crashes += 1
            if task.crashes >= _MAX_CRASHES:
                result = (
                    task,
                    FileResult(
                        task.path,
                        "error",
                        "",
                        None,
                        None,
                        error_type="WorkerCrash",
                        error=(
                            f"{task.path}: the worker process died while summarizing it "
                            f"({task.crashes} times; last exit code {code})"
                        ),
                    ),
                )
            else:
                task.frames, task.share = 0, 0.0
                queue.appendleft(task)
        slots[i] = self._start()
        return result

    @staticmethod
    def _stop(slots: list[_Slot]) -> None:
        for s in slots:
            with contextlib.suppress(OSError, ValueError):
                if s.task is None:
                    s.conn.send(None)
        deadline = time.monotonic() + 2.0
        for s in slots:
            if s.task is not None:
                s.process.kill()
            s.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if s.process.is_alive():
                s.process.kill()
                s.process.join(timeout=5)
            with contextlib.suppress(OSError):
                s.conn.close()


def summarize_many(
    paths: Iterable[str | os.PathLike[str]],
    workers: int | None = None,
    settings: Settings | None = None,
    **overrides: Any,
) -> Iterator[FileResult]:
    """Summarize many inputs in parallel; yield each :class:`FileResult` as it finishes.

    Parameters
    ----------
    paths : iterable of path-like
        Video files or image folders (use :func:`expand_inputs` for folders of videos,
        lists and globs).
    workers : int, optional
        Worker processes; default one per core. ``0`` works in this process, one file
        after the other (no isolation from crashes in native code; for debugging).
    settings : Settings, optional
        The same settings for every input; keyword ``overrides`` change single ones.

    Yields
    ------
    FileResult
        In the order the files finish. A bad input yields an ``"error"`` result; the
        others go on.

    Examples
    --------
    >>> results = list(summarize_many(["/no/such/a.mp4", "/no/such/b.mp4"], workers=0))
    >>> [(os.path.basename(r.path), r.error_type) for r in results]
    [('a.mp4', 'OpenError'), ('b.mp4', 'OpenError')]
    """
    s = (settings or Settings()).with_(**overrides) if overrides else (settings or Settings())
    items = [os.fspath(p) for p in paths]
    n = _cores() if workers is None else int(workers)
    if n < 0:
        raise SettingsError("batch", f"workers must be >= 0, got {workers}")
    if n == 0:
        for p in items:
            yield summarize_file(p, s)
        return
    tasks = [_Task(i, p, 0) for i, p in enumerate(items)]
    for _, result in _Pool(min(n, max(1, len(items))), s).run(tasks):
        yield result


# --------------------------------------------------------------------------- batch


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch is: handed to ``run_batch``'s ``progress`` callback a few times a second.

    ``bytes_done`` counts finished files whole and running ones by how far into the video
    they are, so ``eta`` weighs long flights as long.
    """

    files_total: int
    files_done: int
    files_failed: int
    files_skipped: int
    running: int
    frames: int
    bytes_total: int
    bytes_done: float
    elapsed: float
    final: bool = False

    @property
    def fps(self) -> float:
        return self.frames / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def files_per_s(self) -> float:
        return self.files_done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left, from the bytes done so far (None until there is a rate)."""
        if self.bytes_done <= 0 or self.elapsed <= 0:
            return None
        left = max(self.bytes_total - self.bytes_done, 0.0)
        return left * self.elapsed / self.bytes_done


@dataclass(frozen=True)
class BatchFile:
    """One input of a batch: its output folder name, final status and whether this run
    summarized it (``done_now``) or found it done before (``done_now`` False)."""

    path: str
    name: str
    status: str
    error_type: str | None
    error: str | None
    done_now: bool
    frames: int = 0


@dataclass(frozen=True)
class BatchReport:
    """What a batch did. ``ok`` is True when no input is left in error."""

    out: str
    catalog: str
    batch_id: int
    files: tuple[BatchFile, ...]
    summarized: int
    failed: int
    skipped: int
    frames: int
    wall_s: float
    workers: int

    @property
    def ok(self) -> bool:
        return all(f.status == "ok" for f in self.files)


def _safe_name(path: str) -> str:
    p = Path(path)
    stem = p.name if os.path.isdir(path) else p.stem
    name = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in stem).lstrip(".")
    return name or "video"


def _ours(folder: Path, recorded: bool, inputs: set[str]) -> bool:
    """Is ``folder`` an output batch wrote: one the catalogue records, or one a killed run
    moved into place for one of these inputs before it could record it?"""
    sig = folder / "signature.json"
    if not sig.is_file():
        return False
    if recorded:
        return True
    try:
        return json.loads(sig.read_text(encoding="utf-8"))["source"]["path"] in inputs
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _assign_names(
    paths: list[str], known: dict[str, str], present: Iterable[str] = ()
) -> dict[str, str]:
    """Output folder names: the input's stem, or stem-<hash of the path> where stems collide
    (within this batch, with a folder the catalogue gives to another path, or with a name
    ``present`` in the output folder that is not the catalogue's output: a user's folder,
    or an input inside it, is never written over, even under a name the catalogue gave)."""
    present = set(present)
    by_path = {p: n for n, p in known.items() if n not in present}
    wanted: dict[str, list[str]] = {}
    for p in paths:
        if p not in by_path:
            wanted.setdefault(_safe_name(p), []).append(p)
    names = {p: by_path[p] for p in paths if p in by_path}
    taken = set(known) | present
    for stem, group in wanted.items():
        for p in group:
            # the catalogue's own files (framesig.db, -wal, -shm, -journal) are not names
            reserved = stem.startswith(_DB_NAME) or stem == _PARTIAL.lstrip(".")
            if len(group) == 1 and stem not in taken and not reserved:
                names[p] = stem
            else:
                names[p] = f"{stem}-{hashlib.blake2b(p.encode(), digest_size=4).hexdigest()}"
            taken.add(names[p])
    return names


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        yield
        return
    with open(out / ".lock", "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise FramesigError(
                str(out), "another framesig batch is writing to this folder"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _remove_tree(path: Path, scratch: Path) -> None:
    """Remove a folder by first renaming it aside (so it vanishes atomically)."""
    if not path.exists():
        return
    aside = scratch / f"{path.name}.old.{secrets.token_hex(4)}"
    os.rename(path, aside)
    shutil.rmtree(aside, ignore_errors=True)


def run_batch(
    inputs: Iterable[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    settings: Settings | None = None,
    retry_failed: bool = False,
    force: bool = False,
    recursive: bool = False,
    progress: Callable[[BatchProgress], None] | None = None,
    argv: Sequence[str] | None = None,
) -> BatchReport:
    """Summarize inputs into ``out/<name>/`` and the catalogue ``out/framesig.db``.

    Parameters
    ----------
    inputs : iterable of path-like
        Files, folders, ``@lists`` and globs (see :func:`expand_inputs`).
    out : path-like
        The output folder. One folder holds the results of one set of settings.
    workers : int, optional
        Worker processes (default one per core).
    settings : Settings, optional
    retry_failed : bool
        Summarize again the inputs recorded as failed (otherwise they are skipped until
        they change).
    force : bool
        Summarize every input again.
    recursive : bool
        Search folders' subfolders too.
    progress : callable, optional
        Called with a :class:`BatchProgress` a few times a second.
    argv : sequence of str, optional
        The command line, kept in the ``batches`` table.

    Returns
    -------
    BatchReport

    Raises
    ------
    framesig.catalog.CatalogError
        ``out`` was made with other settings, or its catalogue is unusable.
    FramesigError
        Another batch holds ``out``.

    Notes
    -----
    An input is skipped when the catalogue has it with the same settings and its size and
    modification time are unchanged (then its content is not read again), or when they
    changed but the content hash did not. Finished files are committed one at a time, each
    in one transaction, after their outputs were moved into place; a batch killed at any
    moment resumes where it was.
    """
    s = settings or Settings()
    started = time.perf_counter()
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    n_workers = _cores() if workers is None else int(workers)
    if n_workers < 1:
        raise SettingsError("batch", f"workers must be >= 1, got {workers}")
    paths = expand_inputs(inputs, recursive=recursive)
    with _lock(target), Catalog(target / _DB_NAME) as db:
        shash = db.bind_settings(s)
        scratch = target / _PARTIAL
        shutil.rmtree(scratch, ignore_errors=True)  # outputs of a run that was killed
        scratch.mkdir()
        known = db.names()
        given = set(paths)
        foreign = [  # not an output of this batch's: someone else's, kept as it is
            n for n in os.listdir(target) if not _ours(target / n, n in known, given)
        ]
        names = _assign_names(paths, known, foreign)
        files: dict[str, BatchFile] = {}
        todo: list[_Task] = []
        for key, path in enumerate(paths):
            row = None if force else db.lookup(path, shash)
            if row is not None and not _needs_work(row, path, target, retry_failed, db):
                files[path] = BatchFile(
                    path,
                    names[path],
                    row["status"],
                    row["error_type"],
                    row["error"],
                    False,
                    row["frames"] or 0,
                )
                continue
            st = _stat(path)
            todo.append(_Task(key, path, st[0] if st else 0))
        todo.sort(key=lambda t: -t.size)  # longest first: the pool ends together
        skipped = len(paths) - len(todo)
        batch_id = db.begin_batch(settings=s, workers=n_workers, inputs=len(paths), argv=argv)
        counts = {"ok": 0, "error": 0, "frames": 0}
        bytes_total = sum(t.size for t in todo)
        bytes_done = [0]

        def tick(running: list[_Task], finished: _Task | None, final: bool = False) -> None:
            if finished is not None:
                bytes_done[0] += finished.size
            if progress is None:
                return
            partial = sum(t.size * t.share for t in running)
            progress(
                BatchProgress(
                    files_total=len(todo),
                    files_done=counts["ok"] + counts["error"] + (finished is not None),
                    files_failed=counts["error"],
                    files_skipped=skipped,
                    running=len(running),
                    frames=counts["frames"] + sum(t.frames for t in running),
                    bytes_total=bytes_total,
                    bytes_done=bytes_done[0] + partial,
                    elapsed=time.perf_counter() - started,
                    final=final,
                )
            )

        for task in todo:
            task.out_dir = str(scratch / f"{names[task.path]}.{secrets.token_hex(4)}")
        pool = _Pool(min(n_workers, max(1, len(todo))), s, tick)
        for task, result in pool.run(todo):
            name = names[task.path]
            _commit(db, target, scratch, name, result, shash, batch_id)
            counts[result.status] += 1
            counts["frames"] += result.frames
            files[task.path] = BatchFile(
                task.path,
                name,
                result.status,
                result.error_type,
                result.error,
                True,
                result.frames,
            )
        wall = time.perf_counter() - started
        db.finish_batch(
            batch_id,
            summarized=counts["ok"],
            failed=counts["error"],
            skipped=skipped,
            frames=counts["frames"],
            wall_s=wall,
        )
        shutil.rmtree(scratch, ignore_errors=True)
        tick([], None, final=True)
    return BatchReport(
        out=str(target),
        catalog=str(target / _DB_NAME),
        batch_id=batch_id,
        files=tuple(files[p] for p in paths),
        summarized=counts["ok"],
        failed=counts["error"],
        skipped=skipped,
        frames=counts["frames"],
        wall_s=wall,
        workers=n_workers,
    )


def _needs_work(row: dict[str, Any], path: str, out: Path, retry_failed: bool, db: Catalog) -> bool:
    if row["status"] == "error" and retry_failed:
        return True
    st = _stat(path)
    known = (row["size"], row["mtime_ns"])
    if st is None or tuple(st) != known:
        if st is None or known == (None, None) or not row["content_hash"]:
            return st is not None or known != (None, None)
        try:
            if content_hash(path) != row["content_hash"]:
                return True
        except OSError:
            return True
        db.touch(int(row["id"]), size=st[0], mtime_ns=st[1])  # touched, not changed
    if row["status"] == "ok" and not (out / row["name"] / "signature.json").is_file():
        return True  # its outputs were removed
    if row["status"] == "ok" and not row.get("signature"):
        return True  # finished, but its signature was lost (reading every one would cost
        # a rerun seconds; a damaged one is named by index and find, and --force redoes it)
    return False


def _commit(
    db: Catalog,
    out: Path,
    scratch: Path,
    name: str,
    result: FileResult,
    shash: str,
    batch_id: int,
) -> None:
    """Move a result's outputs into place, then record it (the catalogue row comes last)."""
    final = out / name
    keyframes: dict[int, str] = {}
    if result.status == "ok" and result.out_dir is not None:
        _remove_tree(final, scratch)
        os.rename(result.out_dir, final)
        keyframes = {state: f"{name}/{file}" for state, file in result.keyframes}
    else:
        _remove_tree(final, scratch)  # outputs of an older version of this input
        if result.out_dir is not None:
            shutil.rmtree(result.out_dir, ignore_errors=True)
    db.record(
        path=result.path,
        name=name,
        content_hash=result.content_hash,
        size=result.size,
        mtime_ns=result.mtime_ns,
        settings_hash=shash,
        signature=result.signature,
        error_type=result.error_type,
        error=result.error,
        wall_s=result.wall_s,
        batch_id=batch_id,
        keyframe_files=keyframes,
    )


# --------------------------------------------------------------------------- CLI


class _BatchBar:
    """``files 3/8 (1 failed, 2 skipped)  12345 frames  410 fps  0.2 files/s  ETA 0:25``."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        self.shown = False

    def __call__(self, p: BatchProgress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        final = p.final
        if not final and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        eta = p.eta
        eta_text = "--:--" if eta is None else f"{int(eta) // 60}:{int(eta) % 60:02d}"
        extra = [f"{p.files_failed} failed"] if p.files_failed else []
        if p.files_skipped:
            extra.append(f"{p.files_skipped} done before")
        line = (
            f"files {p.files_done}/{p.files_total}"
            + (f" ({', '.join(extra)})" if extra else "")
            + f"  {p.frames} frames  {p.fps:.0f} fps  {p.files_per_s:.2f} files/s"
            + ("" if final else f"  ETA {eta_text}")
        )
        sys.stderr.write(("\r" + line.ljust(79)) if self.tty else line + "\n")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown and self.tty:
            sys.stderr.write("\n")


def _settings_from_args(args: argparse.Namespace) -> Settings:
    overrides = {
        k: getattr(args, k)
        for k in ("persist", "join_hash", "match_hash", "fps", "max_frames", "decode_threads")
        if getattr(args, k, None) is not None
    }
    return Settings().with_(**overrides)


def _cmd_batch(args: argparse.Namespace) -> int:
    for item in args.inputs:  # a mistyped pattern would otherwise go unseen among the rest
        if (
            glob.has_magic(item)
            and not os.path.exists(item)
            and not glob.glob(item, recursive=True)
        ):
            print(f"framesig batch: {item} matches no file", file=sys.stderr)
        elif os.path.isdir(item) and not expand_inputs([item], recursive=args.recursive):
            print(f"framesig batch: {item} holds no video", file=sys.stderr)
    paths = expand_inputs(args.inputs, recursive=args.recursive)
    if not paths:
        print("framesig: error: no inputs found", file=sys.stderr)
        return 2
    bar = _BatchBar(enabled=not args.quiet)
    try:
        report = run_batch(
            paths,
            args.out,
            workers=args.workers,
            settings=_settings_from_args(args),
            retry_failed=args.retry_failed,
            force=args.force,
            recursive=args.recursive,
            progress=bar,
            argv=sys.argv,
        )
    finally:
        bar.done()
    if not args.quiet:
        for f in report.files:
            if f.status != "ok":
                print(f"  failed  {f.error_type}: {f.error}")
        rate = report.frames / report.wall_s if report.wall_s > 0 else 0.0
        left = sum(1 for f in report.files if f.status != "ok")
        print(
            f"{len(report.files)} inputs: {report.summarized} summarized, "
            f"{report.failed} failed, {report.skipped} done before; "
            f"{report.frames} frames in {report.wall_s:.1f} s ({rate:.0f} fps, "
            f"{report.workers} workers)" + (f"; {left} in error" if left else "")
        )
        print(f"  catalogue {report.catalog}")
    return 0 if report.ok else 1


def add_batch_parser(subparsers: Any) -> None:
    """Register ``framesig batch`` with the CLI's subcommands."""
    p = subparsers.add_parser(
        "batch",
        help="summarize many videos in parallel into a folder and a SQLite catalogue",
        description=(
            "Summarize files, folders, @lists and globs in parallel into OUT/<name>/ and "
            "OUT/framesig.db. A rerun skips what is done, redoes changed files, and resumes "
            "a run that was killed. Exit status 0: every input ok; 1: some are in error."
        ),
    )
    p.add_argument("inputs", nargs="+", help="video files, folders, @list.txt files or globs")
    p.add_argument("-o", "--out", required=True, help="output folder (with framesig.db)")
    p.add_argument(
        "-j", "--workers", type=int, default=None, help="worker processes (default: cores)"
    )
    p.add_argument("-r", "--recursive", action="store_true", help="search subfolders too")
    p.add_argument("--retry-failed", action="store_true", help="summarize failed inputs again")
    p.add_argument("--force", action="store_true", help="summarize every input again")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress and no summary")
    p.add_argument("--persist", type=int, help="frames a change must last (default 3)")
    p.add_argument("--join-hash", dest="join_hash", type=int, help="pHash bits to stay in a state")
    p.add_argument("--match-hash", dest="match_hash", type=int, help="pHash bits for a revisit")
    p.add_argument("--fps", type=float, help="frame rate for inputs without timestamps")
    p.add_argument("--max-frames", dest="max_frames", type=int, help="stop after N frames")
    p.add_argument(
        "--decode-threads",
        dest="decode_threads",
        type=int,
        help="FFmpeg decoder threads per worker (0: cores / workers)",
    )
    p.set_defaults(func=_cmd_batch)
