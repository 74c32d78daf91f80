"""similar-users/datasource: writes seeded synthetic restaurant visit logs with a known answer
(date partitions under <out>/visits, the planted groups under <out>/truth), or, with
--generate false, checks that <out> already holds real logs and passes their folder on.

Standalone: python datasource.py --size small --out /tmp/visits --end-date 2026-01-28
"""

from __future__ import annotations

import argparse
import os
from datetime import date, datetime, timezone
from pathlib import Path

from similar_users.errors import StageError
from similar_users.stage import parse_bool, run_stage

STAGE = "datasource"


def parse_args() -> argparse.Namespace:
    from similar_users.generator import PRESETS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small", help=f"data set size: {', '.join(PRESETS)} (default small)")
    parser.add_argument("--out", default="", help="data folder (default $CAPSTAN_ARTIFACTS_DIR/data)")
    parser.add_argument("--end-date", default="", help="last day of visits, YYYY-MM-DD (default: the run's logical date, else today)")
    parser.add_argument("--days", default="28", help="number of days of visits (default 28)")
    parser.add_argument("--seed", default="7", help="random seed (default 7)")
    parser.add_argument("--format", default="parquet", help="file format: parquet or csv (default parquet)")
    parser.add_argument("--generate", default="true", help="true: write synthetic logs; false: use the logs already in --out")
    return parser.parse_args()


def end_date(value: str) -> date:
    from similar_users.visits import parse_date

    if value.strip():
        return parse_date(value, "--end-date")
    logical = os.environ.get("CAPSTAN_LOGICAL_DATE", "")
    if logical:
        return parse_date(logical, "CAPSTAN_LOGICAL_DATE")
    return datetime.now(timezone.utc).date()


def data_folder(out: str) -> Path:
    if out.strip():
        return Path(out).resolve()
    artifacts = os.environ.get("CAPSTAN_ARTIFACTS_DIR", "")
    if not artifacts:
        raise StageError("no data folder: pass --out (the data_dir parameter) or run under Capstan, which sets CAPSTAN_ARTIFACTS_DIR")
    return (Path(artifacts) / "data").resolve()


def integer(value: str, flag: str, minimum: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError as error:
        raise StageError(f"{flag}={value!r} is not an integer") from error
    if number < minimum:
        raise StageError(f"{flag}={number} must be at least {minimum}")
    return number


def main() -> dict[str, object]:
    from similar_users import generator
    from similar_users.visits import list_partitions

    args = parse_args()
    out = data_folder(args.out)
    if not parse_bool(args.generate, "--generate"):
        visits_dir = out / "visits" if (out / "visits").is_dir() else out
        partitions = list_partitions(visits_dir)
        files = sum(len(p.files) for p in partitions)
        if files == 0:
            raise StageError(f"--generate false but {visits_dir} holds no date=YYYY-MM-DD/*.parquet or *.csv files")
        truth = out / "truth" / "user_groups.parquet"
        return {
            "generated": False,
            "data_dir": str(out),
            "visits_dir": str(visits_dir),
            "truth_path": str(truth) if truth.is_file() else "",
            "start_date": partitions[0].day.isoformat(),
            "end_date": partitions[-1].day.isoformat(),
            "files": files,
        }
    if args.size not in generator.PRESETS:
        raise StageError(f"--size {args.size!r} is not one of {', '.join(generator.PRESETS)}")
    if args.format not in ("parquet", "csv"):
        raise StageError(f"--format {args.format!r} is not one of parquet, csv")
    days = integer(args.days, "--days", 1)
    seed = integer(args.seed, "--seed", 0)
    last = end_date(args.end_date)
    preset = generator.PRESETS[args.size]
    data = generator.generate(preset, seed, days)
    try:
        summary = generator.write(data, out, last, days, args.format)
    except OSError as error:
        raise StageError(f"cannot write the visit logs under {out}: {error}") from error
    return {
        "generated": True,
        "size": args.size,
        "seed": seed,
        "data_dir": str(out),
        "visits_dir": str(out / "visits"),
        "truth_path": str(out / "truth" / "user_groups.parquet"),
        "start_date": summary["start_date"],
        "end_date": summary["end_date"],
        "files": summary["files"],
        "visits": summary["visits"],
        "users": preset.users,
        "restaurants": preset.restaurants,
        "groups": preset.groups,
    }


if __name__ == "__main__":
    run_stage(STAGE, main)
