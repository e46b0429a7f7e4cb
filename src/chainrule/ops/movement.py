"""Shape and movement primitives: nothing is computed, values are moved (or copied) around."""

import numpy as np

from ..autograd.function import Function
from ..errors import ShapeError


class Reshape(Function):
    def forward(self, x, shape=None):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ShapeError(f"reshape: cannot reshape a tensor of shape {x.shape} into {tuple(shape)}") from None

    def backward(self, g):
        return g.reshape(self.in_shape)


class Transpose(Function):
    def forward(self, x, axes=None):
        if axes is None:
            axes = tuple(range(x.ndim))[::-1]
        elif sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ShapeError(f"transpose: {tuple(axes)} is not a permutation of the axes of shape {x.shape}")
        self.axes = axes
        return x.transpose(axes)

    def backward(self, g):
        return g.transpose(np.argsort([a % g.ndim for a in self.axes]))


class Expand(Function):
    """broadcast_to / expand: the gradient is summed back over the stretched axes by the engine."""

    broadcasts = True
    name = "broadcast_to"

    def forward(self, x, shape=None):
        try:
            return np.broadcast_to(x, shape)
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


class GetItem(Function):
    name = "getitem"

    def forward(self, x, index=None):
        self.index = index
        self.in_shape = x.shape
        self.basic = _is_basic(index)
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"getitem: {e} (tensor of shape {x.shape})") from None

    def backward(self, g):
        out = np.zeros(self.in_shape, dtype=g.dtype)
        if self.basic:
            out[self.index] = g
        else:
            np.add.at(out, self.index, g)  # scatter-add: a repeated index accumulates
        return out


class Concatenate(Function):
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
        return np.concatenate(xs, axis=ax)

    def backward(self, g):
        return tuple(np.split(g, np.cumsum(self.sizes)[:-1], axis=self.axis))


class Pad(Function):
    def forward(self, x, pad_width=None, value=0):
        pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2)) if x.ndim else ()
        if np.any(np.asarray(pw) < 0):
            raise ShapeError(f"pad: pad widths must be non-negative, got {pad_width}")
        self.slices = tuple(slice(int(b), int(b) + n) for (b, _), n in zip(pw, x.shape))
        return np.pad(x, pw, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.slices]
