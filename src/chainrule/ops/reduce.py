"""Reductions over ``axis`` (int, tuple or None) with ``keepdims``, as NumPy spells them."""

import math

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module, expand_to
from ..errors import ShapeError


def normalize_axis(axis, ndim, op):
    """Axis as a sorted tuple of non-negative ints; None means every axis."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    if ndim == 0:  # as PyTorch: a 0-d tensor takes axis 0 or -1, and reducing it changes nothing
        if any(a not in (0, -1) for a in axes):
            raise ShapeError(f"{op}: axis {axis} is out of range for a 0-d tensor (use 0, -1 or None)")
        return ()
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimension(s)")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def keepdims_shape(shape, axes):
    """The shape a reduction over ``axes`` has with keepdims=True."""
    if len(axes) == len(shape):
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand_reduced(g, in_shape, axes):
    """The gradient of a reduction, broadcast back over the input's shape (a view)."""
    return expand_to(g if g.ndim == 0 else g.reshape(keepdims_shape(in_shape, axes)), in_shape)


class Sum(Primitive):
    deeplift = "linear"

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim, "sum")
        self.in_shape = x.shape
        return x.sum(axis=self.axes, keepdims=keepdims) if len(self.axes) < x.ndim else x.sum(keepdims=keepdims)

    def backward(self, g):
        return expand_reduced(g, self.in_shape, self.axes)


class Mean(Primitive):
    deeplift = "linear"

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim, "mean")
        self.in_shape = x.shape
        self.count = math.prod(x.shape[a] for a in self.axes)
        return x.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return expand_reduced(g / max(self.count, 1), self.in_shape, self.axes)


class _Extreme(Primitive):
    """max / min. Ties share the gradient equally (as torch.amax / amin and full reductions)."""

    reduce = None  # the array method: "max" or "min"

    def forward(self, x, axis=None, keepdims=False):
        op = self.op_name()
        self.axes = normalize_axis(axis, x.ndim, op)
        if any(x.shape[a] == 0 for a in self.axes):
            raise ShapeError(f"{op}: cannot reduce over an empty axis of a tensor of shape {x.shape}")
        out = getattr(x, self.reduce)(axis=self.axes, keepdims=True)
        mask = x == out
        self.saved = (mask, mask.sum(axis=self.axes, keepdims=True))
        return out if keepdims else out.squeeze(self.axes)

    def backward(self, g):
        mask, count = self.saved
        g = g.reshape(count.shape)
        return mask * (g / count).astype(g.dtype, copy=False)


class Max(_Extreme):
    reduce = "max"
    deeplift = "max"


class Min(_Extreme):
    reduce = "min"
    deeplift = "min"


class LogSumExp(Primitive):
    """Fused for stability: log(sum(exp(x))) computed as m + log(sum(exp(x - m)))."""

    name = "logsumexp"
    deeplift = "logsumexp"

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axis(axis, x.ndim, "logsumexp")
        xp = array_module(x)
        m = x.max(axis=self.axes, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, x.dtype)
        m = xp.where(np.isfinite(m), m, 0)  # all -inf rows give -inf, not nan
        with np.errstate(divide="ignore"):
            out = np.log(np.exp(x - m).sum(axis=self.axes, keepdims=True)) + m
        self.saved = (x, out)
        return out if keepdims else out.squeeze(self.axes)

    def backward(self, g):
        x, out = self.saved
        return g.reshape(out.shape) * np.exp(x - out)
