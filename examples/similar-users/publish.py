"""similar-users/publish: writes a new version folder under the results root (embeddings,
user ids, the similar-users table, metrics, the params and pipeline version used) and moves
the root's ``latest`` pointer to it. Query it with query.py.

Standalone: python publish.py --results results --embeddings /tmp/work/train/user_factors.npy \\
    --users /tmp/work/features/users.parquet --similar /tmp/work/predict/similar_users.parquet \\
    --metrics /tmp/work/evaluate/metrics.json --param size=small --param k=10
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from similar_users.errors import StageError
from similar_users.stage import require_file, run_stage

STAGE = "publish"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", default="results", help="results root (default: results, relative to the working folder)")
    parser.add_argument("--embeddings", required=True, help="user embeddings (.npy) from train")
    parser.add_argument("--users", required=True, help="user ids in embedding row order (.parquet) from features")
    parser.add_argument("--similar", required=True, help="similar-users table (.parquet) from predict")
    parser.add_argument("--metrics", required=True, help="metrics.json from evaluate")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a pipeline param to record (repeatable)")
    return parser.parse_args()


def parse_params(pairs: list[str]) -> dict[str, object]:
    params: dict[str, object] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise StageError(f"--param {pair!r} is not NAME=VALUE")
        try:
            params[name.strip()] = json.loads(value)  # numbers and booleans keep their type
        except json.JSONDecodeError:
            params[name.strip()] = value
    return params


def main() -> dict[str, object]:
    from similar_users.results import publish

    args = parse_args()
    files = {
        "embeddings.npy": require_file(args.embeddings, "embeddings file", "--embeddings"),
        "users.parquet": require_file(args.users, "user ids file", "--users"),
        "similar_users.parquet": require_file(args.similar, "similar-users table", "--similar"),
        "metrics.json": require_file(args.metrics, "metrics file", "--metrics"),
    }
    try:
        metrics = json.loads(files["metrics.json"].read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise StageError(f"cannot read {files['metrics.json']} (--metrics) as JSON: {error}") from error
    if not str(args.results).strip():
        raise StageError("--results is empty: it must name the results root folder")
    env = os.environ
    manifest = {
        "pipeline_id": env.get("CAPSTAN_PIPELINE_ID", "similar-users"),
        "pipeline_version": env.get("CAPSTAN_PIPELINE_VERSION", ""),
        "run_id": env.get("CAPSTAN_RUN_ID", ""),
        "logical_date": env.get("CAPSTAN_LOGICAL_DATE", ""),
        "params": parse_params(args.param),
        "metrics": metrics,
    }
    root = Path(args.results).resolve()
    version, folder = publish(root, files, manifest)
    print(f"published version {version} to {folder}; {root / 'latest'} now points to it")
    return {
        "version": version,
        "version_dir": str(folder),
        "results_dir": str(root),
        "latest": str(root / "latest"),
    }


if __name__ == "__main__":
    run_stage(STAGE, main)
