"""``Function``: one differentiable primitive, with its forward and its local derivative.

A primitive subclasses ``Function`` and writes two methods on raw arrays:

* ``forward(self, *arrays, **options)`` computes the output and stores on ``self``
  what the backward needs (arrays that may be large go in ``self.saved``, so the
  engine can free them after use);
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

import numpy as np

from ..errors import ShapeError

_grad_enabled = True
_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_Tensor = None  # set by chainrule.tensor, which imports this module


def is_grad_enabled():
    """True when operations are being recorded for backpropagation."""
    return _grad_enabled


def set_grad_enabled(mode):
    """Turn recording on or off globally; returns the previous mode."""
    global _grad_enabled
    prev, _grad_enabled = _grad_enabled, bool(mode)
    return prev


class _GradMode:
    """Context manager and decorator that sets grad mode for a block or a function."""

    mode = True

    def __enter__(self):
        self._prev = set_grad_enabled(self.mode)
        return self

    def __exit__(self, *exc):
        set_grad_enabled(self._prev)
        return False

    def __call__(self, fn):
        import functools

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

    broadcasts = False  # True: backward may return gradients in the broadcast shape
    saved = ()  # arrays kept for backward; freed by the engine (set to None) after use

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on ``inputs`` and record it in the graph when a gradient is needed."""
        Tensor = _Tensor
        ctx = cls.__new__(cls)
        arrays = []
        needs = []
        parents = []
        record = False
        for t in inputs:
            if isinstance(t, Tensor):
                arrays.append(t.data)
                if t._requires_grad and _grad_enabled:
                    record = True
                    needs.append(True)
                    parents.append(t if t._ctx is None else t._ctx)
                    continue
            else:
                arrays.append(t)
            needs.append(False)
            parents.append(None)
        ctx.needs_input_grad = needs
        try:
            out = ctx.forward(*arrays, **options)
        except ValueError as e:
            if isinstance(e, ShapeError):
                raise
            raise ShapeError(cls._shape_message(arrays, e)) from None
        if isinstance(out, np.generic):  # NumPy returns scalars from 0-d ufuncs and full reductions
            out = np.asarray(out)
        elif out.dtype is _F64 and not any(isinstance(a, np.ndarray) and a.dtype == _F64 for a in arrays):
            # NumPy promotes int with float to float64; PyTorch (and we) give the default float32
            out = out.astype(_F32)
        t = Tensor.__new__(Tensor)
        t.data = out
        t.grad = None
        if record:
            t._requires_grad = True
            t._ctx = ctx
            ctx.parents = parents
            ctx.out_shape = out.shape
            ctx.out_dtype = out.dtype
        else:
            t._requires_grad = False
            t._ctx = None
        return t

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
