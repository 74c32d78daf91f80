"""similar-users/register: the pipeline's last stage. Builds the model folder (package.py) in the
run's artifacts and reports it as model_dir. In pipeline.yaml the platform registers it
(register_model: a new version with this run's params and the evaluate task's metrics, and
production moved to it) once the task succeeds, so the task needs no token. Run where no platform
does that, it registers the folder itself when it can reach the Capstan API ($REGISTRY_URL and
$REGISTRY_TOKEN, e.g. from a team secret; do not give them in a pipeline that declares
register_model, or the version is registered twice); without them it prints the two commands that
do the same and reports registered: false.

Standalone: python serve/register.py --embeddings user_factors.npy --users users.parquet --k 10
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # similar_users/
sys.path.insert(0, str(HERE))  # package.py

from similar_users.errors import StageError  # noqa: E402
from similar_users.stage import run_stage, work_dir  # noqa: E402

STAGE = "register"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embeddings", required=True, help="user embeddings (.npy) from train")
    parser.add_argument("--users", required=True, help="user ids in embedding row order (.parquet) from features")
    parser.add_argument("--k", type=int, default=10, help="similar users answered when a request names no k")
    parser.add_argument("--name", default="similar-users", help="the registered model's name")
    parser.add_argument("--alias", default="production", help="the alias moved to the new version")
    parser.add_argument("--lineage-task", default="evaluate", help="the task whose metrics the version records")
    parser.add_argument("--work-dir", default=None, help="where the model folder is written (default: the run's artifacts)")
    return parser.parse_args()


def call(server: str, token: str, method: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        server.rstrip("/") + path,
        method=method,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        detail = error.read().decode(errors="replace")
        raise StageError(f"{method} {path} answered {error.code}: {detail}") from error
    except urllib.error.URLError as error:
        raise StageError(f"cannot reach the Capstan API at {server} ($REGISTRY_URL): {error.reason}") from error


def main() -> dict[str, object]:
    from package import build_model_folder

    args = parse_args()
    folder = work_dir(args.work_dir, STAGE) / "model"
    built = build_model_folder(args.embeddings, args.users, args.k, str(folder), args.name)
    model_dir = str(built["model_dir"])
    run = os.environ.get("CAPSTAN_RUN_ID")
    server, token = os.environ.get("REGISTRY_URL"), os.environ.get("REGISTRY_TOKEN")
    outputs: dict[str, object] = {"model_dir": model_dir, "model_name": args.name, "users": built["users"]}
    if not server or not token:
        lineage = f" --run {run} --task {args.lineage_task}" if run else ""
        print(f"model folder {model_dir} is reported as model_dir; the pipeline's register_model registers it")
        print("when this task succeeds. Outside a pipeline (or without register_model), register and serve it with:")
        print(f"  capstan models register {args.name} {model_dir}{lineage}")
        print(f"  capstan models alias {args.name} VERSION {args.alias}")
        return {**outputs, "registered": False}
    body: dict[str, object] = {"path": model_dir}
    if run:
        body.update({"run": run, "task": args.lineage_task})
    version = call(server, token, "POST", f"/api/models/{args.name}/versions", body)
    call(server, token, "PUT", f"/api/models/{args.name}/aliases/{args.alias}", {"version": version["version"]})
    print(f"registered {args.name} version {version['version']}; {args.alias} -> {version['version']}")
    return {**outputs, "registered": True, "version": version["version"], "alias": args.alias}


if __name__ == "__main__":
    run_stage(STAGE, main)
