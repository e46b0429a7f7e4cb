"""The module-level forms of the core ops, and composites built from them.

Composites (``var``, ``std``, ``stack``, ``split``, ``flatten``, ...) are written with the
primitives of ``chainrule.ops`` and have no backward of their own: autograd differentiates
them through their parts.
"""

import builtins

import numpy as np

from ..errors import ArgumentError, ArgumentTypeError, ShapeError
from ..ops import elementwise as E
from ..ops import linalg as L
from ..ops import movement as M
from ..ops import nn as N
from ..ops import reduce as R
from ..tensor import Tensor, _extreme, _one_dim, _raw, dim_arg, keepdim_arg


def _t(x):
    """Tensors pass through; anything array-like becomes a constant tensor."""
    return x if isinstance(x, Tensor) else Tensor(x)


# ---- elementwise -----------------------------------------------------------------------------------


def add(input, other, *, alpha=1):
    """``input + alpha * other``, broadcasting (as ``torch.add``)."""
    return E.Add.apply(input, other if alpha == 1 else _t(other) * alpha)


def sub(input, other, *, alpha=1):
    """``input - alpha * other``, broadcasting (as ``torch.sub``; ``subtract`` is the same)."""
    return E.Sub.apply(input, other if alpha == 1 else _t(other) * alpha)


def mul(input, other):
    """``input * other``, broadcasting (``multiply`` is the same)."""
    return E.Mul.apply(input, other)


def div(input, other):
    """``input / other``, true division (``chainrule.div``, in functional.math, also takes ``rounding_mode``)."""
    return E.Div.apply(input, other)


def pow(input, exponent):
    """``input ** exponent``, broadcasting (either may be a number)."""
    return E.Pow.apply(input, exponent)


def neg(input):
    """``-input`` (``negative`` is the same)."""
    return E.Neg.apply(_t(input))


subtract, multiply, negative = sub, mul, neg


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


def where(condition, a=None, b=None):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (all broadcast together); ``where(condition)``
    alone is ``nonzero(condition, as_tuple=True)``, as PyTorch's."""
    if a is None and b is None:  # nonzero(condition, as_tuple=True)
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in np.nonzero(np.asarray(_raw(condition))))
    if a is None or b is None:
        raise ArgumentTypeError("where: give both the values where the condition holds and where it does not, or "
                                "neither (then it returns the indices where it holds)")
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


def relu(input, inplace=False):
    """max(x, 0); its gradient at 0 is 0. ``inplace=True`` writes the result into ``input`` (a Tensor) and
    returns it, as torch (refused on a leaf that requires grad while gradients are recorded)."""
    if inplace:
        if not isinstance(input, Tensor):
            raise ArgumentTypeError(f"relu: inplace=True needs a Tensor to write into, got {type(input).__name__}")
        return input.relu_()
    return E.ReLU.apply(_t(input))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else ``negative_slope`` * x; ``inplace=True`` writes into ``input`` (as relu)."""
    if inplace:
        if not isinstance(input, Tensor):
            raise ArgumentTypeError(
                f"leaky_relu: inplace=True needs a Tensor to write into, got {type(input).__name__}")
        return input._update("leaky_relu_", lambda s: E.LeakyReLU.apply(s, negative_slope=negative_slope))
    return E.LeakyReLU.apply(_t(input), negative_slope=negative_slope)


def gelu(x, approximate="none"):
    """x * Phi(x), exactly (``approximate='none'``) or with the tanh approximation."""
    return E.GELU.apply(_t(x), approximate=approximate)


def softplus(x, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (as torch.nn.functional.softplus)."""
    return E.Softplus.apply(_t(x), beta=beta, threshold=threshold)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (exp(x) - 1); ``inplace=True`` writes into ``input`` (as relu)."""
    if inplace:
        if not isinstance(input, Tensor):
            raise ArgumentTypeError(f"elu: inplace=True needs a Tensor to write into, got {type(input).__name__}")
        return input._update("elu_", lambda s: E.ELU.apply(s, alpha=alpha))
    return E.ELU.apply(_t(input), alpha=alpha)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish); ``inplace=True`` writes into ``input`` (as relu)."""
    if inplace:
        if not isinstance(input, Tensor):
            raise ArgumentTypeError(f"silu: inplace=True needs a Tensor to write into, got {type(input).__name__}")
        return input._update("silu_", lambda s: E.SiLU.apply(s))
    return E.SiLU.apply(_t(input))


