"""DeepLIFT and DeepLiftShap on chainrule's own tape, each primitive passing multipliers by the rule it declares.

DeepLIFT (Shrikumar et al., 2017) explains ``f(x) - f(x0)``, the change of the output from a baseline ``x0``,
as a sum of contributions ``(x - x0) * m`` of the inputs, where a multiplier ``m`` is what a gradient would be
if every op's local derivative were replaced by a difference quotient between the two points. The model runs
twice, recorded (the anomaly hook of ``Primitive.apply`` sees every op with its input and output arrays): on
the inputs and on the baselines. Then the multipliers flow from the explained output back to the inputs in the
engine's order (newest node first), each primitive by its ``deeplift`` class attribute:

* ``"linear"`` (add, sub, neg, reshape, transpose, indexing, cat, pad, sum, mean, average pooling, cast...):
  the op is affine in the inputs that depend on ``X``, so its multiplier is its ordinary backward;
* ``"rescale"`` (relu, sigmoid, tanh, exp, log, softplus, gelu, pow with a constant exponent, every elementwise
  function of one varying input): ``m = g * (f(x) - f(x0)) / (x - x0)``, and the gradient at ``x`` where
  ``|x - x0|`` is below ``sqrt(eps)`` of the values (float64: 1.5e-8), where the quotient would lose its digits;
* ``"product"`` (mul, matmul, linear, conv2d: ops of degree two in their inputs): with one varying input the
  op is linear; with two, ``Δ(ab) = ā Δb + b̄ Δa`` (``ā = (a + a0) / 2``), exact, which is the mean of the
  backward at the two points;
* rules of their own: ``divide`` (``Δ(a/b) = mean(1/b) Δa - ā Δb / (b b0)``), ``maximum``/``minimum`` of two
  varying inputs (as ``b + relu(a - b)``), ``max``/``min`` (max pooling and max reductions: DeepLIFT's and
  Captum's rule, ``Δy`` split between the maxima of the two points), ``softmax``, ``log_softmax`` and
  ``logsumexp`` (exact as the composite of exp, sum, reciprocal or log and product), ``layer_norm`` (exact as
  its composite), ``batch_norm`` (linear on running statistics), ``where``/``getitem``/``setitem``/``scatter``
  (linear when their condition or index is the same at both points);
* a callable: ``rule(step, g)`` returns one multiplier per input (None where none), ``step`` holding ``node``
  and ``ref`` (the op at the inputs and at the baselines), ``inputs``/``ref_inputs``, ``out``/``ref_out``,
  ``depends`` (which inputs vary with ``X``) and ``tol``.

An op whose class declares no rule (``deeplift = None``: prod, norm, cumprod, the losses, a custom
``autograd.Function``) is an ``ArgumentError`` naming it. Because the rules live on primitives, a module used
twice, functional ``relu``, ``exp`` and products of two branches are all handled, and summation to delta holds to
rounding: ``values.sum() == f(x) - f(x0)``.

Nothing is written to any ``.grad`` (the engine never runs; each op's backward is called directly), and the
forward of a model outside ``deeplift`` is untouched: the hook is the one anomaly mode uses, set only here.
"""

import math

import numpy as np

from ..autograd import function as _function
from ..autograd.engine import unbroadcast
from ..autograd.function import enable_grad
from ..errors import ArgumentError, ShapeError
from ..ops.reduce import keepdims_shape
from ..tensor import Tensor
from . import _core

__all__ = ["deeplift", "deeplift_shap"]


# ---- recording the two forwards -----------------------------------------------------------------------------


class _Recorder:
    """Stands in anomaly mode's hook while the model runs: keeps every op with its input and output arrays
    (copies when ``copy``), and passes each call on to anomaly mode's checker when that mode is on."""

    def __init__(self, previous, copy):
        self.previous = previous
        self.copy = copy
        self.ops = []

    def check_forward(self, ctx, out, arrays):
        if self.previous is not None:
            self.previous.check_forward(ctx, out, arrays)
        if self.copy:
            arrays = [a.copy() if hasattr(a, "dtype") and hasattr(a, "copy") else a for a in arrays]
            out = out.copy()
        self.ops.append((ctx, tuple(arrays), out))

    def check_backward(self, node, grad, in_grads):
        if self.previous is not None:
            self.previous.check_backward(node, grad, in_grads)


