"""similar-users/evaluate: precision@k of the predicted neighbours against the planted taste
groups, next to two baselines computed the same way (k nearest by cosine, every user, same
users): random neighbours, and cosine on the raw visit counts. Fails the run when the model's
precision is below --min-precision or does not beat the raw-count baseline.

Writes metrics.json (also published); the figures are task outputs.

Standalone: python evaluate.py --neighbours /tmp/work/predict/neighbours.npy \\
    --users /tmp/work/features/users.parquet --counts /tmp/work/features/counts.npz \\
    --truth /tmp/data/truth/user_groups.parquet --work-dir /tmp/work/evaluate
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from similar_users.errors import StageError
from similar_users.stage import StageFailed, require_file, run_stage, work_dir

STAGE = "evaluate"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neighbours", required=True, help="neighbour indices (.npy) from predict")
    parser.add_argument("--users", required=True, help="user ids in row order (.parquet) from features")
    parser.add_argument("--counts", required=True, help="raw visit counts (.npz) from features, for the baseline")
    parser.add_argument("--truth", default="", help="planted groups (user_id, group .parquet); empty: real data, nothing to check")
    parser.add_argument("--k", default="10", help="precision@k (default 10)")
    parser.add_argument("--min-precision", default="0.8", help="fail below this precision@k (default 0.8)")
    parser.add_argument("--seed", default="0", help="seed of the random baseline (default 0)")
    parser.add_argument("--work-dir", default="", help="artifacts folder (default $CAPSTAN_ARTIFACTS_DIR/evaluate)")
    return parser.parse_args()


def load_groups(path: str, users: np.ndarray) -> np.ndarray:
    """The planted group of each user in row order (-1 for a user the truth does not list)."""
    from similar_users.matrices import read_table

    table = read_table(path, ("user_id", "group"), "--truth")
    mapping = dict(zip(table["user_id"].astype(str), table["group"].astype(np.int64)))
    return np.fromiter((mapping.get(str(u), -1) for u in users), dtype=np.int64, count=len(users))


def main() -> dict[str, object]:
    from similar_users.matrices import load_ids, load_matrix
    from similar_users.metrics import precision_at_k, precision_by_visits
    from similar_users.neighbours import random_neighbours, top_k_cosine

    args = parse_args()
    try:
        k = int(str(args.k).strip())
        min_precision = float(str(args.min_precision).strip())
        seed = int(str(args.seed).strip())
    except ValueError as error:
        raise StageError(
            f"--k={args.k!r} and --seed={args.seed!r} must be integers, --min-precision={args.min_precision!r} a number"
        ) from error
    if k < 1:
        raise StageError(f"--k={k} must be at least 1")
    neighbours_file = require_file(args.neighbours, "neighbours file", "--neighbours")
    try:
        neighbours = np.load(neighbours_file, allow_pickle=False)
    except (OSError, ValueError) as error:
        raise StageError(f"cannot read {neighbours_file} (--neighbours) as a .npy array: {error}") from error
    users = load_ids(args.users, "user_id", "--users")
    counts = load_matrix(args.counts, "--counts")
    if neighbours.ndim != 2 or neighbours.shape[0] != len(users) or counts.shape[0] != len(users):
        raise StageError(
            f"--neighbours {neighbours.shape}, --users ({len(users)}) and --counts {counts.shape} "
            "do not describe the same users; they must come from the same run"
        )
    if neighbours.shape[1] < k:
        raise StageError(
            f"--k={k} but predict kept only {neighbours.shape[1]} neighbours per user; "
            f"run predict with k >= {k} or evaluate with --k <= {neighbours.shape[1]}"
        )
    folder = work_dir(args.work_dir, STAGE)
    metrics: dict[str, object] = {"k": k, "users": int(len(users)), "min_precision": min_precision}
    if not str(args.truth).strip():
        print("no ground truth (--truth is empty): the logs are not synthetic, precision is not measured")
        metrics.update({"truth": False, "passed": True})
    else:
        groups = load_groups(args.truth, users)
        known = int((groups >= 0).sum())
        if known == 0:
            raise StageError(f"none of the {len(users):,} users appears in {args.truth} (--truth): wrong truth file?")
        raw_neighbours, _ = top_k_cosine(counts, k)
        random = random_neighbours(len(users), k, seed)
        visits = np.asarray(counts.sum(axis=1)).ravel()
        precision = precision_at_k(neighbours, groups, k)
        raw = precision_at_k(raw_neighbours, groups, k)
        metrics.update(
            {
                "truth": True,
                "users_with_group": known,
                "groups": int(len(np.unique(groups[groups >= 0]))),
                "precision_at_k": round(precision, 4),
                "raw_counts_precision_at_k": round(raw, 4),
                "random_precision_at_k": round(precision_at_k(random, groups, k), 4),
                "precision_by_visits": precision_by_visits(neighbours, groups, visits, k),
                "raw_counts_precision_by_visits": precision_by_visits(raw_neighbours, groups, visits, k),
            }
        )
        metrics["passed"] = bool(precision >= min_precision and precision > raw)
    metrics_path = folder / "metrics.json"
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True))
    print(json.dumps(metrics, indent=2, sort_keys=True))
    outputs = {key: metrics[key] for key in metrics if not key.endswith("by_visits")}
    outputs["metrics_path"] = str(metrics_path)
    if not metrics["passed"]:
        p, raw = metrics["precision_at_k"], metrics["raw_counts_precision_at_k"]
        reason = (
            f"precision@{k} {p} is below the threshold min_precision={min_precision}"
            if p < min_precision
            else f"precision@{k} {p} does not beat the raw-count baseline {raw}"
        )
        raise StageFailed(StageError(f"{reason} (random baseline {metrics['random_precision_at_k']}; see {metrics_path})"), outputs)
    return outputs


if __name__ == "__main__":
    run_stage(STAGE, main)
