"""Functional forms of the basic layers: linear and dropout."""

import numbers

from ..errors import ArgumentError, ArgumentTypeError
from ..ops import nn as N
from ..random import rng
from ..tensor import Tensor

__all__ = ["dropout", "linear"]


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` (weight of shape (out_features, in_features), as torch)."""
    return N.Linear.apply(x, weight, bias)


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None, seed=None):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p); ``input`` itself when not
    training (as torch.nn.functional.dropout).

    ``inplace=True`` writes the result into ``input`` (a Tensor) and returns it, as torch (refused on a leaf
    that requires grad while gradients are recorded). The mask is drawn from ``generator`` / ``seed``, or from
    chainrule's default generator.
    """
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: p must be a probability between 0 and 1, got {p!r}")
    if inplace and not isinstance(input, Tensor):
        raise ArgumentTypeError(f"dropout: inplace=True needs a Tensor to write into, got {type(input).__name__}")
    x = input if isinstance(input, Tensor) else Tensor(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        scale = x.dtype.type(0.0)
    else:
        keep = rng(seed, generator).random(x.shape, dtype=x.dtype) >= p
        scale = Tensor._wrap(keep * x.dtype.type(1.0 / (1.0 - p)))
    if inplace:
        return x._update("dropout_", lambda s: s * scale)
    return x * scale
