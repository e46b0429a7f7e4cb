"""PyTorch's math, comparison, linear-algebra, shape and indexing functions, with PyTorch's meanings.

* elementwise: ``sin`` ... ``reciprocal``, ``sign``, ``floor``, ``ceil``, ``round``, ``trunc``, ``nan_to_num``
  (integer inputs give float32 results where PyTorch's do; rounding and ``sign`` have a zero gradient);
* comparisons and logic: ``eq`` ... ``ge``, ``isnan``, ``isinf``, ``isfinite``, ``all``, ``any``: bool tensors
  without a gradient, compared in the dtype PyTorch's promotion picks;
* products: ``mm``, ``bmm``, ``einsum``, ``norm``;
* shapes: ``t``, ``view_as``, ``clone``, ``repeat``, ``tile``, ``flip``, ``roll``, ``tril``, ``triu``, ``chunk``;
* scans and indexing: ``cumsum``, ``cumprod``, ``gather``, ``scatter``, ``scatter_add``, ``index_select``,
  ``masked_fill``, ``sort``, ``topk``.

Every function takes ``dim=`` / ``keepdim=`` as PyTorch does, and NumPy's ``axis=`` / ``keepdims=`` as aliases
(giving both is an error). ``TENSOR_METHODS`` names the functions that are also Tensor methods of the same name
(``x.sin()``, ``x.mm(y)``, ``x.scatter_add(dim, index, src)``, ``x.sort()``).
"""

import builtins
import math as _math
import string

import numpy as np

from .. import return_types
from ..backend import array_module
from ..errors import ArgumentError, ArgumentTypeError, DTypeError, OutOfRangeError, ShapeError
from ..ops import elementwise as E
from ..ops import indexing as X
from ..ops import linalg as L
from ..ops import math as A
from ..ops import movement as M
from ..ops.reduce import normalize_axis
from ..tensor import Tensor, float32, int64
from .core import split as _split

_INT = (int, np.integer)


def _t(x):
    """Tensors pass through; anything array-like becomes a constant tensor."""
    return x if isinstance(x, Tensor) else Tensor(x)


def _floating(x):
    """``x`` as a floating tensor: integer and bool tensors become float32 (as PyTorch's float functions)."""
    x = _t(x)
    return Tensor._wrap(x._data.astype(float32)) if x._data.dtype.kind in "biu" else x


def _alias(op, value, default, alias, names=("dim", "axis")):
    """PyTorch's argument ``value``, or NumPy's spelling ``alias`` when that is given; both at once are refused."""
    if alias is None:
        return value
    if value is not default and value != default:
        raise ArgumentError(f"{op}: got both {names[0]}= and its NumPy alias {names[1]}=; pass only {names[0]}=")
    return alias


def _dims_and_keep(op, dim, axis, keepdim, keepdims):
    return _alias(op, dim, None, axis), _alias(op, keepdim, False, keepdims, ("keepdim", "keepdims"))


def _required_dim(op, dim, axis):
    dim = _alias(op, dim, None, axis)
    if dim is None:
        raise ArgumentTypeError(f"{op}: missing the argument dim (the dimension to work along)")
    return dim


def _one_dim(op, dim, ndim):
    """A single dimension as a non-negative int; a 0-d tensor takes 0 or -1, as in PyTorch."""
    if isinstance(dim, bool) or not isinstance(dim, _INT):
        raise ArgumentTypeError(f"{op}: dim must be an int, got {dim!r}")
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise ShapeError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s)")
    return int(dim) % n


def _ints(op, values, what):
    """A tuple of ints from ``f(2, 3)`` or ``f((2, 3))`` (or one int)."""
    if len(values) == 1 and isinstance(values[0], tuple | list):
        values = tuple(values[0])
    if builtins.any(isinstance(v, bool) or not isinstance(v, _INT) for v in values):
        raise ArgumentTypeError(f"{op}: {what} must be ints, got {values!r}")
    return tuple(int(v) for v in values)


# ---- elementwise -------------------------------------------------------------------------------------------------


def sin(input):
    """Sine, elementwise."""
    return A.Sin.apply(_floating(input))


def cos(input):
    """Cosine, elementwise."""
    return A.Cos.apply(_floating(input))


def tan(input):
    """Tangent, elementwise."""
    return A.Tan.apply(_floating(input))


def asin(input):
    """Inverse sine (nan outside [-1, 1])."""
    return A.Asin.apply(_floating(input))


def acos(input):
    """Inverse cosine (nan outside [-1, 1])."""
    return A.Acos.apply(_floating(input))


