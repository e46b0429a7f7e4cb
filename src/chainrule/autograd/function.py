"""``Primitive``: one differentiable primitive, with its forward and its local derivative.

A primitive subclasses ``Primitive`` and writes two methods on raw arrays:

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
import weakref

import numpy as np

from .. import backend as _backend
from ..errors import BackwardError, ChainruleError, ShapeError

_grad_enabled = True
_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_Tensor = None  # set by chainrule.tensor, which imports this module
_ndarray = np.ndarray
_new = object.__new__
_TRUE1, _FALSE1 = (True,), (False,)
_asarray = np.asarray
_PY_NUMBERS = (int, float)
_sequence = itertools.count()  # creation order of nodes: a node always comes after its parents
_anomaly = None  # the checker of anomaly mode while it is on (see autograd.anomaly)
_tracer = None  # the recorder of chainrule.graph.trace while it runs


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


class Primitive:
    """Base class of every differentiable primitive; see the module docstring."""

    # the graph's bookkeeping lives in slots (a node is made for every op); an op's own values
    # (saved arrays, axes, shapes) go in the instance dict, made only when an op stores one
    __slots__ = ("parents", "needs_input_grad", "seq", "out_shape", "saved", "versions", "__dict__", "__weakref__")

    broadcasts = False  # True: backward may return gradients in the broadcast shape
    promotes = True  # False: a float64 result from float32 inputs is wanted (see _fix_output)
    # how DeepLIFT (chainrule.explain.deeplift) passes multipliers through the op: "linear", "rescale",
    # "product" or the name of a rule of its own; None: no rule (explaining through it is an error)
    deeplift = None
    # ``saved``: the arrays kept for backward, () until the forward stores some; the engine frees
    # them (sets None) after use. A slot, as the graph's fields, so most ops never make a __dict__.

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on ``inputs`` and record it in the graph when a gradient is needed.

        Each input's parent is the node that made it, the leaf itself, or None when it needs no
        gradient. Constants pass through, except that a Python number beside a float array becomes
        a 0-d array of that array's dtype (NumPy is twice as fast so, and float32 stays float32);
        with no Tensor among the inputs, the first one becomes a Tensor.
        """
        if 0 < len(inputs) <= 2:
            return apply_fast(cls, *inputs, options=options)
        Tensor = _Tensor
        arrays = []
        parents = []
        like = None  # the first Tensor's array
        for t in inputs:
            if isinstance(t, Tensor):
                if like is None:
                    like = t._data
                parents.append((t._ctx or t) if t._requires_grad else None)
                arrays.append(t._data)
            else:
                parents.append(None)
                arrays.append(t)
        if like is None and inputs:  # constants only: compute on them as tensors
            return cls.apply(Tensor(inputs[0]), *inputs[1:], **options)
        if like is not None and like.dtype.kind == "f":
            arrays = [_asarray(a, like.dtype) if a.__class__ in _PY_NUMBERS else a for a in arrays]
        return _run(cls, arrays, tuple(parents), tuple([p is not None for p in parents]), options, inputs)

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

    @property
    def next_functions(self):
        """The nodes this one passes its gradients to, as PyTorch's ``grad_fn.next_functions``: a
        ``(node, 0)`` pair per input (an ``AccumulateGrad`` for a leaf, ``(None, 0)`` where none is needed)."""
        return tuple((None if p is None else p if isinstance(p, Primitive) else AccumulateGrad(p), 0)
                     for p in self.parents)


class AccumulateGrad:
    """Where a gradient ends in a leaf's ``.grad``: what ``next_functions`` shows for a leaf (PyTorch's name)."""

    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    def __repr__(self):
        return "<AccumulateGrad>"


_UNARY = object()  # apply_fast's second input when there is none


def apply_fast(cls, a, b=_UNARY, options=None):
    """``cls.apply(a)`` or ``cls.apply(a, b)``: the general path unrolled for the one or two inputs of
    nearly every op (the Tensor methods call it directly). With benchmarks/op_overhead.py's chain,
    the general loop takes 1.3x the time per op, forward and backward, of this path."""
    Tensor = _Tensor
    if isinstance(a, Tensor):
        x = a._data
        pa = (a._ctx or a) if a._requires_grad else None
        if b is _UNARY:
            return _run(cls, (x,), (pa,), _TRUE1 if pa is not None else _FALSE1, options, (a,))
        if isinstance(b, Tensor):
            pb = (b._ctx or b) if b._requires_grad else None
            return _run(cls, (x, b._data), (pa, pb), (pa is not None, pb is not None), options, (a, b))
        # a Python number beside a float array: a 0-d array of its dtype (see Primitive.apply)
        y = _asarray(b, x.dtype) if b.__class__ in _PY_NUMBERS and x.dtype.kind == "f" else b
        return _run(cls, (x, y), (pa, None), (pa is not None, False), options, (a, b))
    if b is _UNARY or not isinstance(b, Tensor):  # constants only: compute on them as tensors
        return apply_fast(cls, Tensor(a), b, options)
    y = b._data
    x = _asarray(a, y.dtype) if a.__class__ in _PY_NUMBERS and y.dtype.kind == "f" else a
    pb = (b._ctx or b) if b._requires_grad else None
    return _run(cls, (x, y), (None, pb), (False, pb is not None), options, (a, b))


