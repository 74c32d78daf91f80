"""Bad input makes the right stage fail with one line that names the file, column or
parameter at fault (never a bare Python traceback): no files for the date range, a corrupt
Parquet or CSV file, a missing column, no users left after filtering, k larger than the
number of users, and the quality gate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import Finished, run_notebook, run_script


def assert_clear_failure(done: Finished, stage: str, *fragments: str) -> str:
    """The stage failed and its report has a `similar-users/<stage>: ...` line holding every fragment."""
    assert done.returncode != 0, done.text
    lines = [line for line in done.text.splitlines() if line.startswith(f"similar-users/{stage}: ")]
    assert lines, f"no similar-users/{stage} line in:\n{done.text}"
    assert any(all(f in line for f in fragments) for line in lines), (fragments, lines)
    if stage not in ("datamart", "features"):  # papermill adds its own traceback for notebooks
        assert "Traceback" not in done.stderr, done.stderr
    return lines[0]


def executed_error(tmp: Path, notebook: str) -> dict:
    """The error output of the failed cell in the executed notebook."""
    book = json.loads((tmp / f"executed-{notebook}").read_text())
    errors = [o for c in book["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert len(errors) == 1
    return errors[0]


def copy_visits(tiny_data: Path, target: Path) -> Path:
    shutil.copytree(tiny_data / "visits", target)
    return target


# ---- datamart (notebook) ---------------------------------------------------------------


def test_no_files_for_the_date_range_fail_datamart_naming_the_range_and_folder(tmp_path: Path, tiny_data: Path) -> None:
    done = run_notebook(tmp_path, "datamart.ipynb", {"visits_dir": str(tiny_data / "visits"), "end_date": "2025-06-30"})
    assert_clear_failure(done, "datamart", "no visit files for 2025-06-03 .. 2025-06-30", str(tiny_data / "visits"), "2026-01-22 .. 2026-01-28")
    error = executed_error(tmp_path, "datamart.ipynb")
    assert error["ename"] == "StageError"
    assert error["traceback"] == [f"similar-users/datamart: {error['evalue']}"]  # the line, not a traceback


def test_a_missing_visits_folder_fails_datamart_naming_it(tmp_path: Path) -> None:
    done = run_notebook(tmp_path, "datamart.ipynb", {"visits_dir": str(tmp_path / "nowhere"), "end_date": "2026-01-28"})
    assert_clear_failure(done, "datamart", f"visits folder {tmp_path / 'nowhere'} does not exist")


def test_a_corrupt_parquet_file_fails_datamart_naming_the_file(tmp_path: Path, tiny_data: Path) -> None:
    visits = copy_visits(tiny_data, tmp_path / "visits")
    bad = visits / "date=2026-01-25" / "part-0.parquet"
    bad.write_bytes(bad.read_bytes()[:200])  # truncated
    done = run_notebook(tmp_path, "datamart.ipynb", {"visits_dir": str(visits), "end_date": "2026-01-28"})
    assert_clear_failure(done, "datamart", f"cannot read {bad} as Parquet")


def test_a_corrupt_csv_file_fails_datamart_naming_the_file(tmp_path: Path, tiny_data: Path) -> None:
    visits = copy_visits(tiny_data, tmp_path / "visits")
    bad = visits / "date=2026-01-24" / "part-1.csv"
    bad.write_text("user_id,restaurant_id,visited_at\nu000001,r00001,2026-01-24T10:00:00Z\nu000002,r00002\n")
    done = run_notebook(tmp_path, "datamart.ipynb", {"visits_dir": str(visits), "end_date": "2026-01-28"})
    assert_clear_failure(done, "datamart", f"cannot read {bad} as CSV", "Expected 3 columns")


def test_a_missing_column_fails_datamart_naming_the_column_and_file(tmp_path: Path, tiny_data: Path) -> None:
    visits = copy_visits(tiny_data, tmp_path / "visits")
    bad = visits / "date=2026-01-23" / "part-0.parquet"
    pd.read_parquet(bad).drop(columns=["restaurant_id"]).to_parquet(bad)
    done = run_notebook(tmp_path, "datamart.ipynb", {"visits_dir": str(visits), "end_date": "2026-01-28"})
    assert_clear_failure(
        done, "datamart", f"column 'restaurant_id' missing in {bad} (expected columns: user_id, restaurant_id, visited_at"
    )


def test_a_csv_without_a_column_fails_datamart_naming_the_column(tmp_path: Path, tiny_data: Path) -> None:
    visits = copy_visits(tiny_data, tmp_path / "visits")
    bad = visits / "date=2026-01-24" / "extra.csv"
    bad.write_text("user,restaurant_id,visited_at\nu000001,r00001,2026-01-24T10:00:00Z\n")
    done = run_notebook(tmp_path, "datamart.ipynb", {"visits_dir": str(visits), "end_date": "2026-01-28"})
    assert_clear_failure(done, "datamart", f"column 'user_id' missing in {bad}")


# ---- features (notebook) ---------------------------------------------------------------


def test_no_users_left_after_filtering_fails_features_naming_the_parameters(tmp_path: Path, tiny_data: Path) -> None:
    mart = run_notebook(tmp_path, "datamart.ipynb", {"visits_dir": str(tiny_data / "visits"), "end_date": "2026-01-28"})
    assert mart.returncode == 0, mart.text
    done = run_notebook(tmp_path, "features.ipynb", {"table_path": mart.outputs["table_path"], "min_user_restaurants": 500})
    assert_clear_failure(done, "features", "no users left after filtering", "min_user_restaurants=500", "dropped all 600 users")


def test_a_table_without_the_visits_column_fails_features(tmp_path: Path) -> None:
    table = tmp_path / "table.parquet"
    pd.DataFrame({"user_id": ["u1"], "restaurant_id": ["r1"]}).to_parquet(table)
    done = run_notebook(tmp_path, "features.ipynb", {"table_path": str(table)})
    assert_clear_failure(done, "features", f"column 'visits' missing in {table} (table_path")
    error = executed_error(tmp_path, "features.ipynb")
    assert error["traceback"] == [f"similar-users/features: {error['evalue']}"]


# ---- python stages -----------------------------------------------------------------------


def test_k_larger_than_the_number_of_users_fails_predict_naming_k(tmp_path: Path, small_run) -> None:
    result, _ = small_run
    train, features = result.task("train").outputs, result.task("features").outputs
    done = run_script(tmp_path, "predict.py", "--embeddings", train["embeddings_path"], "--users", features["users_path"], "--k", "6000")
    assert_clear_failure(done, "predict", "parameter k=6000 is larger than the number of other users", "choose k <= ")


def test_a_missing_input_file_fails_train_naming_the_flag(tmp_path: Path) -> None:
    done = run_script(tmp_path, "train.py", "--weights", str(tmp_path / "missing.npz"))
    assert_clear_failure(done, "train", f"--weights={tmp_path / 'missing.npz'}")


def test_a_bad_hyperparameter_fails_train_naming_it(tmp_path: Path, small_run) -> None:
    result, _ = small_run
    done = run_script(tmp_path, "train.py", "--weights", result.task("features").outputs["weights_path"], "--factors", "zero")
    assert_clear_failure(done, "train", "--factors='zero' is not an integer")


def test_precision_below_the_threshold_fails_evaluate_but_keeps_the_metrics(tmp_path: Path, small_run) -> None:
    result, _ = small_run
    predict, features, source = (result.task(t).outputs for t in ("predict", "features", "datasource"))
    done = run_script(
        tmp_path, "evaluate.py", "--neighbours", predict["neighbours_path"], "--users", features["users_path"],
        "--counts", features["counts_path"], "--truth", source["truth_path"], "--min-precision", "0.9999",
    )
    assert_clear_failure(done, "evaluate", "precision@10", "is below the threshold min_precision=0.9999")
    assert done.outputs["passed"] is False and done.outputs["precision_at_k"] > 0.8


def test_an_empty_data_folder_fails_datasource_when_not_generating(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    done = run_script(tmp_path, "datasource.py", "--out", str(tmp_path / "logs"), "--generate", "false")
    assert_clear_failure(done, "datasource", "--generate false but", "holds no date=YYYY-MM-DD")


@pytest.mark.parametrize("flag,value,message", [("--size", "huge", "--size 'huge' is not one of tiny, small, full"), ("--end-date", "28/01/2026", "parameter --end-date='28/01/2026' is not a date")])
def test_bad_datasource_parameters_are_named(tmp_path: Path, flag: str, value: str, message: str) -> None:
    done = run_script(tmp_path, "datasource.py", "--out", str(tmp_path / "d"), flag, value)
    assert_clear_failure(done, "datasource", message)