def atan(input):
    """Inverse tangent."""
    return A.Atan.apply(_floating(input))


def sinh(input):
    """Hyperbolic sine."""
    return A.Sinh.apply(_floating(input))


def cosh(input):
    """Hyperbolic cosine."""
    return A.Cosh.apply(_floating(input))


def log1p(input):
    """log(1 + x), accurate for small x."""
    return A.Log1p.apply(_floating(input))


def expm1(input):
    """exp(x) - 1, accurate for small x."""
    return A.Expm1.apply(_floating(input))


def log2(input):
    """Base-2 logarithm."""
    return A.Log2.apply(_floating(input))


def log10(input):
    """Base-10 logarithm."""
    return A.Log10.apply(_floating(input))


def rsqrt(input):
    """1 / sqrt(x)."""
    return A.Rsqrt.apply(_floating(input))


def reciprocal(input):
    """1 / x (integers give float32, as PyTorch)."""
    return A.Reciprocal.apply(_floating(input))


def sign(input):
    """-1, 0 or 1 elementwise (0 at -0.0 and at nan, as PyTorch); integers and bools keep their dtype. Its
    gradient is zero."""
    return A.Sign.apply(_t(input))


def _rounding(op, cls, input, **options):
    x = _t(input)
    kind = x._data.dtype.kind
    if kind == "b":
        raise DTypeError(f"{op}: not defined for bool tensors; convert with .long() or .float() first")
    if kind in "iu":  # integers are whole already: a copy, as PyTorch
        return Tensor._wrap(x._data.copy())
    return cls.apply(x, **options)


def floor(input):
    """The largest integer <= x, elementwise; integer tensors are copied. Its gradient is zero."""
    return _rounding("floor", A.Floor, input)


def ceil(input):
    """The smallest integer >= x, elementwise; integer tensors are copied. Its gradient is zero."""
    return _rounding("ceil", A.Ceil, input)


def trunc(input):
    """x rounded towards zero; integer tensors are copied. Its gradient is zero."""
    return _rounding("trunc", A.Trunc, input)


