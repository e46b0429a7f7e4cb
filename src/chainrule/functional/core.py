"""The module-level forms of the core ops, and composites built from them.

Composites (``var``, ``std``, ``stack``, ``split``, ``flatten``, ...) are written with the
primitives of ``chainrule.ops`` and have no backward of their own: autograd differentiates
them through their parts.
"""

import builtins

import numpy as np

from ..errors import ShapeError
from ..ops import elementwise as E
from ..ops import linalg as L
from ..ops import movement as M
from ..ops import nn as N
from ..ops import reduce as R
from ..tensor import Tensor, _raw


def _t(x):
    """Tensors pass through; anything array-like becomes a constant tensor."""
    return x if isinstance(x, Tensor) else Tensor(x)


# ---- elementwise -----------------------------------------------------------------------------------


def add(a, b):
    return E.Add.apply(a, b)


def sub(a, b):
    return E.Sub.apply(a, b)


def mul(a, b):
    return E.Mul.apply(a, b)


def div(a, b):
    return E.Div.apply(a, b)


def pow(a, b):
    return E.Pow.apply(a, b)


def neg(x):
    return E.Neg.apply(x)


def exp(x):
    return E.Exp.apply(_t(x))


def log(x):
    return E.Log.apply(_t(x))


def sqrt(x):
    return E.Sqrt.apply(_t(x))


def abs(x):
    return E.Abs.apply(_t(x))


def maximum(a, b):
    """Elementwise maximum; where a == b the gradient is split evenly (as PyTorch)."""
    return E.Maximum.apply(a, b)


def minimum(a, b):
    """Elementwise minimum; where a == b the gradient is split evenly (as PyTorch)."""
    return E.Minimum.apply(a, b)


def clip(x, min=None, max=None):
    """Limit values to [min, max]; the gradient passes where min <= x <= max."""
    return E.Clip.apply(_t(x), lo=min, hi=max)


clamp = clip


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (all broadcast together)."""
    cond = np.asarray(_raw(condition))
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    return E.Where.apply(cond, a, b)


# ---- activations -----------------------------------------------------------------------------------


def sigmoid(x):
    """1 / (1 + exp(-x)), stable for logits of any size."""
    return E.Sigmoid.apply(_t(x))


def tanh(x):
    return E.Tanh.apply(_t(x))


def relu(x):
    """max(x, 0); its gradient at 0 is 0."""
    return E.ReLU.apply(_t(x))


def leaky_relu(x, negative_slope=0.01):
    return E.LeakyReLU.apply(_t(x), negative_slope=negative_slope)


def gelu(x, approximate="none"):
    """x * Phi(x), exactly (``approximate='none'``) or with the tanh approximation."""
    return E.GELU.apply(_t(x), approximate=approximate)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (as torch.nn.functional.softplus)."""
    return E.Softplus.apply(_t(x), beta=beta, threshold=threshold)


def elu(x, alpha=1.0):
    """x where x > 0, else alpha (exp(x) - 1)."""
    return E.ELU.apply(_t(x), alpha=alpha)


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return E.SiLU.apply(_t(x))


def step(x):
    """The binary step: 1 where x >= 0, else 0. Its gradient is 0 everywhere."""
    return E.Step.apply(_t(x))


def softmax(x, axis=-1):
    return N.Softmax.apply(_t(x), axis=axis)


def log_softmax(x, axis=-1):
    return N.LogSoftmax.apply(_t(x), axis=axis)


# ---- reductions ------------------------------------------------------------------------------------


