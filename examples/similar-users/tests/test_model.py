"""The building blocks behave as their docs say: weighting and filtering, the factorisation
separating planted blocks, exact chunked top-k, the random baseline, precision@k, reading
logs with integer ids or naive timestamps, and the aggregation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from similar_users.aggregate import aggregate_visits
from similar_users.als import AlsParams, choose_backend, factorize
from similar_users.errors import StageError
from similar_users.metrics import precision_at_k
from similar_users.neighbours import random_neighbours, top_k_cosine
from similar_users.visits import read_visits
from similar_users.weighting import count_matrix, filter_rare, weight


def brute_top_k(dense: np.ndarray, k: int) -> np.ndarray:
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    unit = dense / np.where(norms > 0, norms, 1)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -np.inf)
    return -np.sort(-sims, axis=1)[:, :k]


@pytest.mark.parametrize("block_rows", [1, 7, 64, None])
def test_top_k_cosine_matches_brute_force_on_dense_and_sparse_rows(block_rows: int | None) -> None:
    rng = np.random.default_rng(3)
    dense = rng.standard_normal((150, 12)).astype(np.float32)
    idx, scores = top_k_cosine(dense, 6, block_rows)
    assert np.allclose(scores, brute_top_k(dense, 6), atol=1e-5)
    assert (idx != np.arange(150)[:, None]).all()
    counts = sp.random(150, 40, density=0.1, random_state=4, format="csr", dtype=np.float32)
    counts.data = rng.integers(1, 6, counts.nnz).astype(np.float32)
    _, sparse_scores = top_k_cosine(counts, 6, block_rows)
    assert np.allclose(sparse_scores, brute_top_k(counts.toarray(), 6), atol=1e-5)


def test_random_neighbours_are_distinct_and_never_yourself() -> None:
    out = random_neighbours(30, 29, seed=1)
    assert all(sorted(row) == [j for j in range(30) if j != i] for i, row in enumerate(out.tolist()))


def test_k_must_leave_other_users() -> None:
    with pytest.raises(StageError, match=r"k=5 is larger than the number of other users \(4 of 5 users"):
        top_k_cosine(np.ones((5, 2), np.float32), 5)


def test_precision_counts_same_group_neighbours_and_skips_unknown_users() -> None:
    groups = np.array([0, 0, 1, 1, -1])
    neighbours = np.array([[1, 2], [0, 4], [3, 0], [2, 1], [0, 1]])
    assert precision_at_k(neighbours, groups, 2) == pytest.approx(0.5)  # one hit of two for each known user


def test_bm25_down_weights_popular_restaurants_and_saturates_repeats() -> None:
    counts = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 0, 0], [9, 3, 0]], dtype=np.float32))
    w = weight(counts, "bm25").toarray()
    assert (w[counts.toarray() > 0] > 0).all()
    assert w[0, 1] > w[0, 0]  # restaurant 0 is visited by everybody
    assert w[3, 1] < 3 * w[0, 1]  # three visits weigh less than three times one
    with pytest.raises(StageError, match="weighting='idf'"):
        weight(counts, "idf")


def test_filtering_repeats_until_stable_and_counts_what_it_dropped() -> None:
    table = pd.DataFrame(
        {"user_id": ["a", "a", "b", "b", "c"], "restaurant_id": ["x", "y", "x", "y", "z"], "visits": [1, 2, 1, 1, 4]}
    )
    kept = filter_rare(table, min_user_restaurants=2, min_restaurant_users=2)
    assert sorted(kept.table["user_id"].unique()) == ["a", "b"]
    assert (kept.dropped_users, kept.dropped_restaurants, kept.dropped_visits) == (1, 1, 4)
    counts, users, restaurants = count_matrix(kept.table)
    assert list(users) == ["a", "b"] and list(restaurants) == ["x", "y"] and counts.toarray().tolist() == [[1, 2], [1, 1]]


def test_als_separates_two_planted_blocks() -> None:
    rng = np.random.default_rng(0)
    block = np.zeros((40, 30), np.float32)
    block[:20, :15] = rng.random((20, 15)) < 0.4
    block[20:, 15:] = rng.random((20, 15)) < 0.4
    users, _ = factorize(sp.csr_matrix(block), AlsParams(factors=8, iterations=10))
    groups = np.repeat([0, 1], 20)
    neighbours, _ = top_k_cosine(users, 5)
    assert precision_at_k(neighbours, groups, 5) == 1.0


def test_numpy_is_used_when_no_gpu_was_granted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert choose_backend("auto") == ("numpy", "cpu")
    with pytest.raises(StageError, match="backend='jax'"):
        choose_backend("jax")


def test_logs_with_integer_ids_and_naive_timestamps_read_as_strings_in_utc(tmp_path: Path) -> None:
    path = tmp_path / "part-0.parquet"
    pq.write_table(
        pa.table({"user_id": [7, 7, 8], "restaurant_id": [1, 1, 2], "visited_at": pd.to_datetime(["2026-01-02 10:00", "2026-01-02 12:00", None]), "extra": [1, 2, 3]}),
        path,
    )
    csv = tmp_path / "part-1.csv"
    csv.write_text("visited_at,restaurant_id,user_id\n2026-01-02T09:00:00Z,1,7\n")
    table, dropped = aggregate_visits(read_visits([path, csv]))
    rows = table.to_pandas()
    assert dropped == 0
    assert rows["user_id"].tolist() == ["7", "8"] and rows["restaurant_id"].tolist() == ["1", "2"]
    assert rows["visits"].tolist() == [3, 1]
    assert str(rows["last_visit"][0]) == "2026-01-02 12:00:00+00:00"
