"""The datamart's aggregation: visits -> one row per (user, restaurant) with the number of
visits and the last visit time."""

from __future__ import annotations

import numpy as np
import pandas as pd

TABLE_COLUMNS = ("user_id", "restaurant_id", "visits", "last_visit")


def aggregate_visits(visits: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Returns the user x restaurant table and the number of rows dropped for a missing id."""
    valid = visits["user_id"].notna() & visits["restaurant_id"].notna()
    dropped = int((~valid).sum())
    visits = visits[valid]
    u_codes, u_ids = pd.factorize(visits["user_id"], sort=True)
    r_codes, r_ids = pd.factorize(visits["restaurant_id"], sort=True)
    key = u_codes.astype(np.int64) * max(len(r_ids), 1) + r_codes
    grouped = (
        pd.DataFrame({"key": key, "visited_at": visits["visited_at"].to_numpy()})
        .groupby("key", sort=True)["visited_at"]
        .agg(["size", "max"])
    )
    keys = grouped.index.to_numpy()
    table = pd.DataFrame(
        {
            "user_id": np.asarray(u_ids)[keys // max(len(r_ids), 1)],
            "restaurant_id": np.asarray(r_ids)[keys % max(len(r_ids), 1)],
            "visits": grouped["size"].to_numpy().astype(np.int32),
            "last_visit": grouped["max"].to_numpy(),
        }
    )
    return table, dropped
