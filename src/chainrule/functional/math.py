"""PyTorch's math, comparison, linear-algebra, shape, indexing and sampling functions, with PyTorch's meanings.

* elementwise: ``sin`` ... ``reciprocal``, ``erf``, ``erfinv``, ``square``, ``sign``, ``floor``, ``ceil``,
  ``round``, ``trunc``, ``nan_to_num``, ``clamp_min``, ``clamp_max``, ``lerp`` (integer inputs give float32
  results where PyTorch's do; rounding and ``sign`` have a zero gradient);
* comparisons and logic: ``eq`` ... ``ge``, ``isnan``, ``isinf``, ``isfinite``, ``isclose``, ``logical_and`` ...
  ``logical_not``, ``all``, ``any``: bool tensors without a gradient, compared in the dtype PyTorch's promotion
  picks; ``allclose``, ``equal``, ``is_floating_point``, ``is_nonzero``: Python bools;
* products and reductions: ``mm``, ``bmm``, ``mv``, ``dot``, ``outer``, ``addmm``, ``addmv``, ``baddbmm``,
  ``einsum``, ``cross``, ``cdist``, ``norm``, ``prod`` (its gradient right at zeros), ``count_nonzero``,
  ``var_mean``, ``std_mean``;
* shapes: ``t``, ``view_as``, ``clone``, ``repeat``, ``tile``, ``flip``, ``roll``, ``tril``, ``triu``, ``chunk``,
  ``narrow``, ``diag``, ``diagonal``, ``trace``, ``meshgrid``;
* scans and indexing: ``cumsum``, ``cumprod``, ``gather``, ``scatter``, ``scatter_add``, ``index_select``,
  ``masked_fill``, ``masked_select``, ``take``, ``take_along_dim``, ``sort``, ``argsort``, ``topk``, and without a
  gradient ``nonzero`` / ``argwhere`` (``nonzero(c, as_tuple=True)`` is what ``where(c)`` returns), ``unique``,
  ``bincount``;
* random draws from chainrule's seeded generator (or ``generator=``), constants without a gradient:
  ``bernoulli``, ``multinomial``, ``normal``.

Every function takes ``dim=`` / ``keepdim=`` as PyTorch does; the reductions, scans, sorts and gathers also take
NumPy's ``axis=`` / ``keepdims=`` as aliases (giving both is an error). ``TENSOR_METHODS`` names the functions
that are also Tensor methods of the same name (``x.sin()``, ``x.mm(y)``, ``x.prod(1)``, ``x.element_size()``).
"""

import builtins
import math as _math
import string

import numpy as np

from .. import random as _random
from .. import return_types
from ..backend import array_module
from ..errors import ArgumentError, ArgumentTypeError, DTypeError, OutOfRangeError, ShapeError
from ..ops import elementwise as E
from ..ops import indexing as X
from ..ops import linalg as L
from ..ops import math as A
from ..ops import movement as M
from ..ops.reduce import normalize_axis
from ..tensor import Tensor, _raw, float32, int64
from .core import split as _split
from .core import var as _var

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


def remainder(input, other):
    """``input mod other`` with the sign of ``other`` (Python's ``%``); its gradient is 1 for ``input`` and
    ``-floor(input / other)`` for ``other``, as PyTorch's."""
    return _binary_math("remainder", E.Remainder, input, other)


def fmod(input, other):
    """``input mod other`` with the sign of ``input`` (C's ``fmod``); gradients 1 and ``-trunc(input / other)``."""
    return _binary_math("fmod", E.Fmod, input, other)


def _binary_math(op, cls, input, other):
    """``cls`` on the two operands, cast to the dtype PyTorch's promotion picks (``int_tensor % 2.5`` is float32)."""
    dtype = _result_dtype([_operand(op, v) for v in (input, other)])
    a, b = ((v if v.dtype == dtype else v.astype(dtype)) if isinstance(v, Tensor) else Tensor(v, dtype=dtype)
            for v in (input, other))
    return cls.apply(a, b)


