"""Implicit-feedback matrix factorisation (alternating least squares, Hu, Koren & Volinsky 2008)
solved with a few conjugate-gradient steps per user per sweep (as in Takacs et al. 2011), so
every sweep is a handful of sparse-dense products over all users at once, never a per-user
Python loop.

Model: confidence c_ui = 1 + alpha * w_ui for visited pairs (w = the weighted visits), 1
elsewhere; preference 1 for visited pairs, 0 elsewhere; minimise
sum c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2).

Two implementations of the same steps: numpy/scipy on the CPU, and torch, used on a GPU
when the task was granted one (CUDA_VISIBLE_DEVICES non-empty and torch importable)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .errors import StageError

BACKENDS = ("auto", "numpy", "torch")
#: Visited pairs handled per chunk of the row-dot product (bounds temporary memory).
CHUNK_NNZ = 1 << 18
#: The item rows gathered once per solve are kept when they fit in this many bytes.
GATHER_CACHE_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class AlsParams:
    """Hyperparameters of the factorisation."""

    factors: int = 64
    iterations: int = 10
    regularization: float = 0.1
    alpha: float = 2.0
    cg_steps: int = 3
    seed: int = 0

    def check(self) -> None:
        if self.factors < 1:
            raise StageError(f"parameter factors={self.factors} must be at least 1")
        if self.iterations < 1:
            raise StageError(f"parameter iterations={self.iterations} must be at least 1")
        if self.regularization < 0:
            raise StageError(f"parameter regularization={self.regularization} must be >= 0")
        if self.alpha <= 0:
            raise StageError(f"parameter alpha={self.alpha} must be > 0")
        if self.cg_steps < 1:
            raise StageError(f"parameter cg_steps={self.cg_steps} must be at least 1")


def gpu_granted() -> bool:
    """True when the engine granted a GPU: CUDA_VISIBLE_DEVICES is set and names a device."""
    value = os.environ.get("CUDA_VISIBLE_DEVICES", "").strip()
    return value not in ("", "-1", "none", "NoDevFiles")


def choose_backend(requested: str) -> tuple[str, str]:
    """Returns (backend, device) for ``requested``: auto uses torch on CUDA when a GPU was
    granted and torch imports with CUDA available, else numpy on the CPU."""
    if requested not in BACKENDS:
        raise StageError(f"parameter backend={requested!r} is not one of {', '.join(BACKENDS)}")
    if requested == "numpy":
        return "numpy", "cpu"
    if requested == "auto" and not gpu_granted():
        return "numpy", "cpu"
    try:
        import torch  # noqa: PLC0415 - optional dependency, only on GPU machines
    except ImportError as error:
        if requested == "torch":
            raise StageError("parameter backend=torch but torch is not installed in this environment") from error
        print("similar-users/train: a GPU was granted but torch is not installed; using numpy on the CPU")
        return "numpy", "cpu"
    if torch.cuda.is_available():
        return "torch", "cuda"
    if requested == "torch":
        return "torch", "cpu"
    print("similar-users/train: a GPU was granted but torch sees no CUDA device; using numpy on the CPU")
    return "numpy", "cpu"


def factorize(weights: sp.csr_matrix, params: AlsParams, backend: str = "numpy", device: str = "cpu") -> tuple[np.ndarray, np.ndarray]:
    """Returns (user factors, item factors) as float32 arrays."""
    params.check()
    weights = weights.tocsr().astype(np.float32)
    rng = np.random.default_rng(params.seed)
    n_users, n_items = weights.shape
    x0 = (rng.standard_normal((n_users, params.factors)) * 0.01).astype(np.float32)
    y0 = (rng.standard_normal((n_items, params.factors)) * 0.01).astype(np.float32)
    if backend == "torch":
        return _factorize_torch(weights, x0, y0, params, device)
    return _factorize_numpy(weights, x0, y0, params)


# ---- numpy -------------------------------------------------------------------------------


class _NumpySide:
    """One side's solve: rows of ``conf`` are the entities being solved for."""

    def __init__(self, conf: sp.csr_matrix, alpha: float) -> None:
        self.shape = conf.shape
        self.indptr = conf.indptr
        self.cols = conf.indices
        self.counts = np.diff(conf.indptr)
        self.scaled = (alpha * conf.data).astype(np.float32)  # c_ui - 1
        self.rhs = sp.csr_matrix((1.0 + self.scaled, self.cols, self.indptr), shape=conf.shape)
        # Row blocks whose visited pairs fit CHUNK_NNZ each, for the row-dot product.
        bounds = [0]
        nnz_before = conf.indptr
        while bounds[-1] < conf.shape[0]:
            start = bounds[-1]
            stop = int(np.searchsorted(nnz_before, nnz_before[start] + CHUNK_NNZ, side="right")) - 1
            bounds.append(min(conf.shape[0], max(stop, start + 1)))
        self.blocks = list(zip(bounds[:-1], bounds[1:]))

    def _rowdot(self, x: np.ndarray, gathered: list[np.ndarray] | None, other: np.ndarray) -> np.ndarray:
        """x_u . other_i for every visited pair (u, i), in storage order."""
        out = np.empty(len(self.cols), dtype=np.float32)
        for n, (start, stop) in enumerate(self.blocks):
            lo, hi = self.indptr[start], self.indptr[stop]
            g = gathered[n] if gathered is not None else np.take(other, self.cols[lo:hi], axis=0)
            # rows are sorted, so repeating each row by its count lines it up with its pairs
            out[lo:hi] = np.einsum("ij,ij->i", np.repeat(x[start:stop], self.counts[start:stop], axis=0), g)
        return out

    def solve(self, x: np.ndarray, other: np.ndarray, reg: float, steps: int) -> np.ndarray:
        gram = other.T @ other + reg * np.eye(other.shape[1], dtype=np.float32)
        # The other side is fixed during this solve: gather its rows once when that is small.
        gathered = None
        if len(self.cols) * other.shape[1] * 4 <= GATHER_CACHE_BYTES:
            gathered = [np.take(other, self.cols[self.indptr[a] : self.indptr[b]], axis=0) for a, b in self.blocks]

        def apply(p: np.ndarray) -> np.ndarray:
            values = self.scaled * self._rowdot(p, gathered, other)
            m = sp.csr_matrix((values, self.cols, self.indptr), shape=self.shape)
            return p @ gram + m @ other

        x = x.copy()
        r = np.asarray(self.rhs @ other, dtype=np.float32) - apply(x)
        p = r.copy()
        rs = np.einsum("ij,ij->i", r, r)
        for _ in range(steps):
            ap = apply(p)
            denom = np.einsum("ij,ij->i", p, ap)
            step = np.divide(rs, denom, out=np.zeros_like(rs), where=denom > 1e-20)
            x += step[:, None] * p
            r -= step[:, None] * ap
            rs_new = np.einsum("ij,ij->i", r, r)
            beta = np.divide(rs_new, rs, out=np.zeros_like(rs), where=rs > 1e-20)
            p = r + beta[:, None] * p
            rs = rs_new
        return x


