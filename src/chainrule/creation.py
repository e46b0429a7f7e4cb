"""Making tensors: from data, filled, ranges, and random (seeded), with PyTorch's arguments.

Every function takes ``dtype=``, ``device=`` and ``requires_grad=`` as PyTorch's do; floating-point
results are float32 unless ``dtype`` says otherwise, integer ones int64.
"""

import numpy as np

from . import device as _device
from .errors import ArgumentError, ArgumentTypeError, ShapeError
from .random import Generator, default_generator, manual_seed, rng  # noqa: F401  (re-exported)
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


def _make(array, requires_grad, device=None):
    t = Tensor._wrap(_device.place(array, device))
    if requires_grad:
        t.requires_grad = True
    return t


def _float(dtype):
    return as_dtype(default_float if dtype is None else dtype)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A tensor holding a copy of ``data`` (nested lists, scalars, NumPy arrays or a Tensor).

    Floating-point data becomes float32 unless ``dtype`` says otherwise; integers stay int64.
    """
    t = Tensor(data, dtype=dtype)
    return _make(t._data, requires_grad, device)


def from_numpy(ndarray):
    """A tensor sharing the memory of ``ndarray`` and keeping its dtype (as torch.from_numpy)."""
    if not isinstance(ndarray, np.ndarray):
        raise ArgumentTypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}")
    as_dtype(ndarray.dtype)
    return Tensor._wrap(ndarray)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing its memory when it can (a Tensor or an ndarray already of ``dtype``);
    an ndarray keeps its dtype, other data follows ``tensor``'s rules."""
    if isinstance(data, Tensor):
        out = data if dtype is None else data.astype(dtype)
        return out if device is None else out.to(device)
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype) == data.dtype):
        return _make(from_numpy(data)._data, False, device)
    return tensor(data, dtype=dtype, device=device)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.zeros(_shape(size), dtype=_float(dtype)), requires_grad, device)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _make(np.ones(_shape(size), dtype=_float(dtype)), requires_grad, device)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` whose values are not to be relied on (chainrule gives zeros)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def _fill_dtype(fill_value):
    if isinstance(fill_value, bool | np.bool_):
        return np.bool_
    return np.int64 if isinstance(fill_value, int | np.integer) else default_float


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from it, floats as float32)."""
    d = as_dtype(_fill_dtype(fill_value) if dtype is None else dtype)
    shape = _shape((size,) if isinstance(size, int) else (size,))
    return _make(np.full(shape, fill_value, dtype=d), requires_grad, device)


def _like(t, dtype):
    a = t._data if isinstance(t, Tensor) else np.asarray(t)
    return a.shape, as_dtype(a.dtype if dtype is None else dtype)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    shape, d = _like(input, dtype)
    return _make(np.zeros(shape, dtype=d), requires_grad, device)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    shape, d = _like(input, dtype)
    return _make(np.ones(shape, dtype=d), requires_grad, device)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    shape, d = _like(input, dtype)
    return _make(np.full(shape, fill_value, dtype=d), requires_grad, device)


def rand_like(input, dtype=None, device=None, requires_grad=False, generator=None):
    shape, d = _like(input, dtype)
    return rand(*shape, dtype=d, device=device, requires_grad=requires_grad, generator=generator)


def randn_like(input, dtype=None, device=None, requires_grad=False, generator=None):
    shape, d = _like(input, dtype)
    return randn(*shape, dtype=d, device=device, requires_grad=requires_grad, generator=generator)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` to ``end`` (exclusive) by ``step``: int64 for ints, float32 for floats."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, int | np.integer) for v in (start, end, step))
        dtype = np.int64 if ints else default_float
    if step == 0:
        raise ArgumentError("arange: step must be nonzero")
    return _make(np.arange(start, end, step, dtype=as_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` values evenly spaced from ``start`` to ``end``, both included."""
    if int(steps) < 0:
        raise ArgumentError(f"linspace: steps must be non-negative, got {steps}")
    return _make(np.linspace(start, end, int(steps)).astype(_float(dtype)), requires_grad, device)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    """``steps`` values ``base ** v`` for v evenly spaced from ``start`` to ``end``, both included."""
    if int(steps) < 0:
        raise ArgumentError(f"logspace: steps must be non-negative, got {steps}")
    return _make(np.logspace(start, end, int(steps), base=base).astype(_float(dtype)), requires_grad, device)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    return _make(np.eye(n, m, dtype=_float(dtype)), requires_grad, device)


def randn(*size, seed=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples, from ``generator`` / ``seed`` or the default generator."""
    a = rng(seed, generator).standard_normal(_shape(size), dtype=_float(dtype))
    return _make(a, requires_grad, device)


def rand(*size, seed=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    return _make(rng(seed, generator).random(_shape(size), dtype=_float(dtype)), requires_grad, device)


def randint(low, high=None, size=None, seed=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Random integers in [low, high), or in [0, low) as ``randint(high, size)``; int64 by default."""
    if size is None and isinstance(high, tuple | list):  # randint(high, size), as PyTorch
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    size = () if size is None else _shape((size,) if isinstance(size, int) else (size,))
    out = rng(seed, generator).integers(low, high, size=size, dtype=np.int64).astype(as_dtype(dtype or np.int64))
    return _make(out, requires_grad, device)


def randperm(n, seed=None, generator=None, dtype=None, device=None, requires_grad=False):
    """A random permutation of 0 .. n-1 (int64 by default)."""
    return _make(rng(seed, generator).permutation(int(n)).astype(as_dtype(dtype or np.int64)), requires_grad, device)


def _legacy(dtype, name):
    def make(*data):
        if not data:
            return zeros(0, dtype=dtype)
        if all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in data):
            return zeros(*data, dtype=dtype)  # FloatTensor(2, 3): a shape
        if len(data) == 1:
            return tensor(data[0], dtype=dtype)
        raise ArgumentTypeError(f"{name}: expected sizes (ints) or one sequence of data, got {data!r}")

    make.__name__ = make.__qualname__ = name
    make.__doc__ = (f"PyTorch's legacy constructor: ``{name}(data)`` is ``cr.tensor(data, dtype={np.dtype(dtype)})``, "
                    f"``{name}(2, 3)`` a zero tensor of that shape. Prefer ``cr.tensor``.")
    return make


FloatTensor = _legacy(np.float32, "FloatTensor")
DoubleTensor = _legacy(np.float64, "DoubleTensor")
HalfTensor = _legacy(np.float16, "HalfTensor")
LongTensor = _legacy(np.int64, "LongTensor")
IntTensor = _legacy(np.int32, "IntTensor")
ByteTensor = _legacy(np.uint8, "ByteTensor")
BoolTensor = _legacy(np.bool_, "BoolTensor")