def div(input, other, *, rounding_mode=None):
    """``input / other`` (true division; ``divide`` and ``true_divide`` are the same); ``rounding_mode="floor"``
    is ``floor_divide`` and ``"trunc"`` rounds the quotient toward zero, both without a gradient, as PyTorch."""
    if rounding_mode is None:
        return E.Div.apply(input, other)
    if rounding_mode == "floor":
        return floor_divide(input, other)
    if rounding_mode != "trunc":
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b = _operand("div", input), _operand("div", other)
    dtype = _result_dtype([a, b])
    a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        if dtype.kind == "f":
            return Tensor._wrap(np.asarray(np.trunc(a / b)))
        return Tensor._wrap(np.asarray((np.sign(a) * np.sign(b) * (np.abs(a) // np.abs(b))).astype(dtype)))


divide = true_divide = div


def floor_divide(input, other):
    """``floor(input / other)`` (Python's ``//``), in the dtype PyTorch's promotion picks. Piecewise constant, so
    it carries no gradient (PyTorch has no derivative for it either)."""
    a, b = _operand("floor_divide", input), _operand("floor_divide", other)
    a = a if isinstance(a, np.ndarray) else np.asarray(a)
    dtype = _result_dtype([a, b])
    b = b.astype(dtype, copy=False) if isinstance(b, np.ndarray) else np.asarray(b, dtype=dtype)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            return Tensor._wrap(np.asarray(np.floor_divide(a.astype(dtype, copy=False), b)))
    except ValueError:
        raise ShapeError(f"floor_divide: cannot broadcast shapes {a.shape} and {b.shape}") from None


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


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of ``input`` with ``alpha * source`` added along ``dim`` at the positions ``index`` (1-d): entry
    ``j`` of ``source`` along ``dim`` goes to position ``index[j]``, repeated positions add up."""
    x, s = _t(input), _t(source)
    ax = _one_dim("index_add", dim, x.ndim)
    idx = _index("index_add", index, (_INT64, _INT32))
    if idx.ndim > 1 or s.ndim != x.ndim or s.shape[ax] != idx.size or builtins.any(
            n != m for d, (n, m) in enumerate(zip(s.shape, x.shape)) if d != ax):
        raise ShapeError(f"index_add: source of shape {tuple(s.shape)} must match the input, of shape "
                         f"{tuple(x.shape)}, except along dim {dim}, where it has the {idx.size} entries of index")
    _check_range("index_add", idx.reshape(-1), x.shape[ax], dim)
    shape = [1] * x.ndim
    shape[ax] = idx.size
    spread = np.broadcast_to(idx.reshape(shape), s.shape).astype(np.int64)
    return scatter_add(x, ax, spread, s if alpha == 1 else s * alpha)


def index_fill(input, dim, index, value):
    """A copy of ``input`` with every entry at the positions ``index`` (1-d) along ``dim`` set to ``value`` (a
    number or a 0-d tensor)."""
    x = _t(input)
    ax = _one_dim("index_fill", dim, x.ndim)
    idx = _index("index_fill", index, (_INT64, _INT32)).reshape(-1)
    _check_range("index_fill", idx, x.shape[ax], dim)
    hit = np.zeros(x.shape[ax], dtype=bool)
    hit[idx] = True
    shape = [1] * x.ndim
    shape[ax] = x.shape[ax]
    return masked_fill(x, Tensor._wrap(np.broadcast_to(hit.reshape(shape), x.shape)), value)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2`` (an optimiser's moment update), broadcasting."""
    return _t(input) + value * (_t(tensor1) * tensor2)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2`` (Adam's step), broadcasting."""
    return _t(input) + value * (_t(tensor1) / tensor2)


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


# ---- more products -----------------------------------------------------------------------------------------------


def _need_dims(op, x, ndim, what):
    if x.ndim != ndim:
        raise ShapeError(f"{op}: expected {what}, got a tensor of shape {x.shape}")


def _no_bool(op, *tensors):
    if builtins.any(t._data.dtype.kind == "b" for t in tensors):
        raise DTypeError(f"{op}: not defined for bool tensors; convert them with .long() or .float()")


def dot(input, other):
    """The dot product of two 1-D tensors of one length and one dtype (no broadcasting, as torch.dot)."""
    a, b = _t(input), _t(other)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"dot: expected two 1-D tensors, got shapes {a.shape} and {b.shape}; use matmul for others")
    if a.shape != b.shape:
        raise ShapeError(f"dot: the vectors have different lengths, {a.shape[0]} and {b.shape[0]}")
    _same_dtype("dot", a, b)
    _no_bool("dot", a)
    return L.MatMul.apply(a, b)


def mv(input, vec):
    """The product of a matrix (n, m) and a vector (m,): a vector (n,)."""
    a, v = _t(input), _t(vec)
    if a.ndim != 2 or v.ndim != 1:
        raise ShapeError(f"mv: expected a 2-D matrix and a 1-D vector, got shapes {a.shape} and {v.shape}")
    if a.shape[1] != v.shape[0]:
        raise ShapeError(f"mv: cannot multiply a matrix of shape {a.shape} by a vector of length {v.shape[0]}")
    _same_dtype("mv", a, v)
    _no_bool("mv", a)
    return L.MatMul.apply(a, v)


def outer(input, vec2):
    """The outer product of two 1-D tensors: ``out[i, j] = input[i] * vec2[j]`` (dtypes promote as in ``mul``)."""
    a, b = _t(input), _t(vec2)
    _need_dims("outer", a, 1, "a 1-D tensor as input")
    _need_dims("outer", b, 1, "a 1-D tensor as vec2")
    return E.Mul.apply(M.Reshape.apply(a, shape=(a.shape[0], 1)), M.Reshape.apply(b, shape=(1, b.shape[0])))


def _scaled_sum(op, input, product, beta, alpha):
    """beta * input + alpha * product, as torch's addmm family: ``input`` broadcasts to the product's shape (and
    is ignored, NaN included, where beta is 0: its gradient is then 0)."""
    x = _t(input)
    _same_dtype(op, x, product)
    try:
        fits = np.broadcast_shapes(x.shape, product.shape) == product.shape
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{op}: input of shape {x.shape} does not broadcast to the product's shape {product.shape}")
    if alpha != 1:
        product = product * alpha
    if beta == 0:  # a select, not 0 * input: NaN and inf in the input stay out, as PyTorch
        return E.Where.apply(np.zeros((), np.bool_), x, product)
    return (x if beta == 1 else x * beta) + product


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), for matrices (n, k) and (k, m) and an input that broadcasts to
    (n, m) (a bias row, as torch.addmm)."""
    return _scaled_sum("addmm", input, mm(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec), for a matrix (n, m), a vector (m,) and an input that broadcasts to (n,)."""
    return _scaled_sum("addmv", input, mv(mat, vec), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * bmm(batch1, batch2), the input broadcasting to the (b, n, m) product."""
    return _scaled_sum("baddbmm", input, bmm(batch1, batch2), beta, alpha)


def cross(input, other, dim=None):
    """The cross product of 3-vectors along ``dim`` (by default the first dimension of size 3); the two tensors
    have one dtype and as many dimensions, and broadcast."""
    a, b = _t(input), _t(other)
    if a.ndim != b.ndim:
        raise ShapeError(f"cross: the inputs need the same number of dimensions, got shapes {a.shape} and {b.shape}")
    _same_dtype("cross", a, b)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ShapeError(f"cross: cannot broadcast shapes {a.shape} and {b.shape}") from None
    if dim is None:
        if 3 not in shape:
            raise ShapeError(f"cross: no dimension of size 3 in shape {shape}; give dim")
        ax = shape.index(3)
    else:
        ax = _one_dim("cross", dim, a.ndim)
    if a.ndim == 0 or a.shape[ax] != 3 or b.shape[ax] != 3:
        raise ShapeError(
            f"cross: dimension {dim} must have length 3 in both inputs, got shapes {a.shape} and {b.shape}"
        )

    def pick(t, order):
        return M.GetItem.apply(t, index=(slice(None),) * ax + (np.array(order),))

    return pick(a, [1, 2, 0]) * pick(b, [2, 0, 1]) - pick(a, [2, 0, 1]) * pick(b, [1, 2, 0])


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The p-norm distances between the rows of ``x1`` (..., P, M) and of ``x2`` (..., R, M): (..., P, R), batch
    dimensions broadcasting. Computed from the differences (``compute_mode`` is accepted and ignored), with
    the norm's gradient, 0 where two rows coincide, as PyTorch's."""
    a, b = _t(x1), _t(x2)
    if a.ndim < 2 or b.ndim < 2:
        raise ShapeError(f"cdist: expected tensors of at least 2 dimensions, got shapes {a.shape} and {b.shape}")
    if a._data.dtype.kind != "f":
        raise DTypeError(f"cdist: expected floating tensors, got {a._data.dtype}; convert with .float()")
    _same_dtype("cdist", a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"cdist: x1 and x2 need the same number of columns, got shapes {a.shape} and {b.shape}")
    if isinstance(p, bool) or not isinstance(p, int | float | np.integer | np.floating) or not p >= 0:
        raise ArgumentError(f"cdist: p must be a non-negative number, got {p!r}")
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"cdist: cannot broadcast the batch dimensions of {a.shape} and {b.shape}") from None
    if a.shape[-1] == 0:  # no coordinates: every distance is 0
        return Tensor._wrap(array_module(a._data).zeros(batch + (a.shape[-2], b.shape[-2]), a._data.dtype))
    rows = M.Reshape.apply(a, shape=a.shape[:-1] + (1, a.shape[-1]))  # (..., P, 1, M)
    cols = M.Reshape.apply(b, shape=b.shape[:-2] + (1,) + b.shape[-2:])  # (..., 1, R, M)
    diff = rows - cols
    return A.Norm.apply(diff, p=float(p), axis=diff.ndim - 1, keepdims=False)


# ---- more reductions ---------------------------------------------------------------------------------------------


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """The product of the elements (over ``dim`` when given: an int, or a tuple as NumPy allows); integers and
    bools multiply in int64, as PyTorch. The gradient is right where the input has zeros (the product of the
    other factors, no division)."""
    x = _t(input)
    dim, keepdim = _dims_and_keep("prod", dim, axis, keepdim, keepdims)
    if dtype is not None:
        x = x.astype(dtype)
    elif x._data.dtype.kind in "biu":
        x = Tensor._wrap(x._data.astype(int64))
    if isinstance(dim, list):
        dim = tuple(dim)
    return A.Prod.apply(x, axis=dim, keepdims=bool(keepdim))


def count_nonzero(input, dim=None, *, axis=None):
    """The number of nonzero elements (over ``dim``: an int, a tuple or all): an int64 tensor."""
    a = _t(input)._data
    dim = _alias("count_nonzero", dim, None, axis)
    axes = normalize_axis(tuple(dim) if isinstance(dim, list) else dim, a.ndim, "count_nonzero")
    return Tensor._wrap(np.asarray((a != 0).sum(axis=axes)).astype(int64))


def _moments(op, input, dim, unbiased, keepdim, correction, axis, keepdims):
    if isinstance(dim, bool):  # var_mean(x, True): PyTorch's older form, unbiased in dim's place
        dim, unbiased = None, dim
    x = _t(input)
    v = _var(x, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    return v, x.mean(dim, keepdim, axis=axis, keepdims=keepdims)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """``(var, mean)`` over ``dim`` as a tuple, as torch.var_mean (the variance with ``correction=1`` unless
    told otherwise)."""
    return _moments("var_mean", input, dim, unbiased, keepdim, correction, axis, keepdims)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """``(std, mean)`` over ``dim`` as a tuple, as torch.std_mean."""
    v, m = _moments("std_mean", input, dim, unbiased, keepdim, correction, axis, keepdims)
    return v.sqrt(), m


# ---- more elementwise --------------------------------------------------------------------------------------------


def square(input):
    """x * x elementwise; integers keep their dtype and bools give int64, as PyTorch."""
    x = _t(input)
    if x._data.dtype.kind == "b":
        x = Tensor._wrap(x._data.astype(int64))
    return E.Mul.apply(x, x)


def erf(input):
    """The error function, elementwise (integers give float32)."""
    return A.Erf.apply(_floating(input))


def erfinv(input):
    """The inverse error function on [-1, 1] (+-inf at +-1, nan outside), elementwise."""
    return A.Erfinv.apply(_floating(input))


def lerp(input, end, weight):
    """input + weight * (end - input), by PyTorch's formula (from ``end`` where |weight| >= 0.5); ``weight`` is
    a number or a tensor, all of one floating dtype, broadcasting. Gradients reach all three."""
    start, stop = _t(input), _t(end)
    if start._data.dtype.kind != "f":
        raise DTypeError(f"lerp: expected floating tensors, got {start._data.dtype}; convert with .float()")
    for name, other in (("end", stop), ("weight", weight)):
        if isinstance(other, Tensor) and other._data.dtype != start._data.dtype:
            raise DTypeError(f"lerp: {name} has dtype {other._data.dtype} but input has {start._data.dtype}")
    diff = stop - start
    if not isinstance(weight, Tensor):
        if isinstance(weight, bool) or not isinstance(weight, int | float | np.number):
            raise ArgumentTypeError(f"lerp: weight must be a number or a tensor, got {type(weight).__name__}")
        w = float(weight)
        return start + diff * w if builtins.abs(w) < 0.5 else stop - diff * (1 - w)
    low = start + weight * diff
    high = stop - diff * (1 - weight)
    return E.Where.apply(np.abs(weight._data) < 0.5, low, high)


def _to_dtype(t, dtype):
    """``t`` in ``dtype``: a float-to-float cast keeps the gradient; others make a constant."""
    if t._data.dtype == dtype:
        return t
    return t.astype(dtype) if dtype.kind == "f" and t._data.dtype.kind == "f" else Tensor._wrap(t._data.astype(dtype))


def _clamp_one(op, input, bound, lower):
    x = _t(input)
    if bound is None:
        raise ArgumentTypeError(f"{op}: missing the bound (a number or a tensor)")
    if isinstance(bound, Tensor):
        dtype = _result_dtype([x._data, bound._data])
        x, b = _to_dtype(x, dtype), _to_dtype(bound, dtype)
        xa, ba = x._data, b._data
        try:
            keep = xa >= ba if lower else xa <= ba
        except ValueError:
            raise ShapeError(f"{op}: cannot broadcast shapes {x.shape} and {b.shape}") from None
        if dtype.kind == "f":
            keep = keep | np.isnan(xa)  # NaN stays NaN, as PyTorch
        return E.Where.apply(keep, x, b)  # the gradient goes to x where it is kept, else to the bound
    if isinstance(bound, bool) or not isinstance(bound, int | float | np.number):
        raise ArgumentTypeError(f"{op}: the bound must be a number or a tensor, got {type(bound).__name__}")
    if x._data.dtype.kind in "biu" and isinstance(bound, float | np.floating):
        x = Tensor._wrap(x._data.astype(float32))  # an integer tensor clamped to a float: float32, as PyTorch
    return E.Clip.apply(x, lo=bound) if lower else E.Clip.apply(x, hi=bound)


def clamp_min(input, min):
    """max(input, min) elementwise (``min`` a number or a tensor); the gradient passes where input >= min, and
    goes to a tensor ``min`` elsewhere."""
    return _clamp_one("clamp_min", input, min, lower=True)


def clamp_max(input, max):
    """min(input, max) elementwise (``max`` a number or a tensor); the gradient passes where input <= max."""
    return _clamp_one("clamp_max", input, max, lower=False)


# ---- more logic --------------------------------------------------------------------------------------------------


def _logic(op, ufunc, input, other):
    a, b = _operand(op, input), _operand(op, other)
    try:
        return Tensor._wrap(np.asarray(ufunc(a, b)))
    except ValueError:
        raise ShapeError(f"{op}: cannot broadcast shapes {np.shape(a)} and {np.shape(b)}") from None


def logical_and(input, other):
    """Where both are nonzero: a bool tensor (any dtypes, broadcasting)."""
    return _logic("logical_and", np.logical_and, input, other)


def logical_or(input, other):
    """Where either is nonzero: a bool tensor."""
    return _logic("logical_or", np.logical_or, input, other)


def logical_xor(input, other):
    """Where exactly one is nonzero: a bool tensor."""
    return _logic("logical_xor", np.logical_xor, input, other)


def logical_not(input):
    """Where the elements are zero: a bool tensor."""
    return Tensor._wrap(np.asarray(np.logical_not(_t(input)._data)))


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Where |input - other| <= atol + rtol * |other| (or the two are equal; NaNs are equal with ``equal_nan``;
    an infinity is close only to itself): a bool tensor. Both are tensors of one dtype; integers and bools are
    compared in float32, as PyTorch."""
    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        bad = other if isinstance(input, Tensor) else input
        raise ArgumentTypeError(f"isclose: expected two tensors, got {type(bad).__name__}; wrap it with cr.tensor")
    if input._data.dtype != other._data.dtype:
        raise DTypeError(f"isclose: the tensors have dtypes {input._data.dtype} and {other._data.dtype}; convert one")
    for name, v in (("rtol", rtol), ("atol", atol)):
        if not v >= 0:
            raise ArgumentError(f"isclose: {name} must be >= 0, got {v!r}")
    a, b = input._data, other._data
    try:
        close = np.asarray(a == b)
    except ValueError:
        raise ShapeError(f"isclose: cannot broadcast shapes {a.shape} and {b.shape}") from None
    if a.dtype.kind == "f" and equal_nan:
        close = close | (np.isnan(a) & np.isnan(b))
    if rtol == 0 and atol == 0:
        return Tensor._wrap(close)
    if a.dtype.kind != "f":
        a, b = a.astype(float32), b.astype(float32)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(a - b)
        close = close | (np.isfinite(error) & (error <= atol + np.abs(rtol * b)))
    return Tensor._wrap(np.asarray(close))


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``isclose`` holds everywhere: a Python bool."""
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """Whether the two tensors have the same shape and the same values (NaN is not equal to itself): a Python
    bool."""
    a, b = _t(input)._data, _t(other)._data
    return a.shape == b.shape and bool(np.asarray(a == b).all())


def is_floating_point(input):
    """Whether the tensor's dtype is a floating-point one."""
    return _t(input)._data.dtype.kind == "f"


def is_nonzero(input):
    """The truth of a one-element tensor; an error for any other."""
    a = _t(input)._data
    if a.size != 1:
        what = "no values" if a.size == 0 else "more than one value"
        raise ShapeError(f"is_nonzero: the truth value of a tensor with {what} (shape {a.shape}) is ambiguous")
    return bool(a.reshape(()).item())


def element_size(input):
    """The size of one element in bytes (Tensor.element_size)."""
    return int(_t(input)._data.dtype.itemsize)


# ---- more shapes -------------------------------------------------------------------------------------------------


def _int(op, value, what):
    if isinstance(value, bool) or not isinstance(value, _INT):
        raise ArgumentTypeError(f"{op}: {what} must be an int, got {value!r}")
    return int(value)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the matrices in dimensions ``dim1`` and ``dim2`` (``offset`` > 0 above the main one, < 0
    below), as a last dimension after the others; a copy whose gradient is scattered back."""
    x = _t(input)
    if x.ndim < 2:
        raise ShapeError(f"diagonal: needs a tensor of at least 2 dimensions, got shape {x.shape}")
    d1, d2 = _one_dim("diagonal", dim1, x.ndim), _one_dim("diagonal", dim2, x.ndim)
    if d1 == d2:
        raise ShapeError(f"diagonal: dim1 and dim2 name the same dimension {d1}")
    k = _int("diagonal", offset, "offset")
    order = tuple(i for i in range(x.ndim) if i not in (d1, d2)) + (d1, d2)
    y = x if order == tuple(range(x.ndim)) else M.Transpose.apply(x, axes=order)
    r0, c0 = builtins.max(-k, 0), builtins.max(k, 0)
    n = builtins.max(builtins.min(x.shape[d1] - r0, x.shape[d2] - c0), 0)
    xp = array_module(x._data)
    return M.GetItem.apply(y, index=(Ellipsis, xp.arange(n) + r0, xp.arange(n) + c0))


_diagonal = diagonal  # diag's argument ``diagonal`` hides the function there


def diag(input, diagonal=0):
    """A 1-D tensor: the square matrix with it on the ``diagonal``-th diagonal (zeros elsewhere); a 2-D tensor:
    its ``diagonal``-th diagonal, 1-D."""
    x = _t(input)
    k = _int("diag", diagonal, "diagonal")
    if x.ndim == 2:
        return _diagonal(x, k)
    if x.ndim != 1:
        raise ShapeError(f"diag: supports 1-D and 2-D tensors, got shape {x.shape}; use diagonal or diag_embed")
    n = x.shape[0]
    xp = array_module(x._data)
    size = n + builtins.abs(k)
    base = Tensor._wrap(xp.zeros((size, size), x._data.dtype))
    rows, cols = xp.arange(n) + builtins.max(-k, 0), xp.arange(n) + builtins.max(k, 0)
    return M.SetItem.apply(base, x, index=(rows, cols))


def trace(input):
    """The sum of the main diagonal of a matrix (integers sum in int64)."""
    x = _t(input)
    _need_dims("trace", x, 2, "a matrix (2-D)")
    _no_bool("trace", x)
    d = diagonal(x)
    return (d if d._data.dtype.kind == "f" else Tensor._wrap(d._data.astype(int64))).sum()


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D (or 0-d) tensors of one dtype: ``indexing='ij'`` (the default) gives each the
    shape (n0, n1, ...); ``'xy'`` swaps the first two dimensions (Cartesian, as NumPy's default). A tuple of
    (broadcast, read-only) tensors whose gradients sum back."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        tensors = tuple(tensors[0])
    ts = [_t(t) for t in tensors]
    if not ts:
        raise ArgumentError("meshgrid: needs at least one tensor")
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for k, t in enumerate(ts):
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-d tensors, got shape {t.shape} for tensor {k}")
    _same_dtype("meshgrid", *ts)
    n = len(ts)
    place = list(range(n))
    if indexing == "xy" and n >= 2:
        place[0], place[1] = 1, 0
    shape = [0] * n
    for t, p in zip(ts, place):
        shape[p] = t._data.size
    out = []
    for t, p in zip(ts, place):
        view = [1] * n
        view[p] = t._data.size
        out.append(M.Expand.apply(M.Reshape.apply(t, shape=tuple(view)), shape=tuple(shape)))
    return tuple(out)


def narrow(input, dim, start, length):
    """The slice ``start:start + length`` along ``dim`` (``start`` may be negative, or a 0-d integer tensor):
    a view, as torch.narrow."""
    x = _t(input)
    if x.ndim == 0:
        raise ShapeError("narrow: cannot be applied to a 0-d tensor")
    ax = _one_dim("narrow", dim, x.ndim)
    if isinstance(start, Tensor):
        if start._data.dtype.kind not in "iu" or start._data.size != 1:
            raise ArgumentTypeError(f"narrow: start must be an int or a one-element integer tensor, got {start!r}")
        start = start._data.reshape(()).item()
    start, length = _int("narrow", start, "start"), _int("narrow", length, "length")
    n = x.shape[ax]
    if not -n <= start <= n:
        raise OutOfRangeError(f"narrow: start {start} is out of range for dimension {dim} of size {n}")
    if start < 0:
        start += n
    if length < 0:
        raise ArgumentError(f"narrow: length must be non-negative, got {length}")
    if start + length > n:
        raise OutOfRangeError(f"narrow: start ({start}) + length ({length}) exceeds dimension {dim} of size {n}")
    return M.GetItem.apply(x, index=(slice(None),) * ax + (slice(start, start + length),))


# ---- more indexing -----------------------------------------------------------------------------------------------


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: an int64 tensor (count, ndim), one row per element in row-major
    order; with ``as_tuple=True`` one 1-D tensor per dimension (a 0-d input counting as 1-D), ready to index
    with (``x[nonzero(m, as_tuple=True)]``, what ``where(condition)`` returns)."""
    a = _t(input)._data
    xp = array_module(a)
    if as_tuple:
        return tuple(Tensor._wrap(i.astype(int64, copy=False)) for i in xp.nonzero(a.reshape(1) if a.ndim == 0 else a))
    return Tensor._wrap(xp.argwhere(a).astype(int64, copy=False))


def argwhere(input):
    """The indices of the nonzero elements, one row each: ``nonzero(input)``."""
    return nonzero(input)


def argsort(input, dim=-1, descending=False, *, stable=False, axis=None):
    """The indices (int64) that sort ``input`` along ``dim``: ``sort(...).indices``. Always stable (``stable``
    is accepted for PyTorch's signature); NaN sorts as the largest value."""
    x = _t(input)
    ax = _one_dim("argsort", _alias("argsort", dim, -1, axis), x.ndim)
    if x.ndim == 0:
        return Tensor._wrap(np.zeros((), int64))
    return Tensor._wrap(_argsort(x._data, ax, bool(descending)))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements, in ascending order (also for ``sorted=False``, as PyTorch on the CPU; each NaN is
    distinct); with ``dim``, the distinct slices along it, in lexicographic order. With ``return_inverse`` and
    ``return_counts`` a tuple: the values, then the int64 position of each input element (or slice) among
    them, then how often each occurs. No gradient."""
    a = _t(input)._data
    if dim is None:
        values, inverse, counts = np.unique(a.reshape(-1), return_inverse=True, return_counts=True, equal_nan=False)
        inverse = inverse.reshape(a.shape)
    else:
        if a.ndim == 0:
            raise ShapeError("unique: dim needs a tensor of at least 1 dimension, got a 0-d tensor")
        ax = _one_dim("unique", dim, a.ndim)
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=ax, equal_nan=False)
        inverse = inverse.reshape(-1)
    out = [Tensor._wrap(values)]
    if return_inverse:
        out.append(Tensor._wrap(inverse.astype(int64, copy=False)))
    if return_counts:
        out.append(Tensor._wrap(counts.astype(int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


def masked_select(input, mask):
    """The elements of ``input`` where the bool ``mask`` is True (the two broadcast), as a 1-D tensor in
    row-major order; the gradient is scattered back."""
    x = _t(input)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise DTypeError(f"masked_select: mask must be a bool tensor, got {m.dtype}; compare to get one (x > 0)")
    try:
        shape = np.broadcast_shapes(x.shape, m.shape)
    except ValueError:
        msg = f"masked_select: the mask's shape {m.shape} does not broadcast with the input's {x.shape}"
        raise ShapeError(msg) from None
    xe = x if x.shape == shape else M.Expand.apply(x, shape=shape)
    mb = array_module(m).broadcast_to(m, shape)
    if not shape:  # a 0-d result of the broadcast: index it as one element
        xe, mb = M.Reshape.apply(xe, shape=(1,)), mb.reshape(1)
    return M.GetItem.apply(xe, index=array_module(mb).nonzero(mb))


def take(input, index):
    """The elements of ``input``, read as a flat (1-D) tensor, at ``index`` (int64, negative from the end): a
    tensor of the index's shape."""
    x = _t(input)
    idx = _index("take", index)
    n = x._data.size
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.min()) if int(idx.min()) < -n else int(idx.max())
        raise OutOfRangeError(f"take: index {bad} is out of range for a tensor of {n} elements")
    out = M.GetItem.apply(M.Reshape.apply(x, shape=(n,)), index=idx.reshape(-1))
    return M.Reshape.apply(out, shape=idx.shape)


def take_along_dim(input, indices, dim=None):
    """``gather`` that broadcasts: the elements at ``indices`` (int64) along ``dim``, the other dimensions of the
    two broadcasting (negative indices count from the end); with no ``dim``, ``indices`` into the flattened
    input, 1-D."""
    x = _t(input)
    idx = _index("take_along_dim", indices)
    xp = array_module(idx)
    if dim is None:
        n = x._data.size
        flat = idx.reshape(-1)
        _check_range("take_along_dim", flat, n, 0)
        return M.GetItem.apply(M.Reshape.apply(x, shape=(n,)), index=flat)
    ax = _one_dim("take_along_dim", dim, x.ndim)
    if idx.ndim != x.ndim:
        raise ShapeError(
            f"take_along_dim: input and indices need the same number of dimensions, got shapes {x.shape} and "
            f"{idx.shape}"
        )
    if x.ndim == 0:
        x, idx = M.Reshape.apply(x, shape=(1,)), idx.reshape(1)
    xs, ids = list(x.shape), list(idx.shape)
    for d in range(x.ndim):
        if d != ax and xs[d] != ids[d]:
            if 1 not in (xs[d], ids[d]):
                raise ShapeError(f"take_along_dim: shapes {x.shape} and {idx.shape} do not broadcast in dimension {d}")
            xs[d] = ids[d] = builtins.max(xs[d], ids[d])
    n = x.shape[ax]
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        bad = int(idx.min()) if int(idx.min()) < -n else int(idx.max())
        raise OutOfRangeError(f"take_along_dim: index {bad} is out of range for dimension {dim} of size {n}")
    xe = x if tuple(xs) == x.shape else M.Expand.apply(x, shape=tuple(xs))
    ie = xp.broadcast_to(idx, tuple(ids))
    ie = xp.where(ie < 0, ie + n, ie)
    out = M.GetItem.apply(xe, index=X.along_index(ie, ax, xp))
    return M.Reshape.apply(out, shape=()) if _t(input).ndim == 0 else out


def bincount(input, weights=None, minlength=0):
    """How often each value 0, 1, ... occurs in a 1-D tensor of non-negative integers (at least ``minlength``
    bins): int64; with ``weights`` (one per element) their sums instead, float32 for float32 weights and float64
    otherwise, as PyTorch. No gradient."""
    a = _t(input)._data
    if a.dtype.kind not in "iu":
        raise DTypeError(f"bincount: expected an integer tensor, got {a.dtype}")
    if a.ndim != 1:
        raise ShapeError(f"bincount: expected a 1-D tensor, got shape {a.shape}")
    if a.size and int(a.min()) < 0:
        raise ArgumentError(f"bincount: the values must be non-negative, got {int(a.min())}")
    minlength = _int("bincount", minlength, "minlength")
    if minlength < 0:
        raise ArgumentError(f"bincount: minlength must be >= 0, got {minlength}")
    xp = array_module(a)
    if weights is None:
        return Tensor._wrap(xp.bincount(a, minlength=minlength).astype(int64, copy=False))
    w = _t(weights)._data
    if w.shape != a.shape:
        raise ShapeError(f"bincount: weights must be 1-D with one per element, got shape {w.shape} for {a.shape}")
    out = xp.bincount(a, weights=w.astype(np.float64), minlength=minlength)
    return Tensor._wrap(out.astype(float32 if w.dtype == float32 else np.float64, copy=False))


# ---- random ------------------------------------------------------------------------------------------------------


def _probabilities(op, x):
    if x._data.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating tensor of probabilities, got {x._data.dtype}; use .float()")


def bernoulli(input, p=None, *, generator=None):
    """0s and 1s in ``input``'s shape and dtype, each 1 with probability ``input[i]`` (or the number ``p``),
    drawn from chainrule's seeded generator (or ``generator``). A constant: no gradient flows back."""
    x = _t(input)
    _probabilities("bernoulli", x)
    if p is None:
        probs = x._data
        if not bool(((probs >= 0) & (probs <= 1)).all()):
            raise ArgumentError("bernoulli: the probabilities must lie in [0, 1]")
    else:
        if isinstance(p, bool) or not isinstance(p, int | float | np.number) or not 0 <= p <= 1:
            raise ArgumentError(f"bernoulli: p must be a number in [0, 1], got {p!r}")
        probs = p
    draw = _random.rng(None, generator).random(x.shape)
    return Tensor._wrap(np.asarray(draw < probs).astype(x._data.dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """``num_samples`` category indices (int64) for each row of weights (1-D or 2-D, non-negative, not
    necessarily summing to 1), drawn from chainrule's seeded generator (or ``generator``); without
    ``replacement`` no category repeats within a row (zero-weight ones come last, once the others are used)."""
    x = _t(input)
    _probabilities("multinomial", x)
    if x.ndim not in (1, 2):
        raise ShapeError(f"multinomial: the weights must be 1-D or 2-D, got shape {x.shape}")
    k = _int("multinomial", num_samples, "num_samples")
    if k <= 0:
        raise ArgumentError(f"multinomial: num_samples must be positive, got {k}")
    w = x._data.astype(np.float64).reshape(-1, x.shape[-1])
    n = w.shape[1]
    if not (np.isfinite(w).all() and (w >= 0).all()):
        raise ArgumentError("multinomial: the weights must be finite and non-negative")
    if not (w.sum(axis=1) > 0).all():
        raise ArgumentError("multinomial: every row of weights needs a positive sum")
    if not replacement and k > n:
        raise ArgumentError(f"multinomial: cannot draw {k} samples from {n} categories without replacement")
    g = _random.rng(None, generator)
    if replacement:
        cdf = np.cumsum(w, axis=1)
        u = g.random((w.shape[0], k)) * cdf[:, -1:]
        last = n - 1 - np.argmax(w[:, ::-1] > 0, axis=1)  # the last category of positive weight
        out = np.stack([np.searchsorted(c, v, side="right") for c, v in zip(cdf, u)])
        out = np.minimum(out, last[:, None])
    else:  # exponential race: the k smallest of E_i / w_i are a draw without replacement, in order
        with np.errstate(divide="ignore"):
            keys = g.standard_exponential(w.shape) / w
        out = np.argsort(keys, axis=1, kind="stable")[:, :k]
    out = out.astype(int64)
    return Tensor._wrap(out[0] if x.ndim == 1 else out)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False):
    """Samples of N(mean, std^2) from chainrule's seeded generator (or ``generator``): ``mean`` and ``std``
    tensors (or one of them a number) broadcast to the result's shape and give its dtype; for two numbers
    ``size`` gives the shape (float32 unless ``dtype``). A constant: no gradient flows back to mean or std."""
    g = _random.rng(None, generator)
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise ArgumentTypeError("normal: with a number mean and std, give size (the shape of the result)")
        shape = _ints("normal", (size,), "size")
        if not std >= 0:
            raise ArgumentError(f"normal: std must be >= 0, got {std!r}")
        out = Tensor._wrap(g.normal(float(mean), float(std), shape).astype(float32 if dtype is None else dtype))
    else:
        if size is not None:
            raise ArgumentTypeError("normal: size is only for a number mean and std; the tensors give the shape")
        like = mean if isinstance(mean, Tensor) else std
        if like._data.dtype.kind != "f":
            raise DTypeError(f"normal: expected a floating tensor, got {like._data.dtype}; convert with .float()")
        m, s = _raw(mean), _raw(std)
        if not bool(np.all(np.asarray(s) >= 0)):
            raise ArgumentError("normal: std must be >= 0 everywhere")
        try:
            shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        except ValueError:
            msg = f"normal: cannot broadcast mean of shape {np.shape(m)} and std of shape {np.shape(s)}"
            raise ShapeError(msg) from None
        out = Tensor._wrap(np.asarray(m + s * g.standard_normal(shape)).astype(like._data.dtype))
    return out.requires_grad_(True) if requires_grad else out



__all__ = [
    "acos",
    "addcdiv",
    "addcmul",
    "addmm",
    "addmv",
    "all",
    "allclose",
    "any",
    "argsort",
    "argwhere",
    "asin",
    "atan",
    "baddbmm",
    "bernoulli",
    "bincount",
    "bmm",
    "cdist",
    "ceil",
    "chunk",
    "clamp_max",
    "clamp_min",
    "clone",
    "cos",
    "cosh",
    "count_nonzero",
    "cross",
    "cumprod",
    "cumsum",
    "diag",
    "diagonal",
    "div",
    "divide",
    "dot",
    "einsum",
    "element_size",
    "eq",
    "equal",
    "erf",
    "erfinv",
    "expm1",
    "flip",
    "floor",
    "floor_divide",
    "fmod",
    "gather",
    "ge",
    "gt",
    "index_add",
    "index_fill",
    "index_select",
    "is_floating_point",
    "is_nonzero",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "le",
    "lerp",
    "log10",
    "log1p",
    "log2",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "lt",
    "masked_fill",
    "masked_select",
    "meshgrid",
    "mm",
    "multinomial",
    "mv",
    "nan_to_num",
    "narrow",
    "ne",
    "nonzero",
    "norm",
    "normal",
    "outer",
    "prod",
    "reciprocal",
    "remainder",
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
    "square",
    "std_mean",
    "t",
    "take",
    "take_along_dim",
    "tan",
    "tile",
    "topk",
    "trace",
    "tril",
    "triu",
    "true_divide",
    "trunc",
    "unique",
    "var_mean",
    "view_as",
]

# the functions that are also Tensor methods of the same name (x.sin(), x.mm(y), x.sort(dim=0), x.element_size());
# these are not, as in PyTorch
_FUNCTIONS_ONLY = {"cdist", "einsum", "meshgrid", "normal", "std_mean", "var_mean"}
TENSOR_METHODS = tuple(name for name in __all__ if name not in _FUNCTIONS_ONLY)
# the Tensor methods whose result has the input's shape, so that they also have in-place forms (x.sin_(),
# x.scatter_(1, idx, src), x.clamp_min_(0)); chainrule/__init__.py makes each one write its result into the
# tensor through Tensor._update, which records it and bumps the tensor's version as the other in-place ops
IN_PLACE = ("acos", "addcdiv", "addcmul", "asin", "atan", "ceil", "clamp_max", "clamp_min", "cos", "cosh",
            "cumprod", "cumsum", "erf", "erfinv", "expm1", "floor", "fmod", "index_add", "index_fill", "lerp",
            "log", "log10", "log1p", "log2", "nan_to_num", "reciprocal", "remainder", "round", "rsqrt",
            "scatter", "scatter_add", "sign", "sin", "sinh", "square", "tan", "tril", "triu", "trunc")
