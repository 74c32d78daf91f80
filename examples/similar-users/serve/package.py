"""similar-users/serve/package: builds the model folder that `capstan serve` (or TorchServe) loads:
the embeddings from train, the user ids from features (as JSON, in row order), the handler and
MAR-INF/MANIFEST.json. Register the folder with `capstan models register similar-users DIR`.

Standalone: python serve/package.py --embeddings user_factors.npy --users users.parquet --k 10 --out model
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embeddings", required=True, help="user embeddings (.npy) from train")
    parser.add_argument("--users", required=True, help="user ids in embedding row order (.parquet, column user_id) from features")
    parser.add_argument("--k", type=int, default=10, help="similar users answered when a request names no k")
    parser.add_argument("--out", required=True, help="the model folder to write (replaced)")
    parser.add_argument("--name", default="similar-users", help="the manifest's modelName")
    return parser.parse_args()


def build_model_folder(embeddings_path: str, users_path: str, k: int, out_dir: str, name: str = "similar-users") -> dict[str, object]:
    """Writes the model folder; answers its path and the number of users."""
    import numpy as np
    import pyarrow.parquet as pq

    embeddings = np.load(embeddings_path).astype(np.float32)
    ids = pq.read_table(users_path, columns=["user_id"]).column("user_id").to_pylist()
    if len(ids) != embeddings.shape[0]:
        sys.exit(f"{users_path} (--users) lists {len(ids)} users but {embeddings_path} (--embeddings) has {embeddings.shape[0]} rows")
    if k < 1:
        sys.exit(f"--k {k} must be at least 1")
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    (out / "MAR-INF").mkdir(parents=True)
    np.save(out / "embeddings.npy", embeddings)
    (out / "user_ids.json").write_text(json.dumps(ids))
    (out / "serve_config.json").write_text(json.dumps({"k": k}))
    shutil.copy(HERE / "handler.py", out / "handler.py")
    manifest = {
        "createdOn": "",
        "runtime": "python",
        "model": {"modelName": name, "handler": "handler.py", "modelVersion": "1.0"},
        "archiverVersion": "capstan",
    }
    (out / "MAR-INF" / "MANIFEST.json").write_text(json.dumps(manifest, indent=2))
    return {"model_dir": str(out.resolve()), "users": len(ids)}


def main() -> dict[str, object]:
    args = parse_args()
    return build_model_folder(args.embeddings, args.users, args.k, args.out, args.name)


if __name__ == "__main__":
    result = main()
    print(json.dumps(result))
