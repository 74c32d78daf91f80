"""Who is similar to user X? Answers from a published similar-users result.

    python query.py --results results --user u000042 [--k 10] [--json]

--results is a results root (its ``latest`` version is used) or one version folder.
"""

from __future__ import annotations

import argparse
import json
import sys

from similar_users.errors import StageError


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", required=True, help="results root or version folder")
    parser.add_argument("--user", required=True, help="user id")
    parser.add_argument("--k", type=int, default=10, help="how many similar users (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser.parse_args()


def query(results: str, user: str, k: int) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The manifest of the version used and the k most similar users of ``user``, best first."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from similar_users.results import resolve

    folder = resolve(results)
    manifest = json.loads((folder / "manifest.json").read_text())
    path = folder / "similar_users.parquet"
    try:
        table = pq.read_table(path, filters=[("user_id", "==", user)]).to_pandas()
    except (pa.ArrowException, OSError) as error:
        raise StageError(f"cannot read {path}: {error}") from error
    if table.empty:
        sample = pq.read_table(folder / "users.parquet").column("user_id").slice(0, 3).to_pylist()
        raise StageError(
            f"user {user!r} is not in version {manifest.get('version')} at {folder} "
            f"(users look like: {', '.join(sample)}; users with too few visits are filtered out)"
        )
    stored = len(table)
    if k < 1 or k > stored:
        raise StageError(f"--k={k}: version {manifest.get('version')} stores {stored} similar users per user; choose 1..{stored}")
    rows = table.sort_values("rank").head(k)
    return manifest, [
        {"rank": int(r.rank), "user_id": str(r.similar_user_id), "score": round(float(r.score), 4)}
        for r in rows.itertuples()
    ]


def main() -> int:
    args = parse_args()
    try:
        manifest, similar = query(args.results, args.user, args.k)
    except StageError as error:
        print(f"similar-users/query: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"user_id": args.user, "version": manifest.get("version"), "similar": similar}))
        return 0
    metrics = manifest.get("metrics", {})
    quality = f", precision@{metrics['k']} {metrics['precision_at_k']}" if "precision_at_k" in metrics else ""
    print(f"users similar to {args.user} (version {manifest.get('version')}{quality})")
    print(f"{'rank':>4}  {'user_id':<12} {'cosine':>7}")
    for row in similar:
        print(f"{row['rank']:>4}  {row['user_id']:<12} {row['score']:>7.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