def step(x):
    """The binary step: 1 where x >= 0, else 0. Its gradient is 0 everywhere."""
    return E.Step.apply(_t(x))


def softmax(x, dim=-1, dtype=None, *, axis=None):
    """exp(x) / sum(exp(x)) along ``dim``."""
    x = _t(x) if dtype is None else _t(x).astype(dtype)
    return N.Softmax.apply(x, axis=dim_arg(dim, axis, "softmax", -1))


def log_softmax(x, dim=-1, dtype=None, *, axis=None):
    """x - logsumexp(x) along ``dim``, computed stably."""
    x = _t(x) if dtype is None else _t(x).astype(dtype)
    return N.LogSoftmax.apply(x, axis=dim_arg(dim, axis, "log_softmax", -1))


# ---- reductions ------------------------------------------------------------------------------------


# ``dim``/``keepdim`` as PyTorch; NumPy's ``axis``/``keepdims`` are accepted as their aliases


def sum(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    return _t(x).sum(dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)


def mean(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    return _t(x).mean(dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest value; with ``dim``, ``(values, indices)`` along it; ``max(a, b)``: the elementwise maximum."""
    return _extreme(_t(x), "max", dim, keepdim, axis, keepdims)


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest value; with ``dim``, ``(values, indices)`` along it; ``min(a, b)``: the elementwise minimum."""
    return _extreme(_t(x), "min", dim, keepdim, axis, keepdims)


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest values over ``dim`` (an int, a tuple or all); tied maxima share the gradient equally."""
    return _t(x).amax(dim, keepdim, axis=axis, keepdims=keepdims)


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest values over ``dim``; tied minima share the gradient equally."""
    return _t(x).amin(dim, keepdim, axis=axis, keepdims=keepdims)


def logsumexp(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    return _t(x).logsumexp(dim, keepdim, axis=axis, keepdims=keepdims)


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, ddof=None, axis=None, keepdims=None):
    """Variance ``sum((x - mean)^2) / (n - correction)``, with PyTorch's default ``correction=1`` (Bessel's);
    ``unbiased=False`` or NumPy's ``ddof=0`` give the population variance."""
    x = _t(x)
    given = [c for c in (correction, ddof, None if unbiased is None else int(bool(unbiased))) if c is not None]
    if len(given) > 1:
        raise ArgumentTypeError("var: give one of correction, unbiased and ddof")
    c = given[0] if given else 1
    axes = R.normalize_axis(dim_arg(dim, axis, "var"), x.ndim, "var")
    keep = keepdim_arg(keepdim, keepdims, "var")
    n = int(np.prod([x.shape[a] for a in axes]))
    d = x - x.mean(axes, True)
    ss = (d * d).sum(axes, keep)
    return ss / (n - c) if n > c else ss * float("nan")


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, ddof=None, axis=None, keepdims=None):
    """Standard deviation: the square root of ``var`` (same arguments; PyTorch's default ``correction=1``)."""
    return var(x, dim, unbiased, keepdim, correction=correction, ddof=ddof, axis=axis, keepdims=keepdims).sqrt()


def argmax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the largest value (flat index when ``dim`` is None); int64, no gradient."""
    return _t(x).argmax(dim, keepdim, axis=axis, keepdims=keepdims)


def argmin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the smallest value (flat index when ``dim`` is None); int64, no gradient."""
    return _t(x).argmin(dim, keepdim, axis=axis, keepdims=keepdims)


# ---- shape -----------------------------------------------------------------------------------------


def reshape(x, shape):
    return M.Reshape.apply(_t(x), shape=tuple(shape) if not isinstance(shape, int) else (shape,))


def transpose(x, dim0=None, dim1=None):
    """``transpose(x, dim0, dim1)`` swaps two axes (PyTorch's meaning); ``transpose(x)`` reverses them all and
    ``transpose(x, axes)`` with a tuple permutes them (NumPy's)."""
    x = _t(x)
    if dim1 is not None:
        return x.transpose(dim0, dim1)
    return M.Transpose.apply(x, axes=None if dim0 is None else tuple(dim0))


def permute(x, dims):
    return M.Transpose.apply(_t(x), axes=tuple(dims))


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


def squeeze(x, dim=None, *, axis=None):
    """Drop axes of length 1 (all of them, or those in ``dim``; others are left alone, as PyTorch)."""
    x = _t(x)
    axis = dim_arg(dim, axis, "squeeze")
    if axis is None:
        axes = {i for i, n in enumerate(x.shape) if n == 1}
    else:
        axes = {_axis(a, x.ndim, "squeeze") for a in ((axis,) if isinstance(axis, int) else axis)}
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in axes and n == 1))
    return M.Reshape.apply(x, shape=shape)


