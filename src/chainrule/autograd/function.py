"""``Function``: one differentiable primitive, with its forward and its local derivative.

A primitive subclasses ``Function`` and writes two methods on raw arrays:

* ``forward(self, *arrays, **options)`` computes the output and stores on ``self``
  what the backward needs (arrays that may be large go in ``self.saved``, so the
  engine can free them after use); ``self.needs_input_grad`` already tells which
  inputs will want a gradient, so it can skip saving what no backward will read;
* ``backward(self, grad)`` returns the gradient of the loss with respect to each
  input, given the gradient ``grad`` with respect to the output: one array per
  input (a bare array for a one-input op), ``None`` where an input needs none
  (``self.needs_input_grad[i]`` tells which).

``Op.apply(*inputs, **options)`` runs the forward on the inputs' arrays and, when
any input requires a gradient and grad mode is on, records the call as a node of
the graph. Inputs that are not Tensors (Python or NumPy scalars, index arrays)
are passed through as constants.

Classes that set ``broadcasts = True`` may return gradients in the broadcast output
shape: the engine sums them back to each input's shape (the one place where
broadcasting is undone).
"""

import functools
import itertools

import numpy as np

from ..errors import ChainruleError, ShapeError

_grad_enabled = True
_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_Tensor = None  # set by chainrule.tensor, which imports this module
_ndarray = np.ndarray
_TRUE1 = (True,)
_FALSE1 = (False,)
_FALSE2 = (False, False)
_new = object.__new__
_asarray = np.asarray
_PY_NUMBERS = (int, float)
_sequence = itertools.count()  # creation order of nodes: a node always comes after its parents


def _array(x):
    return x.data if isinstance(x, _Tensor) else x


def is_grad_enabled():
    """True when operations are being recorded for backpropagation."""
    return _grad_enabled


def set_grad_enabled(mode):
    """Turn recording on or off globally; returns the previous mode."""
    global _grad_enabled
    prev, _grad_enabled = _grad_enabled, bool(mode)
    return prev


