"""PyTorch's long-tail tensor functions, with PyTorch's meanings: the ones tutorials reach for now and then.

* reductions and scans: ``median`` / ``nanmedian`` (the lower median; with ``dim`` a ``(values, indices)`` named
  tuple), ``nansum``, ``nanmean``, ``aminmax``, ``cummax`` / ``cummin``;
* elementwise: ``atan2`` (``arctan2``), ``hypot``, ``logaddexp``, ``xlogy``, ``frac``, ``sgn``, ``deg2rad``,
  ``rad2deg``;
* shapes: ``diff``, ``kron``, ``repeat_interleave``, ``select``, ``hstack``, ``vstack`` (``row_stack``),
  ``column_stack``, ``dstack``, ``movedim`` (``moveaxis``), ``broadcast_tensors``, ``broadcast_shapes``,
  ``atleast_1d`` / ``2d`` / ``3d``, ``cartesian_prod``, ``block_diag``, ``tensordot``, and the Tensor-only
  ``unfold`` (sliding windows);
* without a gradient: ``searchsorted``, ``bucketize``, ``unique_consecutive``;
* dtypes: ``result_type``, ``promote_types``, ``can_cast``, ``finfo``, ``iinfo``;
* Tensor-only facts, written as functions of the tensor: ``ndimension``, ``nbytes``, ``itemsize``, ``stride``.

The differentiable ones are composites of chainrule's primitives (indexing, concatenation, where, atan, ...),
so their gradients come from their parts. ``__all__`` lists the functions torch has at its top level;
``TENSOR_METHODS`` the functions that are also Tensor methods of the same name (the Tensor-only ones included),
``TENSOR_PROPERTIES`` those that are Tensor properties (``x.nbytes``), ``IN_PLACE`` those with an in-place
form (``x.atan2_(y)``).
"""

import builtins
import math as _math
from collections import namedtuple

import numpy as np

from ..backend import array_module
from ..errors import ArgumentError, ArgumentTypeError, DTypeError, OutOfRangeError, ShapeError
from ..ops import elementwise as E
from ..ops import indexing as X
from ..ops import linalg as L
from ..ops import math as A
from ..ops import movement as M
from ..ops import reduce as R
from ..tensor import Size, Tensor, as_dtype, float32, int32, int64
from .math import (
    _CATEGORY,
    _INT,
    _argsort,
    _dims_and_keep,
    _int,
    _one_dim,
    _operand,
    _promote_types,
    _result_dtype,
    _same_dtype,
    _t,
    meshgrid,
)

# PyTorch's torch.return_types for these functions
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
aminmax_result = namedtuple("aminmax", ["min", "max"])
cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def _whole(x, ax, index):
    """``x`` indexed along dimension ``ax`` by ``index`` (an int, a slice or an int array)."""
    return M.GetItem.apply(x, index=(slice(None),) * ax + (index,))


def _pick(x, ax, idx):
    """The elements of ``x`` at ``idx`` (an int array of x's dimensions) along ``ax``: gather, differentiable."""
    return M.GetItem.apply(x, index=X.along_index(idx, ax, array_module(idx)))


def _floats(op, input, other, integers="float32"):
    """The two operands as tensors of the dtype PyTorch's promotion picks; integer and bool results become float32
    (``integers="float32"``) or are refused (``integers="refuse"``), as each PyTorch function does."""
    dtype = _result_dtype([_operand(op, v) for v in (input, other)])
    if dtype.kind != "f":
        if integers == "refuse":
            raise DTypeError(f"{op}: not defined for {dtype} tensors; convert them with .float() first")
        dtype = float32
    out = [(v.astype(dtype) if v._data.dtype != dtype else v) if isinstance(v, Tensor) else Tensor(v, dtype=dtype)
           for v in (input, other)]
    try:
        shape = np.broadcast_shapes(out[0].shape, out[1].shape)
    except ValueError:
        raise ShapeError(f"{op}: cannot broadcast shapes {out[0].shape} and {out[1].shape}") from None
    return out[0], out[1], dtype, shape


# ---- reductions and scans ----------------------------------------------------------------------------------------


