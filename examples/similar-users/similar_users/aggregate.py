"""The datamart's aggregation: visits -> one row per (user, restaurant) with the number of
visits and the last visit time, computed in Arrow (no Python object per visit)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

TABLE_COLUMNS = ("user_id", "restaurant_id", "visits", "last_visit")


def aggregate_visits(visits: pa.Table) -> tuple[pa.Table, int]:
    """Returns the user x restaurant table (sorted by user, restaurant) and the number of
    visits dropped for a missing user_id or restaurant_id."""
    valid = pc.and_(pc.is_valid(visits["user_id"]), pc.is_valid(visits["restaurant_id"]))
    kept = visits.filter(valid)
    dropped = len(visits) - len(kept)
    grouped = kept.group_by(["user_id", "restaurant_id"]).aggregate([("user_id", "count"), ("visited_at", "max")])
    table = pa.table(
        {
            "user_id": grouped["user_id"],
            "restaurant_id": grouped["restaurant_id"],
            "visits": grouped["user_id_count"].cast(pa.int32()),
            "last_visit": grouped["visited_at_max"],
        }
    )
    return table.sort_by([("user_id", "ascending"), ("restaurant_id", "ascending")]), dropped