def _recorded(model, X, target, output, op, copy=False):
    """(input leaf, explained output, recorded ops) of one forward on ``X``."""
    recorder = _Recorder(_function._anomaly, copy)
    epoch = _function._epoch
    _function._anomaly = recorder
    try:
        with enable_grad():
            x = Tensor(X, dtype=X.dtype, requires_grad=True)
            y = _core.select(model(x), target, output, op, X.shape[0])
    finally:
        _function._anomaly = recorder.previous
    if not copy and _function._epoch != epoch:  # an in-place op wrote over recorded arrays: again, with copies
        return _recorded(model, X, target, output, op, copy=True)
    return x, y, recorder.ops


# ---- the rules --------------------------------------------------------------------------------------------


class _Step:
    """One op at the two points, as a rule sees it (see the module docstring)."""

    __slots__ = ("node", "ref", "inputs", "ref_inputs", "out", "ref_out", "depends", "tol")

    def __init__(self, node, ref, inputs, ref_inputs, out, ref_out, depends, tol):
        self.node, self.ref = node, ref
        self.inputs, self.ref_inputs = inputs, ref_inputs
        self.out, self.ref_out = out, ref_out
        self.depends, self.tol = depends, tol

    @property
    def name(self):
        return self.node.op_name()


def _backward(node, g, depends):
    """``node.backward(g)`` as a tuple, computing only the gradients of the inputs in ``depends``."""
    if node.saved and node.versions != _function._epoch:
        _function.check_versions(node)
    needs = node.needs_input_grad
    node.needs_input_grad = depends
    try:
        grads = node.backward(g)
    finally:
        node.needs_input_grad = needs
    return grads if grads.__class__ is tuple else (grads,)


def _small(d, a, b, tol):
    """Where the difference ``d`` of ``a`` and ``b`` is too small for a difference quotient."""
    scale = np.abs(a)  # tol * max(|a|, |b|), in one buffer: these arrays are a layer's activations
    np.maximum(scale, np.abs(b), out=scale)
    scale *= tol
    return np.abs(d) <= scale


def _quotient(num, den, small):
    with np.errstate(divide="ignore", invalid="ignore"):
        return num / np.where(small, 1, den)


def _no_rule(name, why):
    return ArgumentError(f"deeplift: no DeepLIFT rule for {name} {why}; explain this model with a gradient method "
                         "(integrated gradients) instead")


def _linear(s, g):
    return _backward(s.node, g, s.depends)


def _rescale(s, g):
    varying = [i for i, d in enumerate(s.depends) if d]
    if len(varying) != 1:
        raise _no_rule(s.name, f"with {len(varying)} inputs that depend on X (its rescale rule takes one, the "
                       "others constant)")
    j = varying[0]
    x, x0 = s.inputs[j], s.ref_inputs[j]
    dx = x - x0
    small = _small(dx, x, x0, s.tol)
    m = g * _quotient(s.out - s.ref_out, dx, small)
    if small.any():  # the gradient at x
        m = np.where(small, _backward(s.node, g, s.depends)[j], m)
    out = [None] * len(s.depends)
    out[j] = m
    return tuple(out)


def _product(s, g):
    mine = _backward(s.node, g, s.depends)
    if sum(s.depends) < 2:
        return mine
    theirs = _backward(s.ref, g, s.depends)  # degree two: the backward at the midpoint is the mean of the two
    return tuple(None if not d or a is None else (a + b) / 2 for d, a, b in zip(s.depends, mine, theirs))


def _einsum(s, g):
    k = sum(s.depends)
    if k > 2:
        raise _no_rule("einsum", f"with {k} operands that depend on X (a product of degree {k}; the product rule "
                       "is exact for two)")
    return _product(s, g)


def _divide(s, g):
    da, db = s.depends[:2]
    if not db:
        return _linear(s, g)
    if not da:
        return _rescale(s, g)
    (a, b), (a0, b0) = s.inputs[:2], s.ref_inputs[:2]
    return g * ((1 / b + 1 / b0) / 2), -g * ((a + a0) / 2) / (b * b0)


