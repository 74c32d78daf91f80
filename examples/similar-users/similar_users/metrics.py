"""Precision@k of a neighbour list against the planted taste groups."""

from __future__ import annotations

import numpy as np


def precision_at_k(neighbours: np.ndarray, groups: np.ndarray, k: int) -> float:
    """Mean over users of the share of their first k neighbours that are in their own group.
    ``groups[i]`` is the group of row i; -1 marks a user without a known group (not counted)."""
    top = neighbours[:, :k]
    known = groups >= 0
    hits = groups[top] == groups[:, None]
    return float(hits[known].mean()) if known.any() else float("nan")


def precision_by_visits(neighbours: np.ndarray, groups: np.ndarray, visits: np.ndarray, k: int, edges: tuple[int, ...] = (5, 10, 20, 50, 201)) -> dict[str, float]:
    """Precision@k per band of visit counts (how the model fares on light users)."""
    out = {}
    hits = (groups[neighbours[:, :k]] == groups[:, None]).mean(axis=1)
    for low, high in zip(edges[:-1], edges[1:]):
        band = (visits >= low) & (visits < high) & (groups >= 0)
        if band.any():
            out[f"{low}-{high - 1}"] = round(float(hits[band].mean()), 4)
    return out