def unsqueeze(x, dim=None, *, axis=None):
    """Insert an axis of length 1 at position ``dim``."""
    x = _t(x)
    axis = dim_arg(dim, axis, "unsqueeze")
    if axis is None:
        raise ArgumentTypeError("unsqueeze: missing the dim argument")
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


def concatenate(tensors, dim=0, *, axis=None):
    """Join tensors along an existing axis ``dim``."""
    if isinstance(tensors, Tensor):
        raise ArgumentTypeError("cat: expected a sequence of tensors, got one Tensor; use cat([a, b], dim)")
    return M.Concatenate.apply(*[_t(t) for t in tensors], axis=dim_arg(dim, axis, "cat", 0))


cat = concatenate


def stack(tensors, dim=0, *, axis=None):
    """Join tensors of one shape along a new axis ``dim``."""
    axis = dim_arg(dim, axis, "stack", 0)
    ts = [_t(t) for t in tensors]
    if not ts:
        raise ShapeError("stack: needs at least one tensor")
    if any(t.shape != ts[0].shape for t in ts):
        raise ShapeError(f"stack: all tensors need one shape, got {', '.join(str(t.shape) for t in ts)}")
    axis = _axis(axis, ts[0].ndim + 1, "stack")
    return concatenate([unsqueeze(t, axis) for t in ts], axis=axis)


def split(x, split_size_or_sections, dim=0, *, axis=None):
    """Split into chunks along ``dim`` (as torch.split): an int is the size of each chunk
    (the last may be smaller), a list gives every chunk's size."""
    x = _t(x)
    axis = dim_arg(dim, axis, "split", 0)
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
    return tuple(out)


def unbind(x, dim=0):
    """The slices of ``x`` along ``dim``, as a tuple of tensors (as torch.unbind)."""
    x = _t(x)
    d = _one_dim(dim, x.shape, "unbind")
    return tuple(x[(slice(None),) * d + (i,)] for i in range(x.shape[d]))


def pad(x, pad, mode="constant", value=None):
    """Pad with a constant, as ``torch.nn.functional.pad``: ``pad`` is a flat sequence of (before, after) sizes
    starting from the LAST axis, e.g. ``(1, 1)`` pads the last axis and ``(1, 1, 2, 0)`` the last two. NumPy's
    form (one (before, after) pair per axis, nested) is accepted too."""
    x = _t(x)
    if mode != "constant":
        raise ArgumentError(f"pad: mode {mode!r} is not supported; chainrule pads with a constant (mode='constant')")
    if isinstance(pad, int | np.integer) or (pad and isinstance(pad[0], tuple | list)):
        width = pad  # NumPy's pad_width
    else:
        pad = [int(p) for p in pad]
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise ShapeError(f"pad: needs (before, after) pairs for at most {x.ndim} axes, got {tuple(pad)}")
        if builtins.any(p < 0 for p in pad):
            raise ArgumentError(f"pad: negative padding (cropping) is not supported, got {tuple(pad)}")
        pairs = [(pad[i], pad[i + 1]) for i in range(0, len(pad), 2)]
        width = [(0, 0)] * (x.ndim - len(pairs)) + pairs[::-1]
    return M.Pad.apply(x, pad_width=width, value=0 if value is None else value)


# ---- linear algebra --------------------------------------------------------------------------------


def matmul(a, b):
    """Matrix product with NumPy's rules for 1-D and batched operands."""
    return L.MatMul.apply(_t(a), _t(b))


def numel(x):
    """The number of elements of ``x``."""
    return _t(x).numel()


def is_tensor(obj):
    """True when ``obj`` is a chainrule Tensor."""
    return isinstance(obj, Tensor)


__all__ = [
    "abs",
    "amax",
    "amin",
    "is_tensor",
    "numel",
    "unbind",
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
    "multiply",
    "neg",
    "negative",
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
    "subtract",
    "sum",
    "swapaxes",
    "tanh",
    "transpose",
    "unsqueeze",
    "var",
    "where",
]
