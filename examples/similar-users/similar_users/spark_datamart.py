"""The datamart stage in PySpark: the same user x restaurant table as the Arrow version
(aggregate.py over visits.py), built by Spark from the visit logs of a local folder or a Hadoop
URI (``hdfs://``, ``webhdfs://``, ``file://``). Partitions are listed through Hadoop's
FileSystem API, so the date range, the files chosen and the errors are the same as the local
reader's; the table is written as one Parquet file with the same columns and types (user_id and
restaurant_id strings, visits int32, last_visit timestamp[ms, UTC]), sorted the same way.

Only the Spark datamart imports this module: the default pipeline does not need pyspark."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import urlparse

import pyarrow.compute as pc
import pyarrow.parquet as pq
from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from .errors import StageError
from .visits import COLUMNS, PARTITION_PREFIX, SUFFIXES, Partition, choose_files

#: Settings every datamart session needs, whoever started it (spark-submit or this module):
#: naive timestamps are UTC, as in the local reader, and Parquet timestamps are written in
#: milliseconds, the unit of the Arrow table.
SQL_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MILLIS",
}

Result = TypeVar("Result")

#: JVM options for the short jobs of this stage (seconds, not hours): the C1 compiler only and the
#: serial collector start faster and spend about a third less CPU on the small size.
SHORT_JOB_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"

#: The Spark errors that bad input raises (a missing or corrupt file, a value that is no timestamp).
_SPARK_ERRORS = (Py4JJavaError, PySparkException)


def session(master: str | None = None, app_name: str = "similar-users-datamart") -> SparkSession:
    """The SparkSession of the stage: the one spark-submit configured, or a new one on ``master``
    (``local[*]`` when neither says), with the datamart's SQL settings applied."""
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    spark = builder.getOrCreate()
    for key, value in SQL_SETTINGS.items():
        spark.conf.set(key, value)
    return spark


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "java_exception", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def visits_uri(visits_dir: str) -> str:
    """A Hadoop URI for ``visits_dir``: URIs are kept, a plain path is a local folder
    (``file://``), never a path on the cluster's default file system."""
    text = str(visits_dir).strip()
    if not text:
        raise StageError("visits_dir is empty: it must name the folder of date=YYYY-MM-DD partitions")
    if urlparse(text).scheme:
        return text.rstrip("/")
    return Path(text).resolve().as_uri()


def list_partitions(spark: SparkSession, visits_dir: str) -> list[Partition]:
    """All date partitions under ``visits_dir`` (a folder or a Hadoop URI), oldest first; the
    files are full URIs."""
    uri = visits_uri(visits_dir)
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    try:
        root = jvm.org.apache.hadoop.fs.Path(uri)
        fs = root.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        if not fs.exists(root) or not fs.getFileStatus(root).isDirectory():
            raise StageError(f"visits folder {visits_dir} does not exist or is not a folder")
        children = sorted(fs.listStatus(root), key=lambda s: s.getPath().getName())
        partitions = []
        for child in children:
            name = child.getPath().getName()
            if not child.isDirectory() or not name.startswith(PARTITION_PREFIX):
                continue
            try:
                day = date.fromisoformat(name[len(PARTITION_PREFIX) :])
            except ValueError as error:
                raise StageError(f"partition folder {child.getPath().toString()} is not named date=YYYY-MM-DD") from error
            files = sorted(
                f.getPath().toString()
                for f in fs.listStatus(child.getPath())
                if f.isFile() and not f.getPath().getName().startswith((".", "_")) and f.getPath().getName().endswith(SUFFIXES)
            )
            partitions.append(Partition(day, tuple(files)))
        return partitions
    except _SPARK_ERRORS as error:
        raise StageError(f"cannot list the visits folder {visits_dir}: {_first_line(error)}") from error


def select_files(spark: SparkSession, visits_dir: str, first: date, last: date) -> list[str]:
    """The data files of the partitions in [first, last]; the local reader's error when there are none."""
    return [str(f) for f in choose_files(list_partitions(spark, visits_dir), visits_dir, first, last)]


def _check_columns(where: str, names: list[str]) -> None:
    for column in COLUMNS:
        if column not in names:
            raise StageError(
                f"column '{column}' missing in {where} (expected columns: {', '.join(COLUMNS)}; "
                f"found: {', '.join(names) or 'none'})"
            )


def _timestamp(frame: DataFrame, where: str) -> Column:
    kind = frame.schema["visited_at"].dataType
    if isinstance(kind, T.TimestampType):
        return F.col("visited_at")
    if isinstance(kind, (T.TimestampNTZType, T.DateType, T.StringType)):
        return F.col("visited_at").cast(T.TimestampType())  # naive means UTC (session time zone)
    raise StageError(
        f"column 'visited_at' in {where} holds values that are not timestamps "
        f"(type {kind.simpleString()}; expected ISO 8601 date-times)"
    )


def _id(frame: DataFrame, column: str, where: str) -> Column:
    kind = frame.schema[column].dataType
    if isinstance(kind, T.StringType):
        return F.col(column)
    if isinstance(kind, T.IntegralType):
        return F.col(column).cast(T.StringType())
    raise StageError(
        f"the id columns of {where} hold values that are neither strings nor integers "
        f"('{column}' is {kind.simpleString()})"
    )


