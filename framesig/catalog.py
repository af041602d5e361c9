"""The batch catalogue: an embedded SQLite store of flights and their signatures.

``framesig batch`` keeps one catalogue per output folder (``OUT/framesig.db``). It holds a
row per summarized input in ``flights`` (path, content hash, settings hash, status, error,
the source facts and the whole signature as JSON) and the signature's parts as tables of
their own, so that questions across many flights are SQL:

========== ==================================================================================
table      rows
========== ==================================================================================
flights    one per (path, content hash, settings hash); ``status`` is ``ok`` or ``error``
states     one per state of a flight: hash (hex, as a signed 64-bit integer and as four 16-bit
           chunks ``h0``..``h3`` for multi-index hashing), keyframe, frame and run counts
runs       one per run, in order (``idx``), with frames, times and PTS
transitions one per state change
views      one per view of a state (where its view drifted, ``State.views``): hash as for
           ``states``, frame, time and PTS
keyframes  one per state whose keyframe was written: the JPEG's path relative to ``OUT``
batches    one per ``framesig batch`` invocation: when, settings, workers, counts
meta       ``schema_version`` and the ``settings_hash`` this folder was made with
========== ==================================================================================

A flight's ``id`` is derived from its key (path, content hash, settings hash), so the same
flight gets the same id in every catalogue and in the Spark tables
(:mod:`framesig.spark`). Each finished flight is written in one transaction: a reader (or
a rerun after a crash) sees all of a flight or none of it. The database is in WAL mode, so
readers never block the batch that writes.

Queries the indexes serve: flights by path, status or content hash; states and views by
any 16-bit chunk of their hash (a hash within Hamming distance 3 of a query shares at least
one chunk exactly, by the pigeonhole principle); runs and transitions by time within a
flight.

Examples
--------
>>> import framesig, numpy as np, tempfile, os
>>> frames = [np.full((64, 64, 3), v, np.uint8) for v in [0] * 5 + [255] * 5]
>>> sig = framesig.summarize(frames, fps=10)
>>> db = Catalog(os.path.join(tempfile.mkdtemp(), "framesig.db"))
>>> fid = db.record(path="/v/a.mp4", name="a", content_hash="ab" * 16, size=10, mtime_ns=1,
...                 settings_hash=settings_hash(sig.settings), signature=sig, wall_s=0.1)
>>> db.flight(fid)["status"], db.count("runs"), db.count("states")
('ok', 2, 2)
>>> [r["idx"] for r in db.runs_between(fid, 0.6, 0.8)]
[1]
>>> db.close()
"""

from __future__ import annotations

import functools
import hashlib
import json
import numbers
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from framesig.errors import FramesigError
from framesig.values import ImageHash

if TYPE_CHECKING:
    from framesig.signature import Signature

__all__ = [
    "SCHEMA_VERSION",
    "TABLES",
    "CatalogError",
    "Catalog",
    "settings_hash",
    "flight_id",
    "hash_chunks",
    "flight_row",
    "child_rows",
]

SCHEMA_VERSION = 3  # 2: transitions.kind (cut or gradual); 3: the views table

# Settings that change speed, not results; they are left out of the settings hash.
_PERFORMANCE_SETTINGS = frozenset({"decode_threads"})

# Column kinds: "int", "float", "str", "bool" (an INTEGER 0/1 in SQLite, a boolean in Spark).
FLIGHT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "int"),
    ("path", "str"),
    ("name", "str"),
    ("content_hash", "str"),
    ("size", "int"),
    ("mtime_ns", "int"),
    ("settings_hash", "str"),
    ("status", "str"),
    ("error_type", "str"),
    ("error", "str"),
    ("frames", "int"),
    ("duration", "float"),
    ("codec", "str"),
    ("width", "int"),
    ("height", "int"),
    ("fps", "float"),
    ("truncated", "bool"),
    ("partial", "bool"),
    ("estimated_timestamps", "bool"),
    ("skipped_packets", "int"),
    ("n_states", "int"),
    ("n_runs", "int"),
    ("n_transitions", "int"),
    ("facts", "str"),
    ("signature", "str"),
    ("framesig_version", "str"),
    ("batch_id", "int"),
    ("wall_s", "float"),
    ("finished_at", "str"),
)

