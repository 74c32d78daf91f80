"""similar-users/datamart, in Spark: aggregates the visit logs of a date range into the user x
restaurant table (one row per user and restaurant with the number of visits and the last
visit), the same table as datamart.ipynb, written as <work-dir>/user_restaurant.parquet.
The visits are read from a local folder or a Hadoop URI (hdfs://namenode:8020/visits,
webhdfs://namenode:9870/visits) of date=YYYY-MM-DD partitions.

As a Spark application (the spark: task of pipeline-spark.yaml):
    spark-submit datamart_spark.py --visits-dir /data/visits --end-date 2026-01-28 --work-dir /tmp/dm
Standalone with the venv's pyspark (local[*] unless --master says otherwise):
    python datamart_spark.py --visits-dir /data/visits --end-date 2026-01-28 --work-dir /tmp/dm
"""

from __future__ import annotations

import argparse

from similar_users.stage import run_stage, work_dir
from similar_users.visits import date_range

STAGE = "datamart"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits-dir", default="", help="folder or Hadoop URI of the date=YYYY-MM-DD partitions")
    parser.add_argument("--visits-uri", default="", help="when not empty, read the visits here instead of --visits-dir (e.g. hdfs://…)")
    parser.add_argument("--end-date", default="", help="last day of the range, YYYY-MM-DD")
    parser.add_argument("--start-date", default="", help="first day; empty: the --window-days days ending at --end-date")
    parser.add_argument("--window-days", default="28", help="days in the range when --start-date is empty (default 28)")
    parser.add_argument("--work-dir", default="", help="local folder of the table (default $CAPSTAN_ARTIFACTS_DIR/datamart)")
    parser.add_argument("--master", default="", help="Spark master when not started by spark-submit (default local[*])")
    return parser.parse_args()


def main() -> dict[str, object]:
    args = parse_args()
    first, last = date_range(args.start_date, args.end_date, _window(args.window_days))
    table_path = work_dir(args.work_dir, STAGE) / "user_restaurant.parquet"
    visits = args.visits_uri.strip() or args.visits_dir

    from similar_users.spark_datamart import build_datamart, session

    spark = session(args.master or None)
    try:
        outputs = build_datamart(spark, visits, first, last, table_path)
        outputs["spark_version"] = spark.version
        outputs["spark_master"] = spark.sparkContext.master
        return outputs
    finally:
        spark.stop()


def _window(value: str) -> int:
    from similar_users.errors import StageError

    try:
        return int(str(value).strip())
    except ValueError as error:
        raise StageError(f"--window-days={value!r} is not an integer") from error


if __name__ == "__main__":
    run_stage(STAGE, main)