def round(input, *, decimals=0):
    """x rounded half to even, to ``decimals`` decimal places (negative: to tens, hundreds, ...), by PyTorch's
    formula. Its gradient is zero."""
    if isinstance(decimals, bool) or not isinstance(decimals, _INT):
        raise ArgumentTypeError(f"round: decimals must be an int, got {decimals!r}")
    x = _t(input)
    if decimals and x._data.dtype.kind in "iu":
        raise DTypeError(f"round: decimals={decimals} needs a floating tensor, got {x._data.dtype}")
    return _rounding("round", A.Round, x, decimals=int(decimals))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and the dtype's largest and
    smallest finite values). The gradient is zero at the replaced elements."""
    x = _t(input)
    if x._data.dtype.kind != "f":
        return Tensor._wrap(x._data.copy())
    return A.NanToNum.apply(x, nan=nan, posinf=posinf, neginf=neginf)


# ---- comparisons and logic ---------------------------------------------------------------------------------------

_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2}
_BOOL, _INT32, _INT64 = np.dtype(np.bool_), np.dtype(np.int32), np.dtype(np.int64)


def _promote_types(a, b):
    """PyTorch's promote_types for two dtypes: within a category NumPy's rule, across them the higher category."""
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb:
        return np.result_type(a, b)
    return a if ca > cb else b


def _result_dtype(operands):
    """The dtype PyTorch computes ``operands`` (arrays and Python numbers) in: tensors with dimensions decide, then
    0-d tensors, then Python numbers (float32, int64 or bool), each only when it is of a higher category."""
    groups = ([], [], [])
    for v in operands:
        if isinstance(v, np.ndarray):
            groups[0 if v.ndim else 1].append(v.dtype)
        else:
            groups[2].append(_BOOL if isinstance(v, bool) else _INT64 if isinstance(v, int) else float32)
    result = None
    for dtypes in groups:
        if not dtypes:
            continue
        d = dtypes[0]
        for other in dtypes[1:]:
            d = _promote_types(d, other)
        if result is None:
            result = d
        elif _CATEGORY[d.kind] > _CATEGORY[result.kind]:
            result = d
    return result


def _operand(op, v):
    if isinstance(v, Tensor):
        return v._data
    if isinstance(v, np.ndarray):
        return v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, bool | int | float):
        return v
    raise ArgumentTypeError(f"{op}: expected a tensor or a number, got {type(v).__name__}")


def _compare(op, ufunc, input, other):
    a, b = _operand(op, input), _operand(op, other)
    if not isinstance(a, np.ndarray):
        a = np.asarray(a)
    dtype = _result_dtype([a, b])
    a = a.astype(dtype, copy=False)
    if isinstance(b, np.ndarray):
        b = b.astype(dtype, copy=False)
    elif dtype.kind == "f":  # a Python float is compared in the tensor's float dtype, as PyTorch
        b = np.asarray(b, dtype=dtype)
    try:
        return Tensor._wrap(np.asarray(ufunc(a, b)))
    except ValueError:
        raise ShapeError(f"{op}: cannot broadcast shapes {a.shape} and {np.shape(b)}") from None


def eq(input, other):
    """input == other elementwise (``other`` a tensor or a number): a bool tensor, no gradient."""
    return _compare("eq", np.equal, input, other)


def ne(input, other):
    """input != other elementwise: a bool tensor, no gradient."""
    return _compare("ne", np.not_equal, input, other)


def lt(input, other):
    """input < other elementwise: a bool tensor, no gradient."""
    return _compare("lt", np.less, input, other)


def le(input, other):
    """input <= other elementwise: a bool tensor, no gradient."""
    return _compare("le", np.less_equal, input, other)


def gt(input, other):
    """input > other elementwise: a bool tensor, no gradient."""
    return _compare("gt", np.greater, input, other)


def ge(input, other):
    """input >= other elementwise: a bool tensor, no gradient."""
    return _compare("ge", np.greater_equal, input, other)


def _test(ufunc, input, integer_answer):
    a = _t(input)._data
    if a.dtype.kind != "f":  # integers and bools are finite numbers
        return Tensor._wrap(array_module(a).full(a.shape, integer_answer))
    return Tensor._wrap(np.asarray(ufunc(a)))


def isnan(input):
    """Where the elements are NaN: a bool tensor."""
    return _test(np.isnan, input, False)


def isinf(input):
    """Where the elements are +inf or -inf: a bool tensor."""
    return _test(np.isinf, input, False)


def isfinite(input):
    """Where the elements are neither NaN nor infinite: a bool tensor."""
    return _test(np.isfinite, input, True)


def _logical(op, input, dim, keepdim, axis, keepdims):
    x = _t(input)
    dim, keepdim = _dims_and_keep(op, dim, axis, keepdim, keepdims)
    a = x._data
    axes = None if dim is None else normalize_axis(dim, a.ndim, op)  # dim=() reduces nothing, as PyTorch
    out = np.asarray(getattr(a, op)(axis=axes, keepdims=bool(keepdim)))
    return Tensor._wrap(out.astype(np.uint8) if a.dtype == np.uint8 else out)  # uint8 stays uint8, as PyTorch


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether every element (along ``dim``: an int, a tuple or None for all) is nonzero: a bool tensor."""
    return _logical("all", input, dim, keepdim, axis, keepdims)


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether some element (along ``dim``) is nonzero: a bool tensor."""
    return _logical("any", input, dim, keepdim, axis, keepdims)


# ---- products ----------------------------------------------------------------------------------------------------


def _same_dtype(op, *tensors):
    dtypes = {t._data.dtype for t in tensors}
    if len(dtypes) > 1:
        names = " and ".join(str(t._data.dtype) for t in tensors)
        raise DTypeError(f"{op}: expected operands of one dtype, got {names}; convert one with .float() or .double()")


def mm(input, mat2):
    """The matrix product of two 2-D tensors (n, k) @ (k, m); for batches use ``bmm`` or ``matmul``."""
    a, b = _t(input), _t(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm: expected two 2-D tensors, got shapes {a.shape} and {b.shape}; use matmul for others")
    if a.shape[1] != b.shape[0]:
        raise ShapeError(
            f"mm: cannot multiply {a.shape} by {b.shape}: inner dimensions {a.shape[1]} and {b.shape[0]} differ"
        )
    _same_dtype("mm", a, b)
    return L.MatMul.apply(a, b)


def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors (b, n, k) @ (b, k, m), with no broadcasting."""
    a, b = _t(input), _t(mat2)
    if a.ndim != 3 or b.ndim != 3:
        raise ShapeError(f"bmm: expected two 3-D tensors, got shapes {a.shape} and {b.shape}")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise ShapeError(
            f"bmm: cannot multiply {a.shape} by {b.shape}: needs the same batch size and inner dimensions that match"
        )
    _same_dtype("bmm", a, b)
    return L.MatMul.apply(a, b)


_LETTERS = string.ascii_letters


