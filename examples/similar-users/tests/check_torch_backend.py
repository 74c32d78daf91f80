"""Checks the torch path of the train stage against the numpy path on the same generated data:
same initial factors, so the embeddings must agree to float32 precision and give the same
neighbours. Not part of the pytest suite (torch is not a dependency); run it wherever torch
is installed, on a GPU machine (uses CUDA when available) or with a CPU build:

    python examples/similar-users/tests/check_torch_backend.py [--size small]

Needs numpy, scipy and torch only. Exits 1 when the two paths disagree.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from similar_users.als import AlsParams, factorize  # noqa: E402
from similar_users.generator import PRESETS, generate  # noqa: E402
from similar_users.metrics import precision_at_k  # noqa: E402
from similar_users.neighbours import top_k_cosine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="small", choices=list(PRESETS))
    args = parser.parse_args()
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    data = generate(PRESETS[args.size], 1, 28)
    n_users, n_restaurants = PRESETS[args.size].users, PRESETS[args.size].restaurants
    counts = sp.csr_matrix(
        (np.ones(len(data.visit_user), np.float32), (data.visit_user, data.visit_restaurant)), shape=(n_users, n_restaurants)
    )
    counts.sum_duplicates()
    weights = counts.copy()
    weights.data = np.log1p(weights.data)
    params = AlsParams()
    started = time.perf_counter()
    x_numpy, _ = factorize(weights, params, "numpy", "cpu")
    numpy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    x_torch, _ = factorize(weights, params, "torch", device)
    torch_seconds = time.perf_counter() - started
    relative = float(np.linalg.norm(x_numpy - x_torch) / np.linalg.norm(x_numpy))
    p_numpy = precision_at_k(top_k_cosine(x_numpy, 10)[0], data.user_group, 10)
    p_torch = precision_at_k(top_k_cosine(x_torch, 10)[0], data.user_group, 10)
    print(f"torch {torch.__version__} on {device}: {torch_seconds:.1f}s; numpy: {numpy_seconds:.1f}s")
    print(f"relative difference of user embeddings {relative:.2e}; precision@10 numpy {p_numpy:.4f}, torch {p_torch:.4f}")
    ok = relative < 1e-3 and abs(p_numpy - p_torch) < 0.005
    print("ok" if ok else "the torch and numpy paths disagree")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