def _extremum(s, g, larger):
    """maximum / minimum of two varying inputs, as ``b + relu(a - b)`` / ``a - relu(a - b)``."""
    if sum(s.depends) < 2:
        return _rescale(s, g)
    (a, b), (a0, b0) = s.inputs[:2], s.ref_inputs[:2]
    d, d0 = a - b, a0 - b0
    dd = d - d0
    small = _small(dd, d, d0, s.tol)
    r = g * _quotient(np.maximum(d, 0) - np.maximum(d0, 0), dd, small)
    ma, mb = (r, g - r) if larger else (g - r, r)
    if small.any():
        ga, gb = _backward(s.node, g, s.depends)[:2]
        ma, mb = np.where(small, ga, ma), np.where(small, gb, mb)
    return ma, mb


def _same(a, b):
    """Whether two indices (or conditions) are the same: tuples, arrays, slices, numbers."""
    if isinstance(a, tuple | list):
        return isinstance(b, tuple | list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "shape") and hasattr(a, "dtype"):
        return hasattr(b, "shape") and a.shape == b.shape and bool((a == b).all())
    return not hasattr(b, "shape") and a == b


def _indexed(what, get):
    def rule(s, g):
        if not _same(get(s.node, s.inputs), get(s.ref, s.ref_inputs)):
            raise _no_rule(s.name, f"whose {what} differs between the inputs and the baselines ({what} computed "
                           "from the data, as by sort, topk, argmax or a comparison, makes the op piecewise)")
        return _linear(s, g)

    return rule


def _pool(s, g, larger):
    """Max pooling and max (min) reductions: DeepLIFT's rule, as Captum's ``maxpool``. With ``M`` the larger
    of the two outputs, ``M - y0`` goes back through the maxima of ``x`` and ``y - M`` through those of ``x0``
    (each by its op's backward), so a window's ``Δy`` lands where the input changed; divided by ``Δx`` it is the
    multiplier (the gradient at x where ``Δx`` is too small)."""
    y, y0 = s.out, s.ref_out
    top = np.maximum(y, y0) if larger else np.minimum(y, y0)
    u = _backward(s.node, g * (top - y0), s.depends)[0] + _backward(s.ref, g * (y - top), s.depends)[0]
    x, x0 = s.inputs[0], s.ref_inputs[0]
    dx = x - x0
    small = _small(dx, x, x0, s.tol)
    m = _quotient(u, dx, small)
    if small.any():
        m = np.where(small, _backward(s.node, g, s.depends)[0], m)
    return (m,) + (None,) * (len(s.depends) - 1)


def _exps(s, axes):
    """exp of both inputs shifted by their common maximum over ``axes``, their sums, and exp's secant."""
    x, x0 = s.inputs[0], s.ref_inputs[0]
    shift = np.maximum(x.max(axis=axes, keepdims=True), x0.max(axis=axes, keepdims=True))
    e, e0 = np.exp(x - shift), np.exp(x0 - shift)
    dx = x - x0
    small = _small(dx, x, x0, s.tol)
    r = np.where(small, e, _quotient(e - e0, dx, small))
    return e, e0, e.sum(axis=axes, keepdims=True), e0.sum(axis=axes, keepdims=True), r


def _log_secant(S, S0):
    """(log S - log S0) / (S - S0), accurate as S0 nears S (1 / S there)."""
    dS = S - S0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dS == 0, 1 / S, np.log1p(dS / S0) / np.where(dS == 0, 1, dS))


def _softmax(s, g):
    """y = e / S with e = exp(x): Δy = mean(1/S) Δe - ē ΔS / (S S0), Δe = r Δx, ΔS = sum Δe (exact)."""
    ax = s.node.axis
    e, e0, S, S0, r = _exps(s, ax)
    inv = (1 / S + 1 / S0) / 2
    return (r * (inv * g - (g * ((e + e0) / 2)).sum(axis=ax, keepdims=True) / (S * S0)),)