def _parse_term(term, which):
    """(letters before ``...``, whether there is one, letters after) of one operand's subscripts."""
    head, ell, tail = term.partition("...")
    if "." in head or "." in tail:
        raise ArgumentError(f"einsum: {which} has a '.' that is not part of one ellipsis '...'")
    for c in head + tail:
        if c not in _LETTERS:
            raise ArgumentError(f"einsum: invalid subscript {c!r} in {which}; subscripts must be letters a-z, A-Z")
    return head, bool(ell), tail


def einsum(equation, *operands):
    """Einstein summation as torch.einsum: ``einsum('ij,jk->ik', a, b)``, with ``...`` for broadcast dimensions, an
    implicit output (the letters that appear once, in alphabetical order, after the ellipsis dimensions) when
    ``->`` is left out, and dimensions of size 1 broadcasting. The operands may also come as one list."""
    if len(operands) == 1 and isinstance(operands[0], list | tuple):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise ArgumentTypeError("einsum: the equation must be a string such as 'ij,jk->ik' (no sublist form)")
    ops = [_t(o) for o in operands]
    if not ops:
        raise ArgumentError("einsum: needs at least one operand")
    if ops[0]._data.dtype.kind == "b":
        raise DTypeError("einsum: bool operands are not supported; convert them with .long() or .float()")
    _same_dtype("einsum", *ops)
    eq = "".join(equation.split())
    lhs, arrow, rhs = eq.partition("->")
    if "->" in rhs:
        raise ArgumentError(f"einsum: {equation!r} has more than one '->'")
    terms = lhs.split(",")
    if len(terms) != len(ops):
        raise ArgumentError(f"einsum: the equation {equation!r} names {len(terms)} operand(s), {len(ops)} were given")
    parsed = [_parse_term(term, f"operand {k}") for k, term in enumerate(terms)]
    extra = []  # the number of ellipsis dimensions of each operand
    for k, ((head, ell, tail), x) in enumerate(zip(parsed, ops)):
        n = x.ndim - len(head) - len(tail)
        if n < 0 or (n and not ell):
            raise ShapeError(
                f"einsum: operand {k} has {x.ndim} dimension(s) but the equation gives it {len(head) + len(tail)} "
                f"subscript(s){' and an ellipsis' if ell else ''}"
            )
        extra.append(n)
    e = builtins.max(extra)
    fresh = "".join(c for c in _LETTERS if c not in eq)[:e]
    if len(fresh) < e:
        raise ArgumentError("einsum: too many dimensions: every dimension needs a letter of its own")
    subs = [head + fresh[e - n :] + tail for (head, _, tail), n in zip(parsed, extra)]
    if arrow:
        head, ell, tail = _parse_term(rhs, "the output")
        out = head + (fresh if ell else "") + tail
        for c in out:
            if out.count(c) > 1:
                raise ArgumentError(f"einsum: output subscript {c} appears more than once in the output")
            if not builtins.any(c in s for s in subs):
                raise ArgumentError(f"einsum: output subscript {c} does not appear in any operand")
    else:
        counts = {}
        for s in subs:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = fresh + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in fresh))
    size = {}
    for k, (s, x) in enumerate(zip(subs, ops)):
        mine = {}
        for c, n in zip(s, x.shape):
            if mine.setdefault(c, n) != n:
                raise ShapeError(f"einsum: subscript {c} is repeated for operand {k} with sizes {mine[c]} and {n}")
            seen = size.setdefault(c, n)
            if seen != n and 1 not in (seen, n):
                raise ShapeError(
                    f"einsum: subscript {c} has size {n} for operand {k}, which does not broadcast with size {seen}"
                )
            size[c] = builtins.max(seen, n)
    for k, (s, x) in enumerate(zip(subs, ops)):  # a dimension of size 1 against a larger one: broadcast by dropping it
        keep = [i for i, c in enumerate(s) if not (x.shape[i] == 1 and size[c] > 1)]
        if len(keep) < len(s):
            subs[k] = "".join(s[i] for i in keep)
            ops[k] = M.Reshape.apply(x, shape=tuple(x.shape[i] for i in keep))
    return A.Einsum.apply(*ops, inputs=tuple(subs), output=out)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """The vector p-norm over ``dim`` (all elements when None), as torch.norm: ``p`` 'fro' (the 2-norm), any
    number, ``inf`` (max |x|), ``-inf`` (min |x|), 0 (the count of nonzeros). The gradient of the 2-norm at 0
    is 0, as PyTorch's."""
    dim, keepdim = _dims_and_keep("norm", dim, axis, keepdim, keepdims)
    x = _t(input)
    if dtype is not None:
        x = x.astype(dtype)
    if x._data.dtype.kind != "f":
        raise DTypeError(f"norm: expected a floating-point tensor, got {x._data.dtype}; convert it with .float()")
    if isinstance(dim, list):
        dim = tuple(dim)
    if dim == ():
        dim = None
    if p is None:
        p = 2.0
    if isinstance(p, str):
        if p != "fro":
            raise ArgumentError(f"norm: p={p!r} is not supported; use 'fro' or a number (inf for the max norm)")
        if isinstance(dim, tuple) and len(dim) > 2:
            raise ArgumentError(f"norm: p='fro' takes at most 2 dims, got {dim}; use a number p for more")
        p = 2.0
    elif isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating):
        raise ArgumentTypeError(f"norm: p must be 'fro' or a number, got {p!r}")
    axes = normalize_axis(dim, x.ndim, "norm")
    if _math.isinf(p) and builtins.any(x.shape[a] == 0 for a in axes):
        raise ShapeError(f"norm: the {p} norm of an empty tensor (shape {x.shape}) is not defined")
    return A.Norm.apply(x, p=float(p), axis=axes, keepdims=bool(keepdim))


