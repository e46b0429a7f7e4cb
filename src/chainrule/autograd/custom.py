"""``Function``: a block with its own derivative, written on Tensors the way PyTorch documents it.

    class Exp(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)

This is the lecture's block view: the block computes its output, and its derivative is computed on its own
and joined into the chain. ``forward`` runs without recording (its inside is the block's own business);
``backward`` receives one gradient per output and returns one per input of ``forward`` (None for inputs
that need none or are not Tensors). The PyTorch 2 form, a ``forward(*args)`` without ctx plus
``setup_context(ctx, inputs, output)``, works as well.

chainrule's own ops are written one level lower, on arrays, with ``chainrule.autograd.Primitive``: that is
the way to write a fast primitive (no Tensor wrapping, no per-call Python objects beyond the node).
"""

import numpy as np

from ..errors import ArgumentTypeError, BackwardError, ShapeError
from . import function as _function
from .function import Primitive, no_grad, version_cell


class FunctionCtx:
    """What ``forward`` and ``backward`` share: ``save_for_backward``, ``saved_tensors``,
    ``needs_input_grad``, ``mark_non_differentiable``, ``set_materialize_grads``, and any attribute set on it."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._saved_versions = ()
        self._non_differentiable = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (inputs, outputs or None) for ``backward``; a later in-place change to one of them
        makes reading ``saved_tensors`` an error rather than a wrong gradient."""
        Tensor = _function._Tensor
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise ArgumentTypeError(f"save_for_backward: expects Tensors or None, got {type(t).__name__}; "
                                        "keep other values as attributes of ctx (ctx.k = k)")
        self._saved = tensors
        self._saved_versions = tuple(None if t is None else (version_cell(t), version_cell(t)[0]) for t in tensors)

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, checked for in-place changes since."""
        for i, v in enumerate(self._saved_versions):
            if v is not None and v[0][0] != v[1]:
                raise BackwardError(
                    f"saved_tensors: saved tensor {i} has been modified by an in-place operation: it is at version "
                    f"{v[0][0]}, but version {v[1]} was saved. Make that operation out of place, or .clone() it"
                )
        return self._saved

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that have no gradient (indices, masks): they will not require grad."""
        self._non_differentiable = tuple(id(t) for t in tensors)

    def mark_dirty(self, *tensors):
        """Accepted for PyTorch code: chainrule's forward runs on tensors whose changes are tracked anyway."""

    def set_materialize_grads(self, value):
        """With True (the default), gradients of outputs that received none are passed as zeros, else as None."""
        self.materialize_grads = bool(value)


class _Node(Primitive):
    """The graph node of one differentiable output of a ``Function.apply`` call."""

    name = "function"

    def backward(self, g):
        fn, ctx, outputs, which = self.fn, self.ctx, self.outputs, self.which
        Tensor = _function._Tensor
        grads = []
        for i, shape_dtype in enumerate(outputs):
            if i == which:
                grads.append(Tensor._wrap(g))
            elif ctx.materialize_grads and shape_dtype is not None:
                grads.append(Tensor._wrap(np.zeros(*shape_dtype)))
            else:
                grads.append(None)
        with no_grad():
            result = fn.backward(ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        n_inputs = len(self.arg_is_tensor)
        if len(result) != n_inputs:
            # PyTorch allows extra trailing Nones; fewer is an error
            if len(result) < n_inputs or any(r is not None for r in result[n_inputs:]):
                raise BackwardError(
                    f"{fn.__name__}.backward returned {len(result)} gradient(s), but forward took {n_inputs} "
                    "input(s): return one per input of forward (None for those without one)"
                )
            result = result[:n_inputs]
        out = []
        for i, (r, is_tensor) in enumerate(zip(result, self.arg_is_tensor)):
            if not is_tensor:
                if r is not None:
                    raise BackwardError(f"{fn.__name__}.backward returned a gradient for input {i}, which is not a "
                                        "Tensor: return None for it")
                continue
            if r is None:
                out.append(None)
                continue
            arr = r._data if isinstance(r, Tensor) else np.asarray(r)
            if arr.shape != self.in_shapes[len(out)]:
                raise ShapeError(f"{fn.__name__}.backward returned a gradient of shape {arr.shape} for input {i} of "
                                 f"shape {self.in_shapes[len(out)]}")
            out.append(arr)
        return tuple(out)

    def __repr__(self):
        return f"<{self.fn.__name__}Backward>"


class Function:
    """Base class of a block written in PyTorch's style: subclass it with ``@staticmethod forward(ctx, *args)``
    and ``@staticmethod backward(ctx, *grad_outputs)``, then call ``MyFunction.apply(*args)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError("subclasses of Function define @staticmethod forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):  # pragma: no cover - abstract
        raise NotImplementedError("subclasses of Function define @staticmethod backward(ctx, *grad_outputs)")

    setup_context = None  # PyTorch 2's form: forward(*args) without ctx, then setup_context(ctx, inputs, output)

    def __init__(self, *args, **kwargs):
        raise ArgumentTypeError(f"{type(self).__name__}: call {type(self).__name__}.apply(...), do not instantiate it")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and link its outputs into the graph with ``backward`` as their derivative."""
        Tensor = _function._Tensor
        for name in ("forward", "backward"):
            if not isinstance(cls.__dict__.get(name, staticmethod(None)), staticmethod) and name in cls.__dict__:
                raise ArgumentTypeError(f"{cls.__name__}.{name} must be a @staticmethod, as PyTorch requires")
        arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        record = _function._grad_enabled and any(needs)
        ctx = FunctionCtx(needs if record else (False,) * len(args))
        with no_grad():
            if cls.setup_context is not None:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(output, tuple)
        outs = (output,) if single else output
        inputs = {id(a._data) for a in args if isinstance(a, Tensor)}
        wrapped = []
        for o in outs:
            if isinstance(o, Tensor):
                # an input returned as it is becomes a new tensor (on the same memory) that carries the node
                o = Tensor._wrap(o._data) if (id(o._data) in inputs or o._ctx is not None or o._requires_grad) else o
            wrapped.append(o)
        if record:
            differentiable = [i for i, o in enumerate(outs) if isinstance(o, Tensor) and o._data.dtype.kind == "f"
                              and id(o) not in ctx._non_differentiable]
            shapes = tuple((o._data.shape, o._data.dtype) if isinstance(o, Tensor) else None for o in outs)
            tensors = [a for a in args if isinstance(a, Tensor)]  # the node's inputs: the Tensor arguments
            parents = tuple((a._ctx or a) if a._requires_grad else None for a in tensors)
            node_needs = tuple(a._requires_grad for a in tensors)
            in_shapes = tuple(a._data.shape for a in tensors)
            # one node per differentiable output, each running backward with zeros for the others' gradients
            # (backward is linear in them, so the sum over the nodes is the whole gradient)
            for i in differentiable:
                node = _Node.__new__(_Node)
                node.saved = ()
                node.versions = _function._epoch
                node.parents = parents
                node.needs_input_grad = node_needs
                node.seq = next(_function._sequence)
                node.out_shape = shapes[i][0]
                node.fn, node.ctx, node.outputs, node.which = cls, ctx, shapes, i
                node.arg_is_tensor, node.in_shapes = arg_is_tensor, in_shapes
                t = wrapped[i]
                t._ctx = node
                t._requires_grad = True
        return wrapped[0] if single else tuple(wrapped)


def once_differentiable(fn):
    """Accepted for PyTorch code: chainrule runs every backward once (no double backward), so it changes nothing."""
    return fn