def _log_softmax(s, g):
    """y = x - log S: Δy = Δx - ρ ΔS, ρ the secant of log between the two sums (exact)."""
    ax = s.node.axis
    _, _, S, S0, r = _exps(s, ax)
    return (g - _log_secant(S, S0) * r * g.sum(axis=ax, keepdims=True),)


def _logsumexp(s, g):
    axes = s.node.axes
    _, _, S, S0, r = _exps(s, axes)
    return (g.reshape(keepdims_shape(s.inputs[0].shape, axes)) * _log_secant(S, S0) * r,)


def _batch_norm(s, g):
    if s.node.training:
        raise _no_rule("batch_norm", "on the batch's own statistics (training mode): the rows would change each "
                       "other's outputs; use running statistics (model.eval(), which deeplift sets)")
    return _product(s, g)


def _layer_norm(s, g):
    """out = xc * r * w + b, xc = x - mean(x), v = mean(xc^2), r = (v + eps)^-1/2: each step exact (xc and the
    mean linear, xc^2 and xc * r products, r's secant between the two variances in closed form)."""
    if any(s.depends[1:]):
        raise _no_rule("layer_norm", "with a weight or bias that depends on X")
    axes = s.node.axes
    x, x0, w = s.inputs[0], s.ref_inputs[0], s.inputs[1]
    xc = (x - x.mean(axis=axes, keepdims=True) + x0 - x0.mean(axis=axes, keepdims=True)) / 2  # the midpoint
    r, r0 = s.node.saved[1], s.ref.saved[1]  # 1 / sqrt(var + eps), as the forward computed it
    k = math.prod(x.shape[a] for a in axes)
    gh = g if w is None else g * w
    slope = -(r * r * r0 * r0) / (r + r0)  # (r - r0) / (v - v0), with v + eps = 1 / r^2
    mc = gh * ((r + r0) / 2) + (gh * xc).sum(axis=axes, keepdims=True) * slope * (2 / k) * xc
    return (mc - mc.mean(axis=axes, keepdims=True),) + (None,) * (len(s.depends) - 1)


_RULES = {
    "linear": _linear,
    "rescale": _rescale,
    "product": _product,
    "einsum": _einsum,
    "divide": _divide,
    "maximum": lambda s, g: _extremum(s, g, True),
    "minimum": lambda s, g: _extremum(s, g, False),
    "where": _indexed("condition", lambda node, inputs: inputs[0]),
    "getitem": _indexed("index", lambda node, inputs: None if node.basic else node.index),
    "setitem": _indexed("index", lambda node, inputs: node.index),
    "scatter": _indexed("index", lambda node, inputs: node.where),
    "max": lambda s, g: _pool(s, g, True),
    "min": lambda s, g: _pool(s, g, False),
    "softmax": _softmax,
    "log_softmax": _log_softmax,
    "logsumexp": _logsumexp,
    "batch_norm": _batch_norm,
    "layer_norm": _layer_norm,
}


def _rule(node):
    rule = getattr(type(node), "deeplift", None)
    if callable(rule):
        return rule
    found = _RULES.get(rule)
    if found is None:
        kind = "a custom autograd Function" if node.op_name() == "function" else f"the primitive {type(node).__name__}"
        why = (f"({kind} declares none: a class attribute deeplift = 'linear', 'rescale', 'product' or a rule)"
               if rule is None else f"(its class declares deeplift = {rule!r}, which is no known rule)")
        raise _no_rule(_name(node), why)
    return found


def _name(node):
    fn = getattr(node, "fn", None)  # a custom Function's node names its Function
    return f"function {fn.__name__}" if fn is not None else node.op_name()


# ---- the walk --------------------------------------------------------------------------------------------


