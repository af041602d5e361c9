"""Batch summarization on Apache Spark (``pip install framesig[spark]``).

:func:`summarize_paths` runs :func:`framesig.batch.summarize_file`, the function each
worker of ``framesig batch`` runs, inside Spark tasks (``mapInPandas`` over a column of
paths) and returns one row per video with the columns of the catalogue's ``flights`` table
(:data:`framesig.catalog.TABLES`): path, status, error, the facts, the signature as JSON.
:func:`write_catalog` writes the catalogue's tables (flights, states, runs, transitions,
views, keyframes) as Spark tables or Parquet/Delta folders, with the same flight ids as a local
``framesig.db``.

The executors need framesig installed (a cluster library or a job's wheel) and the videos
at paths they can open: local paths, or Unity Catalog volumes as ``/Volumes/<catalog>/
<schema>/<volume>/...`` (a ``dbfs:`` prefix is dropped). See ``docs/spark.md``.

Examples
--------
>>> spark_schema("runs").simpleString()[:60]
'struct<flight_id:bigint,idx:bigint,state:bigint,start_frame:'
>>> _local_path("dbfs:/Volumes/main/uav/raw/f1.mp4"), _local_path("file:/data/a%20b.mp4")
('/Volumes/main/uav/raw/f1.mp4', '/data/a b.mp4')
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from framesig.catalog import TABLES, child_rows, flight_row, settings_hash
from framesig.settings import Settings

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

__all__ = [
    "RESULT_COLUMNS",
    "spark_schema",
    "summarize_paths",
    "catalog_tables",
    "write_catalog",
]

RESULT_COLUMNS: tuple[tuple[str, str], ...] = (*TABLES["flights"], ("keyframes", "str"))
"""The columns of :func:`summarize_paths`: the ``flights`` table's, then ``keyframes`` (a
JSON list of ``[state, file]`` for the keyframes written, files relative to ``out``)."""


def _spark_type(kind: str) -> Any:
    from pyspark.sql import types as T

    return {
        "int": T.LongType(),
        "float": T.DoubleType(),
        "str": T.StringType(),
        "bool": T.BooleanType(),
    }[kind]


def _schema(columns: Iterable[tuple[str, str]]) -> StructType:
    from pyspark.sql import types as T

    return T.StructType([T.StructField(name, _spark_type(kind), True) for name, kind in columns])


def spark_schema(table: str) -> StructType:
    """The Spark schema of a catalogue table (``flights``, ``states``, ``runs``,
    ``transitions``, ``views``, ``keyframes``) or of ``results`` (:func:`summarize_paths`)."""
    if table == "results":
        return _schema(RESULT_COLUMNS)
    if table not in TABLES:
        raise ValueError(f"no catalogue table {table!r}; one of {', '.join(TABLES)}")
    return _schema(TABLES[table])


def _local_path(path: str) -> str:
    """A path an executor can open: ``dbfs:/Volumes/...`` is ``/Volumes/...``; ``file:``
    URIs lose their scheme."""
    if path.startswith("dbfs:/Volumes/"):
        return path[len("dbfs:") :]
    if path.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(path).path)
    return path


def _output_name(path: str) -> str:
    import hashlib

    from framesig.batch import _safe_name

    return f"{_safe_name(path)}-{hashlib.blake2b(path.encode(), digest_size=4).hexdigest()}"


def _frame(rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    import pandas as pd

    dtypes = {"int": "Int64", "float": "Float64", "str": "object", "bool": "boolean"}
    data = {name: pd.array([r[name] for r in rows], dtype=dtypes[kind]) for name, kind in columns}
    return pd.DataFrame(data)


def _summarize_partition(settings: dict[str, Any], decode_threads: int, out: str | None) -> Any:
    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from framesig.batch import summarize_file

        s = Settings.from_dict(settings)
        shash = settings_hash(s)
        for batch in batches:
            for given in batch["path"]:
                path = _local_path(str(given))
                name = _output_name(path)
                tmp = None
                if out is not None:
                    tmp = Path(out) / ".partial" / f"{name}.{secrets.token_hex(4)}"
                r = summarize_file(path, s, out_dir=tmp, decode_threads=decode_threads)
                keyframes: list[list[Any]] = []
                if tmp is not None:
                    if r.ok:
                        final = Path(out or "") / name
                        if final.exists():
                            shutil.rmtree(final, ignore_errors=True)
                        os.replace(tmp, final)
                        keyframes = [[state, f"{name}/{file}"] for state, file in r.keyframes]
                    else:
                        shutil.rmtree(tmp, ignore_errors=True)
                row = flight_row(
                    path=path,
                    name=name,
                    content_hash=r.content_hash,
                    size=r.size,
                    mtime_ns=r.mtime_ns,
                    settings_hash=shash,
                    signature=r.signature,
                    error_type=r.error_type,
                    error=r.error,
                    wall_s=r.wall_s,
                )
                row["keyframes"] = json.dumps(keyframes)
                yield _frame([row], RESULT_COLUMNS)  # one row per video, as it finishes

    return run


def summarize_paths(
    df_or_paths: DataFrame | Iterable[str | os.PathLike[str]],
    *,
    spark: SparkSession | None = None,
    path_column: str = "path",
    settings: Settings | None = None,
    decode_threads: int = 1,
    partitions: int | None = None,
    out: str | os.PathLike[str] | None = None,
) -> DataFrame:
    """Summarize videos in Spark tasks: one row per video (the ``flights`` columns).

    Parameters
    ----------
    df_or_paths : DataFrame or iterable of path-like
        A DataFrame with a column of paths (``path_column``), or the paths themselves.
        ``spark.read.format("binaryFile").load(folder).select("path")`` lists a folder.
    spark : SparkSession, optional
        For a list of paths; default the active session.
    path_column : str
        The column holding the paths.
    settings : Settings, optional
    decode_threads : int
        FFmpeg decoder threads per task when ``settings.decode_threads`` is 0 (one task
        per core is Spark's default, so 1).
    partitions : int, optional
        Repartition the paths first (round robin). A list of paths gets one partition per
        path (at most 10000) unless this is given, so tasks balance across executors.
    out : path-like, optional
        Also write each video's ``signature.json``, ``keyframes/`` and contact sheet to
        ``out/<name>-<hash of the path>/`` (a folder every executor can write, e.g. a
        volume), through a temporary folder renamed into place.

    Returns
    -------
    DataFrame
        Lazy; columns :data:`RESULT_COLUMNS`. ``status`` is ``ok`` or ``error`` (with
        ``error_type`` and ``error``); ``signature`` is the signature's JSON
        (:meth:`framesig.Signature.from_json`) and ``facts`` the source facts' JSON. Save
        it (or cache it) before deriving more than one thing from it: each action runs
        the summaries again.
    """
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    s = settings or Settings()
    if isinstance(df_or_paths, SparkDataFrame):
        df = df_or_paths.select(F.col(path_column).cast("string").alias("path"))
        if partitions:
            df = df.repartition(int(partitions))
    else:
        paths = [os.fspath(p) for p in df_or_paths]
        session = spark or SparkSession.getActiveSession() or SparkSession.builder.getOrCreate()
        df = session.createDataFrame([(p,) for p in paths], "path string")
        df = df.repartition(int(partitions or max(1, min(len(paths), 10000))))
    if int(decode_threads) < 1:
        raise ValueError(f"decode_threads must be >= 1, got {decode_threads}")
    fn = _summarize_partition(
        s.to_dict(), int(decode_threads), None if out is None else os.fspath(out)
    )
    return df.mapInPandas(fn, spark_schema("results"))


def _explode(table: str) -> Any:
    columns = TABLES[table]

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from framesig.signature import Signature

        names = [c for c, _ in columns]
        for batch in batches:
            rows: list[dict[str, Any]] = []
            kf = batch["keyframes"] if "keyframes" in batch else [None] * len(batch)
            for fid, text, kf_json in zip(batch["id"], batch["signature"], kf, strict=True):
                if text is None or (isinstance(text, float)):
                    continue
                files = {int(s): str(f) for s, f in json.loads(kf_json or "[]")}
                parts = child_rows(int(fid), Signature.from_json(text), files)
                rows.extend(dict(zip(names, values, strict=True)) for values in parts[table])
            if rows:
                yield _frame(rows, columns)

    return run


def catalog_tables(results: DataFrame) -> dict[str, DataFrame]:
    """The catalogue's tables from :func:`summarize_paths` results (or a saved copy).

    Returns
    -------
    dict of str to DataFrame
        ``flights`` (the results without the ``keyframes`` column), ``states``, ``runs``,
        ``transitions``, ``views`` and ``keyframes``, with the columns of
        :data:`framesig.catalog.TABLES` and the same flight ids as ``framesig.db``.
        Build them from saved results: each table is computed from ``results``.
    """
    flight_cols = [c for c, _ in TABLES["flights"]]
    out = {"flights": results.select(*flight_cols)}
    src = results.select("id", "signature", "keyframes").where("status = 'ok'")
    for table in TABLES:
        if table == "flights":
            continue
        out[table] = src.mapInPandas(_explode(table), spark_schema(table))
    return out


def write_catalog(
    results: DataFrame,
    target: str,
    *,
    format: str = "parquet",
    mode: str = "overwrite",
) -> dict[str, str]:
    """Summarize (if ``results`` is lazy) and write the catalogue's tables.

    The results are written first, as the ``flights`` table; the other tables are derived
    from what was written, so every video is summarized once.

    Parameters
    ----------
    results : DataFrame
        From :func:`summarize_paths`.
    target : str
        A folder (``/Volumes/main/flights/out/catalog``, ``s3://...``): each table goes to
        ``target/<table>``; or a schema name without ``/`` (``main.flights``): each table
        is saved as ``<schema>.<table>`` (a Unity Catalog managed table on Databricks).
    format : str
        ``parquet`` or ``delta`` (on Databricks), for the writer.
    mode : str
        The writer's save mode (``overwrite``, ``append``...).

    Returns
    -------
    dict of str to str
        Table name to where it was written.
    """
    spark = results.sparkSession
    as_tables = "/" not in target and ":" not in target
    where: dict[str, str] = {}

    def save(df: DataFrame, table: str) -> None:
        writer = df.write.format(format).mode(mode)
        if as_tables:
            where[table] = f"{target}.{table}"
            writer.saveAsTable(where[table])
        else:
            where[table] = f"{target.rstrip('/')}/{table}"
            writer.save(where[table])

    staged = f"{target}._results" if as_tables else f"{target.rstrip('/')}/_results"
    if as_tables:
        results.write.format(format).mode("overwrite").saveAsTable(staged)
        saved = spark.table(staged)
    else:
        results.write.format(format).mode("overwrite").save(staged)
        saved = spark.read.format(format).load(staged)
    for table, df in catalog_tables(saved).items():
        save(df, table)
    return where
