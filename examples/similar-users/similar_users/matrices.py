"""The features stage's artifacts and their loading: a user x restaurant sparse matrix (.npz)
with the ids of its rows and columns (.parquet), plus checks that say which file is wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from .errors import StageError


def save_matrix(path: Path, matrix: sp.csr_matrix) -> Path:
    sp.save_npz(path, matrix.tocsr(), compressed=False)
    return path


def load_matrix(path: str | Path, flag: str) -> sp.csr_matrix:
    """A CSR matrix written by save_matrix; StageError naming ``flag`` and the file otherwise."""
    resolved = Path(path) if str(path) else None
    if resolved is None or not resolved.is_file():
        raise StageError(f"matrix file not found: {flag}={path}")
    try:
        return sp.load_npz(resolved).tocsr()
    except (OSError, ValueError, KeyError) as error:
        raise StageError(f"cannot read {resolved} ({flag}) as a sparse matrix: {error}") from error


def save_ids(path: Path, column: str, ids: np.ndarray) -> Path:
    pq.write_table(pa.table({column: pa.array(np.asarray(ids, dtype=object), pa.string())}), path)
    return path


def load_ids(path: str | Path, column: str, flag: str) -> np.ndarray:
    """The ids in row order from a one-column Parquet file."""
    resolved = Path(path) if str(path) else None
    if resolved is None or not resolved.is_file():
        raise StageError(f"ids file not found: {flag}={path}")
    try:
        table = pq.read_table(resolved)
    except (pa.ArrowException, OSError) as error:
        raise StageError(f"cannot read {resolved} ({flag}) as Parquet: {error}") from error
    if column not in table.column_names:
        raise StageError(
            f"column '{column}' missing in {resolved} ({flag}; found: {', '.join(table.column_names)})"
        )
    return np.asarray(table.column(column).to_pylist(), dtype=object)


def read_table(path: str | Path, columns: tuple[str, ...], flag: str) -> pd.DataFrame:
    """A Parquet table with the given columns, checked."""
    resolved = Path(path) if str(path) else None
    if resolved is None or not resolved.is_file():
        raise StageError(f"table not found: {flag}={path}")
    try:
        names = pq.read_schema(resolved).names
    except (pa.ArrowException, OSError) as error:
        raise StageError(f"cannot read {resolved} ({flag}) as Parquet: {error}") from error
    for column in columns:
        if column not in names:
            raise StageError(
                f"column '{column}' missing in {resolved} ({flag}; expected columns: "
                f"{', '.join(columns)}; found: {', '.join(names)})"
            )
    try:
        return pq.read_table(resolved, columns=list(columns)).to_pandas()
    except (pa.ArrowException, OSError) as error:
        raise StageError(f"cannot read {resolved} ({flag}) as Parquet: {error}") from error
