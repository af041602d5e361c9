"""framesig on Spark: a local[2] session gives the same signatures as the local batch.

The session is real (pyspark starts a JVM; Java 17 is on the CI machine), and so are the
Python workers it runs ``mapInPandas`` in. In CI a Spark that cannot start fails the test.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import ffmpeg

import framesig
from framesig.batch import summarize_many
from framesig.catalog import TABLES, Catalog, flight_id, settings_hash


def _need(module: str):
    try:
        return pytest.importorskip(module) if not os.environ.get("CI") else __import__(module)
    except ImportError as exc:  # CI installs the spark extra: its absence is a failure
        pytest.fail(f"{module} is not installed in CI ({exc})")


@pytest.fixture(scope="module")
def spark():
    _need("pyspark")
    _need("pandas")
    _need("pyarrow")
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    try:
        session = (
            SparkSession.builder.master("local[2]")
            .appName("framesig-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.memory", "1g")
            .config("spark.python.worker.reuse", "true")
            .getOrCreate()
        )
    except Exception as exc:  # no Java, or the JVM did not start
        if os.environ.get("CI"):
            pytest.fail(f"Spark cannot start in CI: {exc}")
        pytest.skip(f"Spark cannot start here: {exc}")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("spark_clips")
    out = []
    for i, (src, seconds) in enumerate([("testsrc2", 3), ("testsrc", 2), ("smptebars", 2)]):
        path = folder / f"clip_{i}.mp4"
        vf = "drawbox=x=0:y=0:w=iw:h=ih:color=red:t=fill:enable='gte(n\\,30)'" if i == 2 else None
        ffmpeg(
            "-f", "lavfi", "-i", f"{src}=size=160x120:rate=30", "-t", str(seconds),
            *(["-vf", vf] if vf else []),
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(path),
        )  # fmt: skip
        out.append(path)
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    return [*out, empty]


def test_spark_results_equal_the_local_batch(spark, clips, tmp_path):
    from framesig.spark import summarize_paths, write_catalog

    paths = [str(p) for p in clips]
    local = {r.path: r for r in summarize_many(paths, workers=2)}
    results = summarize_paths(paths, spark=spark, out=str(tmp_path / "spark_out"))
    where = write_catalog(results, str(tmp_path / "catalog"))  # summarizes each video once
    assert sorted(where) == sorted(TABLES)
    tables = {name: spark.read.parquet(path).collect() for name, path in where.items()}
    rows = {r["path"]: r.asDict() for r in tables["flights"]}
    assert sorted(rows) == sorted(paths)
    shash = settings_hash(framesig.Settings())
    for path, mine in local.items():
        row = rows[path]
        assert row["status"] == mine.status
        assert row["error_type"] == mine.error_type
        assert row["content_hash"] == mine.content_hash
        assert row["id"] == flight_id(path, mine.content_hash, shash)
        if mine.ok:
            assert framesig.Signature.from_json(row["signature"]) == mine.signature
            assert row["frames"] == mine.frames and row["truncated"] is False
            sig_file = tmp_path / "spark_out" / row["name"] / "signature.json"
            assert framesig.Signature.load(sig_file) == mine.signature
        else:
            assert row["signature"] is None and row["error"] == mine.error

    # the tables hold the rows framesig.db holds for the same results
    with Catalog(tmp_path / "framesig.db") as db:
        for r in local.values():
            db.record(
                path=r.path, name=Path(r.path).stem, content_hash=r.content_hash, size=r.size,
                mtime_ns=r.mtime_ns, settings_hash=shash, signature=r.signature,
                error_type=r.error_type, error=r.error,
            )  # fmt: skip
        for table in ("states", "runs", "transitions", "views"):
            spec = TABLES[table]
            cols = [c for c, _ in spec]
            sql = f"SELECT {', '.join(cols)} FROM {table} ORDER BY {', '.join(cols[:3])}"
            mine_rows = [
                tuple(bool(v) if spec[i][1] == "bool" else v for i, v in enumerate(r))
                for r in db.execute(sql)
            ]
            theirs = sorted(tuple(r[c] for c in cols) for r in tables[table])
            assert theirs == mine_rows, table
            assert len(theirs) > 0 or table == "views"
    n_states = sum(len(r.signature.states) for r in local.values() if r.signature)
    assert len(tables["keyframes"]) == n_states
    assert all((tmp_path / "spark_out" / r["file"]).is_file() for r in tables["keyframes"])


def test_summarize_paths_takes_a_dataframe_of_paths(spark, clips):
    from framesig.spark import summarize_paths

    listing = spark.read.format("binaryFile").option("pathGlobFilter", "clip_*.mp4")
    df = listing.load(str(clips[0].parent)).select("path")  # file:/... URIs
    rows = summarize_paths(df, partitions=2).select("path", "status", "frames").collect()
    assert sorted((r["path"], r["status"]) for r in rows) == sorted(
        (str(p), "ok") for p in clips[:3]
    )
    assert {r["path"]: r["frames"] for r in rows}[str(clips[0])] == framesig.summarize(
        clips[0]
    ).source.frames