def _median(op, result, input, dim, keepdim, axis, keepdims, skip_nan):
    x = _t(input)
    a = x._data
    if a.dtype.kind == "b":
        raise DTypeError(f"{op}: not defined for bool tensors; convert with .long() or .float() first")
    dim, keepdim = _dims_and_keep(op, dim, axis, keepdim, keepdims)
    xp = array_module(a)
    if dim is None:  # the whole tensor: the gradient is shared by the elements equal to the median, as PyTorch
        flat = a.reshape(-1)
        if flat.size == 0:
            if a.dtype.kind != "f":
                raise ShapeError(f"{op}: cannot take the median of an empty {a.dtype} tensor")
            return Tensor._wrap(xp.array(np.nan, a.dtype))
        nan = xp.isnan(flat) if a.dtype.kind == "f" else xp.zeros(flat.shape, bool)
        kept = flat[~nan] if skip_nan else flat
        is_nan = kept.size == 0 or (not skip_nan and bool(nan.any()))
        mask = nan if is_nan else flat == xp.sort(kept)[(kept.size - 1) // 2]
        chosen = M.GetItem.apply(M.Reshape.apply(x, shape=(flat.size,)), index=xp.nonzero(mask))
        # the chosen elements are all equal (or all NaN): their max (mean) is the median, the gradient shared
        return (R.Mean if is_nan else R.Max).apply(chosen, axis=None, keepdims=False)
    ax = _one_dim(op, dim, x.ndim)
    if x.ndim == 0:
        return result(X.Clone.apply(x), Tensor._wrap(xp.zeros((), int64)))
    n = x.shape[ax]
    if n == 0:
        raise ShapeError(f"{op}: cannot reduce over dimension {dim} of size 0 (shape {x.shape})")
    order = _argsort(a, ax, False)  # stable, NaN last
    nan = xp.isnan(a) if a.dtype.kind == "f" else xp.zeros(a.shape, bool)
    if skip_nan:
        k = n - nan.sum(axis=ax, keepdims=True)
        pos = xp.maximum((k - 1) // 2, 0)
    else:
        pos = xp.full(nan.sum(axis=ax, keepdims=True).shape, (n - 1) // 2)
    idx = xp.take_along_axis(order, pos.astype(int64), axis=ax)
    if not skip_nan:  # a NaN makes the median NaN, at the first NaN
        idx = xp.where(nan.any(axis=ax, keepdims=True), xp.argmax(nan, axis=ax, keepdims=True), idx)
    values = _pick(x, ax, idx)
    if not keepdim:
        idx = idx.squeeze(ax)
        values = M.Reshape.apply(values, shape=idx.shape)
    return result(values, Tensor._wrap(idx.astype(int64, copy=False)))


def median(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The lower median (the ``(n - 1) // 2``-th smallest element; NaN if there is one): of all elements as a
    0-d tensor, whose gradient is shared by the elements equal to it; with ``dim``, ``(values, indices)`` along
    it (a NaN's index where there is one; among tied elements, the one a stable sort puts in the middle)."""
    return _median("median", median_result, input, dim, keepdim, axis, keepdims, skip_nan=False)


def nanmedian(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``median`` ignoring NaN (NaN only where every element is NaN)."""
    return _median("nanmedian", nanmedian_result, input, dim, keepdim, axis, keepdims, skip_nan=True)


def nansum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """The sum treating NaN as zero (over ``dim``: an int, a tuple or None for all); integers and bools sum in
    int64. The gradient is zero at the NaN elements."""
    x = _t(input)
    dim, keepdim = _dims_and_keep("nansum", dim, axis, keepdim, keepdims)
    dtype = None if dtype is None else as_dtype(dtype)
    if x._data.dtype.kind != "f":
        x = Tensor._wrap(x._data.astype(int64 if dtype is None else dtype))
    else:
        x = E.Where.apply(array_module(x._data).isnan(x._data), np.zeros((), x._data.dtype), x)
    return x.sum(dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """The mean of the elements that are not NaN (NaN where there are none), for floating tensors."""
    x = _t(input)
    dtype = None if dtype is None else as_dtype(dtype)
    if x._data.dtype.kind != "f" and (dtype is None or dtype.kind != "f"):
        raise DTypeError(f"nanmean: expects a floating tensor, got {x._data.dtype}; convert it with .float()")
    if dtype is not None:
        x = x.astype(dtype)
    dim, keepdim = _dims_and_keep("nanmean", dim, axis, keepdim, keepdims)
    a = x._data
    count = (~array_module(a).isnan(a)).sum(axis=R.normalize_axis(dim, a.ndim, "nanmean"), keepdims=bool(keepdim))
    with np.errstate(invalid="ignore", divide="ignore"):
        return nansum(x, dim, keepdim) / count.astype(a.dtype)


def aminmax(input, *, dim=None, keepdim=False):
    """The smallest and the largest values (over ``dim``, or all elements): ``aminmax(min, max)``; tied extremes
    share the gradient, as amin / amax."""
    x = _t(input)
    if dim is not None:
        ax = _one_dim("aminmax", dim, x.ndim)
        if x.ndim == 0:
            return aminmax_result(X.Clone.apply(x), X.Clone.apply(x))
        if x.shape[ax] == 0:
            raise ShapeError(f"aminmax: cannot reduce over dimension {dim} of size 0 (shape {x.shape})")
        dim = ax
    elif x._data.size == 0:
        raise ShapeError(f"aminmax: cannot reduce a tensor of shape {x.shape} with no elements")
    return aminmax_result(R.Min.apply(x, axis=dim, keepdims=bool(keepdim)),
                          R.Max.apply(x, axis=dim, keepdims=bool(keepdim)))


def _cumulative(op, result, ufunc, input, dim):
    x = _t(input)
    ax = _one_dim(op, dim, x.ndim)
    a = x._data
    xp = array_module(a)
    if x.ndim == 0:
        return result(X.Clone.apply(x), Tensor._wrap(xp.zeros((), int64)))
    running = ufunc.accumulate(a, axis=ax)  # NaN propagates from its first occurrence
    new = a == running  # where an element equals the running extreme (ties count: the last one wins)
    if a.dtype.kind == "f":
        new |= xp.isnan(a) & xp.isnan(running)
    place = xp.arange(a.shape[ax]).reshape((-1,) + (1,) * (a.ndim - ax - 1))
    idx = np.maximum.accumulate(xp.where(new, place, -1), axis=ax).astype(int64)
    return result(_pick(x, ax, idx), Tensor._wrap(idx))


def cummax(input, dim):
    """The running maximum along ``dim`` and where it was reached (the latest of tied elements; NaN, once met,
    propagates): ``cummax(values, indices)``; the gradient goes to those indices."""
    return _cumulative("cummax", cummax_result, np.maximum, input, dim)


def cummin(input, dim):
    """The running minimum along ``dim`` and where it was reached: ``cummin(values, indices)``."""
    return _cumulative("cummin", cummin_result, np.minimum, input, dim)


# ---- elementwise -------------------------------------------------------------------------------------------------


def atan2(input, other):
    """The angle of the point (other, input), in (-pi, pi], elementwise (integers give float32). Built from
    atan of the ratio of the smaller to the larger coordinate, whose gradient is ``(x, -y) / (x^2 + y^2)``;
    at the origin and at infinities the value is NumPy's arctan2, with a zero gradient (torch's is 0 at the
    origin too)."""
    y, x, dtype, shape = _floats("atan2", input, other)
    xp = array_module(y._data)
    yd, xd = (xp.broadcast_to(v._data, shape) for v in (y, x))
    with np.errstate(all="ignore"):
        exact = np.arctan2(yd, xd)
    regular = ~xp.isinf(yd) & ~xp.isinf(xd) & ((yd != 0) | (xd != 0))  # NaN goes through: NaN gradients
    steep = regular & (xp.abs(yd) > xp.abs(xd))  # |y| > |x|: pi/2 sign(y) - atan(x / y)
    flat = regular & ~steep  # |y| <= |x|, x != 0: atan(y / x), plus pi sign(y) for x < 0
    one, zero = xp.ones((), dtype), xp.zeros((), dtype)
    ratio_flat = A.Atan.apply(E.Where.apply(flat, y, zero) / E.Where.apply(flat, x, one))
    ratio_steep = A.Atan.apply(E.Where.apply(steep, x, zero) / E.Where.apply(steep, y, one))
    offset = xp.where(flat & (xd < 0), xp.where(np.signbit(yd), -np.pi, np.pi), 0.0).astype(dtype)
    quarter = xp.where(yd > 0, np.pi / 2, -np.pi / 2).astype(dtype)
    out = E.Where.apply(steep, quarter - ratio_steep, ratio_flat + offset)
    return E.Where.apply(regular, out, exact)


arctan2 = atan2


def hypot(input, other):
    """sqrt(input^2 + other^2) elementwise, without overflow (floating tensors); its gradient is
    ``(input, other) / hypot`` (NaN at the origin, as PyTorch)."""
    x, y, dtype, shape = _floats("hypot", input, other, integers="refuse")
    xp = array_module(x._data)
    xd, yd = (xp.broadcast_to(v._data, shape) for v in (x, y))
    scale = xp.maximum(xp.abs(xd), xp.abs(yd))
    finite = xp.isfinite(scale)
    scale = xp.where(finite & (scale > 0), scale, 1).astype(dtype)  # a constant: the formula is homogeneous
    u, v = x / scale, y / scale
    out = E.Sqrt.apply(u * u + v * v) * scale
    return E.Where.apply(finite, out, np.hypot(xd, yd))


def logaddexp(input, other):
    """log(exp(input) + exp(other)) elementwise, computed stably (floating tensors)."""
    a, b, _, shape = _floats("logaddexp", input, other, integers="refuse")
    a, b = (v if v.shape == shape else M.Expand.apply(v, shape=shape) for v in (a, b))
    both = M.Concatenate.apply(M.Reshape.apply(a, shape=(1,) + shape), M.Reshape.apply(b, shape=(1,) + shape), axis=0)
    return R.LogSumExp.apply(both, axis=0, keepdims=False)


def xlogy(input, other):
    """input * log(other), and 0 where input is 0 (unless other is NaN); either may be a number, integers give
    float32. Gradients: log(other) for input (0 where input is 0 and other <= 0), input / other for other."""
    x, y, dtype, shape = _floats("xlogy", input, other)
    xp = array_module(x._data)
    xd, yd = (xp.broadcast_to(v._data, shape) for v in (x, y))
    silent = (xd == 0) & ((yd <= 0) | xp.isposinf(yd))  # 0 * log(0) and 0 * log(inf) are 0, log(y) kept finite
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, as torch, silently
        return x * E.Log.apply(E.Where.apply(silent, xp.ones((), dtype), y))


def frac(input):
    """The fractional part ``x - trunc(x)`` (the sign of x), for floating tensors; its gradient is 1."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        raise DTypeError(f"frac: not defined for {x._data.dtype} tensors; convert with .float() first")
    with np.errstate(invalid="ignore"):  # frac(inf) is NaN, as torch, silently
        return x - A.Trunc.apply(x)


def sgn(input):
    """The sign of each element (for real tensors ``sign``: -1, 0 or 1, the dtype kept); its gradient is zero."""
    return A.Sign.apply(_t(input))


def _angle(input, factor):
    x = _t(input)
    if x._data.dtype.kind != "f":
        x = Tensor._wrap(x._data.astype(float32))
    return x * factor


def deg2rad(input):
    """Degrees to radians, x * pi / 180 (integers give float32)."""
    return _angle(input, _math.pi / 180)


def rad2deg(input):
    """Radians to degrees, x * 180 / pi (integers give float32)."""
    return _angle(input, 180 / _math.pi)


# ---- shapes ------------------------------------------------------------------------------------------------------


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The ``n``-th forward difference ``x[i + 1] - x[i]`` along ``dim`` (``logical_xor`` for bools), after
    joining ``prepend`` and ``append`` (tensors of the input's dimensions) to either end."""
    x = _t(input)
    if x.ndim == 0:
        raise ShapeError("diff: expects a tensor of at least 1 dimension, got a 0-d tensor")
    n = _int("diff", n, "n")
    if n < 0:
        raise ArgumentError(f"diff: the order n must be non-negative, got {n}")
    ax = _one_dim("diff", dim, x.ndim)
    parts = []
    for name, p in (("prepend", prepend), (None, x), ("append", append)):
        if p is None:
            continue
        p = _t(p)
        if name and (p.ndim != x.ndim or p.shape[:ax] + p.shape[ax + 1:] != x.shape[:ax] + x.shape[ax + 1:]):
            raise ShapeError(f"diff: {name} of shape {p.shape} must match the input, of shape {x.shape}, in every "
                             f"dimension but dim {dim}")
        parts.append(p)
    if len(parts) > 1:
        x = M.Concatenate.apply(*parts, axis=ax)
    if n == 0:
        return X.Clone.apply(x) if x is parts[0] else x
    for _ in range(builtins.min(n, x.shape[ax])):
        hi, lo = _whole(x, ax, slice(1, None)), _whole(x, ax, slice(None, -1))
        x = Tensor._wrap(np.logical_xor(hi._data, lo._data)) if x._data.dtype.kind == "b" else hi - lo
    return x


def kron(input, other):
    """The Kronecker product: every element of ``input`` times the whole of ``other``, block by block (the two
    padded with leading dimensions to the same number); dtypes promote as PyTorch's."""
    a, b = _t(input), _t(other)
    dtype = _promote_types(a._data.dtype, b._data.dtype)
    a, b = (v if v._data.dtype == dtype else v.astype(dtype) for v in (a, b))
    nd = builtins.max(a.ndim, b.ndim)
    sa, sb = (1,) * (nd - a.ndim) + a.shape, (1,) * (nd - b.ndim) + b.shape
    wa = tuple(v for s in sa for v in (s, 1))
    wb = tuple(v for s in sb for v in (1, s))
    out = M.Reshape.apply(a, shape=wa) * M.Reshape.apply(b, shape=wb)
    return M.Reshape.apply(out, shape=tuple(p * q for p, q in zip(sa, sb)))


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or each slice along ``dim``) repeated ``repeats`` times in place: an int, or a 1-D int tensor
    of one count per element; with no ``dim`` the input is flattened. ``repeat_interleave(counts)`` alone gives
    ``0, 1, ...`` each repeated by its count. The gradients of the copies add up."""
    if repeats is None:
        counts = _t(input)._data
        if counts.dtype.kind not in "iu" or counts.ndim > 1:
            raise DTypeError(f"repeat_interleave: the counts must be a 1-D int tensor, got {counts.dtype} of shape "
                             f"{counts.shape}")
        input, repeats, dim = Tensor._wrap(np.arange(counts.size, dtype=int64)), Tensor._wrap(counts.reshape(-1)), 0
    x = _t(input)
    if dim is None:
        x, ax = M.Reshape.apply(x, shape=(x._data.size,)), 0
    else:
        ax = _one_dim("repeat_interleave", dim, x.ndim)
        if x.ndim == 0:
            x = M.Reshape.apply(x, shape=(1,))
    size = x.shape[ax]
    if isinstance(repeats, Tensor):
        r = repeats._data
        if r.dtype.kind not in "iu":
            raise DTypeError(f"repeat_interleave: repeats must be an int tensor, got {r.dtype}")
        if r.ndim > 1 or r.size not in (1, size):
            raise ShapeError(f"repeat_interleave: repeats of shape {r.shape} must have one count per entry along "
                             f"dim ({size}), or a single count")
        r = np.broadcast_to(r.reshape(-1), (size,))
    else:
        r = np.full(size, _int("repeat_interleave", repeats, "repeats"))
    if r.size and int(r.min()) < 0:
        raise ArgumentError(f"repeat_interleave: repeats must be non-negative, got {int(r.min())}")
    idx = np.repeat(np.arange(size), r)
    if output_size is not None and _int("repeat_interleave", output_size, "output_size") != idx.size:
        raise ArgumentError(f"repeat_interleave: output_size is {output_size} but the repeats add up to {idx.size}")
    return _whole(x, ax, idx)


def select(input, dim, index):
    """The slice of ``input`` at position ``index`` along ``dim`` (that dimension removed): ``x[:, index]`` for
    dim 1; negative positions count from the end."""
    x = _t(input)
    if x.ndim == 0:
        raise ShapeError("select: cannot select from a 0-d tensor")
    ax = _one_dim("select", dim, x.ndim)
    i = _int("select", index, "index")
    n = x.shape[ax]
    if not -n <= i < n:
        raise OutOfRangeError(f"select: index {i} is out of range for dimension {dim} of size {n}")
    return _whole(x, ax, i % n)


def _tensor_list(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, list | tuple):
        raise ArgumentTypeError(f"{op}: expects a sequence of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ArgumentError(f"{op}: expects a non-empty sequence of tensors")
    return [_t(t) for t in tensors]


def _cat(op, ts, ax):
    try:
        return M.Concatenate.apply(*ts, axis=ax)
    except ShapeError:
        shapes = ", ".join(str(t.shape) for t in ts)
        raise ShapeError(f"{op}: shapes {shapes} must match in every dimension but {ax}") from None


def hstack(tensors):
    """Join tensors column-wise: along dimension 1, or 0 for 1-D tensors (0-d ones count as 1-D)."""
    ts = atleast_1d(_tensor_list("hstack", tensors))
    return _cat("hstack", ts, 0 if builtins.all(t.ndim == 1 for t in ts) else 1)


def vstack(tensors):
    """Join tensors row-wise, along dimension 0, after making each at least 2-D (a vector becomes a row)."""
    return _cat("vstack", atleast_2d(_tensor_list("vstack", tensors)), 0)


def row_stack(tensors):
    """``vstack``, by its other name."""
    return _cat("row_stack", atleast_2d(_tensor_list("row_stack", tensors)), 0)


def column_stack(tensors):
    """Join tensors as columns: 0-d and 1-D tensors become columns (n, 1), then all join along dimension 1."""
    ts = [M.Reshape.apply(t, shape=(t._data.size, 1)) if t.ndim <= 1 else t
          for t in _tensor_list("column_stack", tensors)]
    return _cat("column_stack", ts, 1)


def dstack(tensors):
    """Join tensors depth-wise, along dimension 2, after making each at least 3-D."""
    return _cat("dstack", atleast_3d(_tensor_list("dstack", tensors)), 2)


def movedim(input, source, destination):
    """The dimensions ``source`` (an int or a sequence) moved to the positions ``destination``, the others keeping
    their order."""
    x = _t(input)
    src = list(source) if isinstance(source, list | tuple) else [source]
    dst = list(destination) if isinstance(destination, list | tuple) else [destination]
    if len(src) != len(dst):
        raise ArgumentError(f"movedim: source {tuple(src)} and destination {tuple(dst)} need as many dimensions")
    src = [_one_dim("movedim", d, x.ndim) for d in src]
    dst = [_one_dim("movedim", d, x.ndim) for d in dst]
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) < len(dims):
            raise ArgumentError(f"movedim: a dimension is repeated in {name} {tuple(dims)}")
    if x.ndim == 0:
        return X.Clone.apply(x)
    order = [d for d in range(x.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return M.Transpose.apply(x, axes=tuple(order))


moveaxis = movedim


def broadcast_shapes(*shapes):
    """The shape that tensors of ``shapes`` (each an int or a sequence of ints) broadcast to, as a Size."""
    dims = []
    for s in shapes:
        s = (s,) if isinstance(s, _INT) else tuple(s)
        if builtins.any(isinstance(d, bool) or not isinstance(d, _INT) or d < 0 for d in s):
            raise ArgumentError(f"broadcast_shapes: a shape must hold non-negative ints, got {s}")
        dims.append(s)
    try:
        return Size(np.broadcast_shapes(*dims))
    except ValueError:
        raise ShapeError(f"broadcast_shapes: shapes {', '.join(map(str, dims))} do not broadcast together") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape, as a tuple; the gradients sum back."""
    ts = [_t(t) for t in tensors]
    try:
        shape = tuple(np.broadcast_shapes(*(t.shape for t in ts)))
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in ts)
        raise ShapeError(f"broadcast_tensors: shapes {shapes} do not broadcast together") from None
    return tuple(t if t.shape == shape else M.Expand.apply(t, shape=shape) for t in ts)


def _atleast(ndim, tensors, place):
    many = len(tensors) != 1 or isinstance(tensors[0], list | tuple)
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tensors[0]
    out = []
    for t in map(_t, tensors):
        out.append(t if t.ndim >= ndim else M.Reshape.apply(t, shape=place(t.shape)))
    return tuple(out) if many else out[0]


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (a 0-d one becomes shape (1,)); one tensor in, one out, else a
    tuple."""
    return _atleast(1, tensors, lambda s: (1,))


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions: 0-d to (1, 1), a vector of n to (1, n)."""
    return _atleast(2, tensors, lambda s: (1,) * (2 - len(s)) + s)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions: 0-d to (1, 1, 1), (n,) to (1, n, 1), (m, n) to (m, n, 1)."""
    return _atleast(3, tensors, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-D tensor (of one dtype), as rows of a (count, k) tensor in
    row-major order; one tensor comes back as it is."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    ts = [_t(t) for t in tensors]
    if not ts:
        raise ArgumentError("cartesian_prod: needs at least one tensor")
    for k, t in enumerate(ts):
        if t.ndim != 1:
            raise ShapeError(f"cartesian_prod: expects 1-D tensors, got shape {t.shape} for tensor {k}")
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    n = grids[0]._data.size
    return M.Concatenate.apply(*(M.Reshape.apply(g, shape=(n, 1)) for g in grids), axis=1)


def block_diag(*tensors):
    """The tensors (each at most 2-D: a 0-d one is 1 x 1, a vector a row) down the diagonal of one matrix of
    zeros, in the promoted dtype."""
    ts = [_t(t) for t in tensors]
    for k, t in enumerate(ts):
        if t.ndim > 2:
            raise ShapeError(f"block_diag: expects tensors of at most 2 dimensions, got shape {t.shape} for "
                             f"tensor {k}")
    if not ts:
        return Tensor._wrap(np.zeros((1, 0), float32))
    dtype = ts[0]._data.dtype
    for t in ts[1:]:
        dtype = _promote_types(dtype, t._data.dtype)
    blocks = [M.Reshape.apply(t, shape=(1,) * (2 - t.ndim) + t.shape) if t.ndim < 2 else t for t in ts]
    blocks = [b if b._data.dtype == dtype else b.astype(dtype) for b in blocks]
    width = builtins.sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        rows.append(M.Pad.apply(b, pad_width=[(0, 0), (left, width - left - b.shape[1])], value=0))
        left += b.shape[1]
    return M.Concatenate.apply(*rows, axis=0)


def tensordot(a, b, dims=2):
    """The sum of products over ``dims`` pairs of dimensions: an int (the last ``dims`` of ``a`` with the first of
    ``b``) or two sequences ``([dims of a], [dims of b])``; the two tensors share a dtype."""
    a, b = _t(a), _t(b)
    _same_dtype("tensordot", a, b)
    if isinstance(dims, Tensor):
        dims = dims._data.tolist()
    if isinstance(dims, _INT) and not isinstance(dims, bool):
        if not 0 <= dims <= builtins.min(a.ndim, b.ndim):
            raise ArgumentError(f"tensordot: dims must be between 0 and {builtins.min(a.ndim, b.ndim)} for shapes "
                                f"{a.shape} and {b.shape}, got {dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    elif isinstance(dims, list | tuple) and len(dims) == 2:
        da, db = ([d] if isinstance(d, _INT) else list(d) for d in dims)
        if len(da) != len(db):
            raise ArgumentError(f"tensordot: {len(da)} dims of a and {len(db)} dims of b; give as many of each")
        da = [_one_dim("tensordot", d, a.ndim) for d in da]
        db = [_one_dim("tensordot", d, b.ndim) for d in db]
    else:
        raise ArgumentTypeError(f"tensordot: dims must be an int or a pair of sequences of dims, got {dims!r}")
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(f"tensordot: contracted dimensions differ: {a.shape[i]} (dim {i} of a, shape "
                             f"{a.shape}) and {b.shape[j]} (dim {j} of b, shape {b.shape})")
    fa = [d for d in range(a.ndim) if d not in da]
    fb = [d for d in range(b.ndim) if d not in db]
    k = _math.prod(a.shape[d] for d in da)
    am = M.Reshape.apply(M.Transpose.apply(a, axes=tuple(fa + da)), shape=(-1, k) if fa else (1, k))
    bm = M.Reshape.apply(M.Transpose.apply(b, axes=tuple(db + fb)), shape=(k, -1) if fb else (k, 1))
    out = L.MatMul.apply(am, bm)
    return M.Reshape.apply(out, shape=tuple(a.shape[d] for d in fa) + tuple(b.shape[d] for d in fb))


def unfold(input, dimension, size, step):
    """Tensor.unfold: the windows of ``size`` elements along ``dimension``, ``step`` apart, as a new last
    dimension (``dimension`` becomes the number of windows); the gradients of overlapping windows add up."""
    x = _t(input)
    ax = _one_dim("unfold", dimension, x.ndim)
    size, step = _int("unfold", size, "size"), _int("unfold", step, "step")
    if size < 0:
        raise ArgumentError(f"unfold: size must be >= 0, got {size}")
    if step <= 0:
        raise ArgumentError(f"unfold: step must be > 0, got {step}")
    flat = x.ndim == 0
    if flat:
        x = M.Reshape.apply(x, shape=(1,))
    n = x.shape[ax]
    if size > n:
        raise ShapeError(f"unfold: size {size} is larger than dimension {dimension}, of size {n} (shape "
                         f"{_t(input).shape})")
    idx = np.arange((n - size) // step + 1)[:, None] * step + np.arange(size)
    out = _whole(x, ax, idx)  # (..., windows, size, ...)
    order = [d for d in range(out.ndim) if d != ax + 1] + [ax + 1]
    out = M.Transpose.apply(out, axes=tuple(order))
    return M.Reshape.apply(out, shape=(size,)) if flat else out


# ---- without a gradient ------------------------------------------------------------------------------------------


def _side(op, right, side):
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise ArgumentError(f"{op}: side must be 'left' or 'right', got {side!r}")
    if right and side == "left":
        raise ArgumentError(f"{op}: side='left' and right=True contradict each other; give one")
    return side


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Where each value of ``input`` would go in ``sorted_sequence`` to keep it sorted: the first such position
    (``side='left'``) or the last (``right=True`` / ``side='right'``). A 1-D sequence serves every value; an
    N-D one has the values' leading dimensions and is searched row by row. ``sorter`` gives the order that sorts
    an unsorted sequence. int64 (int32 with ``out_int32``), no gradient."""
    side = _side("searchsorted", right, side)
    seq = _t(sorted_sequence)._data
    if seq.ndim == 0:
        raise ShapeError("searchsorted: the sorted sequence must have at least 1 dimension, got a 0-d tensor")
    scalar = not isinstance(input, Tensor)
    vals = np.asarray(_operand("searchsorted", input)) if scalar else input._data
    if sorter is not None:
        order = _t(sorter)._data
        if order.dtype.kind not in "iu" or order.shape != seq.shape:
            raise ShapeError(f"searchsorted: sorter must be an int tensor of the sequence's shape {seq.shape}, got "
                             f"{order.dtype} of shape {order.shape}")
        seq = np.take_along_axis(seq, order.astype(np.intp), axis=-1)
    xp = array_module(seq)
    if seq.ndim == 1:
        out = xp.searchsorted(seq, vals, side=side)
    else:
        if scalar or vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]:
            raise ShapeError(f"searchsorted: a sequence of shape {seq.shape} needs values with the same leading "
                             f"dimensions {seq.shape[:-1]}, got shape {vals.shape}")
        s2, v2 = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
        out = xp.stack([xp.searchsorted(s, v, side=side) for s, v in zip(s2, v2)]).reshape(vals.shape)
    return Tensor._wrap(xp.asarray(out).astype(int32 if out_int32 else int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element among the 1-D sorted ``boundaries``: i with ``boundaries[i-1] < x <=
    boundaries[i]`` (``right=True``: ``boundaries[i-1] <= x < boundaries[i]``). int64 (or int32), no gradient."""
    b = _t(boundaries)
    if b.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-D, got shape {b.shape}")
    return searchsorted(b, input, out_int32=out_int32, right=right)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """The input with each run of equal consecutive elements (with ``dim``, slices along it) kept once; with
    ``return_inverse`` and ``return_counts`` a tuple: the values, then the int64 run each element (or slice)
    belongs to, then each run's length. No gradient."""
    a = _t(input)._data
    xp = array_module(a)
    if dim is None:
        rows, shape = a.reshape(-1), a.shape
        change = rows[1:] != rows[:-1]
    else:
        if a.ndim == 0:
            raise ShapeError("unique_consecutive: dim needs a tensor of at least 1 dimension, got a 0-d tensor")
        ax = _one_dim("unique_consecutive", dim, a.ndim)
        rows = xp.moveaxis(a, ax, 0)
        shape = (rows.shape[0],)
        flat = rows.reshape(rows.shape[0], -1)
        change = (flat[1:] != flat[:-1]).any(axis=1)
    n = rows.shape[0]
    starts = xp.concatenate([xp.zeros(builtins.min(n, 1), np.intp), xp.nonzero(change)[0] + 1])
    values = rows[starts] if dim is None else xp.moveaxis(rows[starts], 0, ax)
    out = [Tensor._wrap(values)]
    if return_inverse:
        inverse = xp.concatenate([xp.zeros(builtins.min(n, 1), int64), xp.cumsum(change, dtype=int64)])
        out.append(Tensor._wrap(inverse.reshape(shape)))
    if return_counts:
        out.append(Tensor._wrap(xp.diff(xp.concatenate([starts, xp.array([n])])).astype(int64)))
    return out[0] if len(out) == 1 else tuple(out)


# ---- dtypes ------------------------------------------------------------------------------------------------------


def result_type(tensor1, tensor2):
    """The dtype PyTorch computes ``tensor1`` and ``tensor2`` (tensors or numbers) in: dimensioned tensors decide,
    then 0-d tensors, then numbers, each only when of a higher category (bool < integer < floating)."""
    operands = [_operand("result_type", v) for v in (tensor1, tensor2)]
    if not builtins.any(isinstance(v, np.ndarray) for v in operands):  # two numbers: their default dtypes
        operands = [np.asarray(v, dtype=_result_dtype([v])) for v in operands]
    return _result_dtype(operands)


def promote_types(type1, type2):
    """The smallest dtype both dtypes convert to without losing their category (int64 and float16 give
    float16, uint8 and int8 give int16), as torch.promote_types."""
    return _promote_types(as_dtype(type1), as_dtype(type2))


def can_cast(from_, to):
    """Whether PyTorch's casting rules let ``from_`` become ``to``: anything but a floating dtype to an integer
    one, or a number to bool."""
    return _CATEGORY[as_dtype(from_).kind] <= _CATEGORY[as_dtype(to).kind]


class finfo:
    """The machine limits of a floating dtype (float32 by default), as torch.finfo: ``bits``, ``eps``, ``max``,
    ``min``, ``tiny`` (= ``smallest_normal``), ``resolution`` and ``dtype`` (its name)."""

    def __init__(self, type=None):
        d = float32 if type is None else as_dtype(type)
        if d.kind != "f":
            raise DTypeError(f"finfo: expects a floating dtype, got {d}; use iinfo for integers")
        f = np.finfo(d)
        self.bits, self.dtype = int(f.bits), str(d)
        self.eps, self.max, self.min = float(f.eps), float(f.max), float(f.min)
        self.tiny = self.smallest_normal = float(f.smallest_normal)
        self.resolution = 10.0 ** -int(f.precision)  # as torch: not rounded to the dtype

    def __eq__(self, other):
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("finfo", self.dtype))

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """The limits of an integer dtype, as torch.iinfo: ``bits``, ``max``, ``min`` and ``dtype`` (its name)."""

    def __init__(self, type):
        d = as_dtype(type)
        if d.kind not in "iu":
            raise DTypeError(f"iinfo: expects an integer dtype, got {d}; use finfo for floating dtypes")
        i = np.iinfo(d)
        self.bits, self.max, self.min, self.dtype = int(i.bits), int(i.max), int(i.min), str(d)

    def __eq__(self, other):
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self):
        return hash(("iinfo", self.dtype))

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


# ---- Tensor-only facts -------------------------------------------------------------------------------------------


def ndimension(input):
    """The number of dimensions (Tensor.ndimension, the same as dim())."""
    return _t(input)._data.ndim


def nbytes(input):
    """The bytes the elements take (Tensor.nbytes): numel * itemsize."""
    return int(_t(input)._data.nbytes)


def itemsize(input):
    """The bytes one element takes (Tensor.itemsize)."""
    return int(_t(input)._data.itemsize)


def stride(input, dim=None):
    """The step in elements from one index to the next in each dimension (Tensor.stride): a tuple, or the step
    along ``dim``; read from the array's strides."""
    a = _t(input)._data
    steps = tuple(int(s) // a.itemsize for s in a.strides)
    if dim is None:
        return steps
    if a.ndim == 0:
        raise ShapeError(f"stride: a 0-d tensor has no dimension {dim}")
    return steps[_one_dim("stride", dim, a.ndim)]


__all__ = [
    "aminmax",
    "arctan2",
    "atan2",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "block_diag",
    "broadcast_shapes",
    "broadcast_tensors",
    "bucketize",
    "can_cast",
    "cartesian_prod",
    "column_stack",
    "cummax",
    "cummin",
    "deg2rad",
    "diff",
    "dstack",
    "finfo",
    "frac",
    "hstack",
    "hypot",
    "iinfo",
    "kron",
    "logaddexp",
    "median",
    "moveaxis",
    "movedim",
    "nanmean",
    "nanmedian",
    "nansum",
    "promote_types",
    "rad2deg",
    "repeat_interleave",
    "result_type",
    "row_stack",
    "searchsorted",
    "select",
    "sgn",
    "tensordot",
    "unique_consecutive",
    "vstack",
    "xlogy",
]

# the functions that are also Tensor methods of the same name (x.median(), x.diff(), x.unfold(0, 2, 1)); the
# last four are Tensor-only, not in __all__, so attach them from this module (functional.more)
TENSOR_METHODS = (
    "aminmax", "arctan2", "atan2", "cummax", "cummin", "deg2rad", "diff", "frac", "hypot", "kron", "logaddexp",
    "median", "moveaxis", "movedim", "nanmean", "nanmedian", "nansum", "rad2deg", "repeat_interleave", "select",
    "sgn", "unique_consecutive", "xlogy",
    "ndimension", "stride", "unfold",
)
# Tensor properties, read by these functions of the tensor (x.nbytes, x.itemsize)
TENSOR_PROPERTIES = ("nbytes", "itemsize")
# the Tensor methods with an in-place form in PyTorch (x.atan2_(y), x.frac_()); their results have the input's shape
IN_PLACE = ("arctan2", "atan2", "deg2rad", "frac", "hypot", "rad2deg", "sgn", "xlogy")
