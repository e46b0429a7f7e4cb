"""``trace``: one forward of a model recorded as a ``Graph``, the structure ONNX export reads.

The forward runs twice, in eval mode and under ``no_grad``, with every primitive call recorded (the
hook is in ``autograd.function._run``): once on the example inputs and once on a batch one row larger
(the example's rows repeated). What differs between the two recordings is what depends on the batch
size: a shape that holds the batch size in one position becomes a shape with ``-1`` there, and an
output shape's batch axis becomes ``None``. Anything else that differs means the forward's Python
code took another path for another batch (data-dependent control flow), which a graph cannot hold:
``trace`` then raises ``TraceError``. Control flow that depends on the values of the inputs but gives
the same path for both examples is not detected: the graph holds the path the examples took.
"""

from dataclasses import dataclass, field

import numpy as np

from ..autograd import function as _function
from ..errors import ChainruleError

__all__ = ["Graph", "Node", "TraceError", "trace"]


class TraceError(ChainruleError):
    """A forward that a graph cannot represent (see ``trace``)."""


@dataclass
class Node:
    """One primitive call: ``op`` (its name, as ``Primitive.op_name()``), ``kind`` (its class), ``inputs``
    (value names; None for an absent optional input), ``output`` (a value name), ``attrs`` (the call's
    options, with the batch size made symbolic: see ``BATCH``), ``shape`` (the output's, None on the batch
    axis), ``dtype``, ``path`` (the dotted name of the innermost module whose forward made the call, "" for
    the model itself) and ``state`` (the non-array values the forward stored on the op, such as a normalised
    axis, symbolic in the batch too; one that varies otherwise, a layout the op picks by batch size, is
    left out)."""

    op: str
    kind: type
    inputs: list
    output: str
    attrs: dict
    shape: tuple
    dtype: np.dtype
    path: str = ""
    state: dict = field(default_factory=dict)


class _Batch:
    """The symbolic batch size, where a traced shape held the example's batch size."""

    def __repr__(self):
        return "BATCH"


BATCH = _Batch()


@dataclass
class Graph:
    """A traced forward.

    ``inputs`` and ``outputs``: value names, with ``shapes`` and ``dtypes`` for every value (shapes have None
    on the batch axis); ``constants``: name -> array for parameters and buffers (their state-dict names) and
    the constants the forward used (``const_N``); ``nodes``: the primitive calls, in the order they ran.
    """

    nodes: list = field(default_factory=list)
    inputs: list = field(default_factory=list)
    outputs: list = field(default_factory=list)
    constants: dict = field(default_factory=dict)
    shapes: dict = field(default_factory=dict)
    dtypes: dict = field(default_factory=dict)
    batch: int = None  # the example's batch size

    def __repr__(self):
        lines = [f"Graph(inputs={self.inputs}, outputs={self.outputs}, {len(self.constants)} constants)"]
        for n in self.nodes:
            where = f"  [{n.path}]" if n.path else ""
            lines.append(f"  {n.output} = {n.op}({', '.join(str(i) for i in n.inputs)}){where}")
        return "\n".join(lines)


class _Recorder:
    """Collects the primitive calls of one forward (``_function._tracer`` while it runs)."""

    def __init__(self, named):
        self.named = named  # id(array) -> name, for the parameters, buffers and inputs
        self.keep = []  # every array seen, so that no id is reused while tracing
        self.calls = []
        self.paths = [""]

    def __call__(self, cls, ctx, arrays, options, out):
        self.keep.append((arrays, out))
        state = {k: v for k, v in vars(ctx).items() if not isinstance(v, np.ndarray)}
        self.calls.append((cls, list(arrays), dict(options or {}), state, out, self.paths[-1]))


def _as_tuple(x):
    return tuple(x) if isinstance(x, tuple | list) else (x,)


def _named_state(model):
    from ..nn.module import Module

    return list(model.named_parameters()) + list(model.named_buffers()) if isinstance(model, Module) else []


def _record(model, inputs):
    from ..nn.module import Module
    from ..tensor import Tensor

    named = {}
    for name, t in _named_state(model):
        named.setdefault(id(t._data), name)
    tensors = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
    for i, t in enumerate(tensors):
        named[id(t._data)] = f"input_{i}" if len(tensors) > 1 else "input"
    rec = _Recorder(named)
    paths = {id(m): p for p, m in model.named_modules()} if isinstance(model, Module) else {}
    call = Module.__call__

    def tracing_call(self, *args, **kwargs):  # notes whose forward the calls come from
        rec.paths.append(paths.get(id(self), rec.paths[-1]))
        try:
            return call(self, *args, **kwargs)
        finally:
            rec.paths.pop()

    from ..autograd.function import no_grad

    if _function._tracer is not None:
        raise TraceError("trace: already tracing (trace is not reentrant)")
    modes = [(m, m.training) for m in model.modules()] if isinstance(model, Module) else []
    try:
        if modes:
            model.eval()
        _function._tracer, Module.__call__ = rec, tracing_call
        with no_grad():
            out = model(*tensors)
    finally:
        _function._tracer, Module.__call__ = None, call
        for m, training in modes:  # each module's own mode back
            m.__dict__["training"] = training
    outs = _as_tuple(out)
    if not all(isinstance(o, Tensor) for o in outs):
        raise TraceError(f"trace: the model must return a Tensor or a tuple of Tensors, got {type(out).__name__}")
    return rec, tensors, [o._data for o in outs]