class _GradMode:
    """Context manager and decorator that sets grad mode for a block or a function.

    Grad mode is one switch for the whole process (PyTorch keeps one per thread).
    """

    mode = True

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self if fn is None else self(fn)  # bare decorator: @no_grad as well as @no_grad()

    def __enter__(self):
        self._prev = set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = set_grad_enabled(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                set_grad_enabled(prev)

        return wrapper


class no_grad(_GradMode):
    """Do not record operations: ``with cr.no_grad(): ...`` or ``@cr.no_grad()``."""

    mode = False


class enable_grad(_GradMode):
    """Record operations again, even inside ``no_grad``."""

    mode = True


class Function:
    """Base class of every differentiable primitive; see the module docstring."""

    # the graph's bookkeeping lives in slots (a node is made for every op); an op's own values
    # (saved arrays, axes, shapes) go in the instance dict, made only when an op stores one
    __slots__ = ("parents", "needs_input_grad", "seq", "out_shape", "saved", "__dict__", "__weakref__")

    broadcasts = False  # True: backward may return gradients in the broadcast shape
    promotes = True  # False: a float64 result from float32 inputs is wanted (see _fix_output)
    # ``saved``: the arrays kept for backward, () until the forward stores some; the engine frees
    # them (sets None) after use. A slot, as the graph's fields, so most ops never make a __dict__.

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on ``inputs`` and record it in the graph when a gradient is needed."""
        if len(inputs) == 1 and isinstance(inputs[0], _Tensor):
            return apply1(cls, inputs[0], options)
        if len(inputs) == 2:
            return apply2(cls, inputs[0], inputs[1], options)
        Tensor = _Tensor
        ctx = _new(cls)
        ctx.saved = ()
        # each input's parent: the node that made it, the leaf itself, or None if it needs no gradient
        arrays, parents, needs = [], [], []
        for t in inputs:
            p = None
            if isinstance(t, Tensor):
                if t._requires_grad:
                    p = t._ctx or t
                t = t.data
            arrays.append(t)
            parents.append(p)
            needs.append(p is not None)
        record = _grad_enabled and True in needs
        ctx.needs_input_grad = tuple(needs) if record else (False,) * len(needs)
        try:
            out = ctx.forward(*arrays, **options)
        except ValueError as e:
            raise _shape_error(cls, inputs, e) from None
        return _output(ctx, out, inputs, tuple(parents) if record else None)

    @classmethod
    def _shape_message(cls, arrays, err):
        shapes = " and ".join(str(tuple(np.shape(a))) for a in arrays)
        return f"{cls.op_name()}: invalid input shapes {shapes}: {err}"

    @classmethod
    def op_name(cls):
        """The user-facing name of the op, e.g. ``matmul`` for ``MatMul``."""
        return getattr(cls, "name", cls.__name__.lower())

    def forward(self, *arrays, **options):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"


# The two paths below are ``Function.apply`` unrolled for one and two inputs: every op of every
# model goes through them, so they avoid any work that is not needed (see benchmarks/op_overhead.py).


def apply1(cls, a, options=None):
    """``cls.apply(a, **options)`` for a Tensor ``a``."""
    ctx = _new(cls)
    ctx.saved = ()
    record = a._requires_grad and _grad_enabled
    ctx.needs_input_grad = _TRUE1 if record else _FALSE1
    try:
        out = ctx.forward(a.data, **options) if options else ctx.forward(a.data)
    except ValueError as e:
        raise _shape_error(cls, (a,), e) from None
    if out.__class__ is not _ndarray or out.dtype is _F64:
        out = _fix_output(ctx, out, (a,))
    t = _new(_Tensor)
    t.data = out
    t.grad = None
    if record:
        ctx.parents = (a._ctx or a,)
        ctx.seq = next(_sequence)
        ctx.out_shape = out.shape
        t._requires_grad = True
        t._ctx = ctx
    else:
        t._requires_grad = False
        t._ctx = None
    return t


def apply2(cls, a, b, options=None):
    """``cls.apply(a, b, **options)``; either input may be a Tensor or a constant."""
    ctx = _new(cls)
    ctx.saved = ()
    pa = pb = None
    if isinstance(a, _Tensor):
        if a._requires_grad:
            pa = a._ctx or a
        x = a.data
        if isinstance(b, _Tensor):
            if b._requires_grad:
                pb = b._ctx or b
            y = b.data
        elif b.__class__ in _PY_NUMBERS and x.dtype.kind == "f":
            # a Python number meets a float array: NumPy is twice as fast with a 0-d array of the
            # same dtype as with the number itself, and the result is the same (float32 stays float32)
            y = _asarray(b, x.dtype)
        else:
            y = b
    else:
        if not isinstance(b, _Tensor):  # two constants: compute on them as tensors
            return apply2(cls, _Tensor(a), b, options)
        if b._requires_grad:
            pb = b._ctx or b
        y = b.data
        x = _asarray(a, y.dtype) if a.__class__ in _PY_NUMBERS and y.dtype.kind == "f" else a
    record = (pa is not None or pb is not None) and _grad_enabled
    ctx.needs_input_grad = (pa is not None, pb is not None) if record else _FALSE2
    try:
        out = ctx.forward(x, y, **options) if options else ctx.forward(x, y)
    except ValueError as e:
        raise _shape_error(cls, (a, b), e) from None
    if out.__class__ is not _ndarray or out.dtype is _F64:
        out = _fix_output(ctx, out, (a, b))
    t = _new(_Tensor)
    t.data = out
    t.grad = None
    if record:
        ctx.parents = (pa, pb)
        ctx.seq = next(_sequence)
        ctx.out_shape = out.shape
        t._requires_grad = True
        t._ctx = ctx
    else:
        t._requires_grad = False
        t._ctx = None
    return t


def _fix_output(ctx, out, inputs):
    """Give an op's raw result the form and dtype a Tensor holds."""
    if isinstance(out, np.generic):
        out = np.asarray(out)  # NumPy returns scalars from 0-d ufuncs and full reductions
    if out.dtype == _F64 and ctx.promotes:
        # NumPy gives float64 for int with float, or for a NumPy float64 scalar; as PyTorch, the result
        # keeps the widest floating dtype among the input arrays (float32 when there is none)
        floats = [a.dtype for a in map(_array, inputs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        target = max(floats, key=lambda d: d.itemsize) if floats else _F32
        if target != _F64:
            out = out.astype(target)
    return out


def _output(ctx, out, inputs, parents):
    """Wrap ``out`` in a Tensor and, when ``parents`` is given and grad mode is on, link it to ``ctx``."""
    if out.__class__ is not _ndarray or out.dtype is _F64:
        out = _fix_output(ctx, out, inputs)
    t = _new(_Tensor)
    t.data = out
    t.grad = None
    if parents is not None and _grad_enabled:
        t._requires_grad = True
        t._ctx = ctx
        ctx.parents = parents
        ctx.seq = next(_sequence)
        ctx.out_shape = out.shape
    else:
        t._requires_grad = False
        t._ctx = None
    return t


def _shape_error(cls, inputs, err):
    """A ValueError from NumPy inside a forward means shapes that do not fit: say so, naming the op."""
    if isinstance(err, ChainruleError):
        return err
    return ShapeError(cls._shape_message([_array(t) for t in inputs], err))
