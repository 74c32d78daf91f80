"""Checks that the Spark datamart reads the visit logs from HDFS: copies a local visits folder
into HDFS through Hadoop's FileSystem API, builds the datamart from its hdfs:// and webhdfs://
URIs with one local SparkSession, and compares each table and its outputs with the Arrow
datamart of the local folder. Prints one JSON line; exits 1 on a difference. HADOOP_CONF_DIR
names the cluster (test/examples/similar-users-spark-hdfs.test.ts starts a minicluster for it).

    python tests/check_spark_hdfs.py --local /tmp/data/visits --hdfs hdfs://127.0.0.1:9000/visits \\
        --webhdfs webhdfs://127.0.0.1:9870/visits --start-date 2026-01-22 --end-date 2026-01-28 --work /tmp/check
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import pyarrow.compute as pc  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from similar_users.aggregate import aggregate_visits  # noqa: E402
from similar_users.spark_datamart import SHORT_JOB_JAVA_OPTIONS, SQL_SETTINGS, build_datamart  # noqa: E402
from similar_users.visits import read_visits, select_files  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", required=True)
    parser.add_argument("--hdfs", required=True)
    parser.add_argument("--webhdfs", required=True)
    parser.add_argument("--start-date", required=True)
    parser.add_argument("--end-date", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    first, last = date.fromisoformat(args.start_date), date.fromisoformat(args.end_date)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    expected, dropped = aggregate_visits(read_visits(select_files(args.local, first, last)))
    expected_outputs = {
        "visits": pc.sum(expected["visits"]).as_py(),
        "dropped_rows": dropped,
        "users": pc.count_distinct(expected["user_id"]).as_py(),
        "restaurants": pc.count_distinct(expected["restaurant_id"]).as_py(),
        "pairs": expected.num_rows,
    }

    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("similar-users-hdfs-check")
    builder = builder.config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
    builder = builder.config("spark.driver.extraJavaOptions", SHORT_JOB_JAVA_OPTIONS)
    for key, value in SQL_SETTINGS.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    report: dict[str, object] = {"expected": expected_outputs}
    failures = []
    try:
        jvm = spark.sparkContext._jvm
        target = jvm.org.apache.hadoop.fs.Path(args.hdfs)
        fs = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path(Path(args.local).resolve().as_uri()), target)
        for name, uri in (("hdfs", args.hdfs), ("webhdfs", args.webhdfs)):
            path = work / name / "user_restaurant.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            outputs = build_datamart(spark, uri, first, last, path)
            actual = pq.read_table(path)
            same_table = actual.cast(expected.schema).equals(expected) and [f.type for f in actual.schema] == [f.type for f in expected.schema]
            same_outputs = all(outputs[k] == v for k, v in expected_outputs.items())
            report[name] = {"outputs": outputs, "same_table": same_table, "same_outputs": same_outputs}
            if not (same_table and same_outputs):
                failures.append(name)
    finally:
        spark.stop()
    report["ok"] = not failures
    print(json.dumps(report, default=str), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
