"""The features stage's logic: dropping users and restaurants with too little data (repeated
until stable, since dropping one side thins the other) and implicit-feedback weighting of the
visit counts (BM25 or tf-idf), so that repeat visits saturate and restaurants everybody
visits count for less."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import StageError

WEIGHTINGS = ("bm25", "tfidf", "none")


@dataclass
class Filtered:
    """The table left after filtering and what was dropped."""

    table: pd.DataFrame
    dropped_users: int
    dropped_restaurants: int
    dropped_visits: int
    rounds: int


def filter_rare(table: pd.DataFrame, min_user_restaurants: int, min_restaurant_users: int) -> Filtered:
    """Keeps users with at least ``min_user_restaurants`` distinct restaurants and restaurants
    with at least ``min_restaurant_users`` distinct users, repeating until nothing changes."""
    for name, value in (("min_user_restaurants", min_user_restaurants), ("min_restaurant_users", min_restaurant_users)):
        if int(value) < 1:
            raise StageError(f"parameter {name}={value} must be at least 1")
    users0 = table["user_id"].nunique()
    restaurants0 = table["restaurant_id"].nunique()
    visits0 = int(table["visits"].sum())
    current = table
    rounds = 0
    while True:
        rounds += 1
        per_user = current.groupby("user_id", sort=False)["restaurant_id"].transform("size")
        per_restaurant = current.groupby("restaurant_id", sort=False)["user_id"].transform("size")
        keep = (per_user >= min_user_restaurants) & (per_restaurant >= min_restaurant_users)
        if keep.all() or len(current) == 0:
            break
        current = current[keep]
    if current.empty:
        raise StageError(
            f"no users left after filtering: min_user_restaurants={min_user_restaurants} and "
            f"min_restaurant_users={min_restaurant_users} dropped all {users0} users and "
            f"{restaurants0} restaurants; lower these parameters or widen the date range"
        )
    return Filtered(
        table=current.reset_index(drop=True),
        dropped_users=int(users0 - current["user_id"].nunique()),
        dropped_restaurants=int(restaurants0 - current["restaurant_id"].nunique()),
        dropped_visits=int(visits0 - current["visits"].sum()),
        rounds=rounds,
    )


def count_matrix(table: pd.DataFrame) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The users x restaurants matrix of visit counts with its row and column ids (sorted)."""
    u_codes, users = pd.factorize(table["user_id"], sort=True)
    r_codes, restaurants = pd.factorize(table["restaurant_id"], sort=True)
    matrix = sp.csr_matrix(
        (table["visits"].to_numpy(np.float32), (u_codes, r_codes)),
        shape=(len(users), len(restaurants)),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    return matrix, np.asarray(users, dtype=object), np.asarray(restaurants, dtype=object)


def weight(counts: sp.csr_matrix, method: str, k1: float = 1.2, b: float = 0.75) -> sp.csr_matrix:
    """Weights a users x restaurants count matrix; every stored entry stays positive."""
    if method not in WEIGHTINGS:
        raise StageError(f"parameter weighting={method!r} is not one of {', '.join(WEIGHTINGS)}")
    counts = counts.tocsr().astype(np.float32)
    if method == "none":
        return counts.copy()
    n_users = counts.shape[0]
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    idf = np.log((n_users + 1) / (df + 1)) + 1.0  # smoothed, > 0 even for the most popular
    rows = np.repeat(np.arange(n_users), np.diff(counts.indptr))
    tf = counts.data.astype(np.float64)
    if method == "tfidf":
        data = np.log1p(tf) * idf[counts.indices]
    else:
        if k1 <= 0 or not 0 <= b <= 1:
            raise StageError(f"parameters bm25_k1={k1} must be > 0 and bm25_b={b} within [0, 1]")
        length = np.asarray(counts.sum(axis=1)).ravel()
        norm = k1 * (1.0 - b + b * length / length.mean())
        data = tf * (k1 + 1.0) / (tf + norm[rows]) * idf[counts.indices]
    out = counts.copy()
    out.data = data.astype(np.float32)
    return out
