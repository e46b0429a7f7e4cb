"""Initialisers, as ``torch.nn.init``: each fills a tensor in place (no gradient recorded) and returns it.

Every function takes ``generator=`` (a ``numpy.random.Generator``) or ``seed=``; without
them it draws from chainrule's default generator, so ``cr.manual_seed(0)`` makes model
construction reproducible bit for bit.
"""

import contextlib
import math

import numpy as np

from ..errors import ArgumentError, ShapeError
from ..random import rng

__all__ = [
    "calculate_gain",
    "constant_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


_skip = False


@contextlib.contextmanager
def skipped():
    """Within this block initialisers leave tensors as they are (used when weights come from a file)."""
    global _skip
    prev, _skip = _skip, True
    try:
        yield
    finally:
        _skip = prev


def calculate_gain(nonlinearity, param=None):
    """The recommended scale for an initialiser followed by ``nonlinearity`` (as torch.nn.init)."""
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
              "sigmoid")
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ArgumentError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fill(tensor, values):
    if not _skip:
        tensor._data[...] = values
    return tensor


def _noop(tensor):
    """True where an initialiser leaves ``tensor`` as it is: while skipped, or when it has no elements (as
    PyTorch, where fan in and fan out may be 0: ``nn.Linear(0, 4)``)."""
    return _skip or tensor._data.size == 0


def _fans(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ShapeError(f"fan in and fan out need a tensor of at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor, mode):
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor, a=0.0, b=1.0, generator=None, seed=None):
    """Fill with U(a, b)."""
    return tensor if _skip else _fill(tensor, rng(seed, generator).uniform(a, b, tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None, seed=None):
    """Fill with N(mean, std^2)."""
    return tensor if _skip else _fill(tensor, rng(seed, generator).normal(mean, std, tensor.shape))


def constant_(tensor, val):
    return _fill(tensor, val)


def zeros_(tensor):
    return _fill(tensor, 0)


def ones_(tensor):
    return _fill(tensor, 1)


def xavier_uniform_(tensor, gain=1.0, generator=None, seed=None):
    """Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    if _noop(tensor):
        return tensor
    fan_in, fan_out = _fans(tensor)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, generator, seed)


def xavier_normal_(tensor, gain=1.0, generator=None, seed=None):
    """Glorot: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    if _noop(tensor):
        return tensor
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator, seed)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, seed=None):
    """He: U(-b, b) with b = gain * sqrt(3 / fan), gain from ``nonlinearity`` (and slope ``a``)."""
    if _noop(tensor):
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator, seed)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, seed=None):
    """He: N(0, std^2) with std = gain / sqrt(fan)."""
    if _noop(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator, seed)