def _factorize_numpy(weights: sp.csr_matrix, x: np.ndarray, y: np.ndarray, params: AlsParams) -> tuple[np.ndarray, np.ndarray]:
    users = _NumpySide(weights, params.alpha)
    items = _NumpySide(weights.T.tocsr(), params.alpha)
    for _ in range(params.iterations):
        x = users.solve(x, y, params.regularization, params.cg_steps)
        y = items.solve(y, x, params.regularization, params.cg_steps)
    return x, y


# ---- torch -------------------------------------------------------------------------------


def _factorize_torch(weights: sp.csr_matrix, x0: np.ndarray, y0: np.ndarray, params: AlsParams, device: str) -> tuple[np.ndarray, np.ndarray]:
    import torch  # noqa: PLC0415

    dev = torch.device(device)

    class Side:
        def __init__(self, conf: sp.csr_matrix) -> None:
            self.n = conf.shape[0]
            rows = np.repeat(np.arange(conf.shape[0], dtype=np.int64), np.diff(conf.indptr))
            self.rows = torch.from_numpy(rows).to(dev)
            self.cols = torch.from_numpy(conf.indices.astype(np.int64)).to(dev)
            self.scaled = torch.from_numpy((params.alpha * conf.data).astype(np.float32)).to(dev)

        def scatter(self, values: "torch.Tensor", other: "torch.Tensor") -> "torch.Tensor":
            # sum over visited pairs of values_ui * other_i, per row u, in chunks
            out = torch.zeros((self.n, other.shape[1]), dtype=other.dtype, device=dev)
            for start in range(0, len(self.rows), CHUNK_NNZ * 8):
                stop = min(start + CHUNK_NNZ * 8, len(self.rows))
                out.index_add_(
                    0,
                    self.rows[start:stop],
                    values[start:stop, None] * other.index_select(0, self.cols[start:stop]),
                )
            return out

        def rowdot(self, x: "torch.Tensor", other: "torch.Tensor") -> "torch.Tensor":
            out = torch.empty(len(self.rows), dtype=x.dtype, device=dev)
            for start in range(0, len(self.rows), CHUNK_NNZ * 8):
                stop = min(start + CHUNK_NNZ * 8, len(self.rows))
                a = x.index_select(0, self.rows[start:stop])
                b = other.index_select(0, self.cols[start:stop])
                out[start:stop] = (a * b).sum(dim=1)
            return out

        def solve(self, x: "torch.Tensor", other: "torch.Tensor") -> "torch.Tensor":
            f = other.shape[1]
            gram = other.t() @ other + params.regularization * torch.eye(f, dtype=other.dtype, device=dev)

            def apply(p: "torch.Tensor") -> "torch.Tensor":
                return p @ gram + self.scatter(self.scaled * self.rowdot(p, other), other)

            x = x.clone()
            r = self.scatter(1.0 + self.scaled, other) - apply(x)
            p = r.clone()
            rs = (r * r).sum(dim=1)
            for _ in range(params.cg_steps):
                ap = apply(p)
                denom = (p * ap).sum(dim=1)
                step = torch.where(denom > 1e-20, rs / denom.clamp(min=1e-20), torch.zeros_like(rs))
                x = x + step[:, None] * p
                r = r - step[:, None] * ap
                rs_new = (r * r).sum(dim=1)
                beta = torch.where(rs > 1e-20, rs_new / rs.clamp(min=1e-20), torch.zeros_like(rs))
                p = r + beta[:, None] * p
                rs = rs_new
            return x

    users = Side(weights)
    items = Side(weights.T.tocsr())
    x = torch.from_numpy(x0).to(dev)
    y = torch.from_numpy(y0).to(dev)
    with torch.no_grad():
        for _ in range(params.iterations):
            x = users.solve(x, y)
            y = items.solve(y, x)
    return x.cpu().numpy(), y.cpu().numpy()