# ---- shapes ------------------------------------------------------------------------------------------------------


def t(input):
    """The transpose of a tensor of at most 2 dimensions (0-d and 1-d tensors come back as they are)."""
    x = _t(input)
    if x.ndim > 2:
        raise ShapeError(f"t: expects a tensor of at most 2 dimensions, got shape {x.shape}; use transpose or permute")
    return M.Transpose.apply(x, axes=None)


def view_as(input, other):
    """``input`` reshaped to ``other``'s shape."""
    x = _t(input)
    shape = tuple(other.shape)
    if _math.prod(shape) != x._data.size:
        raise ShapeError(f"view_as: cannot view a tensor of shape {x.shape} as shape {shape}")
    return M.Reshape.apply(x, shape=shape)


def clone(input):
    """A copy of ``input``; the gradient flows through it."""
    return X.Clone.apply(_t(input))


def repeat(input, *sizes):
    """Tile the tensor ``sizes[i]`` times along each dimension (torch.Tensor.repeat, NumPy's ``tile``): ``sizes``
    has at least as many entries as the tensor has dimensions, the extra ones adding leading dimensions."""
    x = _t(input)
    sizes = _ints("repeat", sizes, "sizes")
    if len(sizes) < x.ndim:
        raise ShapeError(
            f"repeat: {len(sizes)} size(s) {sizes} for a tensor of {x.ndim} dimension(s); give at least {x.ndim}"
        )
    if builtins.any(s < 0 for s in sizes):
        raise ShapeError(f"repeat: sizes must be non-negative, got {sizes}")
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    # as a view (1, n0, 1, n1, ...) expanded to (s0, n0, s1, n1, ...), then merged: the expand's gradient sums
    inner = tuple(v for n in shape for v in (1, n))
    wide = tuple(v for s, n in zip(sizes, shape) for v in (s, n))
    y = M.Expand.apply(M.Reshape.apply(x, shape=inner), shape=wide)
    return M.Reshape.apply(y, shape=tuple(s * n for s, n in zip(sizes, shape)))


def tile(input, *dims):
    """``repeat`` with ``dims`` padded with leading 1s to the tensor's dimensions (torch.tile)."""
    x = _t(input)
    dims = _ints("tile", dims, "dims")
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def flip(input, *dims, axis=None):
    """Reverse the order of the elements along ``dims`` (ints, or one tuple); a copy."""
    x = _t(input)
    dims = _alias("flip", dims, (), None if axis is None else (axis,), ("dims", "axis"))
    dims = _ints("flip", dims, "dims")
    if not dims and axis is None:
        raise ArgumentTypeError("flip: missing the argument dims (the dimensions to reverse)")
    axes = [_one_dim("flip", d, x.ndim) for d in dims]
    if len(set(axes)) < len(axes):
        raise ShapeError(f"flip: dims {dims} name a dimension more than once")
    return X.Flip.apply(x, axes=tuple(axes) if x.ndim else ())


def roll(input, shifts, dims=None, *, axis=None):
    """Shift elements cyclically by ``shifts`` along ``dims`` (an int or a tuple matching ``shifts``); with no
    ``dims``, over the flattened tensor, shape kept."""
    x = _t(input)
    dims = _alias("roll", dims, None, axis, ("dims", "axis"))
    shifts = _ints("roll", (shifts,), "shifts")
    if dims is None:
        if len(shifts) != 1:
            raise ArgumentError(f"roll: {len(shifts)} shifts need as many dims; without dims give one shift")
        return X.Roll.apply(x, shifts=shifts[0], axes=None)
    dims = _ints("roll", (dims,), "dims")
    if len(dims) != len(shifts):
        raise ArgumentError(f"roll: shifts {shifts} and dims {dims} must have the same length")
    axes = tuple(_one_dim("roll", d, x.ndim) for d in dims)
    if x.ndim == 0:
        return X.Clone.apply(x)
    return X.Roll.apply(x, shifts=shifts, axes=axes)


