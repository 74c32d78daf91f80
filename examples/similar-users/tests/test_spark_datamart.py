"""The Spark datamart (datamart_spark.py, similar_users/spark_datamart.py) builds the same
user x restaurant table as the Arrow one of datamart.ipynb: same rows, values, column names and
types, and the same outputs, on the small size, on CSV logs, on integer ids with naive
timestamps and rows without ids; bad input fails with the local reader's messages. One local
SparkSession (local[2], no UI, few shuffle partitions) serves the whole module."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from conftest import run_script

try:
    from pyspark.sql import SparkSession
except ImportError as missing:  # the test setup installs it: scripts/setup-python.sh --test
    raise ImportError("pyspark is not installed in the venv: run scripts/setup-python.sh --test (or --spark)") from missing

from similar_users.aggregate import aggregate_visits
from similar_users.errors import StageError
from similar_users.spark_datamart import SHORT_JOB_JAVA_OPTIONS, SQL_SETTINGS, build_datamart
from similar_users.visits import read_visits, select_files

END = date(2026, 1, 28)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    builder = (
        SparkSession.builder.master("local[2]")
        .appName("similar-users-datamart-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.extraJavaOptions", SHORT_JOB_JAVA_OPTIONS)
    )
    for key, value in SQL_SETTINGS.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def arrow_datamart(visits_dir: Path, first: date, last: date, out: Path) -> tuple[pa.Table, dict[str, object]]:
    """What datamart.ipynb computes (the same calls), with its outputs."""
    files = select_files(visits_dir, first, last)
    table, dropped = aggregate_visits(read_visits(files))
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out)
    outputs = {
        "table_path": str(out),
        "start_date": first.isoformat(),
        "end_date": last.isoformat(),
        "files": len(files),
        "visits": pc.sum(table["visits"]).as_py(),
        "dropped_rows": dropped,
        "users": pc.count_distinct(table["user_id"]).as_py(),
        "restaurants": pc.count_distinct(table["restaurant_id"]).as_py(),
        "pairs": table.num_rows,
    }
    return pq.read_table(out), outputs


def assert_same_datamart(tmp: Path, visits_dir: Path, first: date, last: date, spark: SparkSession) -> dict[str, object]:
    expected, expected_outputs = arrow_datamart(visits_dir, first, last, tmp / "arrow" / "user_restaurant.parquet")
    spark_path = tmp / "spark" / "user_restaurant.parquet"
    spark_path.parent.mkdir(parents=True)
    outputs = build_datamart(spark, str(visits_dir), first, last, spark_path)
    actual = pq.read_table(spark_path)

    assert [(f.name, f.type) for f in actual.schema] == [(f.name, f.type) for f in expected.schema]
    assert actual.num_rows == expected.num_rows
    # Same rows in the same order; every value equal (counts are integers, times are milliseconds).
    assert actual.cast(expected.schema).equals(expected)
    assert {**outputs, "table_path": ""} == {**expected_outputs, "table_path": ""}
    return outputs


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("small")
    done = run_script(tmp, "datasource.py", "--size", "small", "--out", str(tmp / "data"), "--end-date", END.isoformat())
    assert done.returncode == 0, done.text
    return tmp / "data" / "visits"


def test_the_spark_datamart_equals_the_arrow_one_on_the_small_size(tmp_path: Path, spark: SparkSession, small_data: Path) -> None:
    outputs = assert_same_datamart(tmp_path, small_data, date(2026, 1, 1), END, spark)
    assert outputs["visits"] == 200_000 and outputs["users"] == 5_000 and outputs["files"] == 28


def test_a_narrower_date_range_reads_only_its_partitions(tmp_path: Path, spark: SparkSession, small_data: Path) -> None:
    outputs = assert_same_datamart(tmp_path, small_data, date(2026, 1, 20), date(2026, 1, 26), spark)
    assert outputs["files"] == 7 and 0 < int(outputs["visits"]) < 200_000


def test_csv_logs_give_the_same_datamart(tmp_path: Path, spark: SparkSession) -> None:
    done = run_script(tmp_path, "datasource.py", "--size", "tiny", "--format", "csv", "--out", str(tmp_path / "data"),
                      "--end-date", END.isoformat(), "--days", "5")
    assert done.returncode == 0, done.text
    outputs = assert_same_datamart(tmp_path, tmp_path / "data" / "visits", date(2026, 1, 24), END, spark)
    assert outputs["files"] == 5


def test_integer_ids_naive_times_and_rows_without_ids_give_the_same_datamart(tmp_path: Path, spark: SparkSession) -> None:
    visits = tmp_path / "visits"
    for day, users in ((27, [1, 2, 2, None, 3]), (28, [2, 2, 1, 3, 3])):
        folder = visits / f"date=2026-01-{day}"
        folder.mkdir(parents=True)
        table = pa.table({
            "user_id": pa.array(users, pa.int64()),
            "restaurant_id": pa.array([10, 10, 11, 12, None], pa.int32()),
            "visited_at": pa.array([datetime(2026, 1, day, h, 30, 15, 250_000) for h in range(5)], pa.timestamp("us")),
            "extra": pa.array(["x"] * 5),
        })
        pq.write_table(table, folder / "part-0.parquet")
    outputs = assert_same_datamart(tmp_path, visits, date(2026, 1, 27), END, spark)
    assert outputs["dropped_rows"] == 3 and outputs["pairs"] == 5


def test_no_files_for_the_range_fail_with_the_local_readers_message(spark: SparkSession, small_data: Path, tmp_path: Path) -> None:
    with pytest.raises(StageError) as local:
        select_files(small_data, date(2025, 6, 3), date(2025, 6, 30))
    with pytest.raises(StageError) as spark_error:
        build_datamart(spark, str(small_data), date(2025, 6, 3), date(2025, 6, 30), tmp_path / "t.parquet")
    assert str(spark_error.value) == str(local.value)
    assert "no visit files for 2025-06-03 .. 2025-06-30" in str(spark_error.value)


def test_a_missing_folder_a_missing_column_and_a_corrupt_file_are_named(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(StageError, match=f"visits folder {tmp_path / 'nowhere'} does not exist"):
        build_datamart(spark, str(tmp_path / "nowhere"), END, END, tmp_path / "t.parquet")

    folder = tmp_path / "visits" / f"date={END}"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"user_id": ["u1"], "visited_at": [datetime(2026, 1, 28)]}), folder / "part-0.parquet")
    with pytest.raises(StageError, match="column 'restaurant_id' missing in .*part-0.parquet .*found: user_id, visited_at"):
        build_datamart(spark, str(tmp_path / "visits"), END, END, tmp_path / "t.parquet")

    (folder / "part-0.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(StageError, match="cannot read .*part-0.parquet as Parquet"):
        build_datamart(spark, str(tmp_path / "visits"), END, END, tmp_path / "t.parquet")