def _multipliers(x, y, ops, ops0, op):
    """d(Δ y) / d(Δ x) for the recorded forwards at the inputs (``x``, ``y``, ``ops``) and the baselines
    (``ops0``): the multipliers walked back from ``y`` through every op that depends on ``x``."""
    if y is x:
        return np.ones(x.shape, dtype=x.dtype)
    if len(ops) != len(ops0) or any(type(a[0]) is not type(b[0]) or a[2].shape != b[2].shape
                                    for a, b in zip(ops, ops0)):
        raise ArgumentError(f"{op}: the model ran other operations on the baselines than on the inputs (control "
                            "flow that depends on the data); DeepLIFT compares one graph at two points")
    index = {id(entry[0]): i for i, entry in enumerate(ops)}
    dep = [False] * len(ops)
    flags = [()] * len(ops)
    hidden = {}  # id -> whether an unrecorded node (a custom Function's) depends on x

    def varies(p):
        if p is None or p is x:
            return p is x
        if isinstance(p, Tensor):  # another leaf: a parameter or a constant
            return False
        j = index.get(id(p))
        if j is not None:
            return dep[j]
        if id(p) not in hidden:
            hidden[id(p)] = any(varies(q) for q in getattr(p, "parents", ()))
        return hidden[id(p)]

    for i, (ctx, _, _) in enumerate(ops):
        parents = getattr(ctx, "parents", None)
        if parents is not None:
            flags[i] = tuple(varies(p) for p in parents)
            dep[i] = any(flags[i])

    root = y._ctx
    if root is None or not varies(root):
        return np.zeros(x.shape, dtype=x.dtype)
    start = index.get(id(root))
    if start is None:
        raise _no_rule(_name(root), "(a custom autograd Function declares none)")
    tol = math.sqrt(np.finfo(y.dtype if y.dtype.kind == "f" else np.float32).eps)
    mult = {start: np.ones(y.shape, dtype=y.dtype)}
    gx = None
    for i in range(start, -1, -1):
        g = mult.pop(i, None)
        if g is None:
            continue
        node, inputs, out = ops[i]
        ref, ref_inputs, ref_out = ops0[i]
        step = _Step(node, ref, inputs, ref_inputs, out, ref_out, flags[i], tol)
        found = _rule(node)(step, g)
        for p, d, m in zip(node.parents, flags[i], found):
            if not d or m is None:
                continue
            if p is x:
                if m.shape != x.shape:
                    m = unbroadcast(m, x.shape)
                gx = m if gx is None else gx + m
                continue
            j = index.get(id(p))
            if j is None:
                raise _no_rule(_name(p), "(a custom autograd Function declares none)")
            if m.shape != p.out_shape:
                m = unbroadcast(m, p.out_shape)
            mult[j] = mult[j] + m if j in mult else m
    return np.zeros(x.shape, dtype=x.dtype) if gx is None else gx


def _attribute(model, X, X0, target, output, op):
    """(values, f(X), f(X0)) for rows ``X`` against the baseline rows ``X0`` beside them, in float64."""
    x, y, ops = _recorded(model, X, target, output, op)
    _, y0, ops0 = _recorded(model, X0, target, output, op)
    m = _multipliers(x, y, ops, ops0, op)
    values = (X.astype(np.float64) - X0.astype(np.float64)) * m.astype(np.float64)
    return values, y.numpy().astype(np.float64), y0.numpy().astype(np.float64)


def _pairs(model, X, X0, target, output, op, batch_size):
    parts = []
    for start in range(0, X.shape[0], batch_size):
        rows = slice(start, start + batch_size)
        parts.append(_attribute(model, X[rows], X0[rows], _core.row_targets(target, rows), output, op))
    return tuple(np.concatenate(p, axis=0) for p in zip(*parts))


# ---- the public functions -------------------------------------------------------------------------------------