def _triangle(op, input, diagonal, lower):
    x = _t(input)
    if x.ndim < 2:
        raise ShapeError(f"{op}: needs a tensor of at least 2 dimensions, got shape {x.shape}")
    if isinstance(diagonal, bool) or not isinstance(diagonal, _INT):
        raise ArgumentTypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    xp = array_module(x._data)
    rows, cols = x.shape[-2:]
    offset = xp.arange(cols)[None, :] - xp.arange(rows)[:, None]  # j - i
    keep = offset <= diagonal if lower else offset >= diagonal
    return E.Where.apply(keep, x, xp.zeros((), x._data.dtype))  # a select: an inf outside stays out, no 0 * inf


def tril(input, diagonal=0):
    """The lower triangle of the last two dimensions (on and below the ``diagonal``-th diagonal), zeros above."""
    return _triangle("tril", input, diagonal, lower=True)


def triu(input, diagonal=0):
    """The upper triangle of the last two dimensions (on and above the ``diagonal``-th diagonal), zeros below."""
    return _triangle("triu", input, diagonal, lower=False)


def chunk(input, chunks, dim=0, *, axis=None):
    """Split into ``chunks`` pieces along ``dim``, each ceil(n / chunks) long but the last (so there may be fewer
    pieces than asked, as torch.chunk); a tuple of tensors."""
    x = _t(input)
    dim = _alias("chunk", dim, 0, axis)
    if isinstance(chunks, bool) or not isinstance(chunks, _INT) or chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be a positive int, got {chunks!r}")
    if x.ndim == 0:
        raise ShapeError("chunk: needs a tensor of at least 1 dimension, got a 0-d tensor")
    ax = _one_dim("chunk", dim, x.ndim)
    n = x.shape[ax]
    sizes = [0] * int(chunks) if n == 0 else -(-n // int(chunks))
    return tuple(_split(x, sizes, axis=ax))


# ---- scans and indexing ------------------------------------------------------------------------------------------


def _scan(op, cls, input, dim, axis, dtype):
    x = _t(input)
    ax = _one_dim(op, _required_dim(op, dim, axis), x.ndim)
    if dtype is not None:
        x = x.astype(dtype)
    elif x._data.dtype.kind in "biu":  # integers and bools accumulate in int64, as PyTorch
        x = Tensor._wrap(x._data.astype(int64))
    if x.ndim == 0:
        return X.Clone.apply(x)
    return cls.apply(x, axis=ax)


def cumsum(input, dim=None, *, dtype=None, axis=None):
    """Cumulative sum along ``dim`` (integers accumulate in int64)."""
    return _scan("cumsum", X.Cumsum, input, dim, axis, dtype)


def cumprod(input, dim=None, *, dtype=None, axis=None):
    """Cumulative product along ``dim``; its gradient is right with zeros in the input too."""
    return _scan("cumprod", X.Cumprod, input, dim, axis, dtype)


def _index(op, index, dtypes=(_INT64,)):
    a = index._data if isinstance(index, Tensor) else np.asarray(index)
    if a.dtype not in dtypes:
        want = " or ".join(str(d) for d in dtypes)
        raise DTypeError(f"{op}: index must be {want}, got {a.dtype}; convert it with .long()")
    return a


def _check_range(op, index, size, dim):
    if index.size and (int(index.min()) < 0 or int(index.max()) >= size):
        bad = int(index.min()) if int(index.min()) < 0 else int(index.max())
        raise OutOfRangeError(f"{op}: index {bad} is out of range for dimension {dim} of size {size}")


def _as_1d(a):
    return a.reshape(1) if a.ndim == 0 else a


def _gather_setup(op, input, dim, axis, index):
    """The input (1-d if it was 0-d), its dim, and the validated index (likewise) of gather and the scatters."""
    x = _t(input)
    ax = _one_dim(op, _required_dim(op, dim, axis), x.ndim)
    idx = _index(op, index)
    if x.ndim == 0:
        x = M.Reshape.apply(x, shape=(1,))
    i1 = _as_1d(idx)
    if i1.ndim != x.ndim:
        raise ShapeError(f"{op}: index of shape {idx.shape} needs as many dimensions as the input, of shape {x.shape}")
    for d, (n, m) in enumerate(zip(i1.shape, x.shape)):
        if d != ax and n > m:
            raise ShapeError(
                f"{op}: index of shape {idx.shape} is larger than the input, of shape {x.shape}, in dimension {d}"
            )
    _check_range(op, i1, x.shape[ax], dim if dim is not None else axis)
    return x, ax, idx, i1


def gather(input, dim=None, index=None, *, axis=None):
    """``out[i][j][k] = input[index[i][j][k]][j][k]`` for dim 0 (likewise for other dims): ``index`` (int64) has
    the input's number of dimensions and is no larger than it except along ``dim``; the output has its shape."""
    x, ax, idx, i1 = _gather_setup("gather", input, dim, axis, index)
    out = M.GetItem.apply(x, index=X.along_index(i1, ax, array_module(i1)))
    return M.Reshape.apply(out, shape=()) if idx.ndim == 0 else out


def _scatter_source(op, x, src, idx):
    s = _t(src)
    if s._data.dtype != x._data.dtype:
        raise DTypeError(f"{op}: src has dtype {s._data.dtype} but the input has {x._data.dtype}; convert one of them")
    if s.ndim == 0:
        s = M.Reshape.apply(s, shape=(1,))
    if s.ndim != x.ndim or builtins.any(n > m for n, m in zip(_as_1d(idx).shape, s.shape)):
        raise ShapeError(f"{op}: index of shape {idx.shape} must be no larger than src, of shape {s.shape}")
    return s


def _unflatten(out, input):
    return M.Reshape.apply(out, shape=()) if _t(input).ndim == 0 else out


def scatter(input, dim=None, index=None, src=None, *, value=None, axis=None):
    """A copy of ``input`` with ``src``'s elements written where ``index`` points along ``dim`` (the inverse of
    gather: ``out[index[i][j]][j] = src[i][j]`` for dim 0), or the number ``value`` (also as the fourth argument).
    Gradients reach ``input`` (zero where written) and ``src`` (read back where written)."""
    x, ax, idx, i1 = _gather_setup("scatter", input, dim, axis, index)
    if isinstance(src, bool | int | float | np.number):
        src, value = None, (src if value is None else value)
    if (src is None) == (value is None):
        raise ArgumentTypeError("scatter: give either src (a tensor) or value (a number)")
    if src is None:
        v = value.item() if isinstance(value, Tensor) else value
        return _unflatten(X.Scatter.apply(x, dim=ax, index=i1, value=v), input)
    s = _scatter_source("scatter", x, src, idx)
    return _unflatten(X.Scatter.apply(x, s, dim=ax, index=i1), input)


def scatter_add(input, dim=None, index=None, src=None, *, axis=None):
    """A copy of ``input`` with ``src``'s elements added where ``index`` points along ``dim`` (repeated positions
    add up). Gradients reach ``input`` (unchanged) and ``src`` (read where each element was added)."""
    x, ax, idx, i1 = _gather_setup("scatter_add", input, dim, axis, index)
    if src is None:
        raise ArgumentTypeError("scatter_add: missing the argument src (the tensor to add)")
    s = _scatter_source("scatter_add", x, src, idx)
    return _unflatten(X.ScatterAdd.apply(x, s, dim=ax, index=i1), input)


def index_select(input, dim=None, index=None, *, axis=None):
    """The entries of ``input`` at the positions ``index`` (1-d, int64 or int32) along ``dim``; repeats allowed,
    their gradients add up."""
    x = _t(input)
    ax = _one_dim("index_select", _required_dim("index_select", dim, axis), x.ndim)
    idx = _index("index_select", index, (_INT64, _INT32))
    if idx.ndim > 1:
        raise ShapeError(f"index_select: index must be 1-d (a vector), got shape {idx.shape}")
    i1 = _as_1d(idx)
    if x.ndim == 0:
        if i1.size != 1:
            raise ShapeError(f"index_select: a 0-d input takes one index, got {i1.size}")
        _check_range("index_select", i1, 1, 0)
        return X.Clone.apply(x)
    _check_range("index_select", i1, x.shape[ax], dim if dim is not None else axis)
    return M.GetItem.apply(x, index=(slice(None),) * ax + (i1,))


def masked_fill(input, mask, value):
    """``input`` with ``value`` (a number or a 0-d tensor, whose gradient is the sum over the mask) where the bool
    ``mask`` is True; input and mask broadcast together."""
    x = _t(input)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise DTypeError(f"masked_fill: mask must be a bool tensor, got {m.dtype}; compare to get one (x > 0)")
    if isinstance(value, Tensor):
        if value.ndim:
            raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
        if value._data.dtype != x._data.dtype:
            kinds = value._data.dtype.kind + x._data.dtype.kind
            value = value.astype(x._data.dtype) if kinds == "ff" else Tensor._wrap(value._data.astype(x._data.dtype))
    elif isinstance(value, bool | int | float | np.number):
        if x._data.dtype.kind != "f":
            value = np.asarray(value).astype(x._data.dtype)  # into an integer tensor as PyTorch: truncated
    else:
        raise ArgumentTypeError(f"masked_fill: value must be a number or a 0-d tensor, got {type(value).__name__}")
    try:
        np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        msg = f"masked_fill: the mask's shape {m.shape} does not broadcast with the input's {x.shape}"
        raise ShapeError(msg) from None
    return E.Where.apply(m, value, x)


def _argsort(a, axis, descending):
    """Stable sort order along ``axis``: equal elements keep their order, NaN counts as the largest (PyTorch's)."""
    xp = array_module(a)
    if not descending:
        return xp.argsort(a, axis=axis, kind="stable").astype(int64, copy=False)
    # stable descending: sort the reversed array ascending, reverse the order, map positions back
    order = xp.flip(xp.argsort(xp.flip(a, axis), axis=axis, kind="stable"), axis)
    return (a.shape[axis] - 1 - order).astype(int64, copy=False)


def _take(x, ax, idx):
    return M.GetItem.apply(x, index=X.along_index(idx, ax, array_module(idx)))


def sort(input, dim=-1, descending=False, *, stable=False, axis=None):
    """Sorted values along ``dim`` and their indices (int64): ``return_types.sort(values, indices)``. The sort is
    always stable (equal elements keep their order, ``stable`` is accepted for PyTorch's signature); NaN sorts
    as the largest value. The values are differentiable."""
    x = _t(input)
    ax = _one_dim("sort", _alias("sort", dim, -1, axis), x.ndim)
    if x.ndim == 0:
        return return_types.sort(X.Clone.apply(x), Tensor._wrap(np.zeros((), int64)))
    idx = _argsort(x._data, ax, bool(descending))
    return return_types.sort(_take(x, ax, idx), Tensor._wrap(idx))


def topk(input, k, dim=-1, largest=True, sorted=True, *, axis=None):
    """The ``k`` largest (``largest=False``: smallest) values along ``dim`` and their indices (int64), largest
    first: ``return_types.topk(values, indices)``. Ties go to the lower index; NaN counts as the largest."""
    x = _t(input)
    ax = _one_dim("topk", _alias("topk", dim, -1, axis), x.ndim)
    n = x.shape[ax] if x.ndim else 1
    if isinstance(k, bool) or not isinstance(k, _INT):
        raise ArgumentTypeError(f"topk: k must be an int, got {k!r}")
    if not 0 <= k <= n:
        raise OutOfRangeError(f"topk: k = {k} is out of range for dimension {dim} of size {n}")
    if x.ndim == 0:  # as PyTorch: the element itself, for k 0 or 1
        return return_types.topk(X.Clone.apply(x), Tensor._wrap(np.zeros((), int64)))
    idx = _argsort(x._data, ax, bool(largest))[(slice(None),) * ax + (slice(0, int(k)),)]
    return return_types.topk(_take(x, ax, idx), Tensor._wrap(idx))


__all__ = [
    "acos",
    "all",
    "any",
    "asin",
    "atan",
    "bmm",
    "ceil",
    "chunk",
    "clone",
    "cos",
    "cosh",
    "cumprod",
    "cumsum",
    "einsum",
    "eq",
    "expm1",
    "flip",
    "floor",
    "gather",
    "ge",
    "gt",
    "index_select",
    "isfinite",
    "isinf",
    "isnan",
    "le",
    "log10",
    "log1p",
    "log2",
    "lt",
    "masked_fill",
    "mm",
    "ne",
    "nan_to_num",
    "norm",
    "reciprocal",
    "repeat",
    "roll",
    "round",
    "rsqrt",
    "scatter",
    "scatter_add",
    "sign",
    "sin",
    "sinh",
    "sort",
    "t",
    "tan",
    "tile",
    "topk",
    "tril",
    "triu",
    "trunc",
    "view_as",
]

# the functions that are also Tensor methods of the same name (x.sin(), x.mm(y), x.sort(dim=0)); einsum is not one
TENSOR_METHODS = tuple(name for name in __all__ if name != "einsum")
