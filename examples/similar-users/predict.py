"""similar-users/predict: the k most similar users of every user by cosine similarity of their
embeddings, computed a block of users at a time so memory stays bounded at any size.

Writes neighbours.npy (users x k row indices), scores.npy and similar_users.parquet
(user_id, rank, similar_user_id, score).

Standalone: python predict.py --embeddings /tmp/work/train/user_factors.npy \\
    --users /tmp/work/features/users.parquet --k 10 --work-dir /tmp/work/predict
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from similar_users.errors import StageError
from similar_users.stage import require_file, run_stage, work_dir

STAGE = "predict"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embeddings", required=True, help="user embeddings (.npy) from train")
    parser.add_argument("--users", required=True, help="user ids in embedding row order (.parquet) from features")
    parser.add_argument("--k", default="10", help="neighbours per user (default 10)")
    parser.add_argument("--block-rows", default="0", help="users per similarity block (default 0: sized to ~64 MiB)")
    parser.add_argument("--work-dir", default="", help="artifacts folder (default $CAPSTAN_ARTIFACTS_DIR/predict)")
    return parser.parse_args()


def load_embeddings(path: str) -> np.ndarray:
    file = require_file(path, "embeddings file", "--embeddings")
    try:
        matrix = np.load(file, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise StageError(f"cannot read {file} (--embeddings) as a .npy array: {error}") from error
    if matrix.ndim != 2:
        raise StageError(f"{file} (--embeddings) has shape {matrix.shape}; expected users x factors")
    return matrix


def main() -> dict[str, object]:
    import pandas as pd

    from similar_users.matrices import load_ids
    from similar_users.neighbours import check_k, top_k_cosine

    args = parse_args()
    try:
        k = int(str(args.k).strip())
        block_rows = int(str(args.block_rows).strip())
    except ValueError as error:
        raise StageError(f"--k={args.k!r} and --block-rows={args.block_rows!r} must be integers") from error
    embeddings = load_embeddings(args.embeddings)
    users = load_ids(args.users, "user_id", "--users")
    if len(users) != embeddings.shape[0]:
        raise StageError(
            f"{args.users} (--users) lists {len(users):,} users but {args.embeddings} (--embeddings) "
            f"has {embeddings.shape[0]:,} rows; both must come from the same run"
        )
    check_k(k, len(users), "k")
    neighbours, scores = top_k_cosine(embeddings, k, block_rows or None)
    folder = work_dir(args.work_dir, STAGE)
    np.save(folder / "neighbours.npy", neighbours)
    np.save(folder / "scores.npy", scores)
    table = pd.DataFrame(
        {
            "user_id": np.repeat(users, k),
            "rank": np.tile(np.arange(1, k + 1, dtype=np.int16), len(users)),
            "similar_user_id": users[neighbours.ravel()],
            "score": scores.ravel(),
        }
    )
    similar_path = Path(folder) / "similar_users.parquet"
    table.to_parquet(similar_path, index=False)
    return {
        "neighbours_path": str(folder / "neighbours.npy"),
        "scores_path": str(folder / "scores.npy"),
        "similar_users_path": str(similar_path),
        "users": int(len(users)),
        "k": k,
        "mean_score": round(float(scores.mean()), 4),
    }


if __name__ == "__main__":
    run_stage(STAGE, main)