def sum(x, axis=None, keepdims=False):
    return R.Sum.apply(_t(x), axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    return R.Mean.apply(_t(x), axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    """Largest values along ``axis``; tied maxima share the gradient equally."""
    return R.Max.apply(_t(x), axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    """Smallest values along ``axis``; tied minima share the gradient equally."""
    return R.Min.apply(_t(x), axis=axis, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    return R.LogSumExp.apply(_t(x), axis=axis, keepdims=keepdims)


def var(x, axis=None, ddof=0, keepdims=False):
    """Variance, ``sum((x - mean)^2) / (n - ddof)`` (NumPy's default ``ddof=0``)."""
    x = _t(x)
    axes = R.normalize_axis(axis, x.ndim, "var")
    n = int(np.prod([x.shape[a] for a in axes]))
    d = x - x.mean(axis=axes, keepdims=True)
    ss = (d * d).sum(axis=axes, keepdims=keepdims)
    return ss / (n - ddof) if n > ddof else ss * float("nan")


def std(x, axis=None, ddof=0, keepdims=False):
    return var(x, axis=axis, ddof=ddof, keepdims=keepdims).sqrt()


def argmax(x, axis=None, keepdims=False):
    """Index of the largest value (flat index when ``axis`` is None); int64, no gradient."""
    return Tensor._wrap(np.asarray(np.argmax(_raw(x), axis=axis, keepdims=keepdims)))


def argmin(x, axis=None, keepdims=False):
    return Tensor._wrap(np.asarray(np.argmin(_raw(x), axis=axis, keepdims=keepdims)))


# ---- shape -----------------------------------------------------------------------------------------


def reshape(x, shape):
    return M.Reshape.apply(_t(x), shape=tuple(shape) if not isinstance(shape, int) else (shape,))


def transpose(x, axes=None):
    return M.Transpose.apply(_t(x), axes=None if axes is None else tuple(axes))


def permute(x, axes):
    return M.Transpose.apply(_t(x), axes=tuple(axes))


def _axis(a, ndim, op):
    if not -ndim <= a < ndim:
        raise ShapeError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimension(s)")
    return a % ndim


def swapaxes(x, axis1, axis2):
    x = _t(x)
    axes = list(range(x.ndim))
    i, j = _axis(axis1, x.ndim, "swapaxes"), _axis(axis2, x.ndim, "swapaxes")
    axes[i], axes[j] = axes[j], axes[i]
    return M.Transpose.apply(x, axes=tuple(axes))


def flatten(x, start_dim=0, end_dim=-1):
    """Merge axes ``start_dim..end_dim`` into one (as torch.flatten)."""
    x = _t(x)
    if x.ndim == 0:
        return x.reshape(1)
    s, e = _axis(start_dim, x.ndim, "flatten"), _axis(end_dim, x.ndim, "flatten")
    if s > e:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = x.shape[:s] + (int(np.prod(x.shape[s : e + 1])),) + x.shape[e + 1 :]
    return M.Reshape.apply(x, shape=shape)


def squeeze(x, axis=None):
    """Drop axes of length 1 (all of them, or those in ``axis``; others are left alone, as PyTorch)."""
    x = _t(x)
    if axis is None:
        axes = {i for i, n in enumerate(x.shape) if n == 1}
    else:
        axes = {_axis(a, x.ndim, "squeeze") for a in ((axis,) if isinstance(axis, int) else axis)}
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return M.Reshape.apply(x, shape=shape)


def unsqueeze(x, axis):
    """Insert an axis of length 1 at position ``axis``."""
    x = _t(x)
    a = _axis(axis, x.ndim + 1, "unsqueeze")
    return M.Reshape.apply(x, shape=x.shape[:a] + (1,) + x.shape[a:])


def expand(x, *shape):
    """Broadcast to ``shape``; -1 keeps an axis's size (as torch.Tensor.expand)."""
    x = _t(x)
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple | list) else shape
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to fewer dimensions {shape}")
    full = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    return M.Expand.apply(x, shape=full)


def broadcast_to(x, shape):
    return M.Expand.apply(_t(x), shape=tuple(shape))


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    return M.Concatenate.apply(*[_t(t) for t in tensors], axis=axis)


cat = concatenate


def stack(tensors, axis=0):
    """Join tensors of one shape along a new axis."""
    ts = [_t(t) for t in tensors]
    if not ts:
        raise ShapeError("stack: needs at least one tensor")
    if any(t.shape != ts[0].shape for t in ts):
        raise ShapeError(f"stack: all tensors need one shape, got {', '.join(str(t.shape) for t in ts)}")
    axis = _axis(axis, ts[0].ndim + 1, "stack")
    return concatenate([unsqueeze(t, axis) for t in ts], axis=axis)


def split(x, split_size_or_sections, axis=0):
    """Split into chunks along ``axis`` (as torch.split): an int is the size of each chunk
    (the last may be smaller), a list gives every chunk's size."""
    x = _t(x)
    ax = _axis(axis, x.ndim, "split")
    n = x.shape[ax]
    if isinstance(split_size_or_sections, int):
        if split_size_or_sections <= 0:
            raise ShapeError(f"split: chunk size must be positive, got {split_size_or_sections}")
        sizes = [builtins.min(split_size_or_sections, n - i) for i in range(0, n, split_size_or_sections)] or [0]
    else:
        sizes = [int(k) for k in split_size_or_sections]
        if any(k < 0 for k in sizes):
            raise ShapeError(f"split: sizes must be non-negative, got {sizes}")
        if builtins.sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} do not add up to {n}, the length of axis {axis}")
    out, start = [], 0
    for s in sizes:
        index = (slice(None),) * ax + (slice(start, start + s),)
        out.append(x[index])
        start += s
    return out


def pad(x, pad_width, value=0):
    """Pad with a constant; ``pad_width`` as NumPy's: an int, (before, after), or one pair per axis."""
    return M.Pad.apply(_t(x), pad_width=pad_width, value=value)


# ---- linear algebra --------------------------------------------------------------------------------


def matmul(a, b):
    """Matrix product with NumPy's rules for 1-D and batched operands."""
    return L.MatMul.apply(_t(a), _t(b))


__all__ = [
    "abs",
    "add",
    "argmax",
    "argmin",
    "broadcast_to",
    "cat",
    "clamp",
    "clip",
    "concatenate",
    "div",
    "elu",
    "exp",
    "expand",
    "flatten",
    "gelu",
    "leaky_relu",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "pad",
    "permute",
    "pow",
    "relu",
    "reshape",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "split",
    "sqrt",
    "squeeze",
    "stack",
    "std",
    "step",
    "sub",
    "sum",
    "swapaxes",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
    "where",
]