def _run(cls, arrays, parents, needs, options, inputs):
    """Run ``cls``'s forward on ``arrays`` (those of ``inputs``) and wrap the result; link it into the graph
    (``parents``: the input's node, leaf or None) when an input needs a gradient (``needs``) and grad mode is on."""
    ctx = _new(cls)
    ctx.saved = ()
    record = _grad_enabled and True in needs
    ctx.needs_input_grad = needs if record else (False,) * len(needs)
    try:
        out = ctx.forward(*arrays, **options) if options else ctx.forward(*arrays)
    except ValueError as e:
        raise _shape_error(cls, arrays, e) from None
    if out.__class__ is not _ndarray or out.dtype is _F64:
        out = _fix_output(ctx, out, arrays)
    if _anomaly is not None:
        _anomaly.check_forward(ctx, out, arrays)
    if _tracer is not None:
        _tracer(cls, ctx, arrays, options, out)
    t = _new(_Tensor)
    t._data = out
    t._grad = None
    t._vc = None
    if out.base is not None or out is arrays[0]:  # a view of its input (reshape, transpose, x[i]): one version
        _share_version(t, out, arrays[0], inputs[0])
    if record:
        ctx.parents = parents
        ctx.seq = next(_sequence)
        ctx.out_shape = out.shape
        ctx.versions = _epoch
        t._requires_grad = True
        t._ctx = ctx
    else:
        t._requires_grad = False
        t._ctx = None
    return t


# ---- version counters and in-place writes ----------------------------------------------------------------
# A tensor's version counter is a cell [version, shared]: made when first needed (None until then), bumped by
# every in-place op, shared by a view and the tensor it views (``shared`` is then True).
# Whether a value an op saved for its backward was written since is found without any work per op: each
# in-place write counts in ``_epoch`` and notes the array it wrote (and the array that one views) in
# ``_written``; a node keeps the count at its making, and only when the count moved does the engine look
# whether one of its saved arrays is among those written since.

_epoch = 0  # in-place writes so far
_written = {}  # id(array) -> (the _epoch of its last write, a weak reference to the array)


def version_cell(t):
    """``t``'s version counter, made on first use."""
    vc = t._vc
    if vc is None:
        vc = t._vc = [0, False]
    return vc


def _share_version(t, out, a, source):
    if isinstance(source, _Tensor) and (out is a or out.base is a or (a.base is not None and out.base is a.base)):
        vc = t._vc = version_cell(source)
        vc[1] = True


def note_write(t):
    """Record that tensor ``t``'s memory was written in place: its version moves, and a backward through a
    value saved from that memory before now becomes an error."""
    global _epoch
    vc = version_cell(t)
    vc[0] += 1
    _epoch += 1
    a = t._data
    _written[id(a)] = (_epoch, weakref.ref(a))
    b = a.base
    # the memory it views, unless a parameter chunk (backend's arena) that other parameters share
    if b is not None and id(b) not in _backend._arena_owners:
        _written[id(b)] = (_epoch, weakref.ref(b))
    if len(_written) > 4096:  # forget arrays that are gone
        for k in [k for k, (_, r) in _written.items() if r() is None]:
            del _written[k]


def check_versions(node):
    """Raise if an array ``node`` saved for its backward (or the array it views) was written in place since
    ``node`` was made."""
    since = node.versions
    for s in node.saved:
        if s.__class__ is not _ndarray:
            continue
        for a in (s, s.base):
            seen = None if a is None else _written.get(id(a))
            if seen is not None and seen[0] > since and seen[1]() is a:
                raise BackwardError(
                    f"{node.op_name()}: one of the values it saved for its gradient has been modified by an in-place "
                    "operation since. Make that operation out of place (y = y + 1, not y += 1), or call .clone() "
                    "before changing it in place"
                )
    node.versions = _epoch  # checked up to now


def _fix_output(ctx, out, arrays):
    """Give an op's raw result the form and dtype a Tensor holds (``arrays``: the forward's inputs)."""
    if isinstance(out, np.generic):
        out = np.asarray(out)  # NumPy returns scalars from 0-d ufuncs and full reductions
    if out.dtype == _F64 and ctx.promotes:
        # NumPy gives float64 for int with float, or for a NumPy float64 scalar; as PyTorch, the result
        # keeps the widest floating dtype among the input arrays (float32 when there is none)
        floats = [a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        target = max(floats, key=lambda d: d.itemsize) if floats else _F32
        if target != _F64:
            out = out.astype(target)
    return out


def _shape_error(cls, arrays, err):
    """A ValueError from NumPy inside a forward means shapes that do not fit: say so, naming the op."""
    if isinstance(err, ChainruleError):
        return err
    return ShapeError(cls._shape_message(arrays, err))
