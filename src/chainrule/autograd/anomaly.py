"""Anomaly mode: stop at the first op whose forward or backward makes a NaN or an Inf.

    with cr.autograd.detect_anomaly():
        loss = model(x).log().mean()     # AnomalyError here if log meets a 0 or a negative
        loss.backward()                  # ... or here, naming the op whose backward made it

While the mode is on, every op records where in the user's code it was made (the stack, less
chainrule's own frames) and checks its output; the engine checks every gradient an op's
backward returns. The error names the op, its input shapes and that line of code. The checks
cost a pass over every array, so the mode is for debugging, as PyTorch's.
"""

import os
import sys
import traceback

from ..backend import array_module
from ..errors import AnomalyError
from . import function as _function

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the chainrule folder


def _user_stack():
    """The caller's stack without chainrule's frames (innermost last)."""
    frames = []
    f = sys._getframe(2)
    while f is not None:
        if not os.path.abspath(f.f_code.co_filename).startswith(_PACKAGE + os.sep):
            frames.append((f, f.f_lineno))
        f = f.f_back
    return traceback.StackSummary.extract(reversed(frames), lookup_lines=True)


def _bad(a):
    """'NaN', 'Inf' or None for a float array (other arrays and None are never bad)."""
    if a is None or getattr(a, "dtype", None) is None or a.dtype.kind != "f":
        return None
    xp = array_module(a)
    if bool(xp.isnan(a).any()):
        return "NaN"
    if bool(xp.isinf(a).any()):
        return "Inf"
    return None


def _shape(a):
    return tuple(getattr(a, "shape", ()))


def _where(node):
    stack = getattr(node, "anomaly_stack", None)
    if not stack:
        return "(made where no user code was on the stack)"
    last = stack[-1]
    return f'made at File "{last.filename}", line {last.lineno}, in {last.name}: {last.line}'


class _Checker:
    """What anomaly mode does at each op (``Primitive.apply``) and each backward (the engine)."""

    def check_forward(self, ctx, out, arrays):
        ctx.anomaly_stack = _user_stack()
        ctx.anomaly_shapes = shapes = ", ".join(str(_shape(a)) for a in arrays)
        what = _bad(out)
        if what is None:
            return
        before = [b for b in map(_bad, arrays) if b]
        note = f"; its inputs already held {before[0]}" if before else ""
        raise AnomalyError(
            f"{ctx.op_name()}: the forward produced {what} in an output of shape {_shape(out)} from inputs "
            f"of shape {shapes}{note}; {_where(ctx)}"
        )

    def check_backward(self, node, grad, in_grads):
        for i, g in enumerate(in_grads):
            what = _bad(g)
            if what is not None:
                shapes = getattr(node, "anomaly_shapes", "unknown (made before anomaly mode was on)")
                note = f"; the gradient it was given already held {_bad(grad)}" if _bad(grad) else ""
                raise AnomalyError(
                    f"{node.op_name()}: the backward produced {what} in the gradient of input {i} (inputs of "
                    f"shape {shapes}){note}; {_where(node)}"
                )


class detect_anomaly:
    """Context manager (and decorator) that turns anomaly mode on: the first op whose forward or
    backward makes a NaN or an Inf raises ``AnomalyError`` naming the op, its input shapes and the
    line of user code that made it (as ``torch.autograd.detect_anomaly``, which checks the backward)."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _function._anomaly
        _function._anomaly = _Checker() if self.check_nan else None
        return self

    def __exit__(self, *exc):
        _function._anomaly = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return wrapper


def is_anomaly_enabled():
    """True while anomaly mode is on."""
    return _function._anomaly is not None
