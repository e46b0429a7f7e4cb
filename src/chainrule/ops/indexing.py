"""Indexing and scan primitives: clone, flip, roll, cumulative sums and products, scatter and scatter_add.

``gather``, ``index_select``, ``sort``'s and ``topk``'s values are reads through an index: they are
``movement.GetItem`` with the index that ``along_index`` builds (``chainrule.functional.math``). The index
arrays here are constants, validated by the public functions (dtype, shape, range) before the ops run.
"""

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module
from ._compat import scatter_add


def along_index(index, dim, xp=np):
    """The index tuple that addresses, for each position p of ``index``, the element at p with its coordinate
    along ``dim`` replaced by ``index[p]``: PyTorch's gather and scatter addressing, ``x[along_index(i, d)]``
    being ``gather(x, d, i)``."""
    nd = index.ndim
    return tuple(
        index if d == dim else xp.arange(n).reshape((1,) * d + (n,) + (1,) * (nd - d - 1))
        for d, n in enumerate(index.shape)
    )


class Clone(Primitive):
    """A copy that keeps the gradient flowing (the identity)."""

    deeplift = "linear"

    def forward(self, a):
        return a.copy()

    def backward(self, g):
        return g


class Flip(Primitive):
    """Reverse the order along ``axes`` (a copy, as torch.flip)."""

    deeplift = "linear"

    def forward(self, a, axes=()):
        self.index = tuple(slice(None, None, -1) if d in axes else slice(None) for d in range(a.ndim))
        return a[self.index].copy()

    def backward(self, g):
        return g[self.index]


class Roll(Primitive):
    """Shift elements cyclically along ``axes`` (all of them, flattened, when None); the gradient rolls back."""

    deeplift = "linear"

    def forward(self, a, shifts=0, axes=None):
        self.shifts, self.axes = shifts, axes
        return array_module(a).roll(a, shifts, axis=axes)

    def backward(self, g):
        back = -self.shifts if isinstance(self.shifts, int) else tuple(-s for s in self.shifts)
        return array_module(g).roll(g, back, axis=self.axes)


def _reversed_cumsum(a, axis, xp):
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


class Cumsum(Primitive):
    deeplift = "linear"

    def forward(self, a, axis=0):
        self.axis = axis
        return array_module(a).cumsum(a, axis=axis)

    def backward(self, g):
        return _reversed_cumsum(g, self.axis, array_module(g))


class Cumprod(Primitive):
    """Cumulative product. Its gradient, sum_{j >= i} g_j prod_{k <= j, k != i} x_k, is the reversed cumulative
    sum of g * out divided by x_i up to the first zero of a row; at the first zero z it is
    out_{z-1} sum_{j >= z} g_j prod_{z < k <= j} x_k, and after it zero (every product there holds x_z)."""

    def forward(self, a, axis=0):
        self.axis = axis
        out = array_module(a).cumprod(a, axis=axis)
        self.saved = (a, out)
        return out

    def backward(self, g):
        a, out = self.saved
        xp = array_module(g)
        x, y, g = (xp.moveaxis(v, self.axis, -1) for v in (a, out, g))
        zero = x == 0
        grad = _reversed_cumsum(g * y, -1, xp) / xp.where(zero, 1, x)
        if zero.any():
            pos = xp.arange(x.shape[-1])
            has = zero.any(axis=-1, keepdims=True)
            first = zero.argmax(axis=-1)[..., None]  # the first zero of each row (0 for a row without one)
            prev = xp.take_along_axis(y, xp.maximum(first - 1, 0), axis=-1)
            prev = xp.where(first == 0, 1, prev)  # out_{z-1}, the empty product before position 0
            tail = xp.cumprod(xp.where(pos <= first, 1, x), axis=-1)  # prod_{z < k <= j} x_k
            at_zero = prev * xp.where(pos >= first, g * tail, 0).sum(axis=-1, keepdims=True)
            grad = xp.where(~has | (pos < first), grad, xp.where(pos == first, at_zero, 0))
        return xp.moveaxis(grad, -1, self.axis)


class Scatter(Primitive):
    """``out = a`` with ``out[along_index(index, dim)]`` set to the matching elements of ``src`` (or to ``value``).

    The gradient of ``a`` is the upstream gradient with the written positions zeroed; that of ``src`` is the
    upstream gradient read back at the written positions (as PyTorch: at a repeated index every source
    element receives the gradient of the position it may have written)."""

    deeplift = "scatter"

    def forward(self, a, *src, dim=0, index=None, value=None):
        xp = array_module(a)
        self.where = where = along_index(index, dim, xp)
        out = a.copy()
        if src:
            (s,) = src
            self.src_shape = s.shape
            self.region = tuple(slice(0, n) for n in index.shape)
            out[where] = s[self.region]
        else:
            out[where] = value
        return out

    def backward(self, g):
        n = self.needs_input_grad
        ga = None
        if n[0]:
            ga = g.copy()
            ga[self.where] = 0
        if len(n) == 1:
            return ga
        return ga, (_read_back(g, self) if n[1] else None)


class ScatterAdd(Primitive):
    """``out = a`` with the elements of ``src`` added at ``along_index(index, dim)`` (repeated positions
    accumulate); the gradient of ``a`` is the upstream gradient, that of ``src`` the upstream gradient read at
    the positions each element was added to."""

    name = "scatter_add"
    deeplift = "scatter"

    def forward(self, a, src, dim=0, index=None):
        xp = array_module(a)
        self.where = where = along_index(index, dim, xp)
        self.src_shape = src.shape
        self.region = tuple(slice(0, n) for n in index.shape)
        out = a.copy()
        scatter_add(out, where, src[self.region])
        return out

    def backward(self, g):
        n = self.needs_input_grad
        return (g if n[0] else None), (_read_back(g, self) if n[1] else None)


def _read_back(g, op):
    """The gradient of a scatter's source: ``g`` at the written positions, zero outside the region ``index`` uses."""
    gs = array_module(g).zeros(op.src_shape, dtype=g.dtype)
    gs[op.region] = g[op.where]
    return gs
