"""Finding and reading visit logs: date partitions ``date=YYYY-MM-DD/`` holding Parquet or CSV
files with the columns user_id, restaurant_id, visited_at. Every problem is reported as a
StageError naming the folder, file or column at fault."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .errors import StageError

COLUMNS = ("user_id", "restaurant_id", "visited_at")
SUFFIXES = (".parquet", ".csv", ".csv.gz")
PARTITION_PREFIX = "date="


@dataclass(frozen=True)
class Partition:
    """One day of visit logs."""

    day: date
    files: tuple  # Path for local folders; URI strings in the Spark datamart


def parse_date(value: str, name: str) -> date:
    """Reads an ISO date parameter (a timestamp is cut to its date)."""
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError as error:
        raise StageError(f"parameter {name}={value!r} is not a date (expected YYYY-MM-DD)") from error


def date_range(start: str, end: str, window_days: int) -> tuple[date, date]:
    """The inclusive range [start, end]; an empty start means the window_days days ending at end."""
    last = parse_date(end, "end_date")
    if str(start).strip():
        first = parse_date(start, "start_date")
    else:
        if int(window_days) < 1:
            raise StageError(f"parameter window_days={window_days} must be at least 1")
        first = last - timedelta(days=int(window_days) - 1)
    if first > last:
        raise StageError(f"start_date {first} is after end_date {last}: the date range is empty")
    return first, last


def _is_data_file(path: Path) -> bool:
    return path.is_file() and not path.name.startswith((".", "_")) and path.name.endswith(SUFFIXES)


def list_partitions(visits_dir: str | Path) -> list[Partition]:
    """All date partitions under ``visits_dir``, oldest first."""
    if not str(visits_dir):
        raise StageError("visits_dir is empty: it must name the folder of date=YYYY-MM-DD partitions")
    root = Path(visits_dir)
    if not root.is_dir():
        raise StageError(f"visits folder {root} does not exist or is not a folder")
    partitions = []
    for child in sorted(root.iterdir()):
        if not child.is_dir() or not child.name.startswith(PARTITION_PREFIX):
            continue
        try:
            day = date.fromisoformat(child.name[len(PARTITION_PREFIX) :])
        except ValueError as error:
            raise StageError(
                f"partition folder {child} is not named date=YYYY-MM-DD"
            ) from error
        files = tuple(sorted(f for f in child.iterdir() if _is_data_file(f)))
        partitions.append(Partition(day, files))
    return partitions


def select_files(visits_dir: str | Path, first: date, last: date) -> list[Path]:
    """The data files of the partitions in [first, last]; an error when there are none."""
    return choose_files(list_partitions(visits_dir), visits_dir, first, last)


def choose_files(partitions: list[Partition], visits_dir: str | Path, first: date, last: date) -> list:
    """The files of ``partitions`` (listed under ``visits_dir``, oldest first) in [first, last];
    an error naming the range and the partitions found when there are none. Shared by the local
    reader and the Spark datamart, whose files may be ``hdfs://`` paths."""
    chosen = [p for p in partitions if first <= p.day <= last]
    files = [f for p in chosen for f in p.files]
    if not files:
        if partitions:
            found = f"partitions found: {partitions[0].day} .. {partitions[-1].day} ({len(partitions)} folders"
            found += f", {sum(len(p.files) for p in partitions)} files)"
        else:
            found = "no date=YYYY-MM-DD folders found"
        raise StageError(
            f"no visit files for {first} .. {last} under {visits_dir} ({found}); "
            f"expected {PARTITION_PREFIX}YYYY-MM-DD/*.parquet or *.csv"
        )
    return files


def _check_columns(path: Path, names: list[str]) -> None:
    for column in COLUMNS:
        if column not in names:
            raise StageError(
                f"column '{column}' missing in {path} (expected columns: {', '.join(COLUMNS)}; "
                f"found: {', '.join(names) or 'none'})"
            )


def _as_string(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column if pa.types.is_string(column.type) else pc.cast(column, pa.string())


def read_file(path: Path) -> pa.Table:
    """One visits file as an Arrow table: user_id and restaurant_id as strings (integer ids
    are accepted and turned into strings), visited_at as a UTC timestamp (ms)."""
    kind = "Parquet" if path.name.endswith(".parquet") else "CSV"
    try:
        if kind == "Parquet":
            schema = pq.read_schema(path)
            _check_columns(path, schema.names)
            table = pq.read_table(path, columns=list(COLUMNS))
        else:
            options = pacsv.ConvertOptions(column_types={"user_id": pa.string(), "restaurant_id": pa.string()})
            table = pacsv.read_csv(path, convert_options=options)
            _check_columns(path, table.column_names)
            table = table.select(list(COLUMNS))
    except StageError:
        raise
    except (pa.ArrowException, OSError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StageError(f"cannot read {path} as {kind}: {reason}") from error
    try:
        ids = [_as_string(table[c]) for c in ("user_id", "restaurant_id")]
    except pa.ArrowException as error:
        raise StageError(f"the id columns of {path} hold values that are neither strings nor integers: {error}") from error
    try:
        stamps = table["visited_at"]
        if pa.types.is_timestamp(stamps.type) and stamps.type.tz is None:
            stamps = pc.assume_timezone(stamps, "UTC")
        stamps = stamps.cast(pa.timestamp("ms", tz="UTC"))
    except pa.ArrowException as error:
        raise StageError(
            f"column 'visited_at' in {path} holds values that are not timestamps "
            f"(type {table['visited_at'].type}; expected ISO 8601 date-times): {error}"
        ) from error
    return pa.table({"user_id": ids[0], "restaurant_id": ids[1], "visited_at": stamps})


def read_visits(files: list[Path]) -> pa.Table:
    """All visits of ``files``, concatenated."""
    empty = pa.schema([("user_id", pa.string()), ("restaurant_id", pa.string()), ("visited_at", pa.timestamp("ms", tz="UTC"))])
    return pa.concat_tables([read_file(f) for f in files]) if files else empty.empty_table()