# a 64-bit hash as hex, as a signed integer, and as four 16-bit chunks (see hash_chunks)
_HASH_COLUMNS = (("hash", "str"), ("hash_int", "int"), *((f"h{i}", "int") for i in range(4)))

TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "flights": FLIGHT_COLUMNS,
    "states": (
        ("flight_id", "int"),
        ("state", "int"),
        *_HASH_COLUMNS,
        ("keyframe", "int"),
        ("keyframe_time", "float"),
        ("keyframe_pts", "int"),
        ("frames", "int"),
        ("runs", "int"),
        ("first_time", "float"),
    ),
    "runs": (
        ("flight_id", "int"),
        ("idx", "int"),
        ("state", "int"),
        ("start_frame", "int"),
        ("end_frame", "int"),
        ("start_time", "float"),
        ("end_time", "float"),
        ("start_pts", "int"),
        ("end_pts", "int"),
    ),
    "transitions": (
        ("flight_id", "int"),
        ("idx", "int"),
        ("frame", "int"),
        ("time", "float"),
        ("pts", "int"),
        ("from_state", "int"),
        ("to_state", "int"),
        ("hash_distance", "int"),
        ("hist_distance", "float"),
        ("revisit", "bool"),
        ("kind", "str"),
    ),
    "views": (
        ("flight_id", "int"),
        ("state", "int"),
        ("idx", "int"),
        *_HASH_COLUMNS,
        ("frame", "int"),
        ("time", "float"),
        ("pts", "int"),
    ),
    "keyframes": (
        ("flight_id", "int"),
        ("state", "int"),
        ("frame", "int"),
        ("time", "float"),
        ("pts", "int"),
        ("file", "str"),
    ),
}
"""Every catalogue table that holds flights, as ``(column, kind)`` pairs: the one
definition the SQLite schema and the Spark schemas (:mod:`framesig.spark`) are made from."""

_SQL_TYPE = {"int": "INTEGER", "float": "REAL", "str": "TEXT", "bool": "INTEGER"}
_NOT_NULL = frozenset(
    {"path", "name", "content_hash", "settings_hash", "framesig_version", "finished_at"}
)
_NULLABLE = frozenset({("views", "pts")})  # signatures written before views kept their PTS
_CHILD_KEYS = {
    "states": "flight_id, state",
    "runs": "flight_id, idx",
    "transitions": "flight_id, idx",
    "views": "flight_id, state, idx",
    "keyframes": "flight_id, state",
}
_INDEXES = (
    "CREATE INDEX flights_path ON flights(path, settings_hash)",
    "CREATE INDEX flights_status ON flights(status)",
    "CREATE INDEX flights_content ON flights(content_hash)",
    "CREATE INDEX flights_name ON flights(name)",
    "CREATE INDEX states_h0 ON states(h0)",
    "CREATE INDEX states_h1 ON states(h1)",
    "CREATE INDEX states_h2 ON states(h2)",
    "CREATE INDEX states_h3 ON states(h3)",
    "CREATE INDEX states_hash ON states(hash_int)",
    *(f"CREATE INDEX views_h{i} ON views(h{i})" for i in range(4)),
    "CREATE INDEX runs_time ON runs(flight_id, start_time, end_time)",
    "CREATE INDEX runs_state ON runs(flight_id, state)",
    "CREATE INDEX transitions_time ON transitions(flight_id, time)",
)


