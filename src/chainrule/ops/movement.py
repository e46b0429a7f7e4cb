"""Shape and movement primitives: nothing is computed, values are moved (or copied) around."""

import itertools

import numpy as np

from ..autograd.function import Primitive
from ..backend import array_module
from ..errors import OutOfRangeError, ShapeError
from ._compat import pad_pairs, scatter_add


class Reshape(Primitive):
    deeplift = "linear"

    def forward(self, x, shape=None):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} into {tuple(shape)}") from None

    def backward(self, g):
        return g.reshape(self.in_shape)


class Transpose(Primitive):
    deeplift = "linear"

    def forward(self, x, axes=None):
        if axes is None:
            axes = tuple(range(x.ndim))[::-1]
        elif sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ShapeError(f"transpose: {tuple(axes)} is not a permutation of the axes of shape {x.shape}")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g):
        axes = [a % g.ndim for a in self.axes]
        return g.transpose(sorted(range(g.ndim), key=axes.__getitem__))  # the inverse permutation


class Expand(Primitive):
    """broadcast_to / expand: the gradient is summed back over the stretched axes by the engine."""

    broadcasts = True
    name = "broadcast_to"
    deeplift = "linear"

    def forward(self, x, shape=None):
        try:
            return array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {tuple(shape)}") from None

    def backward(self, g):
        return g


def _is_basic(index):
    """True when an index uses only ints, slices, None and Ellipsis (no element can repeat)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(i, int | slice | np.integer) and not isinstance(i, bool) or i is None or i is Ellipsis
        for i in items
    )


def _describe(index):
    """A short repr of an index for a message: arrays by their shape and dtype, not their values."""
    if isinstance(index, tuple):
        return "(" + ", ".join(_describe(i) for i in index) + ("," if len(index) == 1 else "") + ")"
    if hasattr(index, "shape") and hasattr(index, "dtype") and getattr(index, "ndim", 0):
        return f"<array of shape {tuple(index.shape)}, dtype {index.dtype}>"
    return repr(index)


class GetItem(Primitive):
    """``x[index]``: basic indices view, advanced ones copy; the backward scatters (and adds at repeats)."""

    name = "getitem"
    deeplift = "getitem"

    def forward(self, x, index=None):
        self.index = index
        self.in_shape = x.shape
        self.basic = _is_basic(index)
        try:
            return x[index]
        except IndexError as e:  # out of bounds, too many indices, a mask of the wrong length, not an index
            what = "is not a valid index for" if "valid indices" in str(e) else "is out of range for"
            msg = f"getitem: index {_describe(index)} {what} a tensor of shape {x.shape}: {e}"
            raise OutOfRangeError(msg) from None

    def backward(self, g):
        out = array_module(g).zeros(self.in_shape, dtype=g.dtype)
        if self.basic:
            out[self.index] = g
        else:
            scatter_add(out, self.index, g)  # a repeated index accumulates
        return out


class SetItem(Primitive):
    """``x[index] = v`` out of place: a copy of ``x`` with ``v`` written at ``index``, which is what an
    assignment records while gradients are on. x's gradient is g with the written places zeroed; v's is
    ``g[index]`` (summed back to v's shape). Where an advanced index repeats a place, the last write wins."""

    name = "setitem"
    broadcasts = True  # v's gradient has the shape of x[index]; the engine sums it back to v's shape
    deeplift = "setitem"

    def forward(self, x, v, index=None):
        self.index = index
        out = x.copy()
        try:
            out[index] = v
        except IndexError as e:
            raise OutOfRangeError(f"setitem: index {_describe(index)} is out of range for a tensor of shape {x.shape}: "
                                  f"{e}") from None
        return out

    def backward(self, g):
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = g.copy()
            gx[self.index] = 0
        if self.needs_input_grad[1]:
            gv = g[self.index]
        return gx, gv


class Concatenate(Primitive):
    deeplift = "linear"

    def forward(self, *xs, axis=0):
        if not xs:
            raise ShapeError("concatenate: needs at least one tensor")
        nd = xs[0].ndim
        if nd == 0:
            raise ShapeError("concatenate: zero-dimensional tensors cannot be concatenated")
        if not -nd <= axis < nd:
            raise ShapeError(f"concatenate: axis {axis} is out of range for a tensor with {nd} dimension(s)")
        ax = axis % nd
        bad = any(
            x.ndim != nd or x.shape[:ax] + x.shape[ax + 1 :] != xs[0].shape[:ax] + xs[0].shape[ax + 1 :]
            for x in xs
        )
        if bad:
            shapes = ", ".join(str(x.shape) for x in xs)
            raise ShapeError(f"concatenate: shapes {shapes} must match in every axis except axis {axis}")
        self.axis = ax
        self.sizes = [x.shape[ax] for x in xs]
        return array_module(xs[0]).concatenate(xs, axis=ax)

    def backward(self, g):
        return tuple(array_module(g).split(g, list(itertools.accumulate(self.sizes))[:-1], axis=self.axis))


class Pad(Primitive):
    deeplift = "linear"

    def forward(self, x, pad_width=None, value=0):
        pw = pad_pairs(pad_width, x.ndim) if x.ndim else []
        if any(v < 0 for p in pw for v in p):
            raise ShapeError(f"pad: pad widths must be non-negative, got {pad_width}")
        self.slices = tuple(slice(b, b + n) for (b, _), n in zip(pw, x.shape))
        return array_module(x).pad(x, pw, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.slices]
