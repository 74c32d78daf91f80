"""Fixtures for the similar-users tests: running a stage script or notebook the way the engine
does (real processes, papermill for notebooks), a tiny generated data set, and one small run
of the whole pipeline shared by the tests that need its artifacts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PIPELINE_DIR = HERE.parent
sys.path.insert(0, str(PIPELINE_DIR))
sys.path.insert(0, str(HERE))

from local_runner import RunResult, run_pipeline  # noqa: E402


@dataclass
class Finished:
    """A finished stage process: exit code, both streams and its outputs (if it wrote any)."""

    returncode: int
    stdout: str
    stderr: str
    outputs: dict

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def _env(tmp: Path, name: str) -> tuple[dict[str, str], Path]:
    output = tmp / f"{name}.outputs.json"
    output.write_text("")
    env = {**os.environ, "CAPSTAN_OUTPUT": str(output), "CAPSTAN_ARTIFACTS_DIR": str(tmp / "artifacts"), "CUDA_VISIBLE_DEVICES": ""}
    return env, output


def _finish(proc: subprocess.CompletedProcess, output: Path) -> Finished:
    text = output.read_text().strip()
    return Finished(proc.returncode, proc.stdout, proc.stderr, json.loads(text) if text else {})


def run_script(tmp: Path, script: str, *args: str) -> Finished:
    """Runs ``script`` from the pipeline folder with the venv's python, as a python task."""
    env, output = _env(tmp, Path(script).stem)
    proc = subprocess.run([sys.executable, script, *args], cwd=PIPELINE_DIR, env=env, capture_output=True, text=True)
    return _finish(proc, output)


def run_notebook(tmp: Path, notebook: str, parameters: dict) -> Finished:
    """Runs ``notebook`` through papermill with ``parameters``, as a notebook task."""
    env, output = _env(tmp, Path(notebook).stem)
    executed = tmp / f"executed-{notebook}"
    argv = [sys.executable, "-m", "papermill", notebook, str(executed), "-y", json.dumps(parameters),
            "--cwd", str(PIPELINE_DIR), "-k", "python3", "--no-progress-bar"]
    proc = subprocess.run(argv, cwd=PIPELINE_DIR, env=env, capture_output=True, text=True)
    return _finish(proc, output)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic data set (600 users) ending 2026-01-28: <folder>/visits, <folder>/truth."""
    tmp = tmp_path_factory.mktemp("tiny")
    done = run_script(tmp, "datasource.py", "--size", "tiny", "--out", str(tmp / "data"), "--end-date", "2026-01-28", "--days", "7")
    assert done.returncode == 0, done.text
    return tmp / "data"


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunResult, Path]:
    """The whole pipeline at size small with its defaults, run once for the session."""
    work = tmp_path_factory.mktemp("small-run")
    result = run_pipeline(work, {"results_dir": str(work / "results")}, python=sys.executable)
    return result, work
