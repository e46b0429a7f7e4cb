"""``Tensor``: an array, the gradient it receives, and the node of the graph that made it.

Methods are one-line wrappers over the primitives in ``chainrule.ops`` (``Op.apply``); the
Tensor itself knows no derivative. The methods that are composites (``var``, ``flatten``,
``split``, ...) live in ``chainrule.functional``, above this module, and ``chainrule/__init__.py``
attaches them (``COMPOSITE_METHODS``), so that nothing here imports anything above it.
"""

import math
import warnings

import numpy as np

from . import device as _device
from . import random as _random
from . import return_types as _return_types
from .autograd import engine as _engine
from .autograd import function as _function
from .autograd.function import apply_fast, version_cell
from .errors import ArgumentTypeError, BackwardError, DTypeError, OutOfRangeError, ShapeError
from .ops.elementwise import (
    GELU,
    Abs,
    Add,
    Cast,
    Clip,
    Div,
    Exp,
    LeakyReLU,
    Log,
    Maximum,
    Minimum,
    Mul,
    Neg,
    Pow,
    ReLU,
    Remainder,
    Sigmoid,
    Softplus,
    Sqrt,
    Step,
    Sub,
    Tanh,
    Where,
)
from .ops.linalg import MatMul
from .ops.movement import Expand, GetItem, Pad, Reshape, SetItem, Transpose
from .ops.nn import LogSoftmax, Softmax
from .ops.reduce import LogSumExp, Max, Mean, Min, Sum

# dtypes, as PyTorch names them (they are NumPy dtypes)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)
default_float = float32
# PyTorch's short names (``dtype=torch.float``); chainrule/__init__.py exports them as cr.float, cr.long, ...
_TYPE_NAMES = {float32: "Float", float64: "Double", float16: "Half", int64: "Long", int32: "Int", int16: "Short",
               int8: "Char", uint8: "Byte", bool_: "Bool"}  # Tensor.type()'s names, as PyTorch's
DTYPE_ALIASES = {"float": float32, "double": float64, "half": float16, "long": int64, "int": int32,
                 "short": int16, "bool": bool_}


class Size(tuple):
    """A shape, as PyTorch's ``torch.Size``: a tuple of ints (equal to the plain tuple) with ``numel()``."""

    __slots__ = ()

    def numel(self):
        """The number of elements a tensor of this shape holds."""
        n = 1
        for d in self:
            n *= d
        return n

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple.__add__(self, other))

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    def __str__(self):  # messages ("got shape (2, 3)") print it as the plain tuple
        return tuple.__repr__(self)


def _old_overload(op, alpha, rest):
    """PyTorch's deprecated ``x.add_(alpha, other)``: (alpha, other), with PyTorch's warning."""
    if len(rest) != 1 or not isinstance(alpha, int | float) or not isinstance(rest[0], Tensor):
        raise ArgumentTypeError(f"{op}: expected ({op}(other, alpha=...)), got {1 + len(rest)} positional arguments")
    warnings.warn(f"This overload of {op} is deprecated: {op}(Number alpha, Tensor other); use "
                  f"{op}(Tensor other, *, Number alpha=1)", UserWarning, stacklevel=3)
    return alpha, rest[0]


def as_dtype(dtype):
    """Turn ``dtype`` ("float32", np.float64, cr.int64, ...) into a NumPy dtype, or raise DTypeError."""
    try:
        d = np.dtype(dtype)
    except TypeError:
        raise DTypeError(f"unknown dtype {dtype!r}; use e.g. 'float32', 'float64', 'int64' or 'bool'") from None
    if d.kind not in "biuf":
        raise DTypeError(f"unsupported dtype {d}: tensors hold floating-point, integer or bool values")
    return d


