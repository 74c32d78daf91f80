"""Runs pipeline.yaml's tasks one after another on this machine, the way Capstan's local
executor does (same working folder, CAPSTAN_* environment, outputs files, templating of
{{ ds }}, {{ params.X }} and {{ tasks.T.outputs.K }}), with papermill for notebook tasks.
It checks the pipeline file's wiring and stages without the engine, and prints per-task
seconds and peak memory.

    .venv/bin/python examples/similar-users/tests/local_runner.py --work /tmp/su --param size=full
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import yaml

PIPELINE_DIR = Path(__file__).resolve().parent.parent
PIPELINE_FILE = PIPELINE_DIR / "pipeline.yaml"
TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")


@dataclass
class TaskResult:
    task: str
    returncode: int
    wall_seconds: float
    outputs: dict[str, object]
    stdout: str
    stderr: str


@dataclass
class RunResult:
    tasks: list[TaskResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.tasks) and all(t.returncode == 0 for t in self.tasks)

    def task(self, name: str) -> TaskResult:
        return next(t for t in self.tasks if t.task == name)


def _order(tasks: dict[str, dict]) -> list[str]:
    done: list[str] = []
    while len(done) < len(tasks):
        ready = [n for n, t in tasks.items() if n not in done and all(d in done for d in t.get("depends_on", []))]
        if not ready:
            raise ValueError("pipeline.yaml has a dependency cycle or an unknown depends_on")
        done.extend(ready)
    return done


def _render_value(value: object) -> str:
    return json.dumps(value) if isinstance(value, (bool, int, float)) or value is None else str(value)


def render(text: str, context: dict[str, object], keep_type: bool = False) -> object:
    """Replaces {{ name }} in ``text``; with keep_type, a value that is exactly one template
    keeps its JSON type (as notebook parameters do)."""

    def look(name: str) -> object:
        value: object = context
        for part in name.split("."):
            if not isinstance(value, dict) or part not in value:
                raise KeyError(f"unknown template name {name!r}")
            value = value[part]
        return value

    whole = TEMPLATE.fullmatch(text.strip())
    if keep_type and whole:
        return look(whole.group(1))
    return TEMPLATE.sub(lambda m: _render_value(look(m.group(1))), text)


def run_pipeline(
    work: Path,
    params: dict[str, object] | None = None,
    logical_date: date = date(2026, 1, 28),
    python: str = sys.executable,
    stop_after: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> RunResult:
    """Runs the tasks in dependency order, stopping at the first failure."""
    spec = yaml.safe_load(PIPELINE_FILE.read_text())
    values = {name: p.get("default") for name, p in spec["params"].items()}
    for name, value in (params or {}).items():
        if name not in values:
            raise KeyError(f"unknown param {name!r}")
        values[name] = value
    run_id = f"manual__{logical_date.isoformat()}T00:00:00+00:00"
    start = datetime(logical_date.year, logical_date.month, logical_date.day, tzinfo=timezone.utc)
    context: dict[str, object] = {
        "ds": logical_date.isoformat(),
        "ds_nodash": logical_date.strftime("%Y%m%d"),
        "ts": start.isoformat(),
        "logical_date": start.isoformat(),
        "data_interval_start": start.isoformat(),
        "data_interval_end": (start + timedelta(days=1)).isoformat(),
        "run_id": run_id,
        "params": values,
        "tasks": {},
    }
    artifacts = work / "artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    result = RunResult()
    for name in _order(spec["tasks"]):
        task = spec["tasks"][name]
        output_file = work / "outputs" / f"{name}.json"
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text("")
        env = {
            **os.environ,
            "CAPSTAN_OUTPUT": str(output_file),
            "CAPSTAN_RUN_ID": run_id,
            "CAPSTAN_TASK_ID": name,
            "CAPSTAN_TRY": "1",
            "CAPSTAN_PIPELINE_ID": spec["id"],
            "CAPSTAN_PIPELINE_VERSION": "local-" + hashlib.sha256(PIPELINE_FILE.read_bytes()).hexdigest()[:12],
            "CAPSTAN_LOGICAL_DATE": start.isoformat(),
            "CAPSTAN_DATA_INTERVAL_START": start.isoformat(),
            "CAPSTAN_DATA_INTERVAL_END": (start + timedelta(days=1)).isoformat(),
            "CAPSTAN_ARTIFACTS_DIR": str(artifacts),
            "CUDA_VISIBLE_DEVICES": "",
            **(extra_env or {}),
        }
        if "python" in task:
            argv = [python, task["python"], *(str(render(a, context)) for a in task.get("args", []))]
        elif "notebook" in task:
            parameters = {k: render(v, context, keep_type=True) if isinstance(v, str) else v for k, v in task.get("parameters", {}).items()}
            executed = work / "notebooks" / f"{name}.ipynb"
            executed.parent.mkdir(parents=True, exist_ok=True)
            argv = [python, "-m", "papermill", task["notebook"], str(executed), "-y", json.dumps(parameters),
                    "--cwd", str(PIPELINE_DIR), "-k", task.get("kernel", "python3"), "--no-progress-bar"]
        else:
            raise ValueError(f"task {name} is neither python nor notebook")
        started = time.perf_counter()
        proc = subprocess.run(argv, cwd=PIPELINE_DIR, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - started
        text = output_file.read_text().strip()
        outputs = json.loads(text) if text else {}
        result.tasks.append(TaskResult(name, proc.returncode, wall, outputs, proc.stdout, proc.stderr))
        context["tasks"][name] = {"outputs": outputs}  # type: ignore[index]
        if proc.returncode != 0 or name == stop_after:
            break
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="scratch folder (artifacts, outputs, executed notebooks)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--date", default="2026-01-28", help="logical date (default 2026-01-28)")
    args = parser.parse_args()
    params = {}
    for pair in args.param:
        name, _, value = pair.partition("=")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    result = run_pipeline(Path(args.work).resolve(), params, date.fromisoformat(args.date))
    print(f"{'task':<11} {'wall s':>7} {'stage s':>8} {'peak MiB':>9}")
    for t in result.tasks:
        print(f"{t.task:<11} {t.wall_seconds:>7.1f} {t.outputs.get('seconds', float('nan')):>8.1f} {t.outputs.get('peak_rss_mb', float('nan')):>9.0f}")
    print(f"{'total':<11} {sum(t.wall_seconds for t in result.tasks):>7.1f}")
    for t in result.tasks:
        if t.returncode != 0:
            print(f"task {t.task} failed ({t.returncode}):\n{t.stderr[-3000:]}", file=sys.stderr)
    if result.ok and "evaluate" in [t.task for t in result.tasks]:
        e = result.task("evaluate").outputs
        print(f"precision@{e.get('k')}: model {e.get('precision_at_k')}, raw counts {e.get('raw_counts_precision_at_k')}, random {e.get('random_precision_at_k')}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
