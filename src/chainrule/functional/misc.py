"""One-hot encoding, normalisation along an axis and cosine similarity, with the arguments of
``torch.nn.functional``. ``normalize`` and ``cosine_similarity`` are composites of primitives;
``one_hot`` makes integers (no gradient)."""

import math
import numbers

import numpy as np

from ..backend import array_module
from ..errors import ArgumentError, DTypeError, OutOfRangeError, ShapeError
from ..ops import elementwise as E
from ..ops import reduce as R
from ..tensor import Tensor
from .core import broadcast_to, clip, where

__all__ = ["cosine_similarity", "normalize", "one_hot"]


def _float_input(name, x, what="input"):
    x = x if isinstance(x, Tensor) else Tensor(x)
    if x.dtype.kind != "f":
        raise DTypeError(f"{name}: {what} must be floating point, got dtype {x.dtype}; convert it with .float()")
    return x


def _dim(name, dim, ndim):
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise ArgumentError(f"{name}: dim must be an integer, got {dim!r:.60}")
    if not -max(ndim, 1) <= dim < max(ndim, 1) or ndim == 0:
        raise ShapeError(
            f"{name}: dim {dim} is out of range for a tensor with {ndim} dimension(s)"
            + ("; it needs at least one axis" if ndim == 0 else f" (expected -{ndim} to {ndim - 1})")
        )
    return int(dim) % ndim


def _masked_root(s, root):
    """``root(s)`` with a zero gradient where ``s`` is 0 (where a norm's derivative is undefined, PyTorch's
    is 0 too), instead of the nan of 0 * inf."""
    zero = s._data == 0
    if not zero.any():
        return root(s)
    return where(zero, 0.0, root(where(zero, 1.0, s)))


def _vector_norm(x, p, axis):
    """The p-norm of ``x`` along ``axis``, keeping the axis (as ``torch.linalg.vector_norm``)."""
    if p == 2:
        return _masked_root(R.Sum.apply(x * x, axis=axis, keepdims=True), E.Sqrt.apply)
    a = E.Abs.apply(x)
    if p == math.inf:  # tied maxima share the gradient, as PyTorch's
        return R.Max.apply(a, axis=axis, keepdims=True)
    if p == -math.inf:
        return R.Min.apply(a, axis=axis, keepdims=True)
    if p == 1:
        return R.Sum.apply(a, axis=axis, keepdims=True)
    if p == 0:  # the number of nonzero elements: no gradient
        return Tensor._wrap((x._data != 0).sum(axis=axis, keepdims=True).astype(x.dtype))
    if p < 1:  # |x| ** p has an infinite slope at 0
        a = _masked_root(a, lambda v: v**p)
    else:
        a = a**p
    return _masked_root(R.Sum.apply(a, axis=axis, keepdims=True), lambda s: s ** (1.0 / p))


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``input / max(norm_p(input along dim), eps)``: unit vectors along ``dim`` (as
    torch.nn.functional.normalize). ``p`` is any number >= 0 or ``inf``."""
    name = "normalize"
    x = _float_input(name, input)
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not (p >= 0 or p == -math.inf):
        raise ArgumentError(f"{name}: p must be a number >= 0 (or inf), got {p!r:.60}")
    axis = _dim(name, dim, x.ndim)
    return x / clip(_vector_norm(x, float(p), axis), min=eps)


def _clamp_min_keeping_grad(n, eps):
    """``max(n, eps)`` whose gradient passes to ``n`` unchanged, also where it is clamped (PyTorch clamps the
    norms of cosine_similarity in place without recording it)."""
    low = n._data < eps
    if not low.any():
        return n
    return where(low, (n - n._data) + eps, n)  # n - its own value is exactly 0, with n's gradient


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim``, ``sum(x1 / |x1| * x2 / |x2|)``
    with each norm at least ``eps`` (as torch.nn.functional.cosine_similarity: normalising first keeps the
    result within [-1, 1]). The inputs broadcast together; ``dim`` is removed from the result."""
    name = "cosine_similarity"
    a = x1 if isinstance(x1, Tensor) else Tensor(x1)
    b = x2 if isinstance(x2, Tensor) else Tensor(x2)
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        raise DTypeError(
            f"{name}: x1 and x2 have dtypes {a.dtype} and {b.dtype}; at least one must be floating point"
        )
    if a.dtype.kind != "f":
        a = a.astype(b.dtype)
    elif b.dtype.kind != "f":
        b = b.astype(a.dtype)
    if a.shape != b.shape:
        try:
            shape = np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ShapeError(f"{name}: x1 of shape {a.shape} and x2 of shape {b.shape} do not broadcast") from None
        a = a if a.shape == shape else broadcast_to(a, shape)
        b = b if b.shape == shape else broadcast_to(b, shape)
    axis = _dim(name, dim, a.ndim)
    na = _clamp_min_keeping_grad(_vector_norm(a, 2.0, axis), eps)
    nb = _clamp_min_keeping_grad(_vector_norm(b, 2.0, axis), eps)
    return R.Sum.apply((a / na) * (b / nb), axis=axis)


def one_hot(tensor, num_classes=-1):
    """Class indices (any integer dtype) as one-hot rows: an int64 tensor of shape ``(*tensor.shape,
    num_classes)`` (as torch.nn.functional.one_hot). ``num_classes=-1`` takes the largest index + 1."""
    name = "one_hot"
    raw = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
    if raw.dtype.kind not in "iu":
        raise DTypeError(
            f"{name}: class indices must be integers, got dtype {raw.dtype}; convert them with .long()"
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < -1:
        raise ArgumentError(f"{name}: num_classes must be -1 (inferred) or an integer >= 0, got {num_classes!r:.60}")
    lo, hi = (int(raw.min()), int(raw.max())) if raw.size else (0, -1)
    if lo < 0:
        raise OutOfRangeError(f"{name}: class indices must be non-negative, got {lo}")
    if num_classes == -1:
        if not raw.size:
            raise ArgumentError(f"{name}: cannot infer the number of classes from an empty tensor; pass num_classes")
        num_classes = hi + 1
    elif hi >= num_classes:
        raise OutOfRangeError(
            f"{name}: class index {hi} is out of range for num_classes={num_classes} (indices must be in "
            f"0..{num_classes - 1})"
        )
    xp = array_module(raw)
    return Tensor._wrap((raw[..., None] == xp.arange(int(num_classes))).astype(np.int64))