def _symbolic(a, b, n, name):
    """The value ``a`` of the first trace (batch ``n``) against ``b`` of the second (batch ``n + 1``): equal, or
    the batch size where they hold ``n`` and ``n + 1``; a TraceError otherwise."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list) and len(a) == len(b):
        return tuple(_symbolic(x, y, n, name) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return {k: _symbolic(a[k], b[k], n, name) for k in a}
    if isinstance(a, int | np.integer) and isinstance(b, int | np.integer) and not isinstance(a, bool):
        if a == b:
            return a
        if (a, b) == (n, n + 1):
            return BATCH
        if a == n * (b // (n + 1)) and b % (n + 1) == 0 and b // (n + 1) > 0:
            return ("batch_times", b // (n + 1))
    elif _same(a, b):
        return a
    raise TraceError(
        f"trace: {name} depends on the data or on the batch size in a way a graph cannot hold ({a!r} for a batch "
        f"of {n}, {b!r} for a batch of {n + 1}): the forward's Python control flow changed with the input"
    )


def _same(a, b):
    try:
        return bool(np.all(a == b)) if not isinstance(a, np.ndarray) else np.array_equal(a, b)
    except Exception:
        return a is b


def trace(model, example_inputs):
    """Record ``model``'s forward on ``example_inputs`` (a Tensor or array, or a tuple of them; batch first)
    as a ``Graph``.

    ``model`` is a ``Module`` (any custom subclass; traced in eval mode, its training mode restored after)
    or a callable on Tensors. Parameters and buffers become named constants. The batch axis is symbolic
    (see this module's docstring): tracing with batch 1 or 7 gives the same graph. Data-dependent control
    flow is not captured: the graph holds the path the examples took, and a forward whose path changes
    with the batch size raises ``TraceError``.
    """
    inputs = _as_tuple(example_inputs)
    first, tensors, outs = _record(model, inputs)
    arrays = [t._data for t in tensors]
    if any(a.ndim == 0 for a in arrays):
        raise TraceError("trace: every example input needs a batch axis (got a 0-d input)")
    n = arrays[0].shape[0]
    bigger = [np.concatenate([a, a[:1]]) for a in arrays]  # batch n + 1
    second, _, outs2 = _record(model, bigger)
    if [c[0] for c in first.calls] != [c[0] for c in second.calls]:
        raise TraceError(
            "trace: the forward made different calls for a batch of "
            f"{n} and of {n + 1} (data-dependent Python control flow), which a graph cannot hold"
        )
    g = Graph(batch=n)
    names = dict(first.named)
    g.inputs = [names[id(a)] for a in arrays]
    for a, b in zip(arrays, bigger):
        g.shapes[names[id(a)]] = _shape(a.shape, b.shape)
        g.dtypes[names[id(a)]] = a.dtype
    count = 0
    for k, ((cls, ins, opts, state, out, path), (_, ins2, opts2, state2, out2, _)) in enumerate(
        zip(first.calls, second.calls)
    ):
        label = f"the call of {cls.op_name()} (node {k}{', in ' + path if path else ''})"
        refs = []
        for a, a2 in zip(ins, ins2):
            if a is None:
                refs.append(None)
                continue
            if id(a) not in names:  # a constant the forward made (a Python number, an array of its own)
                if not _same(np.asarray(a), np.asarray(a2)) or np.shape(a) != np.shape(a2):
                    raise TraceError(f"trace: a constant input of {label} changed with the batch size")
                names[id(a)] = f"const_{count}"
                g.constants[names[id(a)]] = np.asarray(a)
                count += 1
            refs.append(names[id(a)])
        if id(out) in names:  # the op handed back its input (an identity): no node
            continue
        name = names[id(out)] = f"v{len(g.nodes)}"
        attrs = _symbolic(opts, opts2, n, f"an option of {label}")
        kept = {}
        for key, value in state.items():  # what the forward stored: kept where it follows the batch, else left out
            try:
                kept[key] = _symbolic(value, state2.get(key), n, key)
            except TraceError:
                pass
        g.shapes[name] = _shape(out.shape, out2.shape)
        g.dtypes[name] = out.dtype
        g.nodes.append(Node(cls.op_name(), cls, refs, name, attrs, g.shapes[name], out.dtype, path, kept))
    used = {i for node in g.nodes for i in node.inputs}
    for name, t in _named_state(model):  # the parameters and buffers the forward read, by their state-dict names
        if name in used:
            g.constants.setdefault(name, t._data)
    for name in list(g.constants):
        g.shapes.setdefault(name, g.constants[name].shape)
        g.dtypes.setdefault(name, g.constants[name].dtype)
    for o in outs:
        if id(o) not in names:
            raise TraceError("trace: an output of the model is not computed from its inputs by chainrule ops")
        g.outputs.append(names[id(o)])
    return g


def _shape(a, b):
    """A traced shape with None on the axes that followed the batch size."""
    return tuple(None if (x, y) != (x, x) else x for x, y in zip(a, b))
