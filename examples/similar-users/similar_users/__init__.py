"""Shared code of the similar-users reference pipeline: loading and validating visit logs,
the synthetic data generator, weighting, matrix factorisation, chunked similarity search,
evaluation and publishing. The stage scripts and notebooks next to this package stay thin."""

from .errors import StageError

__all__ = ["StageError"]