def _schema_sql() -> list[str]:
    out = [
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE batches (id INTEGER PRIMARY KEY, started_at TEXT NOT NULL, "
        "finished_at TEXT, argv TEXT, settings TEXT NOT NULL, settings_hash TEXT NOT NULL, "
        "workers INTEGER NOT NULL, inputs INTEGER NOT NULL DEFAULT 0, "
        "summarized INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, "
        "skipped INTEGER NOT NULL DEFAULT 0, frames INTEGER NOT NULL DEFAULT 0, wall_s REAL)",
    ]
    for table, columns in TABLES.items():
        cols = []
        for name, kind in columns:
            decl = f"{name} {_SQL_TYPE[kind]}"
            if table == "flights" and name == "id":
                decl += " PRIMARY KEY"
            elif table == "flights" and name == "status":
                decl += " NOT NULL CHECK (status IN ('ok', 'error'))"
            elif table == "flights" and name == "batch_id":
                decl += " REFERENCES batches(id)"
            elif table != "flights" and name == "flight_id":
                decl += " NOT NULL REFERENCES flights(id) ON DELETE CASCADE"
            elif (table != "flights" or name in _NOT_NULL) and (table, name) not in _NULLABLE:
                decl += " NOT NULL"
            cols.append(decl)
        if table == "flights":
            cols.append("UNIQUE (path, content_hash, settings_hash)")
            out.append(f"CREATE TABLE flights ({', '.join(cols)})")
        else:
            cols.append(f"PRIMARY KEY ({_CHILD_KEYS[table]})")
            out.append(f"CREATE TABLE {table} ({', '.join(cols)}) WITHOUT ROWID")
    out.extend(_INDEXES)
    return out


def _table_sql(table: str) -> list[str]:
    """The statements of :func:`_schema_sql` that make one table and its indexes."""
    return [
        q
        for q in _schema_sql()
        if q.startswith((f"CREATE TABLE {table} ", f"CREATE INDEX {table}_"))
    ]


class CatalogError(FramesigError):
    """The catalogue file cannot be used (a newer schema, another settings hash, damage)."""


_F = TypeVar("_F", bound=Callable[..., Any])


def _sql_errors(method: _F) -> _F:
    """SQLite's own errors (a read-only or damaged file, a lost table) as CatalogError."""

    @functools.wraps(method)
    def run(self: Catalog, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            raise CatalogError(self.path, f"{method.__name__}: {exc}") from None

    return cast(_F, run)


def settings_hash(settings: Mapping[str, Any] | Any) -> str:
    """The hash of the settings that change results (``decode_threads`` does not).

    Parameters
    ----------
    settings : Settings or mapping
        A :class:`framesig.Settings` or its ``to_dict()``.

    Examples
    --------
    >>> from framesig import Settings
    >>> settings_hash(Settings()) == settings_hash(Settings(decode_threads=4))
    True
    >>> settings_hash(Settings()) == settings_hash(Settings(persist=4))
    False
    """
    data = settings if isinstance(settings, Mapping) else settings.to_dict()
    kept = {k: v for k, v in data.items() if k not in _PERFORMANCE_SETTINGS}
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def flight_id(path: str, content_hash: str, settings_hash: str) -> int:
    """A flight's id: 63 bits of a hash of its key, the same in every catalogue.

    >>> flight_id("/v/a.mp4", "00", "11") == flight_id("/v/a.mp4", "00", "11")
    True
    >>> 0 <= flight_id("/v/a.mp4", "00", "11") < 2**63
    True
    """
    key = f"{path}\0{content_hash}\0{settings_hash}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") >> 1


def hash_chunks(hex_hash: str) -> tuple[int, int, int, int, int]:
    """A 64-bit hash as a signed 64-bit integer and its four 16-bit chunks, high first.

    >>> hash_chunks("0001000200030004")
    (281483566841860, 1, 2, 3, 4)
    >>> hash_chunks("ffffffffffffffff")[0]
    -1
    """
    value = int(hex_hash, 16)
    signed = value - (1 << 64) if value >= 1 << 63 else value
    return (
        signed,
        (value >> 48) & 0xFFFF,
        (value >> 32) & 0xFFFF,
        (value >> 16) & 0xFFFF,
        value & 0xFFFF,
    )


def _hash_value(hex_hash: str) -> int:
    """A 64-bit hash from its 16 hex digits (ValueError for anything else)."""
    if not isinstance(hex_hash, str):
        raise ValueError(f"a hash is 16 hex digits, got {hex_hash!r}")
    return ImageHash.from_hex(hex_hash).value


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def flight_row(
    *,
    path: str,
    name: str,
    content_hash: str,
    size: int | None,
    mtime_ns: int | None,
    settings_hash: str,
    signature: Signature | None = None,
    error_type: str | None = None,
    error: str | None = None,
    wall_s: float | None = None,
    batch_id: int | None = None,
    finished_at: str | None = None,
) -> dict[str, Any]:
    """The ``flights`` row of one result (a signature, or an error), as a dict."""
    from framesig import __version__

    row: dict[str, Any] = dict.fromkeys(name for name, _ in FLIGHT_COLUMNS)
    row.update(
        id=flight_id(path, content_hash, settings_hash),
        path=path,
        name=name,
        content_hash=content_hash,
        size=size,
        mtime_ns=mtime_ns,
        settings_hash=settings_hash,
        status="ok" if signature is not None else "error",
        error_type=error_type,
        error=error,
        framesig_version=__version__,
        batch_id=batch_id,
        wall_s=wall_s,
        finished_at=finished_at or _now(),
    )
    if signature is not None:
        src = signature.source
        row.update(
            frames=src.frames,
            duration=src.duration,
            codec=src.codec,
            width=src.display_width,
            height=src.display_height,
            fps=src.fps,
            truncated=src.truncated,
            partial=src.partial,
            estimated_timestamps=src.estimated_timestamps,
            skipped_packets=src.skipped_packets,
            n_states=len(signature.states),
            n_runs=len(signature.runs),
            n_transitions=len(signature.transitions),
            facts=json.dumps(asdict(src), allow_nan=False),
            signature=signature.to_json(),
        )
    return row


def child_rows(
    fid: int, signature: Signature, keyframe_files: Mapping[int, str] | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """The ``states``, ``runs``, ``transitions``, ``views`` and ``keyframes`` rows of one
    signature.

    ``keyframe_files`` maps a state id to its JPEG (relative to the output folder); states
    without one get no ``keyframes`` row.
    """
    files = keyframe_files or {}
    states = []
    keyframes = []
    views = []
    for s in signature.states:
        states.append(
            (
                fid,
                s.id,
                s.hash,
                *hash_chunks(s.hash),
                s.keyframe,
                s.keyframe_time,
                s.keyframe_pts,
                s.frames,
                s.runs,
                s.first_time,
            )
        )
        if s.id in files:
            keyframes.append((fid, s.id, s.keyframe, s.keyframe_time, s.keyframe_pts, files[s.id]))
        view_pts = s.view_pts or (None,) * len(s.views)  # signatures before view_pts
        for k, (h, frame, t, pts) in enumerate(
            zip(s.views, s.view_frames, s.view_times, view_pts, strict=True)
        ):
            views.append((fid, s.id, k, h, *hash_chunks(h), frame, t, pts))
    runs = [
        (
            fid,
            i,
            r.state,
            r.start_frame,
            r.end_frame,
            r.start_time,
            r.end_time,
            r.start_pts,
            r.end_pts,
        )
        for i, r in enumerate(signature.runs)
    ]
    transitions = [
        (
            fid,
            i,
            t.frame,
            t.time,
            t.pts,
            t.from_state,
            t.to_state,
            t.hash_distance,
            t.hist_distance,
            t.revisit,
            t.kind,
        )
        for i, t in enumerate(signature.transitions)
    ]
    return {
        "states": states,
        "runs": runs,
        "transitions": transitions,
        "views": views,
        "keyframes": keyframes,
    }


class Catalog:
    """An open catalogue (``framesig.db``): create or upgrade the schema, write, query.

    Parameters
    ----------
    path : path-like
        The database file; created (with its folder) when missing.
    readonly : bool
        Open for queries only (the file must exist).

    Raises
    ------
    CatalogError
        The file is not a framesig catalogue, or one made by a newer framesig.
    """

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = str(path)
        try:
            if readonly:
                uri = Path(self.path).resolve().as_uri() + "?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
            else:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                if os.path.exists(self.path) and not os.access(self.path, os.W_OK):
                    raise CatalogError(self.path, "read-only: results cannot be recorded in it")
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = FULL")
                self._migrate()
            elif self._check_version() == 0:  # an empty file, or another program's tables
                raise CatalogError(self.path, "not a framesig catalogue (no schema version)")
            self._check_tables()
        except sqlite3.DatabaseError as exc:
            raise CatalogError(self.path, f"not a usable SQLite catalogue ({exc})") from None

    def _check_tables(self) -> None:
        names = {
            r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        want = {"meta", "batches", *TABLES}
        if self.schema_version < 3:  # opened read-only before an upgrade: no views yet
            want.discard("views")
        missing = sorted(want - names)
        if missing:
            raise CatalogError(
                self.path,
                f"table(s) {', '.join(missing)} missing: damaged, or not a framesig catalogue",
            )

    # -- schema
    def _check_version(self) -> int:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise CatalogError(
                self.path,
                f"catalogue schema version {version} was written by a newer framesig "
                f"(this one reads version {SCHEMA_VERSION})",
            )
        return version

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._check_version()
            if version == 0:
                names = {
                    r[0]
                    for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                }
                if names:
                    raise CatalogError(self.path, "holds tables but is not a framesig catalogue")
                for statement in _schema_sql():
                    self._db.execute(statement)
                self._db.execute(
                    "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                )
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            if 1 <= version < SCHEMA_VERSION:
                if version == 1:
                    self._db.execute(
                        "ALTER TABLE transitions ADD COLUMN kind TEXT NOT NULL DEFAULT 'cut'"
                    )
                if version <= 2:
                    self._add_views()
                self._db.execute(
                    "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),)
                )
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            # later versions: upgrade step by step here, inside this transaction
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _add_views(self) -> None:
        """Version 3: the views table, filled from the signatures already stored."""
        from framesig.signature import Signature

        for statement in _table_sql("views"):
            self._db.execute(statement)
        marks = ", ".join("?" for _ in TABLES["views"])
        for fid, text in self._db.execute(
            "SELECT id, signature FROM flights WHERE status = 'ok' AND signature IS NOT NULL"
        ).fetchall():
            try:
                sig = Signature.from_json(text)
            except ValueError:  # damaged: find and index say so when they read it
                continue
            rows = child_rows(int(fid), sig)["views"]
            self._db.executemany(f"INSERT INTO views VALUES ({marks})", rows)

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta and batches
    @_sql_errors
    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @_sql_errors
    def bind_settings(self, settings: Any) -> str:
        """Tie this catalogue to one settings hash; a folder holds results of one setting.

        Raises
        ------
        CatalogError
            The catalogue was made with other settings.
        """
        digest = settings_hash(settings)
        known = self.meta("settings_hash")
        if known is None:
            self._db.execute("INSERT INTO meta VALUES ('settings_hash', ?)", (digest,))
            data = settings if isinstance(settings, Mapping) else settings.to_dict()
            self._db.execute(
                "INSERT INTO meta VALUES ('settings', ?)", (json.dumps(dict(data), sort_keys=True),)
            )
        elif known != digest:
            raise CatalogError(
                self.path,
                f"was made with other settings ({self.meta('settings')}); "
                "use another output folder for these settings",
            )
        return digest

    @_sql_errors
    def begin_batch(
        self, *, settings: Any, workers: int, inputs: int, argv: Sequence[str] | None = None
    ) -> int:
        data = settings if isinstance(settings, Mapping) else settings.to_dict()
        cur = self._db.execute(
            "INSERT INTO batches (started_at, argv, settings, settings_hash, workers, inputs) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                _now(),
                None if argv is None else json.dumps(list(argv)),
                json.dumps(dict(data), sort_keys=True),
                settings_hash(data),
                workers,
                inputs,
            ),
        )
        return int(cur.lastrowid or 0)

    @_sql_errors
    def finish_batch(
        self,
        batch_id: int,
        *,
        summarized: int,
        failed: int,
        skipped: int,
        frames: int,
        wall_s: float,
    ) -> None:
        self._db.execute(
            "UPDATE batches SET finished_at = ?, summarized = ?, failed = ?, skipped = ?, "
            "frames = ?, wall_s = ? WHERE id = ?",
            (_now(), summarized, failed, skipped, frames, wall_s, batch_id),
        )

    # -- writes
    @_sql_errors
    def record(
        self,
        *,
        path: str,
        name: str,
        content_hash: str,
        size: int | None,
        mtime_ns: int | None,
        settings_hash: str,
        signature: Signature | None = None,
        error_type: str | None = None,
        error: str | None = None,
        wall_s: float | None = None,
        batch_id: int | None = None,
        keyframe_files: Mapping[int, str] | None = None,
    ) -> int:
        """Write one flight (a signature, or an error) in one transaction; returns its id.

        Rows of the same path and settings with another content hash (the file changed)
        are replaced in the same transaction.
        """
        row = flight_row(
            path=path,
            name=name,
            content_hash=content_hash,
            size=size,
            mtime_ns=mtime_ns,
            settings_hash=settings_hash,
            signature=signature,
            error_type=error_type,
            error=error,
            wall_s=wall_s,
            batch_id=batch_id,
        )
        fid = int(row["id"])
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "DELETE FROM flights WHERE path = ? AND settings_hash = ?", (path, settings_hash)
            )
            db.execute(f"INSERT INTO flights ({cols}) VALUES ({marks})", tuple(row.values()))
            if signature is not None:
                for table, rows in child_rows(fid, signature, keyframe_files).items():
                    if rows:
                        marks = ", ".join("?" for _ in TABLES[table])
                        db.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return fid

    @_sql_errors
    def touch(self, fid: int, *, size: int, mtime_ns: int) -> None:
        """Note a new size and mtime for a flight whose content hash did not change."""
        self._db.execute(
            "UPDATE flights SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, fid)
        )

    # -- queries
    @_sql_errors
    def flight(self, fid: int) -> dict[str, Any] | None:
        row = self._db.execute("SELECT * FROM flights WHERE id = ?", (fid,)).fetchone()
        return None if row is None else dict(row)

    @_sql_errors
    def lookup(self, path: str, settings_hash: str) -> dict[str, Any] | None:
        """The flight recorded for ``path`` with these settings, if any."""
        row = self._db.execute(
            "SELECT * FROM flights WHERE path = ? AND settings_hash = ?", (path, settings_hash)
        ).fetchone()
        return None if row is None else dict(row)

    @_sql_errors
    def flights(self, status: str | None = None) -> list[dict[str, Any]]:
        """All flights (or those with ``status``), ordered by path; without signature JSON."""
        cols = ", ".join(name for name, _ in FLIGHT_COLUMNS if name != "signature")
        sql = f"SELECT {cols} FROM flights"
        args: tuple[Any, ...] = ()
        if status is not None:
            sql += " WHERE status = ?"
            args = (status,)
        return [dict(r) for r in self._db.execute(sql + " ORDER BY path", args)]

    @_sql_errors
    def names(self) -> dict[str, str]:
        """Output folder name -> path, for every recorded flight."""
        return {str(r[0]): str(r[1]) for r in self._db.execute("SELECT name, path FROM flights")}

    @_sql_errors
    def signature(self, fid: int) -> Signature | None:
        """The flight's signature; None for a failed one (or no such flight).

        Raises
        ------
        CatalogError
            A finished flight whose stored signature is damaged or missing.
        """
        from framesig.signature import Signature

        if not -(2**63) <= fid < 2**63:  # SQLite's integers
            return None
        row = self._db.execute(
            "SELECT signature, status FROM flights WHERE id = ?", (fid,)
        ).fetchone()
        if row is not None and row[0] is None and row[1] == "ok":
            raise CatalogError(self.path, f"flight {fid}: finished, but no signature is stored")
        if row is None or row[0] is None:
            return None
        try:
            return Signature.from_json(row[0])
        except ValueError as exc:
            raise CatalogError(self.path, f"flight {fid}: a damaged signature ({exc})") from None

    @_sql_errors
    def count(self, table: str) -> int:
        if table not in TABLES and table != "batches":
            raise ValueError(f"no table {table!r}")
        return int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    @_sql_errors
    def runs_between(self, fid: int, start: float, end: float) -> list[dict[str, Any]]:
        """The runs of a flight that overlap the time range ``[start, end)``."""
        rows = self._db.execute(
            "SELECT * FROM runs WHERE flight_id = ? AND start_time < ? AND end_time > ? "
            "ORDER BY idx",
            (fid, end, start),
        )
        return [dict(r) for r in rows]

    @_sql_errors
    def states_near(self, hex_hash: str, max_distance: int = 3) -> list[dict[str, Any]]:
        """States of any flight within ``max_distance`` (0..3) bits of a hash, by their own
        hash or one of their views, nearest first.

        Each row is the state's ``states`` row with ``distance`` (to the nearest of its
        hash and views) and ``view`` (that view's ``idx``, or None for the state's own
        hash). Candidates come from the chunk indexes (one chunk must match exactly), then
        the exact Hamming distance is checked.
        """
        if not (
            isinstance(max_distance, numbers.Integral)
            and not isinstance(max_distance, bool)
            and 0 <= max_distance <= 3
        ):
            raise ValueError(f"max_distance must be 0..3 for chunk lookup, got {max_distance!r}")
        query = _hash_value(hex_hash)
        _, *chunks = hash_chunks(f"{query:016x}")
        tables = [("states", "-1")]
        if self.schema_version >= 3:  # a version 2 file opened read-only has no views yet
            tables.append(("views", "idx"))
        best: dict[tuple[int, int], tuple[int, int]] = {}  # (distance, view idx or -1)
        hits = " UNION ".join(
            f"SELECT flight_id, state, {idx}, hash FROM {table} WHERE h{i} = ?"
            for table, idx in tables
            for i in range(4)
        )
        for fid, state, view, h in self._db.execute(hits, chunks * len(tables)):
            try:
                rank = ((_hash_value(h) ^ query).bit_count(), view)  # the state's own hash first
            except ValueError:  # a damaged row: check() names it
                continue
            if rank[0] <= max_distance and rank < best.get((fid, state), (65, 0)):
                best[(fid, state)] = rank
        out = []
        for (fid, state), (d, view) in best.items():
            row = self._db.execute(
                "SELECT * FROM states WHERE flight_id = ? AND state = ?", (fid, state)
            ).fetchone()
            if row is not None:  # a view of no state: check() names it
                out.append({**dict(row), "distance": d, "view": None if view < 0 else view})
        return sorted(out, key=lambda r: (r["distance"], r["flight_id"], r["state"]))

    @_sql_errors
    def check(self) -> list[str]:
        """Problems found by SQLite's integrity and foreign-key checks (empty when sound)."""
        problems = [str(r[0]) for r in self._db.execute("PRAGMA integrity_check")]
        problems = [p for p in problems if p != "ok"]
        problems += [
            f"foreign key: {tuple(r)}" for r in self._db.execute("PRAGMA foreign_key_check")
        ]
        if self.schema_version >= 3:
            problems += [
                f"views: flight {r[0]} state {r[1]} view {r[2]} is of no state"
                for r in self._db.execute(
                    "SELECT flight_id, state, idx FROM views v WHERE NOT EXISTS (SELECT 1 "
                    "FROM states s WHERE s.flight_id = v.flight_id AND s.state = v.state)"
                )
            ]
        return problems

    def execute(self, sql: str, args: Iterable[Any] = ()) -> Iterator[sqlite3.Row]:
        """Run any SQL (for queries; rows come back as :class:`sqlite3.Row`)."""
        return iter(self._db.execute(sql, tuple(args)).fetchall())
