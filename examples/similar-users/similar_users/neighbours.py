"""Top-k most similar rows by cosine similarity, computed a block of rows at a time so memory
stays bounded by ``block_rows`` x number of rows, whatever the number of users."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .errors import StageError

#: Upper bound on the float32 similarity block held at once (bytes).
BLOCK_BYTES = 64 * 1024 * 1024


def check_k(k: int, n_rows: int, flag: str = "k") -> None:
    """k must be between 1 and the number of other users."""
    if k < 1:
        raise StageError(f"parameter {flag}={k} must be at least 1")
    if k > n_rows - 1:
        raise StageError(
            f"parameter {flag}={k} is larger than the number of other users ({n_rows - 1} of {n_rows} users "
            f"left after filtering); choose {flag} <= {max(n_rows - 1, 0)}"
        )


def _normalise(matrix: np.ndarray | sp.csr_matrix) -> np.ndarray | sp.csr_matrix:
    if sp.issparse(matrix):
        m = sp.csr_matrix(matrix, dtype=np.float32)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.csr_matrix(sp.diags(inv.astype(np.float32)) @ m)
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1)
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return m * inv[:, None]


def top_k_cosine(matrix: np.ndarray | sp.csr_matrix, k: int, block_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the indices (n x k, int32) and cosine scores (n x k, float32) of the k
    most similar other rows, best first. Works on dense embeddings and sparse count rows."""
    n = matrix.shape[0]
    check_k(k, n)
    m = _normalise(matrix)
    if block_rows is None:
        block_rows = max(1, min(n, BLOCK_BYTES // (4 * max(n, 1))))
    indices = np.empty((n, k), dtype=np.int32)
    scores = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        if sp.issparse(m):
            # all rows against a dense copy of this block's rows: a sparse x dense product,
            # about twice as fast as sparse x sparse when popular columns make the result dense
            block = np.ascontiguousarray((m @ np.asfortranarray(m[start:stop].toarray()).T).T)
        else:
            block = m[start:stop] @ m.T
        block = block.astype(np.float32, copy=False)
        block[np.arange(stop - start), np.arange(start, stop)] = -np.inf  # never yourself
        part = np.argpartition(block, n - k, axis=1)[:, n - k :]
        part_scores = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        indices[start:stop] = np.take_along_axis(part, order, axis=1)
        scores[start:stop] = np.take_along_axis(part_scores, order, axis=1)
    return indices, scores


def random_neighbours(n: int, k: int, seed: int) -> np.ndarray:
    """k distinct random other rows for every row (the random baseline)."""
    check_k(k, n)
    rng = np.random.default_rng(seed)
    out = rng.integers(0, n - 1, size=(n, k))
    ordered = np.sort(out, axis=1)
    # rows that drew someone twice (rare while k << n) draw again without replacement
    for row in np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1)):
        out[row] = rng.choice(n - 1, size=k, replace=False)
    out += out >= np.arange(n)[:, None]  # skip yourself
    return out.astype(np.int32)