def _to_array(data, dtype=None):
    """A fresh array from ``data``: float64 becomes float32 unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        d = as_dtype(dtype)
        try:
            return np.array(data, dtype=d)
        except (TypeError, ValueError) as e:
            raise DTypeError(f"tensor: cannot convert data to {d}: {e}") from None
    try:
        arr = np.array(data)
    except ValueError as e:
        raise ShapeError(f"tensor: data is not a regular (rectangular) array: {e}") from None
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 4:
        return arr.astype(default_float)
    if arr.dtype.kind not in "biuf":
        raise DTypeError(f"tensor: cannot make a tensor from data of dtype {arr.dtype}")
    return arr


def _raw(x):
    """The array behind a Tensor; anything else is returned as it is."""
    return x._data if isinstance(x, Tensor) else x


class Tensor:
    """A multi-dimensional array that records the operations applied to it for backpropagation.

    ``Tensor(data, dtype=None, requires_grad=False)`` copies ``data``; floating-point data
    defaults to float32. After ``loss.backward()``, ``x.grad`` holds dloss/dx for every
    leaf ``x`` created with ``requires_grad=True``. Names and meanings are PyTorch's: ``x.size(0)``,
    ``x.sum(dim=1, keepdim=True)``, ``x.max(1)`` giving ``(values, indices)``, ``x.data`` a detached
    tensor sharing the memory, ``x.add_(y)`` changing ``x`` in place; ``x.numpy()`` is the NumPy array.
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "_ctx", "_vc", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ndarray + Tensor -> Tensor

    def __init__(self, data, dtype=None, requires_grad=False):
        self._data = _to_array(data, dtype)
        self._grad = None
        self._ctx = None
        self._vc = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array):
        """A Tensor around ``array`` without copying or converting it (internal)."""
        t = cls.__new__(cls)
        t._data = array
        t._grad = None
        t._requires_grad = False
        t._ctx = None
        t._vc = None
        return t

    # ---- autograd state --------------------------------------------------------------------

    @property
    def requires_grad(self):
        """Whether gradients flow to (and, for a leaf, accumulate in) this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if flag and self._data.dtype.kind != "f":
            raise DTypeError(
                f"requires_grad: only floating-point tensors can require gradients, got dtype {self._data.dtype}"
            )
        if self._ctx is not None and not flag:
            raise BackwardError(
                "requires_grad: only leaf tensors can change requires_grad; use .detach() for a non-leaf"
            )
        self._requires_grad = flag

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place and return the tensor."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        """The gradient accumulated by ``backward`` (a Tensor of this shape), or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is None:
            self._grad = None
            return
        if not isinstance(value, Tensor):
            raise ArgumentTypeError(
                f"grad: assigned grad must be a Tensor of shape {self.shape} or None, got {type(value).__name__}; "
                "to clear it use `.grad = None` (or `.grad.zero_()`, or optimizer.zero_grad())"
            )
        if value.shape != self.shape:
            raise ShapeError(f"grad: assigned grad has shape {value.shape}, but the tensor has shape {self.shape}")
        if value.dtype != self.dtype:
            raise DTypeError(f"grad: assigned grad has dtype {value.dtype}, but the tensor has dtype {self.dtype}")
        self._grad = value

    @property
    def data(self):
        """A tensor sharing this one's memory, cut off from the graph (PyTorch's ``.data``): changes made
        through it reach this tensor but are not recorded, nor seen by autograd's version checks."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        self._data = value if isinstance(value, np.ndarray) else _to_array(value)

    @property
    def _version(self):
        """How many times this tensor's memory was changed in place (PyTorch's ``_version``)."""
        return 0 if self._vc is None else self._vc[0]

    @property
    def is_leaf(self):
        """True for tensors made by the user rather than by an op that recorded a gradient."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The graph node that made this tensor (None for leaves)."""
        return self._ctx

    def retain_grad(self):
        """Keep the gradient of this non-leaf tensor in ``.grad`` after ``backward`` (leaves keep theirs anyway)."""
        if self._ctx is not None:
            _engine.retain_grad(self)

    @property
    def retains_grad(self):
        return self._ctx is not None and self._ctx in _engine._retained

    def detach(self):
        """A new tensor sharing this one's data (and its version counter), cut off from the graph."""
        t = Tensor._wrap(self._data)
        t._vc = version_cell(self)
        return t

    def backward(self, gradient=None, retain_graph=False):
        """Backpropagate from this tensor, accumulating gradients into ``.grad`` of the leaves.

        ``gradient`` is dloss/dself; it may be omitted for a one-element tensor (it is 1).
        """
        if not self._requires_grad:
            raise BackwardError(
                "backward: this tensor does not require grad and has no grad_fn; create its inputs "
                "with requires_grad=True (and not under no_grad())"
            )
        if gradient is None:
            data = self._data
            if data.size != 1:
                raise BackwardError(
                    f"backward: grad can be implicitly created only for scalar outputs, but this tensor "
                    f"has shape {self.shape}; pass gradient= with that shape"
                )
            g = np.array(1, dtype=data.dtype)  # np.ones costs 3x more
            if data.ndim:
                g = g.reshape(data.shape)
        else:
            g = np.array(_raw(gradient), dtype=self.dtype)
            if g.shape != self.shape:
                raise ShapeError(f"backward: gradient has shape {g.shape} but the tensor has shape {self.shape}")
        _engine.run_backward([self], [g], retain_graph=retain_graph)

    # ---- array facts ---------------------------------------------------------------------------

    @property
    def shape(self):
        return Size(self._data.shape)

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    def size(self, dim=None):
        """The shape (PyTorch's ``size()``), or the length of axis ``dim``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_one_dim(dim, self._data.shape, "size")]

    def dim(self):
        """The number of dimensions."""
        return self._data.ndim

    def numel(self):
        """The number of elements."""
        return self._data.size

    nelement = numel

    @property
    def device(self):
        """Where the data lies: ``device(type='cpu')``, or a CUDA device for a CuPy array."""
        return _device.of_array(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    def numpy(self, force=False):
        """The underlying array (shared, not copied; a CuPy array is copied to the host)."""
        return self._data if isinstance(self._data, np.ndarray) else _device.to_host(self._data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def astype(self, dtype):
        """This tensor in ``dtype`` (itself when it has it already); float-to-float casts keep the gradient."""
        d = as_dtype(dtype)
        if d == self._data.dtype:
            return self
        if d.kind == "f" and self._data.dtype.kind == "f":
            return Cast.apply(self, dtype=d)
        return Tensor._wrap(self._data.astype(d))

    def float(self):
        return self.astype(float32)

    def double(self):
        return self.astype(float64)

    def half(self):
        return self.astype(float16)

    def long(self):
        return self.astype(int64)

    def int(self):
        return self.astype(int32)

    def short(self):
        return self.astype(int16)

    def char(self):
        return self.astype(int8)

    def byte(self):
        return self.astype(uint8)

    def bool(self):
        return self.astype(bool_)

    def type(self, dtype=None):
        """With no argument, the type's name as PyTorch spells it (``'torch.FloatTensor'``); with a dtype (or such
        a name), this tensor in that dtype."""
        if dtype is None:
            return "torch." + _TYPE_NAMES.get(self._data.dtype, str(self._data.dtype)) + "Tensor"
        if isinstance(dtype, str) and dtype.endswith("Tensor"):
            names = {v: k for k, v in _TYPE_NAMES.items()}
            key = dtype.rsplit(".", 1)[-1][: -len("Tensor")]
            if key not in names:
                raise DTypeError(f"type: unknown tensor type {dtype!r}; use e.g. 'torch.FloatTensor' or cr.float64")
            dtype = names[key]
        return self.astype(dtype)

    def type_as(self, other):
        """This tensor in ``other``'s dtype."""
        return self.astype(other.dtype)

    def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other)``: this tensor on that device in that
        dtype (itself when nothing changes, unless ``copy=True``); ``non_blocking`` is accepted and ignored."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, str | _device.device) and not _is_dtype_name(a):
                device = a
            else:
                dtype = a
        out = self
        if device is not None:
            out = _device.move(out, device)
        if dtype is not None:
            out = out.astype(dtype)
        if copy and out is self:
            floating = self._data.dtype.kind == "f"
            out = Cast.apply(self, dtype=self.dtype) if floating else Tensor._wrap(self._data.copy())
        return out

    def cpu(self):
        """This tensor in host memory (itself when it is there)."""
        return _device.move(self, "cpu")

    def cuda(self, device=None, non_blocking=False):
        """This tensor on the GPU (through CuPy); an error naming what is missing when there is none."""
        return _device.move(self, "cuda" if device is None else device)

    def contiguous(self, memory_format=None):
        """Itself: chainrule's ops accept any memory layout."""
        return self

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def __array__(self, dtype=None, copy=None):
        """NumPy's protocol with NumPy 2's ``copy``: ``np.array(t)`` copies, ``np.asarray(t)`` shares
        the data when the dtype allows, and ``copy=False`` refuses to copy."""
        if copy:
            return self._data.astype(self._data.dtype if dtype is None else dtype, copy=True)
        if dtype is None or np.dtype(dtype) == self._data.dtype:
            return self._data
        if copy is False:
            raise DTypeError(f"__array__: a {self._data.dtype} tensor cannot become {np.dtype(dtype)} without a copy")
        return self._data.astype(dtype)

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(", **PRINT_OPTIONS)
        extra = []
        if self._data.dtype not in (float32, int64, bool_) or self._data.size == 0:
            extra.append(f"dtype={self._data.dtype}")
        if self._ctx is not None:
            extra.append(f"grad_fn={self._ctx!r}")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extra]) + ")"

    def __format__(self, spec):
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``); others as their repr, without a spec."""
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        if spec:
            raise ArgumentTypeError(f"format: the spec {spec!r} needs a 0-d tensor, got shape {self.shape}; "
                                    "use .item() or .tolist()")
        return repr(self)

    def __len__(self):
        if self._data.ndim == 0:
            raise ArgumentTypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self):
        if self._data.size != 1:
            raise ShapeError(f"the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise ArgumentTypeError(f"only integer tensors of one element can be used as an index, got "
                                    f"{self._data.dtype} of shape {self.shape}")
        return int(self._data.item())

    __hash__ = object.__hash__

    # ---- arithmetic ------------------------------------------------------------------------------

    def __add__(self, other):
        return apply_fast(Add, self, other)

    def __radd__(self, other):
        return apply_fast(Add, other, self)

    def __sub__(self, other):
        return apply_fast(Sub, self, other)

    def __rsub__(self, other):
        return apply_fast(Sub, other, self)

    def __mul__(self, other):
        return apply_fast(Mul, self, other)

    def __rmul__(self, other):
        return apply_fast(Mul, other, self)

    def __truediv__(self, other):
        return apply_fast(Div, self, other)

    def __rtruediv__(self, other):
        return apply_fast(Div, other, self)

    def __pow__(self, other):
        return apply_fast(Pow, self, other)

    def __rpow__(self, other):
        return apply_fast(Pow, other, self)

    def __mod__(self, other):
        return apply_fast(Remainder, self, other)

    def __rmod__(self, other):
        return apply_fast(Remainder, other, self)

    def __matmul__(self, other):
        return apply_fast(MatMul, self, other)

    def __rmatmul__(self, other):
        return apply_fast(MatMul, other, self)

    def __neg__(self):
        return apply_fast(Neg, self)

    def __pos__(self):
        return self

    def add(self, other, *old, alpha=1):
        """``self + alpha * other`` (``add(alpha, other)``, PyTorch's deprecated order, also works)."""
        if old:
            alpha, other = _old_overload("add", other, old)
        return apply_fast(Add, self, other if alpha == 1 else other * alpha)

    def sub(self, other, *old, alpha=1):
        """``self - alpha * other`` (``sub(alpha, other)`` also works, as in PyTorch)."""
        if old:
            alpha, other = _old_overload("sub", other, old)
        return apply_fast(Sub, self, other if alpha == 1 else other * alpha)

    def mul(self, other):
        return apply_fast(Mul, self, other)

    def div(self, other):  # chainrule/__init__.py puts functional.math.div here (with rounding_mode=)
        return apply_fast(Div, self, other)

    def neg(self):
        return apply_fast(Neg, self)

    subtract, multiply, negative = sub, mul, neg

    # comparisons and logic give bool tensors and carry no gradient
    def __lt__(self, other):
        return Tensor._wrap(self._data < _raw(other))

    def __le__(self, other):
        return Tensor._wrap(self._data <= _raw(other))

    def __gt__(self, other):
        return Tensor._wrap(self._data > _raw(other))

    def __ge__(self, other):
        return Tensor._wrap(self._data >= _raw(other))

    def __eq__(self, other):
        return Tensor._wrap(np.asarray(self._data == _raw(other)))

    def __ne__(self, other):
        return Tensor._wrap(np.asarray(self._data != _raw(other)))

    def __and__(self, other):
        return Tensor._wrap(self._data & _raw(other))

    def __or__(self, other):
        return Tensor._wrap(self._data | _raw(other))

    def __xor__(self, other):
        return Tensor._wrap(self._data ^ _raw(other))

    def __invert__(self):
        return Tensor._wrap(~self._data)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    # ---- in place ---------------------------------------------------------------------------------
    # As PyTorch: allowed under no_grad (an optimiser step), refused on a leaf that requires grad while
    # gradients are recorded, and recorded otherwise: the tensor's history then ends in the op. Every one
    # bumps the tensor's version, so a backward through a value saved before the change is an error.

    def _update(self, op, make, *others):
        """Write the tensor ``make(src)`` returns into this one's memory, ``src`` being this tensor (or, when the
        op is recorded, a copy of it); ``others``: the op's other operands; ``op`` names it for errors."""
        others_need_grad = any(isinstance(o, Tensor) and o._requires_grad for o in others)
        recording = _function._grad_enabled
        if recording and self._requires_grad and self._ctx is None:
            raise BackwardError(
                f"{op}: a leaf tensor that requires grad is used in an in-place operation; do it under "
                "cr.no_grad() (as an optimiser step does), or on a copy (.clone())"
            )
        src = self
        if recording and (self._requires_grad or others_need_grad):
            # the op reads a copy: what it saves for its backward must not be the memory written below
            src = Tensor._wrap(self._data.copy(order="K"))
            src._ctx, src._requires_grad = self._ctx, self._requires_grad
        out = make(src)
        if out.shape != self._data.shape:
            raise ShapeError(f"{op}: the result has shape {out.shape}, which cannot be written into a tensor of shape "
                             f"{self.shape} in place")
        if out.dtype != self._data.dtype and not np.can_cast(out.dtype, self._data.dtype, "same_kind"):
            raise DTypeError(f"{op}: the result has dtype {out.dtype}, which cannot be written into a {self.dtype} "
                             "tensor in place")
        if out._requires_grad and self._vc is not None and self._vc[1]:
            raise BackwardError(
                f"{op}: an in-place operation that records a gradient on a tensor that shares its memory with a "
                "view (made by view, reshape, transpose or indexing) is not supported; use the op out of place"
            )
        try:
            self._data[...] = out._data
        except ValueError as e:  # a read-only array: an expanded (broadcast) tensor
            raise ArgumentTypeError(f"{op}: this tensor cannot be written in place ({e}); use .clone() first") from None
        if out._requires_grad:
            self._ctx = out._ctx
            self._requires_grad = True
        _function.note_write(self)
        return self

    def __iadd__(self, other):
        return self._update("add_", lambda s: apply_fast(Add, s, other), other)

    def __isub__(self, other):
        return self._update("sub_", lambda s: apply_fast(Sub, s, other), other)

    def __imul__(self, other):
        return self._update("mul_", lambda s: apply_fast(Mul, s, other), other)

    def __itruediv__(self, other):
        return self._update("div_", lambda s: apply_fast(Div, s, other), other)

    def add_(self, other, *old, alpha=1):
        if old:
            alpha, other = _old_overload("add_", other, old)
        return self._update("add_", lambda s: s.add(other, alpha=alpha), other)

    def sub_(self, other, *old, alpha=1):
        if old:
            alpha, other = _old_overload("sub_", other, old)
        return self._update("sub_", lambda s: s.sub(other, alpha=alpha), other)

    def mul_(self, other):
        return self._update("mul_", lambda s: apply_fast(Mul, s, other), other)

    def div_(self, other, *, rounding_mode=None):
        return self._update("div_", lambda s: s.div(other, rounding_mode=rounding_mode), other)

    def pow_(self, exponent):
        return self._update("pow_", lambda s: apply_fast(Pow, s, exponent), exponent)

    def clamp_(self, min=None, max=None):
        return self._update("clamp_", lambda s: s.clamp(min, max))

    clip_ = clamp_

    def neg_(self):
        return self._update("neg_", lambda s: apply_fast(Neg, s))

    def exp_(self):
        return self._update("exp_", lambda s: apply_fast(Exp, s))

    def sqrt_(self):
        return self._update("sqrt_", lambda s: apply_fast(Sqrt, s))

    def abs_(self):
        return self._update("abs_", lambda s: apply_fast(Abs, s))

    def relu_(self):
        return self._update("relu_", lambda s: apply_fast(ReLU, s))

    def sigmoid_(self):
        return self._update("sigmoid_", lambda s: apply_fast(Sigmoid, s))

    def tanh_(self):
        return self._update("tanh_", lambda s: apply_fast(Tanh, s))

    def _fill(self, op, values):
        """Overwrite every element with ``values`` (an array or a number), not recorded: the result depends on
        no input, so the tensor's history ends here (as PyTorch's fill_ / zero_ / normal_)."""
        recording = _function._grad_enabled
        if recording and self._requires_grad and self._ctx is None:
            raise BackwardError(
                f"{op}: a leaf tensor that requires grad is used in an in-place operation; do it under "
                "cr.no_grad(), or on a copy (.clone())"
            )
        self._data[...] = values
        if recording and self._ctx is not None:  # a constant now: nothing flows back to what made it
            self._ctx = None
            self._requires_grad = False
        _function.note_write(self)
        return self

    def zero_(self):
        """Set every element to 0, in place."""
        return self._fill("zero_", 0)

    def fill_(self, value):
        """Set every element to ``value`` (a number or a one-element tensor), in place."""
        return self._fill("fill_", _raw(value))

    def copy_(self, src, non_blocking=False):
        """Copy ``src`` (broadcast to this shape) into this tensor, in place; recorded when ``src`` requires grad."""
        src = src if isinstance(src, Tensor) else Tensor(src, dtype=self.dtype)
        if _function._grad_enabled and src._requires_grad:
            return self._update("copy_", lambda s: Expand.apply(src.astype(self.dtype), shape=self.shape), src)
        return self._fill("copy_", np.broadcast_to(src._data, self.shape))

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fill with samples of U(a, b) from chainrule's seeded generator, in place."""
        return self._fill("uniform_", _random.rng(None, generator).uniform(a, b, self.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill with samples of N(mean, std^2) from chainrule's seeded generator, in place."""
        return self._fill("normal_", _random.rng(None, generator).normal(mean, std, self.shape))

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 0s and 1s, each 1 with probability ``p`` (a number or a tensor broadcast to this shape),
        from chainrule's seeded generator, in place."""
        probs = np.asarray(_raw(p))
        if not bool(((probs >= 0) & (probs <= 1)).all()):
            raise OutOfRangeError("bernoulli_: p must lie in [0, 1]")
        return self._fill("bernoulli_", _random.rng(None, generator).random(self.shape) < probs)

    def fill_diagonal_(self, fill_value, wrap=False):
        """Set the main diagonal (``[i, i, ...]``) to ``fill_value``, in place; the tensor is 2-D, or has every
        dimension of one size. ``wrap=True``: a tall matrix's diagonal restarts every ``columns + 1`` rows."""
        shape = self._data.shape
        if len(shape) < 2 or (len(shape) > 2 and len(set(shape)) != 1):
            raise ShapeError(f"fill_diagonal_: needs a 2-D tensor or one whose dimensions all have one size, got "
                             f"shape {tuple(shape)}")
        mask = np.zeros(shape, dtype=bool)
        flat = mask.reshape(-1)  # the diagonal's elements are evenly spaced: one step along every axis at once
        step = sum(math.prod(shape[i + 1 :]) for i in range(len(shape)))
        end = flat.size if wrap and len(shape) == 2 else step * min(shape)
        flat[:end:step] = True
        return self._update("fill_diagonal_", lambda s: Where.apply(mask, fill_value, s), fill_value)

    def masked_fill_(self, mask, value):
        """Set the elements where ``mask`` (broadcast to this shape) is True to ``value``, in place."""
        cond = np.broadcast_to(np.asarray(_raw(mask), dtype=bool), self.shape)
        return self._update("masked_fill_", lambda s: Where.apply(cond, value, s), value)

    # ---- elementwise and activations --------------------------------------------------------------

    def exp(self):
        return apply_fast(Exp, self)

    def log(self):
        return apply_fast(Log, self)

    def sqrt(self):
        return apply_fast(Sqrt, self)

    def abs(self):
        return apply_fast(Abs, self)

    def maximum(self, other):
        return apply_fast(Maximum, self, other)

    def minimum(self, other):
        return apply_fast(Minimum, self, other)

    def clip(self, min=None, max=None):
        return Clip.apply(self, lo=_raw(min), hi=_raw(max))

    clamp = clip

    def sigmoid(self):
        return apply_fast(Sigmoid, self)

    def tanh(self):
        return apply_fast(Tanh, self)

    def relu(self):
        return apply_fast(ReLU, self)

    def leaky_relu(self, negative_slope=0.01):
        return LeakyReLU.apply(self, negative_slope=negative_slope)

    def gelu(self, approximate="none"):
        return GELU.apply(self, approximate=approximate)

    def softplus(self, beta=1.0, threshold=20.0):
        return Softplus.apply(self, beta=beta, threshold=threshold)

    def step(self):
        return apply_fast(Step, self)

    def softmax(self, dim=-1, *, axis=None):
        return Softmax.apply(self, axis=dim_arg(dim, axis, "softmax", -1))

    def log_softmax(self, dim=-1, *, axis=None):
        return LogSoftmax.apply(self, axis=dim_arg(dim, axis, "log_softmax", -1))

    # ---- reductions ------------------------------------------------------------------------------
    # ``dim``/``keepdim`` as PyTorch, NumPy's ``axis``/``keepdims`` accepted as their aliases

    def sum(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        x = self if dtype is None else self.astype(dtype)
        return Sum.apply(x, axis=dim_arg(dim, axis, "sum"), keepdims=keepdim_arg(keepdim, keepdims, "sum"))

    def mean(self, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
        x = self if dtype is None else self.astype(dtype)
        return Mean.apply(x, axis=dim_arg(dim, axis, "mean"), keepdims=keepdim_arg(keepdim, keepdims, "mean"))

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """The largest values over ``dim`` (an int, a tuple or all); tied maxima share the gradient equally."""
        return Max.apply(self, axis=dim_arg(dim, axis, "amax"), keepdims=keepdim_arg(keepdim, keepdims, "amax"))

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """The smallest values over ``dim``; tied minima share the gradient equally."""
        return Min.apply(self, axis=dim_arg(dim, axis, "amin"), keepdims=keepdim_arg(keepdim, keepdims, "amin"))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """The largest value; with ``dim``, ``(values, indices)`` along it (the gradient goes to each index, as
        PyTorch); with a tensor, the elementwise maximum."""
        return _extreme(self, "max", dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """The smallest value; with ``dim``, ``(values, indices)``; with a tensor, the elementwise minimum."""
        return _extreme(self, "min", dim, keepdim, axis, keepdims)

    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Index of the largest value (of the flattened tensor when ``dim`` is None); int64, no gradient."""
        return _arg(self, "argmax", dim, keepdim, axis, keepdims)

    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _arg(self, "argmin", dim, keepdim, axis, keepdims)

    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return LogSumExp.apply(self, axis=dim_arg(dim, axis, "logsumexp"),
                               keepdims=keepdim_arg(keepdim, keepdims, "logsumexp"))

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        d, k = dim_arg(dim, axis, "any"), keepdim_arg(keepdim, keepdims, "any")
        return Tensor._wrap(np.asarray(self._data.any(axis=d, keepdims=k)))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        d, k = dim_arg(dim, axis, "all"), keepdim_arg(keepdim, keepdims, "all")
        return Tensor._wrap(np.asarray(self._data.all(axis=d, keepdims=k)))

    # ---- shape -----------------------------------------------------------------------------------

    def reshape(self, *shape):
        return Reshape.apply(self, shape=_shape_arg(shape))

    view = reshape

    def transpose(self, *dims):
        """``transpose(dim0, dim1)`` swaps two axes (PyTorch's meaning); ``transpose()`` reverses them all and a
        full permutation of more than two axes is taken as NumPy does."""
        dims = _shape_arg(dims)
        if len(dims) == 2:
            order = list(range(self._data.ndim))
            i, j = (_one_dim(d, self._data.shape, "transpose") for d in dims)
            order[i], order[j] = order[j], order[i]
            return Transpose.apply(self, axes=tuple(order))
        return Transpose.apply(self, axes=dims or None)

    def permute(self, *dims):
        return Transpose.apply(self, axes=_shape_arg(dims))

    @property
    def T(self):
        """The tensor with its axes reversed (the matrix transpose for 2-D)."""
        return Transpose.apply(self, axes=None)

    @property
    def mT(self):
        """The last two axes swapped (a batch of matrices transposed)."""
        return self.transpose(-2, -1)

    def broadcast_to(self, shape):
        return Expand.apply(self, shape=tuple(shape))

    def expand_as(self, other):
        return Expand.apply(self, shape=other.shape)

    def reshape_as(self, other):
        return Reshape.apply(self, shape=other.shape)

    def __getitem__(self, index):
        return GetItem.apply(self, index=_index_arg(index))

    def __setitem__(self, index, value):
        """``x[index] = value`` in place; recorded as an op when gradients are on and either side needs one."""
        index = _index_arg(index)
        if _function._grad_enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)):
            self._update("setitem", lambda s: SetItem.apply(s, value, index=index), value)
            return
        try:
            self._data[index] = _raw(value)
        except IndexError as e:
            raise OutOfRangeError(f"setitem: index {index!r} is out of range for a tensor of shape {self.shape}: "
                                  f"{e}") from None
        _function.note_write(self)

    def matmul(self, other):
        return apply_fast(MatMul, self, other)

    def pow(self, exponent):
        return Pow.apply(self, exponent)

    def pad(self, pad_width, value=0):
        """Pad with a constant, ``pad_width`` as NumPy's (see ``chainrule.functional.pad`` for PyTorch's form)."""
        return Pad.apply(self, pad_width=pad_width, value=value)

    # ---- new tensors like this one ---------------------------------------------------------------

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A tensor of ``data`` with this one's dtype (unless ``dtype`` is given)."""
        return Tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        """A tensor of ``size`` filled with ``fill_value``, with this one's dtype (unless ``dtype`` is given)."""
        shape = _shape_arg(size if isinstance(size, tuple | list) else (size,))
        t = Tensor._wrap(np.full(shape, fill_value, dtype=as_dtype(dtype or self.dtype)))
        return t.requires_grad_(requires_grad) if requires_grad else t

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(size, 0, dtype=dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(size, 1, dtype=dtype, requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return self.new_full(size, 0, dtype=dtype, requires_grad=requires_grad)


PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "max_line_width": 80}
_PROFILES = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, 2**62, 3, 80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print, as ``torch.set_printoptions``: digits after the point, the element count above which
    the middle is summarised, the items shown at each edge, the line width; ``profile`` sets all four
    (``"default"``, ``"short"``, ``"full"``). ``sci_mode`` is accepted (NumPy chooses the notation)."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ArgumentTypeError(f"set_printoptions: unknown profile {profile!r}; use {', '.join(_PROFILES)}")
        PRINT_OPTIONS.update(zip(("precision", "threshold", "edgeitems", "max_line_width"), _PROFILES[profile]))
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("max_line_width", linewidth)):
        if value is not None:
            PRINT_OPTIONS[key] = int(value)


def _is_dtype_name(a):
    """True when ``a`` (a string) names a dtype rather than a device: ``to("float64")``."""
    if not isinstance(a, str):
        return False
    try:
        np.dtype(a)
    except TypeError:
        return False
    return True


def _one_dim(dim, shape, op):
    """``dim`` as a non-negative axis of a tensor of ``shape``, or a ShapeError naming ``op`` and the shape."""
    n = max(len(shape), 1)
    if not isinstance(dim, int | np.integer):
        raise ArgumentTypeError(f"{op}: dim must be an int, got {dim!r}")
    if not -n <= dim < n:
        raise ShapeError(f"{op}: dimension {dim} is out of range for a tensor of shape {tuple(shape)} (valid: "
                         f"{-n} to {n - 1})")
    return int(dim) % n


def dim_arg(dim, axis, op, default=None):
    """PyTorch's ``dim`` or NumPy's ``axis`` (an alias): whichever is given; both at once is an error."""
    if axis is None:
        return dim
    if dim is not None and dim != default:
        raise ArgumentTypeError(f"{op}: got both dim={dim!r} and its alias axis={axis!r}; give one")
    return axis


def keepdim_arg(keepdim, keepdims, op):
    """PyTorch's ``keepdim`` or NumPy's ``keepdims`` (an alias)."""
    if keepdims is None:
        return bool(keepdim)
    if keepdim:
        raise ArgumentTypeError(f"{op}: got both keepdim and its alias keepdims; give one")
    return bool(keepdims)


def _extreme(x, op, dim, keepdim, axis, keepdims):
    """``x.max()`` / ``x.max(dim)`` / ``x.max(other)`` (and min), as PyTorch."""
    if isinstance(dim, Tensor):  # torch.max(a, b): the elementwise maximum
        return apply_fast(Maximum if op == "max" else Minimum, x, dim)
    dim = dim_arg(dim, axis, op)
    keepdim = keepdim_arg(keepdim, keepdims, op)
    if dim is None:
        return (Max if op == "max" else Min).apply(x, axis=None, keepdims=keepdim)
    if not isinstance(dim, int | np.integer):  # several dims (PyTorch refuses them): the values, as amax / amin
        return (Max if op == "max" else Min).apply(x, axis=dim, keepdims=keepdim)
    axis = _one_dim(dim, x.shape, op)
    indices = _arg(x, op, dim, True, None, None)
    values = GetItem.apply(x, index=_along(indices._data, axis, x.shape))
    if not keepdim:
        indices = Tensor._wrap(indices._data.squeeze(axis) if x.ndim else indices._data)
        values = values.reshape(indices.shape)
    return (_return_types.max if op == "max" else _return_types.min)(values, indices)


def _along(idx, axis, shape):
    """The advanced index picking, along ``axis``, the positions ``idx`` (keepdim-shaped) of an array of ``shape``."""
    if not shape:
        return ()
    grids = list(np.ogrid[tuple(slice(0, 1 if i == axis else n) for i, n in enumerate(shape))])
    grids[axis] = idx
    return tuple(grids)


def _arg(x, op, dim, keepdim, axis, keepdims):
    """The indices of argmax / argmin (``op`` ends in "max" or "min" and names the op in errors)."""
    dim = dim_arg(dim, axis, op)
    keepdim = keepdim_arg(keepdim, keepdims, op)
    a = x._data if isinstance(x, Tensor) else np.asarray(x)
    fn = np.argmax if op.endswith("max") else np.argmin
    if dim is None:
        if a.size == 0:
            raise ShapeError(f"{op}: cannot reduce a tensor of shape {a.shape} with no elements")
        out = np.asarray(fn(a))
        return Tensor._wrap(out.reshape((1,) * a.ndim) if keepdim else out)
    axis = _one_dim(dim, a.shape, op)
    if a.ndim == 0:
        return Tensor._wrap(np.zeros((), np.int64))
    if a.shape[axis] == 0:
        raise ShapeError(f"{op}: cannot reduce over an empty axis {dim} of a tensor of shape {a.shape}")
    return Tensor._wrap(np.asarray(fn(a, axis=axis, keepdims=keepdim)))


def _shape_arg(shape):
    """Accept both ``f(2, 3)`` and ``f((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], tuple | list):
        return tuple(shape[0])
    return tuple(shape)


def _index_arg(index):
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


_function._Tensor = Tensor
