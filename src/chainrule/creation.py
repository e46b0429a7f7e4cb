"""Making tensors: from data, filled, ranges, and random (seeded)."""

import numpy as np

from .errors import ShapeError
from .random import default_generator, manual_seed, rng  # noqa: F401  (re-exported)
from .tensor import Tensor, as_dtype, default_float


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        shape = tuple(shape[0])
    try:
        shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise ShapeError(f"shape must be integers, got {shape}") from None
    if any(n < 0 for n in shape):
        raise ShapeError(f"shape cannot have negative sizes, got {shape}")
    return shape


def _make(array, requires_grad):
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, dtype=None, requires_grad=False):
    """A tensor holding a copy of ``data`` (nested lists, scalars, NumPy arrays or a Tensor).

    Floating-point data becomes float32 unless ``dtype`` says otherwise; integers stay int64.
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad)


def zeros(*shape, dtype=None, requires_grad=False):
    return _make(np.zeros(_shape(shape), dtype=as_dtype(dtype or default_float)), requires_grad)


def ones(*shape, dtype=None, requires_grad=False):
    return _make(np.ones(_shape(shape), dtype=as_dtype(dtype or default_float)), requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A tensor of ``shape`` filled with ``fill_value`` (dtype inferred from it, floats as float32)."""
    if dtype is None:
        dtype = bool if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else default_float
    shape = _shape((shape,) if isinstance(shape, int) else (shape,))
    return _make(np.full(shape, fill_value, dtype=as_dtype(dtype)), requires_grad)


def zeros_like(t, dtype=None, requires_grad=False):
    return _make(np.zeros(np.shape(_data(t)), dtype=as_dtype(dtype or _data(t).dtype)), requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _make(np.ones(np.shape(_data(t)), dtype=as_dtype(dtype or _data(t).dtype)), requires_grad)


def _data(t):
    return t._data if isinstance(t, Tensor) else np.asarray(t)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``: int64 for ints, float32 for floats."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = np.int64 if ints else default_float
    return _make(np.arange(start, end, step, dtype=as_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=as_dtype(dtype or default_float)), requires_grad)


def randn(*shape, seed=None, generator=None, dtype=None, requires_grad=False):
    """Standard normal samples, from ``generator`` / ``seed`` or the default generator."""
    d = as_dtype(dtype or default_float)
    return _make(rng(seed, generator).standard_normal(_shape(shape), dtype=d), requires_grad)


def rand(*shape, seed=None, generator=None, dtype=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    d = as_dtype(dtype or default_float)
    return _make(rng(seed, generator).random(_shape(shape), dtype=d), requires_grad)


def randint(low, high=None, size=(), seed=None, generator=None, dtype=None):
    """Random integers in [low, high) (or [0, low) when ``high`` is omitted), int64 by default."""
    if high is None:
        low, high = 0, low
    size = _shape((size,) if isinstance(size, int) else (size,))
    return Tensor._wrap(rng(seed, generator).integers(low, high, size=size, dtype=as_dtype(dtype or np.int64)))
