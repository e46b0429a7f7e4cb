"""``Tensor``: an array, the gradient it receives, and the node of the graph that made it.

Methods are one-line wrappers over the primitives in ``chainrule.ops`` (``Op.apply``); the
Tensor itself knows no derivative. The methods that are composites (``var``, ``flatten``,
``split``, ...) live in ``chainrule.functional``, above this module, and ``chainrule/__init__.py``
attaches them (``COMPOSITE_METHODS``), so that nothing here imports anything above it.
"""

import numpy as np

from .autograd import engine as _engine
from .autograd import function as _function
from .autograd.function import apply_fast
from .errors import ArgumentTypeError, BackwardError, DTypeError, ShapeError
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
    Sigmoid,
    Softplus,
    Sqrt,
    Step,
    Sub,
    Tanh,
)
from .ops.linalg import MatMul
from .ops.movement import Expand, GetItem, Pad, Reshape, Transpose
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
    leaf ``x`` created with ``requires_grad=True``.
    """

    __slots__ = ("_data", "grad", "_requires_grad", "_ctx", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ndarray + Tensor -> Tensor

    def __init__(self, data, dtype=None, requires_grad=False):
        self._data = _to_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def _wrap(cls, array):
        """A Tensor around ``array`` without copying or converting it (internal)."""
        t = cls.__new__(cls)
        t._data = array
        t.grad = None
        t._requires_grad = False
        t._ctx = None
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
    def is_leaf(self):
        """True for tensors made by the user rather than by an op that recorded a gradient."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The graph node that made this tensor (None for leaves)."""
        return self._ctx

    def detach(self):
        """A new tensor sharing this one's data, cut off from the graph."""
        return Tensor._wrap(self._data)

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
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        self._data = value._data if isinstance(value, Tensor) else value

    @property
    def shape(self):
        return self._data.shape

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def size(self):
        """Number of elements (as NumPy's ``size``; PyTorch's ``size()`` is ``shape`` here)."""
        return self._data.size

    def numel(self):
        return self._data.size

    def numpy(self):
        """The underlying NumPy array (shared, not copied)."""
        return self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ShapeError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    def astype(self, dtype):
        """A copy in ``dtype``; float-to-float casts keep the gradient flowing."""
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

    def long(self):
        return self.astype(int64)

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
        body = np.array2string(self._data, separator=", ", prefix="tensor(", precision=4)
        extra = []
        if self._data.dtype not in (float32, int64, bool_) or self._data.size == 0:
            extra.append(f"dtype={self._data.dtype}")
        if self._ctx is not None:
            extra.append(f"grad_fn={self._ctx!r}")
        elif self._requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extra]) + ")"

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

    def __matmul__(self, other):
        return apply_fast(MatMul, self, other)

    def __rmatmul__(self, other):
        return apply_fast(MatMul, other, self)

    def __neg__(self):
        return apply_fast(Neg, self)

    def __pos__(self):
        return self

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

    def any(self, axis=None, keepdims=False):
        return Tensor._wrap(np.asarray(self._data.any(axis=axis, keepdims=keepdims)))

    def all(self, axis=None, keepdims=False):
        return Tensor._wrap(np.asarray(self._data.all(axis=axis, keepdims=keepdims)))

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
        return Clip.apply(self, lo=min, hi=max)

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

    def softmax(self, axis=-1):
        return Softmax.apply(self, axis=axis)

    def log_softmax(self, axis=-1):
        return LogSoftmax.apply(self, axis=axis)

    # ---- reductions ------------------------------------------------------------------------------

    def sum(self, axis=None, keepdims=False):
        return Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return Mean.apply(self, axis=axis, keepdims=keepdims)



    def max(self, axis=None, keepdims=False):
        return Max.apply(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return Min.apply(self, axis=axis, keepdims=keepdims)

    def logsumexp(self, axis=None, keepdims=False):
        return LogSumExp.apply(self, axis=axis, keepdims=keepdims)



    # ---- shape -----------------------------------------------------------------------------------

    def reshape(self, *shape):
        return Reshape.apply(self, shape=_shape_arg(shape))

    view = reshape


    def transpose(self, *axes):
        return Transpose.apply(self, axes=_shape_arg(axes) if axes else None)

    def permute(self, *axes):
        return Transpose.apply(self, axes=_shape_arg(axes))


    @property
    def T(self):
        """The tensor with its axes reversed (the matrix transpose for 2-D)."""
        return Transpose.apply(self, axes=None)




    def broadcast_to(self, shape):
        return Expand.apply(self, shape=tuple(shape))

    def __getitem__(self, index):
        return GetItem.apply(self, index=_index_arg(index))

    def __setitem__(self, index, value):
        if self._requires_grad and _function.is_grad_enabled():
            raise BackwardError(
                "setitem: in-place assignment to a tensor that requires grad is not supported; "
                "build a new tensor (e.g. with cr.where) or assign under cr.no_grad()"
            )
        self._data[_index_arg(index)] = _raw(value)

    def matmul(self, other):
        return apply_fast(MatMul, self, other)

    def pow(self, exponent):
        return Pow.apply(self, exponent)


    def pad(self, pad_width, value=0):
        return Pad.apply(self, pad_width=pad_width, value=value)


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
