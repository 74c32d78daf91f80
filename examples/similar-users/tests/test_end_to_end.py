"""The whole pipeline at size small, run from pipeline.yaml as the engine would (python tasks
with the venv's python, notebook tasks through papermill), reaches precision@10 >= 0.8, beats
both baselines, reports time and memory for every stage, and publishes a version that the
query command answers from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import PIPELINE_DIR, run_script

STAGES = ["datasource", "datamart", "features", "train", "predict", "evaluate", "publish", "register"]


def test_every_stage_succeeds_and_reports_seconds_and_peak_memory(small_run) -> None:
    result, _ = small_run
    failed = [f"{t.task}: {t.stderr[-2000:]}" for t in result.tasks if t.returncode != 0]
    assert not failed, failed
    assert [t.task for t in result.tasks] == STAGES
    for task in result.tasks:
        assert task.outputs["seconds"] > 0 and task.outputs["peak_rss_mb"] > 0, task.task
        assert len(json.dumps(task.outputs)) < 4096


def test_precision_at_10_reaches_the_threshold_and_beats_both_baselines(small_run) -> None:
    result, _ = small_run
    metrics = result.task("evaluate").outputs
    assert metrics["k"] == 10 and metrics["passed"] is True
    assert metrics["precision_at_k"] >= 0.8
    assert metrics["precision_at_k"] >= metrics["raw_counts_precision_at_k"] + 0.1
    assert metrics["random_precision_at_k"] < 0.1


def test_features_reports_what_it_dropped(small_run) -> None:
    result, _ = small_run
    features = result.task("features").outputs
    datamart = result.task("datamart").outputs
    assert features["users"] + features["dropped_users"] == datamart["users"]
    assert features["restaurants"] + features["dropped_restaurants"] == datamart["restaurants"]
    assert datamart["visits"] == result.task("datasource").outputs["visits"]


def test_publish_writes_a_version_with_params_and_moves_latest(small_run) -> None:
    result, work = small_run
    published = result.task("publish").outputs
    root = Path(published["results_dir"])
    assert root == work / "results"
    assert (root / "latest").resolve() == Path(published["version_dir"]).resolve()
    manifest = json.loads((root / "latest" / "manifest.json").read_text())
    assert manifest["params"]["size"] == "small" and manifest["params"]["k"] == 10
    assert manifest["pipeline_id"] == "similar-users" and manifest["pipeline_version"]
    assert manifest["metrics"]["precision_at_k"] == result.task("evaluate").outputs["precision_at_k"]
    assert set(manifest["files"]) == {"embeddings.npy", "users.parquet", "similar_users.parquet", "metrics.json"}


def test_query_answers_who_is_similar_from_the_latest_version(small_run, tmp_path: Path) -> None:
    result, work = small_run
    root = work / "results"
    argv = [sys.executable, "query.py", "--results", str(root), "--user", "u000042", "--k", "5", "--json"]
    answer = json.loads(subprocess.run(argv, cwd=PIPELINE_DIR, capture_output=True, text=True, check=True).stdout)
    assert [row["rank"] for row in answer["similar"]] == [1, 2, 3, 4, 5]
    assert "u000042" not in [row["user_id"] for row in answer["similar"]]
    scores = [row["score"] for row in answer["similar"]]
    assert scores == sorted(scores, reverse=True)

    # A second publish makes a new version; latest follows it and query reads it.
    outputs = {t.task: t.outputs for t in result.tasks}
    again = run_script(
        tmp_path, "publish.py", "--results", str(root),
        "--embeddings", outputs["train"]["embeddings_path"], "--users", outputs["features"]["users_path"],
        "--similar", outputs["predict"]["similar_users_path"], "--metrics", outputs["evaluate"]["metrics_path"],
    )
    assert again.returncode == 0, again.text
    assert again.outputs["version"] != outputs["publish"]["version"]
    assert (root / "latest").resolve() == Path(again.outputs["version_dir"]).resolve()
    missing = subprocess.run([sys.executable, "query.py", "--results", str(root), "--user", "nobody"], cwd=PIPELINE_DIR, capture_output=True, text=True)
    assert missing.returncode == 1
    assert missing.stderr.startswith("similar-users/query: user 'nobody' is not in version ")


def test_register_builds_a_servable_model_folder(small_run) -> None:
    result, _ = small_run
    outputs = result.task("register").outputs
    assert outputs["registered"] is False  # no $REGISTRY_URL here: the folder is built, not registered
    manifest = json.loads((Path(outputs["model_dir"]) / "MAR-INF" / "MANIFEST.json").read_text())
    assert manifest["model"]["handler"] == "handler.py"
