"""pipeline-spark.yaml is pipeline.yaml with the datamart as a spark: task: every other task,
param and setting stays equal, so the two variants cannot drift apart; the Spark datamart gets
the same inputs as the notebook and runs only when asked (no schedule)."""

from __future__ import annotations

import yaml
from conftest import PIPELINE_DIR


def load(name: str) -> dict:
    return yaml.safe_load((PIPELINE_DIR / name).read_text())


def test_the_spark_variant_differs_from_the_reference_pipeline_only_in_its_datamart() -> None:
    pandas, spark = load("pipeline.yaml"), load("pipeline-spark.yaml")
    assert spark["id"] == "similar-users-spark" and "schedule" not in spark
    for key in set(pandas) - {"id", "description", "schedule", "params", "tasks"}:
        assert spark[key] == pandas[key], key
    assert {k: v for k, v in spark["params"].items() if k != "visits_uri"} == pandas["params"]
    assert spark["params"]["visits_uri"]["default"] == ""
    assert set(spark["tasks"]) == set(pandas["tasks"])
    for task in set(pandas["tasks"]) - {"datamart"}:
        assert spark["tasks"][task] == pandas["tasks"][task], task


def test_the_spark_datamart_gets_the_notebooks_inputs() -> None:
    notebook = load("pipeline.yaml")["tasks"]["datamart"]
    task = load("pipeline-spark.yaml")["tasks"]["datamart"]
    assert task["spark"]["application"] == "datamart_spark.py" and (PIPELINE_DIR / "datamart_spark.py").is_file()
    assert task["depends_on"] == notebook["depends_on"]
    args = dict(zip(task["args"][::2], task["args"][1::2]))
    names = {"visits_dir": "--visits-dir", "end_date": "--end-date", "start_date": "--start-date", "window_days": "--window-days"}
    for parameter, value in notebook["parameters"].items():
        assert args[names[parameter]] == value, parameter
