"""Functional forms of the basic layers: linear and dropout."""

from ..errors import ArgumentError
from ..ops import nn as N
from ..random import rng
from ..tensor import Tensor

__all__ = ["dropout", "linear"]


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` (weight of shape (out_features, in_features), as torch)."""
    return N.Linear.apply(x, weight, bias)


def dropout(x, p=0.5, training=True, generator=None, seed=None):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p); identity when not training.

    The mask is drawn from ``generator`` / ``seed``, or from chainrule's default generator.
    """
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: p must be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    keep = rng(seed, generator).random(x.shape, dtype=x.dtype) >= p
    return x * Tensor._wrap(keep * x.dtype.type(1.0 / (1.0 - p)))
