"""similar-users/train: user and restaurant embeddings by implicit-feedback matrix
factorisation (ALS with conjugate-gradient solves) of the features stage's weighted matrix.
Runs on numpy/scipy on the CPU; uses torch on the GPU when the task was granted one
(CUDA_VISIBLE_DEVICES set) and torch is installed.

Standalone: python train.py --weights /tmp/work/features/weights.npz --work-dir /tmp/work/train
"""

from __future__ import annotations

import argparse
import os

# The dense products here are small (users x factors x factors); threaded BLAS only adds
# contention on a shared machine, so it runs single-threaded unless told otherwise. Set before
# numpy loads its BLAS.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

from similar_users.errors import StageError  # noqa: E402
from similar_users.stage import run_stage, work_dir  # noqa: E402

STAGE = "train"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", required=True, help="weighted users x restaurants matrix (.npz) from features")
    parser.add_argument("--factors", default="64", help="embedding size (default 64)")
    parser.add_argument("--iterations", default="10", help="ALS sweeps (default 10)")
    parser.add_argument("--regularization", default="0.1", help="L2 penalty (default 0.1)")
    parser.add_argument("--alpha", default="2.0", help="confidence per unit of weight: c = 1 + alpha * w (default 2.0)")
    parser.add_argument("--cg-steps", default="3", help="conjugate-gradient steps per sweep (default 3)")
    parser.add_argument("--seed", default="0", help="random seed of the initial factors (default 0)")
    parser.add_argument("--backend", default="auto", help="auto (torch on a granted GPU, else numpy), numpy or torch")
    parser.add_argument("--work-dir", default="", help="artifacts folder (default $CAPSTAN_ARTIFACTS_DIR/train)")
    return parser.parse_args()


def number(value: str, flag: str, kind: type) -> int | float:
    try:
        return kind(str(value).strip())
    except ValueError as error:
        raise StageError(f"{flag}={value!r} is not {'an integer' if kind is int else 'a number'}") from error


def main() -> dict[str, object]:
    from similar_users.als import AlsParams, choose_backend, factorize
    from similar_users.matrices import load_matrix

    args = parse_args()
    params = AlsParams(
        factors=number(args.factors, "--factors", int),
        iterations=number(args.iterations, "--iterations", int),
        regularization=number(args.regularization, "--regularization", float),
        alpha=number(args.alpha, "--alpha", float),
        cg_steps=number(args.cg_steps, "--cg-steps", int),
        seed=number(args.seed, "--seed", int),
    )
    params.check()
    weights = load_matrix(args.weights, "--weights")
    if weights.shape[0] == 0 or weights.nnz == 0:
        raise StageError(f"{args.weights} (--weights) holds no users with visits: nothing to train on")
    if not np.isfinite(weights.data).all() or (weights.data < 0).any():
        raise StageError(f"{args.weights} (--weights) holds negative or non-finite weights")
    backend, device = choose_backend(args.backend)
    print(f"training {params} on {weights.shape[0]:,} users x {weights.shape[1]:,} restaurants with {backend} on {device}", flush=True)
    users, restaurants = factorize(weights, params, backend, device)
    if not (np.isfinite(users).all() and np.isfinite(restaurants).all()):
        raise StageError(
            f"the factorisation diverged (non-finite embeddings) with {params}; raise --regularization or lower --alpha"
        )
    folder = work_dir(args.work_dir, STAGE)
    np.save(folder / "user_factors.npy", users)
    np.save(folder / "restaurant_factors.npy", restaurants)
    return {
        "embeddings_path": str(folder / "user_factors.npy"),
        "restaurant_factors_path": str(folder / "restaurant_factors.npy"),
        "backend": backend,
        "device": device,
        "users": int(users.shape[0]),
        "restaurants": int(restaurants.shape[0]),
        "factors": params.factors,
        "iterations": params.iterations,
        "regularization": params.regularization,
        "alpha": params.alpha,
    }


if __name__ == "__main__":
    run_stage(STAGE, main)