def _read(spark: SparkSession, files: list[str], kind: str) -> DataFrame:
    where = files[0] if len(files) == 1 else f"the {len(files)} {kind} files ({files[0]}, ...)"
    try:
        if kind == "Parquet":
            frame = spark.read.parquet(*files)
        else:  # every column as text, named by the header; visited_at is parsed below
            frame = spark.read.option("header", True).option("inferSchema", False).csv(files)
    except _SPARK_ERRORS as error:
        raise StageError(f"cannot read {where} as {kind}: {_first_line(error)}") from error
    _check_columns(where, frame.columns)
    return frame.select(
        _id(frame, "user_id", where).alias("user_id"),
        _id(frame, "restaurant_id", where).alias("restaurant_id"),
        _timestamp(frame, where).alias("visited_at"),
    )


def read_visits(spark: SparkSession, files: list[str]) -> DataFrame:
    """All visits of ``files`` (Parquet, CSV or both) as user_id, restaurant_id (strings) and
    visited_at (timestamp). Spark reads lazily: a corrupt file is reported when the rows are
    first counted (see build_datamart)."""
    parquet = [f for f in files if f.endswith(".parquet")]
    csv = [f for f in files if not f.endswith(".parquet")]
    frames = ([_read(spark, parquet, "Parquet")] if parquet else []) + ([_read(spark, csv, "CSV")] if csv else [])
    if not frames:
        raise StageError("no visit files to read")
    visits = frames[0]
    for frame in frames[1:]:
        visits = visits.unionByName(frame)
    return visits


def aggregate_visits(visits: DataFrame) -> DataFrame:
    """One row per (user, restaurant) with the number of visits and the last visit, of the
    visits that have both ids (aggregate.py's rule)."""
    kept = visits.where(F.col("user_id").isNotNull() & F.col("restaurant_id").isNotNull())
    return kept.groupBy("user_id", "restaurant_id").agg(
        F.count(F.lit(1)).cast(T.IntegerType()).alias("visits"),
        F.max("visited_at").alias("last_visit"),
    )


def write_table(table: DataFrame, path: Path) -> None:
    """Writes ``table`` sorted by user and restaurant as the one Parquet file ``path`` (Spark
    writes a folder of parts; its single part is moved into place and the folder removed)."""
    staging = path.with_name(f".{path.name}.spark")
    shutil.rmtree(staging, ignore_errors=True)
    (
        table.repartition(1)
        .sortWithinPartitions("user_id", "restaurant_id")
        .write.mode("overwrite")
        .option("compression", "snappy")
        .parquet(staging.resolve().as_uri())
    )
    parts = sorted(p for p in staging.iterdir() if p.name.startswith("part-") and p.name.endswith(".parquet"))
    if len(parts) != 1:
        raise StageError(f"Spark wrote {len(parts)} Parquet parts under {staging}, expected exactly one")
    os.replace(parts[0], path)
    shutil.rmtree(staging, ignore_errors=True)


def _counted(what: str, action: Callable[[], Result]) -> Result:
    """Runs a Spark action; the errors bad input raises become a StageError saying what failed."""
    try:
        return action()
    except _SPARK_ERRORS as error:
        raise StageError(f"cannot {what}: {_first_line(error)}") from error


def build_datamart(spark: SparkSession, visits_dir: str, first: date, last: date, table_path: Path) -> dict[str, object]:
    """Reads the visits of [first, last] under ``visits_dir``, writes the user x restaurant
    table to ``table_path`` and returns the datamart's outputs (those of datamart.ipynb)."""
    files = select_files(spark, visits_dir, first, last)
    visits = read_visits(spark, files)
    valid = F.col("user_id").isNotNull() & F.col("restaurant_id").isNotNull()
    totals = _counted(
        f"read the visit files for {first} .. {last} under {visits_dir}",
        lambda: visits.agg(F.count(F.lit(1)).alias("rows"), F.count(F.when(valid, 1)).alias("kept")).first(),
    )
    if totals is None or totals["rows"] == 0:
        raise StageError(f"the {len(files)} visit files for {first} .. {last} under {visits_dir} hold no rows")
    print(f"{totals['rows']:,} visits in {len(files)} files, {first} .. {last}", flush=True)
    _counted(f"aggregate the visits under {visits_dir}", lambda: write_table(aggregate_visits(visits), table_path))
    # The counts of the written file, as the notebook counts them: the table is one local file
    # that the next stage loads whole, so reading it here costs less than another Spark job.
    written = pq.read_table(table_path, columns=["user_id", "restaurant_id", "visits"])
    dropped = int(totals["rows"] - totals["kept"])
    if dropped:
        print(f"dropped {dropped:,} visits without a user_id or restaurant_id", flush=True)
    return {
        "table_path": str(table_path),
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
        "files": len(files),
        "visits": int(pc.sum(written["visits"]).as_py() or 0),
        "dropped_rows": dropped,
        "users": pc.count_distinct(written["user_id"]).as_py(),
        "restaurants": pc.count_distinct(written["restaurant_id"]).as_py(),
        "pairs": written.num_rows,
    }