def _prepare(model, X, target, output, batch_size, op):
    _core.check_output(output, op)
    X = _core.as_inputs(X, op)
    if X.shape[0] == 0:
        raise ShapeError(f"{op}: X has no rows")
    t = target.numpy() if isinstance(target, Tensor) else target
    if t is not None and np.ndim(t) == 1 and np.shape(t)[0] != X.shape[0]:
        raise ArgumentError(f"{op}: target must be an int or one int per row ({X.shape[0]}), got {np.shape(t)[0]} "
                            "targets")
    if batch_size is None:  # two recorded forwards and the multipliers: half of what a gradient's batch may hold
        _core.forward(model, X[:1], _core.row_targets(target, slice(0, 1)), output, op)  # errors named for op
        batch_size = max(1, _core.resolve_batch_size(None, model, X, target, output, op) // 2)
    return X, _core.resolve_batch_size(batch_size, model, X, target, output, op)


def _check_groups(groups, X, op):
    if X.ndim == 2:
        return _core.resolve_groups(groups, X.shape[1], op)
    if groups is not None:
        raise ArgumentError(f"{op}: groups= is for table inputs (rows x features), got inputs of shape {X.shape}")
    return None


def _explanation(values, X, outputs, base_values, g, op, target, output, info):
    if g is not None:
        values, names, data = g.sum(values), g.names, g.data(X)
    else:
        names, data = None, X
    return _core.Explanation(values, names=names, data=data, outputs=outputs, base_values=base_values, method=op,
                             target=target, output=output, info=info)


def deeplift(model, X, target=None, baselines=None, output=None, groups=None, batch_size=None):
    """DeepLIFT attributions (rescale rule) of the rows of ``X`` against ``baselines``: None (zeros), a number,
    one row, or one row per input. ``values`` sum, row by row, to ``outputs - base_values`` (the output at the
    baseline); each primitive passes the multipliers by the rule its class declares, and an op without one is an
    ``ArgumentError`` naming it. ``target``, ``output``, ``groups`` (summed within each group) and ``batch_size``
    (rows per pair of forwards) as every explanation method; nothing is written to any ``.grad``."""
    op = "deeplift"
    X = _core.as_inputs(X, op)
    g = _check_groups(groups, X, op)
    X, bs = _prepare(model, X, target, output, batch_size, op)
    base, kind = _core.baselines_for(baselines, X, op)
    if kind == "background":
        raise ArgumentError(f"{op}: baselines has {base.shape[0]} rows for {X.shape[0]} inputs: give one row or "
                            "one per input; to average over background rows use deeplift_shap(model, X, "
                            "background=...)")
    X0 = np.ascontiguousarray(np.broadcast_to(base, X.shape)) if kind == "row" else base
    with _core.evaluating(model):
        values, outputs, base_values = _pairs(model, X, X0, target, output, op, bs)
    what = "zeros" if baselines is None else kind
    info = {"baselines": what, "rule": "rescale", "batch_size": bs}
    return _explanation(values, X, outputs, base_values, g, op, target, output, info)


def deeplift_shap(model, X, target=None, background=None, output=None, groups=None, batch_size=None):
    """DeepLiftShap: DeepLIFT of each row of ``X`` against every row of ``background`` as its baseline, averaged
    (as Captum's ``DeepLiftShap`` and SHAP's ``DeepExplainer``). ``base_values`` is the mean output over the
    background, so ``values`` sum, row by row, to ``outputs - base_values``. ``batch_size`` counts (row,
    background row) pairs per forward; the other arguments as ``deeplift``."""
    op = "deeplift_shap"
    X = _core.as_inputs(X, op)
    g = _check_groups(groups, X, op)
    X, bs = _prepare(model, X, target, output, batch_size, op)
    if background is None:
        raise ArgumentError(f"{op}: needs background= (rows whose mean output is the base value, such as a sample "
                            "of the training data)")
    B = _core.as_inputs(background, op).astype(X.dtype, copy=False)
    if B.shape == X.shape[1:]:
        B = B[None]
    if B.shape[1:] != X.shape[1:] or B.shape[0] == 0:
        raise ShapeError(f"{op}: background of shape {B.shape} does not fit inputs of shape {X.shape}: give rows of "
                         f"shape {X.shape[1:]}")
    n, m = X.shape[0], B.shape[0]
    XX = np.repeat(X, m, axis=0)
    BB = np.tile(B, (n,) + (1,) * (B.ndim - 1))
    t = target.numpy() if isinstance(target, Tensor) else target
    tt = np.repeat(np.asarray(t), m) if t is not None and np.ndim(t) == 1 else target
    with _core.evaluating(model):
        values, outputs, base_values = _pairs(model, XX, BB, tt, output, op, bs)
    values = values.reshape(n, m, *X.shape[1:]).mean(axis=1)
    outputs = outputs.reshape(n, m)[:, 0]
    base_values = base_values.reshape(n, m).mean(axis=1)
    info = {"background_rows": m, "rule": "rescale", "batch_size": bs}
    return _explanation(values, X, outputs, base_values, g, op, target, output, info)
