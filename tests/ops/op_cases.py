"""One table of op cases, shared by the torch parity test and the finite-difference gradcheck test.

Each ``Case`` names a chainrule function, the matching torch function, and its inputs: one ``Input``
per float tensor argument, with a shape and a domain (a generator of float64 values). Non-float
arguments (conditions, index arrays, Python numbers) are constants captured by the functions, so
every input of a case is a float tensor whose gradient is checked.

``sample(case, dtype)`` draws a case's inputs from a numpy generator seeded by the case's name, so
each case is reproducible on its own and independent of which other cases run.

Each case also names the rule (``tests/tolerance.py``) that gives the magnitude of what its outputs and
gradients sum, from which the parity test takes its float32 tolerance: ``linear`` for products, sums and
moves (the op on absolute values), ``elementwise`` (the default), ``exact`` for selections, and the
terms of the fused formulas (softmax, logsumexp, variance) for the rest.
"""

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tolerance as T
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F

# ---- domains: (rng, shape) -> float64 array ----------------------------------------------------------


def normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    """Away from 0 and from overflow: for log, sqrt, division, a ** b with a tensor base."""
    return rng.uniform(0.5, 2.0, shape)


def nonzero(rng, shape):
    """|x| in [0.2, 2]: keeps abs, relu, leaky_relu, step and divisors off their kink or pole."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape)


def distinct(rng, shape):
    """Values at least 0.1 apart (no ties, no near-ties) for max, min and argmax/argmin."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(0.0, 0.05, n)).reshape(shape)


def probability(rng, shape):
    """In [0.05, 0.95]: the input of binary cross-entropy, away from its clamped ends."""
    return rng.uniform(0.05, 0.95, shape)


def small(rng, shape):
    """Inputs of exp-like ops kept small so float32 results stay well inside their precision."""
    return rng.uniform(-2.0, 2.0, shape)


def softplus_domain(rng, shape):
    """Values around the default threshold of 20 (beta=1) but never within 0.5 of it."""
    below = rng.uniform(-5.0, 19.5, shape)
    above = rng.uniform(20.5, 25.0, shape)
    return np.where(rng.random(shape) < 0.3, above, below)


def fixed(values):
    """A domain that ignores the generator: for ties and for points exactly on a kink."""
    values = np.asarray(values, dtype=np.float64)

    def gen(rng, shape):
        assert values.shape == tuple(shape)
        return values.copy()

    return gen


@dataclass(frozen=True)
class Input:
    shape: tuple
    domain: Callable = normal


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable  # chainrule: takes one Tensor per Input, returns a Tensor or a list of them
    torch_fn: Callable  # the same on torch tensors
    inputs: tuple
    differentiable: bool = True  # False: compare values only (argmax / argmin)
    gradcheck: bool = True  # False where finite differences cannot see the rule (an input on a kink)
    # (torch_fn, float inputs, upstream gradients or None) -> (magnitudes of the outputs, of the gradients)
    magnitude: Callable = T.elementwise


def sample(case, dtype=np.float32):
    """The inputs of ``case`` as numpy arrays of ``dtype``, drawn with a generator seeded by its name."""
    rng = np.random.default_rng(zlib.crc32(case.name.encode()))
    return [np.asarray(i.domain(rng, i.shape), dtype=dtype) for i in case.inputs]


def I(*shape, domain=normal):  # noqa: E743 - a short name keeps the table readable
    return Input(tuple(shape), domain)


CASES = []
_rule = [T.elementwise]  # the magnitude rule of the cases that name none: set per section by ``section``


def section(rule):
    """The cases added from here on take the magnitude rule ``rule`` unless they name their own."""
    _rule[0] = rule


def case(name, fn, torch_fn=None, inputs=(), **kw):
    """Add a case; ``torch_fn`` defaults to ``fn`` (when the same code works on both libraries)."""
    kw.setdefault("magnitude", _rule[0])
    CASES.append(Case(name, fn, torch_fn or fn, tuple(inputs), **kw))



def _dims(axis, ndim):
    """chainrule's axis (None / int / tuple) as torch's dim, spelled out in full for None."""
    return tuple(range(ndim)) if axis is None else axis


def _torch_pad(pad_width, ndim):
    """NumPy's pad_width (int, (before, after) or one pair per axis) as torch.nn.functional.pad's list."""
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (ndim, 2))
    return [int(v) for pair in pw[::-1] for v in pair]


def _t(a):
    return torch.as_tensor(np.array(a))  # a copy: torch refuses NumPy's negative strides


# ---- arithmetic ------------------------------------------------------------------------------------

BINARY_SHAPES = [
    ("same", (3, 4), (3, 4)),
    ("col_row", (3, 1), (1, 4)),
    ("3d_1d", (2, 3, 4), (4,)),
    ("1d_3d", (4,), (2, 3, 4)),
    ("0d_2d", (), (3, 4)),
    ("2d_0d", (3, 4), ()),
    ("0d_0d", (), ()),
    ("empty", (0, 3), (3,)),
]
for tag, sa, sb in BINARY_SHAPES:
    case(f"add_{tag}", lambda a, b: a + b, inputs=[I(*sa), I(*sb)], magnitude=T.linear)
    case(f"sub_{tag}", lambda a, b: a - b, inputs=[I(*sa), I(*sb)], magnitude=T.linear)
    case(f"mul_{tag}", lambda a, b: a * b, inputs=[I(*sa), I(*sb)], magnitude=T.linear)
    case(f"div_{tag}", lambda a, b: a / b, inputs=[I(*sa), I(*sb, domain=nonzero)])
    case(f"pow_{tag}", lambda a, b: a**b, inputs=[I(*sa, domain=positive), I(*sb)])
    case(f"maximum_{tag}", cr.maximum, torch.maximum, inputs=[I(*sa), I(*sb)])
    case(f"minimum_{tag}", cr.minimum, torch.minimum, inputs=[I(*sa), I(*sb)])

# Python numbers on either side
case("add_scalar_right", lambda x: x + 2.5, inputs=[I(3, 4)])
case("add_scalar_left", lambda x: 2.5 + x, inputs=[I(3, 4)])
case("sub_scalar_right", lambda x: x - 2, inputs=[I(3, 4)])
case("sub_scalar_left", lambda x: 2 - x, inputs=[I(3, 4)])
case("mul_scalar_right", lambda x: x * -1.5, inputs=[I(3, 4)])
case("mul_scalar_left", lambda x: 3 * x, inputs=[I(3, 4)])
case("div_scalar_right", lambda x: x / 4.0, inputs=[I(3, 4)])
case("div_scalar_left", lambda x: 2 / x, inputs=[I(3, 4, domain=nonzero)])
case("pow_square", lambda x: x**2, inputs=[I(3, 4)])
case("pow_cube_negative_base", lambda x: x**3, inputs=[I(3, 4)])
case("pow_half", lambda x: x**0.5, inputs=[I(3, 4, domain=positive)])
case("pow_negative_exponent", lambda x: x**-1.5, inputs=[I(3, 4, domain=positive)])
case("pow_scalar_base", lambda x: 2**x, inputs=[I(3, 4)])
case("pow_scalar_base_float", lambda x: 0.5**x, inputs=[I(3, 4)])
case("pow_method", lambda x, y: x.pow(y), inputs=[I(3, 1, domain=positive), I(4)])
case("scalar_ops_0d", lambda x: (1 - x) * 2 / (x + 3), inputs=[I(domain=positive)])
case("neg", lambda x: -x, inputs=[I(3, 4)])
case("neg_0d", lambda x: -x, inputs=[I()])
case("neg_empty", lambda x: -x, inputs=[I(0, 3)])

# ---- matmul ----------------------------------------------------------------------------------------

section(T.linear)

MATMUL_SHAPES = [
    ("1d_1d", (4,), (4,)),
    ("2d_1d", (3, 4), (4,)),
    ("1d_2d", (4,), (4, 3)),
    ("2d_2d", (3, 4), (4, 5)),
    ("3d_3d", (2, 3, 4), (2, 4, 5)),
    ("3d_2d", (2, 3, 4), (4, 5)),
    ("2d_3d", (3, 4), (2, 4, 5)),
    ("3d_1d", (2, 3, 4), (4,)),
    ("1d_3d", (4,), (2, 4, 3)),
    ("batch_broadcast", (2, 1, 3, 4), (5, 4, 2)),
    ("batch_broadcast_1", (1, 3, 4), (2, 4, 2)),
    ("empty_rows", (0, 3), (3, 2)),
    ("empty_inner", (2, 0), (0, 3)),
]
for tag, sa, sb in MATMUL_SHAPES:
    case(f"matmul_{tag}", lambda a, b: a @ b, inputs=[I(*sa), I(*sb)])
case("matmul_function", cr.matmul, torch.matmul, inputs=[I(3, 4), I(4, 2)])
case("matmul_method", lambda a, b: a.matmul(b), inputs=[I(2, 3, 4), I(4)])
_M = np.random.default_rng(7).standard_normal((2, 3)).astype(np.float32)
case("matmul_ndarray_left", lambda x: _M @ x, lambda x: _t(_M) @ x, inputs=[I(3, 4)],
     magnitude=lambda f, xs, gs=None: T.linear(lambda x: _t(_M).double() @ x, xs, gs))
case("matmul_ndarray_right", lambda x: x @ _M.T, lambda x: x @ _t(_M.T), inputs=[I(4, 3)],
     magnitude=lambda f, xs, gs=None: T.linear(lambda x: x @ _t(_M.T).double(), xs, gs))

# ---- elementwise functions -------------------------------------------------------------------------

section(T.elementwise)

case("exp", cr.exp, torch.exp, inputs=[I(3, 4, domain=small)])
case("exp_method_0d", lambda x: x.exp(), inputs=[I(domain=small)])
case("exp_empty", cr.exp, torch.exp, inputs=[I(0, 3)])
case("log", cr.log, torch.log, inputs=[I(3, 4, domain=positive)])
case("log_method", lambda x: x.log(), inputs=[I(2, 3, domain=positive)])
case("sqrt", cr.sqrt, torch.sqrt, inputs=[I(3, 4, domain=positive)])
case("sqrt_method_0d", lambda x: x.sqrt(), inputs=[I(domain=positive)])
case("abs", cr.abs, torch.abs, inputs=[I(3, 4, domain=nonzero)])
case("abs_method", lambda x: x.abs(), inputs=[I(5, domain=nonzero)])
# at 0 both give the gradient sign(0) = 0 (and so does a central difference of |x|)
case("abs_at_zero", cr.abs, torch.abs, inputs=[I(3, domain=fixed([-1.0, 0.0, 2.0]))])
case("maximum_ties", cr.maximum, torch.maximum,
     inputs=[I(4, domain=fixed([1.0, 2.0, 3.0, -1.0])), I(4, domain=fixed([1.0, 0.0, 3.0, 5.0]))])
case("minimum_ties", cr.minimum, torch.minimum,
     inputs=[I(4, domain=fixed([1.0, 2.0, 3.0, -1.0])), I(4, domain=fixed([1.0, 0.0, 3.0, 5.0]))])
case("maximum_method_scalar", lambda x: x.maximum(0.3), lambda x: torch.clamp(x, min=0.3), inputs=[I(3, 4)])
case("minimum_method", lambda a, b: a.minimum(b), inputs=[I(3, 1), I(4)])
case("clip_both", lambda x: cr.clip(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5), inputs=[I(3, 4)])
case("clip_min", lambda x: x.clip(min=0.0), lambda x: torch.clamp(x, min=0.0),
     inputs=[I(3, 4, domain=nonzero)])
case("clip_max", lambda x: x.clamp(max=0.2), lambda x: torch.clamp(x, max=0.2), inputs=[I(3, 4)])
case("clamp_function", lambda x: cr.clamp(x, -1, 1), lambda x: torch.clamp(x, -1, 1), inputs=[I(2, 5)])
# inputs exactly on the bounds: the gradient passes there (as torch.clamp); finite differences see 1/2
case("clip_at_bounds", lambda x: cr.clip(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5),
     inputs=[I(4, domain=fixed([-0.5, 0.5, 0.1, 2.0]))], gradcheck=False)

_COND = np.random.default_rng(11).random((3, 4)) < 0.5
_COND_ROW = np.array([True, False, False, True])
case("where_same", lambda a, b: cr.where(_COND, a, b), lambda a, b: torch.where(_t(_COND), a, b),
     inputs=[I(3, 4), I(3, 4)])
case("where_broadcast", lambda a, b: cr.where(_COND, a, b), lambda a, b: torch.where(_t(_COND), a, b),
     inputs=[I(3, 1), I(4)])
case("where_cond_broadcast", lambda a, b: cr.where(_COND_ROW, a, b),
     lambda a, b: torch.where(_t(_COND_ROW), a, b), inputs=[I(3, 4), I(3, 1)])
case("where_scalar", lambda x: cr.where(_COND, x, 0.0), lambda x: torch.where(_t(_COND), x, 0.0),
     inputs=[I(3, 4)])
case("where_tensor_cond", lambda x: cr.where(x > 0, x, x * 0.1), lambda x: torch.where(x > 0, x, x * 0.1),
     inputs=[I(3, 4, domain=nonzero)])

# ---- activations -----------------------------------------------------------------------------------

case("sigmoid", cr.sigmoid, torch.sigmoid, inputs=[I(3, 4)])
case("sigmoid_method_wide", lambda x: x.sigmoid(),
     inputs=[I(3, 4, domain=lambda r, s: r.uniform(-30, 30, s))])
case("tanh", cr.tanh, torch.tanh, inputs=[I(3, 4)])
case("tanh_method_0d", lambda x: x.tanh(), inputs=[I()])
case("relu", cr.relu, torch.relu, inputs=[I(3, 4, domain=nonzero)])
case("relu_method", lambda x: x.relu(), inputs=[I(2, 3, domain=nonzero)])
# relu'(0) = 0 in both libraries; a central difference there gives 1/2
case("relu_at_zero", cr.relu, torch.relu, inputs=[I(3, domain=fixed([-1.0, 0.0, 1.0]))], gradcheck=False)
case("leaky_relu", cr.leaky_relu, TF.leaky_relu, inputs=[I(3, 4, domain=nonzero)])
case("leaky_relu_slope", lambda x: x.leaky_relu(0.2), lambda x: TF.leaky_relu(x, 0.2),
     inputs=[I(3, 4, domain=nonzero)])
case("gelu", cr.gelu, TF.gelu, inputs=[I(3, 4)])
case("gelu_wide", lambda x: x.gelu(), TF.gelu, inputs=[I(10, domain=lambda r, s: r.uniform(-6, 6, s))])
case("gelu_tanh", lambda x: cr.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"),
     inputs=[I(3, 4)], magnitude=T.from_terms(T.gelu_tanh_terms))
case("gelu_tanh_method", lambda x: x.gelu(approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"),
     inputs=[I(10, domain=lambda r, s: r.uniform(-6, 6, s))], magnitude=T.from_terms(T.gelu_tanh_terms))
case("softplus", cr.softplus, TF.softplus, inputs=[I(3, 4)])
case("softplus_threshold", cr.softplus, TF.softplus, inputs=[I(3, 4, domain=softplus_domain)])
case("softplus_beta", lambda x: x.softplus(beta=2.0, threshold=5.0),
     lambda x: TF.softplus(x, beta=2.0, threshold=5.0),
     inputs=[I(3, 4, domain=fixed(np.linspace(-4, 4.4, 12).reshape(3, 4)))])
case("step", cr.step, lambda x: (x >= 0).to(x.dtype) + 0 * x, inputs=[I(3, 4, domain=nonzero)])
# step(0) = 1; its gradient is 0 everywhere, including at 0 (where a central difference sees a jump)
case("step_at_zero", lambda x: x.step(), lambda x: (x >= 0).to(x.dtype) + 0 * x,
     inputs=[I(3, domain=fixed([-1.0, 0.0, 1.0]))], gradcheck=False)
# every elementwise function on a 0-d tensor (NumPy hands back scalars there, not arrays)
UNARY_0D = [
    ("log", cr.log, torch.log, positive),
    ("abs", cr.abs, torch.abs, nonzero),
    ("clip", lambda x: cr.clip(x, -0.5, 0.5), lambda x: torch.clamp(x, -0.5, 0.5), nonzero),
    ("sigmoid", cr.sigmoid, torch.sigmoid, normal),
    ("relu", cr.relu, torch.relu, nonzero),
    ("leaky_relu", cr.leaky_relu, TF.leaky_relu, nonzero),
    ("gelu", cr.gelu, TF.gelu, normal),
    ("gelu_tanh", lambda x: cr.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), normal),
    ("softplus", cr.softplus, TF.softplus, normal),
    ("step", cr.step, lambda x: (x >= 0).to(x.dtype) + 0 * x, nonzero),
]
for tag, f, tf, dom in UNARY_0D:
    rule = T.from_terms(T.gelu_tanh_terms) if tag == "gelu_tanh" else T.elementwise
    case(f"{tag}_0d", f, tf, inputs=[I(domain=dom)], magnitude=rule)

for ax in (-1, 0, 1):
    case(f"softmax_axis{ax}", lambda x, ax=ax: cr.softmax(x, axis=ax), lambda x, ax=ax: torch.softmax(x, ax),
         inputs=[I(3, 4)], magnitude=T.from_terms(T.softmax_terms, axis=ax))
    case(f"log_softmax_axis{ax}", lambda x, ax=ax: cr.log_softmax(x, axis=ax),
         lambda x, ax=ax: torch.log_softmax(x, ax), inputs=[I(3, 4)],
         magnitude=T.from_terms(T.log_softmax_terms, axis=ax))
case("softmax_method_3d", lambda x: x.softmax(1), lambda x: torch.softmax(x, 1), inputs=[I(2, 3, 4)],
     magnitude=T.from_terms(T.softmax_terms, axis=1))
case("log_softmax_method_1d", lambda x: x.log_softmax(), lambda x: torch.log_softmax(x, -1), inputs=[I(5)],
     magnitude=T.from_terms(T.log_softmax_terms))
case("softmax_empty", lambda x: cr.softmax(x), lambda x: torch.softmax(x, -1), inputs=[I(0, 3)],
     magnitude=T.from_terms(T.softmax_terms))
case("log_softmax_empty", lambda x: cr.log_softmax(x), lambda x: torch.log_softmax(x, -1), inputs=[I(0, 3)],
     magnitude=T.from_terms(T.log_softmax_terms))

# ---- reductions ------------------------------------------------------------------------------------

section(T.linear)  # sums and means; the others name their rules

AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]
for axis in AXES:
    for keep in (False, True):
        tag = f"{'all' if axis is None else axis}_{'keep' if keep else 'drop'}"
        kw = dict(axis=axis, keepdims=keep)
        case(f"sum_{tag}", lambda x, kw=kw: cr.sum(x, **kw),
             lambda x, a=axis, k=keep: torch.sum(x, dim=_dims(a, 3), keepdim=k), inputs=[I(2, 3, 4)])
        case(f"mean_{tag}", lambda x, kw=kw: x.mean(**kw),
             lambda x, a=axis, k=keep: torch.mean(x, dim=_dims(a, 3), keepdim=k), inputs=[I(2, 3, 4)])
        for ddof in (0, 1):
            case(f"var_ddof{ddof}_{tag}", lambda x, kw=kw, d=ddof: cr.var(x, ddof=d, **kw),
                 lambda x, a=axis, k=keep, d=ddof: torch.var(x, dim=_dims(a, 3), correction=d, keepdim=k),
                 inputs=[I(2, 3, 4)], magnitude=T.from_terms(T.variance_terms, ddof=ddof, **kw))
            case(f"std_ddof{ddof}_{tag}", lambda x, kw=kw, d=ddof: x.std(ddof=d, **kw),
                 lambda x, a=axis, k=keep, d=ddof: torch.std(x, dim=_dims(a, 3), correction=d, keepdim=k),
                 inputs=[I(2, 3, 4)], magnitude=T.from_terms(T.variance_terms, ddof=ddof, std=True, **kw))
        case(f"max_{tag}", lambda x, kw=kw: cr.amax(x, **kw),
             lambda x, a=axis, k=keep: torch.amax(x, dim=_dims(a, 3), keepdim=k),
             inputs=[I(2, 3, 4, domain=distinct)], magnitude=T.exact)
        case(f"min_{tag}", lambda x, kw=kw: x.amin(**kw),
             lambda x, a=axis, k=keep: torch.amin(x, dim=_dims(a, 3), keepdim=k),
             inputs=[I(2, 3, 4, domain=distinct)], magnitude=T.exact)
        case(f"logsumexp_{tag}", lambda x, kw=kw: cr.logsumexp(x, **kw),
             lambda x, a=axis, k=keep: torch.logsumexp(x, dim=_dims(a, 3), keepdim=k), inputs=[I(2, 3, 4)],
             magnitude=T.from_terms(T.logsumexp_terms, **kw))

# methods, 0-d and 1-D inputs, and empty tensors
case("sum_method_2d", lambda x: x.sum(axis=1), lambda x: x.sum(dim=1), inputs=[I(3, 4)])
case("sum_0d", cr.sum, torch.sum, inputs=[I()])
case("sum_0d_axis0", lambda x: x.sum(axis=0), lambda x: x.sum(dim=0), inputs=[I()])
case("mean_0d", cr.mean, torch.mean, inputs=[I()])
case("max_0d", cr.max, torch.amax, inputs=[I()], magnitude=T.exact)
# torch accepts dim 0 (or -1) on a 0-d tensor, and chainrule's normalize_axis lets it through too
case("mean_0d_axis0", lambda x: x.mean(axis=0), lambda x: x.mean(dim=0), inputs=[I()])
case("max_0d_axis_neg", lambda x: x.amax(axis=-1), lambda x: x.amax(dim=-1), inputs=[I()], magnitude=T.exact)
case("logsumexp_0d_axis0", lambda x: x.logsumexp(axis=0), lambda x: torch.logsumexp(x, dim=0), inputs=[I()],
     magnitude=T.from_terms(T.logsumexp_terms, axis=0))
case("softmax_0d", lambda x: x.softmax(), lambda x: torch.softmax(x, -1), inputs=[I()],
     magnitude=T.from_terms(T.softmax_terms))
case("log_softmax_0d", lambda x: x.log_softmax(0), lambda x: torch.log_softmax(x, 0), inputs=[I()],
     magnitude=T.from_terms(T.log_softmax_terms, axis=0))
case("var_0d", lambda x: x.var(correction=0), lambda x: x.var(correction=0), inputs=[I()],
     magnitude=T.from_terms(T.variance_terms))
case("logsumexp_0d", cr.logsumexp, lambda x: torch.logsumexp(x, dim=()), inputs=[I()],
     magnitude=T.from_terms(T.logsumexp_terms))
case("max_method_1d", lambda x: x.max(), lambda x: x.amax(), inputs=[I(6, domain=distinct)], magnitude=T.exact)
case("min_function_1d", lambda x: cr.amin(x, axis=0), lambda x: torch.amin(x, dim=0),
     inputs=[I(6, domain=distinct)], magnitude=T.exact)
case("logsumexp_method", lambda x: x.logsumexp(axis=-1), lambda x: torch.logsumexp(x, dim=-1),
     inputs=[I(3, 4)], magnitude=T.from_terms(T.logsumexp_terms, axis=-1))
case("var_method_1d", lambda x: x.var(ddof=1), lambda x: x.var(correction=1), inputs=[I(5)],
     magnitude=T.from_terms(T.variance_terms, ddof=1))
case("std_function_2d", lambda x: cr.std(x, axis=0), lambda x: torch.std(x, dim=0),
     inputs=[I(4, 3)], magnitude=T.from_terms(T.variance_terms, axis=0, ddof=1, std=True))
case("sum_empty_axis0", lambda x: x.sum(axis=0), lambda x: x.sum(dim=0), inputs=[I(0, 3)])
case("sum_empty_all", lambda x: x.sum(), lambda x: x.sum(), inputs=[I(0, 3)])
case("sum_empty_axis1", lambda x: x.sum(axis=1), lambda x: x.sum(dim=1), inputs=[I(0, 3)])
case("mean_empty_axis1", lambda x: x.mean(axis=1), lambda x: x.mean(dim=1), inputs=[I(0, 3)])
case("max_empty_axis1", lambda x: x.amax(axis=1), lambda x: x.amax(dim=1), inputs=[I(0, 3)], magnitude=T.exact)
case("logsumexp_empty_axis0", lambda x: x.logsumexp(axis=0), lambda x: torch.logsumexp(x, dim=0),
     inputs=[I(0, 3)], magnitude=T.from_terms(T.logsumexp_terms, axis=0))
case("logsumexp_empty_axis1", lambda x: x.logsumexp(axis=1), lambda x: torch.logsumexp(x, dim=1),
     inputs=[I(0, 3)], magnitude=T.from_terms(T.logsumexp_terms, axis=1))

# ties: tied extremes share the gradient equally, as torch.amax / torch.amin (max(dim) gives it to one index)
section(T.exact)  # selections: max, min, argmax, argmin
case("max_ties_1d", cr.max, torch.amax, inputs=[I(3, domain=fixed([1.0, 3.0, 3.0]))])
case("min_ties_1d", cr.min, torch.amin, inputs=[I(3, domain=fixed([1.0, 1.0, 3.0]))])
# At a tie of k > 2 elements, a central difference gives each of them 1/2 (raising one raises the
# extreme, lowering it changes nothing), not the 1/k share: those cases are checked against torch only.
case("max_ties_all_equal", cr.max, torch.amax, inputs=[I(4, domain=fixed([2.0, 2.0, 2.0, 2.0]))],
     gradcheck=False)
_TIES = [[[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, -1.0], [5.0, 4.0, 5.0, 5.0]],
         [[0.0, 0.0, 1.0, 1.0], [-2.0, -2.0, -3.0, 7.0], [6.0, 1.0, 1.0, 1.0]]]
for axis in (None, 0, 1, 2, (1, 2)):
    for keep in (False, True):
        tag = f"{'all' if axis is None else axis}_{'keep' if keep else 'drop'}"
        three_way = axis in (2, (1, 2))  # these reductions meet ties of three (see above)
        case(f"max_ties_{tag}", lambda x, a=axis, k=keep: x.amax(axis=a, keepdims=k),
             lambda x, a=axis, k=keep: torch.amax(x, dim=_dims(a, 3), keepdim=k),
             inputs=[I(2, 3, 4, domain=fixed(_TIES))], gradcheck=not three_way)
        case(f"min_ties_{tag}", lambda x, a=axis, k=keep: cr.amin(x, axis=a, keepdims=k),
             lambda x, a=axis, k=keep: torch.amin(x, dim=_dims(a, 3), keepdim=k),
             inputs=[I(2, 3, 4, domain=fixed(_TIES))], gradcheck=not three_way)

# argmax / argmin: values only
for axis in (None, 0, 1, -1):
    for keep in (False, True):
        if axis is None and keep:
            continue  # torch.argmax(keepdim=True) without dim is not NumPy's all-ones shape
        tag = f"{'all' if axis is None else axis}_{'keep' if keep else 'drop'}"
        case(f"argmax_{tag}", lambda x, a=axis, k=keep: cr.argmax(x, axis=a, keepdims=k),
             lambda x, a=axis, k=keep: torch.argmax(x, dim=a, keepdim=k),
             inputs=[I(3, 4, domain=distinct)], differentiable=False)
        case(f"argmin_{tag}", lambda x, a=axis, k=keep: x.argmin(axis=a, keepdims=k),
             lambda x, a=axis, k=keep: torch.argmin(x, dim=a, keepdim=k),
             inputs=[I(3, 4, domain=distinct)], differentiable=False)

# ---- shape and movement ----------------------------------------------------------------------------

section(T.linear)  # moves, gathers (a repeated index sums its gradients), concatenations, pads

case("reshape_tuple", lambda x: x.reshape((6, 4)), inputs=[I(2, 3, 4)])
case("reshape_args_minus1", lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), inputs=[I(2, 3, 4)])
case("reshape_function", lambda x: cr.reshape(x, (3, 2, 2)), lambda x: torch.reshape(x, (3, 2, 2)),
     inputs=[I(2, 6)])
case("reshape_to_0d", lambda x: x.reshape(()), inputs=[I(1, 1)])
case("reshape_from_0d", lambda x: x.reshape(1, 1), inputs=[I()])
case("reshape_empty", lambda x: x.reshape(3, 0), inputs=[I(0, 3)])
case("view", lambda x: x.view(12), inputs=[I(3, 4)])
case("flatten_all", lambda x: x.flatten(), inputs=[I(2, 3, 4)])
case("flatten_start", lambda x: x.flatten(1), lambda x: x.flatten(1), inputs=[I(2, 3, 4)])
case("flatten_range", lambda x: cr.flatten(x, 0, 1), lambda x: torch.flatten(x, 0, 1), inputs=[I(2, 3, 4)])
case("flatten_0d", lambda x: x.flatten(), inputs=[I()])
case("transpose_perm", lambda x: x.transpose(2, 0, 1), lambda x: x.permute(2, 0, 1), inputs=[I(2, 3, 4)])
case("transpose_tuple", lambda x: x.transpose((1, 2, 0)), lambda x: x.permute(1, 2, 0), inputs=[I(2, 3, 4)])
case("transpose_reverse", lambda x: x.transpose(), lambda x: x.permute(2, 1, 0), inputs=[I(2, 3, 4)])
case("transpose_negative", lambda x: x.transpose(-1, 0, -2), lambda x: x.permute(2, 0, 1),
     inputs=[I(2, 3, 4)])
case("transpose_function", lambda x: cr.transpose(x, (1, 0)), lambda x: x.permute(1, 0), inputs=[I(3, 4)])
case("permute", lambda x: x.permute(1, 2, 0), inputs=[I(2, 3, 4)])
case("permute_function", lambda x: cr.permute(x, (2, 1, 0)), lambda x: torch.permute(x, (2, 1, 0)),
     inputs=[I(2, 3, 4)])
case("swapaxes", lambda x: x.swapaxes(0, 2), inputs=[I(2, 3, 4)])
case("swapaxes_negative", lambda x: cr.swapaxes(x, -1, 1), lambda x: torch.swapaxes(x, -1, 1),
     inputs=[I(2, 3, 4)])
case("T_2d", lambda x: x.T, inputs=[I(3, 4)])
case("T_3d", lambda x: x.T, lambda x: x.permute(2, 1, 0), inputs=[I(2, 3, 4)])
case("T_1d", lambda x: x.T, lambda x: x, inputs=[I(4)])
case("squeeze_all", lambda x: x.squeeze(), inputs=[I(1, 3, 1, 2)])
case("squeeze_axis", lambda x: x.squeeze(2), lambda x: x.squeeze(2), inputs=[I(1, 3, 1, 2)])
case("squeeze_negative", lambda x: cr.squeeze(x, -4), lambda x: torch.squeeze(x, -4), inputs=[I(1, 3, 1, 2)])
case("squeeze_not_one", lambda x: x.squeeze(1), lambda x: x.squeeze(1), inputs=[I(1, 3, 1, 2)])
case("squeeze_tuple", lambda x: x.squeeze((0, 2)), lambda x: x.squeeze((0, 2)), inputs=[I(1, 3, 1, 2)])
case("squeeze_to_0d", lambda x: x.squeeze(), inputs=[I(1, 1)])
case("unsqueeze_0", lambda x: x.unsqueeze(0), inputs=[I(3, 4)])
case("unsqueeze_negative", lambda x: cr.unsqueeze(x, -1), lambda x: torch.unsqueeze(x, -1), inputs=[I(3, 4)])
case("unsqueeze_middle", lambda x: x.unsqueeze(1), inputs=[I(3, 4)])
case("unsqueeze_0d", lambda x: x.unsqueeze(0), inputs=[I()])
case("expand", lambda x: x.expand(3, 4), inputs=[I(3, 1)])
case("expand_minus1", lambda x: x.expand(2, -1, 4), lambda x: x.expand(2, -1, 4), inputs=[I(3, 1)])
case("expand_tuple", lambda x: cr.expand(x, (2, 3, 4)), lambda x: x.expand((2, 3, 4)), inputs=[I(4)])
case("expand_0d", lambda x: x.expand(2, 3), inputs=[I()])
case("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)), lambda x: torch.broadcast_to(x, (2, 3, 4)),
     inputs=[I(1, 4)])
case("broadcast_to_function", lambda x: cr.broadcast_to(x, (3, 4)), lambda x: torch.broadcast_to(x, (3, 4)),
     inputs=[I(3, 1)])

# __getitem__ (torch has no negative slice steps: those are written as an index array there)
_R5 = np.arange(5)
_IDX_REPEAT = np.array([0, 2, 0, 0, 4])
_IDX_2D = np.array([[1, 1], [0, 2]])
_MASK = np.random.default_rng(5).random((3, 4)) < 0.5
_ROWMASK = np.array([True, False, True])
INDEXES = [
    ("int", (5, 3), lambda x: x[1], None),
    ("negative_int", (5, 3), lambda x: x[-1], None),
    ("int_int", (5, 3), lambda x: x[2, 1], None),
    ("slice", (5, 3), lambda x: x[1:4], None),
    ("slice_step", (5, 3), lambda x: x[::2], None),
    ("slice_step_both", (5, 6), lambda x: x[1::2, 4:0:-2], lambda x: x[1::2][:, _t(np.arange(6)[4:0:-2])]),
    ("negative_step", (5, 3), lambda x: x[::-1], lambda x: x.flip(0)),
    ("negative_step_range", (5, 3), lambda x: x[4:0:-2], lambda x: x[_t(_R5[4:0:-2])]),
    ("none", (5, 3), lambda x: x[None, :, None], None),
    ("ellipsis", (2, 3, 4), lambda x: x[..., 1], None),
    ("ellipsis_none_slice", (2, 3, 4), lambda x: x[0, ..., None, 1:3], None),
    ("int_array_repeated", (5, 3), lambda x: x[_IDX_REPEAT], lambda x: x[_t(_IDX_REPEAT)]),
    ("list_repeated", (5, 3), lambda x: x[[1, 1, 3]], lambda x: x[[1, 1, 3]]),
    ("int_array_2d", (5, 3), lambda x: x[_IDX_2D], lambda x: x[_t(_IDX_2D)]),
    ("int_array_pair", (5, 3), lambda x: x[_IDX_REPEAT, _IDX_REPEAT % 3],
     lambda x: x[_t(_IDX_REPEAT), _t(_IDX_REPEAT % 3)]),
    ("int_array_and_slice", (5, 3), lambda x: x[1:, _IDX_2D[0]], lambda x: x[1:, _t(_IDX_2D[0])]),
    ("bool_mask", (3, 4), lambda x: x[_MASK], lambda x: x[_t(_MASK)]),
    ("bool_rows", (3, 4), lambda x: x[_ROWMASK], lambda x: x[_t(_ROWMASK)]),
    ("bool_tensor_mask", (3, 4), lambda x: x[x > 0], lambda x: x[x > 0]),
    ("int_0d_result", (4,), lambda x: x[2], None),
    ("empty_slice", (5, 3), lambda x: x[2:2], None),
    ("of_empty", (0, 3), lambda x: x[:, 1], None),
]
for tag, shape, f, tf in INDEXES:
    # a mask made from the values selects other elements of their absolute values: those cases only move values
    case(f"getitem_{tag}", f, tf, inputs=[I(*shape)], magnitude=T.exact if tag == "bool_tensor_mask" else T.linear)

case("concatenate_axis0", lambda a, b: cr.concatenate([a, b]), lambda a, b: torch.cat([a, b]),
     inputs=[I(2, 3), I(4, 3)])
case("concatenate_axis_neg", lambda a, b, c: cr.concatenate([a, b, c], axis=-1),
     lambda a, b, c: torch.cat([a, b, c], dim=-1), inputs=[I(2, 3), I(2, 1), I(2, 2)])
case("cat_3d_axis1", lambda a, b: cr.cat((a, b), axis=1), lambda a, b: torch.cat((a, b), dim=1),
     inputs=[I(2, 1, 4), I(2, 3, 4)])
case("concatenate_with_empty", lambda a, b: cr.concatenate([a, b]), lambda a, b: torch.cat([a, b]),
     inputs=[I(0, 3), I(2, 3)])
case("concatenate_same_twice", lambda a: cr.concatenate([a, a * 2]), lambda a: torch.cat([a, a * 2]),
     inputs=[I(2, 3)])
case("stack_axis0", lambda a, b, c: cr.stack([a, b, c]), lambda a, b, c: torch.stack([a, b, c]),
     inputs=[I(2, 3), I(2, 3), I(2, 3)])
case("stack_axis1", lambda a, b: cr.stack([a, b], axis=1), lambda a, b: torch.stack([a, b], dim=1),
     inputs=[I(2, 3), I(2, 3)])
case("stack_axis_neg", lambda a, b: cr.stack([a, b], axis=-1), lambda a, b: torch.stack([a, b], dim=-1),
     inputs=[I(2, 3), I(2, 3)])
case("stack_0d", lambda a, b: cr.stack([a, b]), lambda a, b: torch.stack([a, b]), inputs=[I(), I()])
case("split_int_uneven", lambda x: cr.split(x, 2), lambda x: torch.split(x, 2), inputs=[I(5, 3)])
case("split_int_even_axis1", lambda x: x.split(2, axis=1), lambda x: torch.split(x, 2, dim=1),
     inputs=[I(3, 4)])
case("split_sizes", lambda x: x.split([1, 3, 1]), lambda x: torch.split(x, [1, 3, 1]), inputs=[I(5, 2)])
case("split_sizes_axis_neg", lambda x: cr.split(x, [2, 0, 2], axis=-1),
     lambda x: torch.split(x, [2, 0, 2], dim=-1), inputs=[I(2, 3, 4)])
case("split_larger_than_axis", lambda x: cr.split(x, 7), lambda x: torch.split(x, 7), inputs=[I(5, 2)])
PADS = [
    ("int", (3, 4), 1, 0),
    ("pair", (3, 4), (1, 2), 0),
    ("per_axis", (3, 4), ((0, 2), (3, 1)), 0),
    ("value", (2, 3), ((1, 0), (0, 2)), 0.5),
    ("3d", (2, 3, 4), ((1, 0), (0, 0), (2, 1)), -1.0),
    ("1d", (4,), (2, 3), 0),
    ("empty", (0, 3), ((1, 1), (0, 1)), 0),
]
for tag, shape, pw, v in PADS:
    case(f"pad_{tag}", lambda x, pw=pw, v=v: x.pad(pw, value=v),
         lambda x, pw=pw, v=v: TF.pad(x, _torch_pad(pw, x.ndim), value=v), inputs=[I(*shape)])
case("pad_method", lambda x: x.pad(((1, 1), (2, 0))), lambda x: TF.pad(x, [2, 0, 1, 1]), inputs=[I(2, 3)])

# float32 -> float64: the output is float64, the gradient comes back as float32
case("astype_float64", lambda x: x.astype(cr.float64), lambda x: x.to(torch.float64), inputs=[I(3, 4)])
case("double", lambda x: x.double() * 2, lambda x: x.double() * 2, inputs=[I(3, 4)])
case("astype_string", lambda x: x.astype("float64").exp(), lambda x: x.double().exp(),
     inputs=[I(2, 3, domain=small)], magnitude=T.elementwise)

# ---- composites (several ops in one graph: gradients meet and add) ---------------------------------

section(T.elementwise)



def _reuse_input_terms(torch_fn, arrays, upstreams=None):
    """x e^x - sum(x, axis=0) / 3: terms |x| e^x (exp rounded relative to 1 + |x|) and sum |x| / 3; the backward's
    g (e^x + x e^x) and sum |g| / 3."""
    x = np.asarray(arrays[0], dtype=np.float64)
    e = np.exp(x) * (1 + np.abs(x))
    fwd = np.abs(x) * e + np.abs(x).sum(axis=0, keepdims=True) / 3
    if upstreams is None:
        return [fwd], []
    g = np.abs(np.asarray(upstreams[0], dtype=np.float64))
    return [fwd], [g * e * (1 + np.abs(x)) + g.sum(axis=0, keepdims=True) / 3]


_PICK = (np.arange(3), np.array([0, 2, 1]))


def _cross_entropy_like_terms(torch_fn, arrays, upstreams=None):
    """-mean(log_softmax(z)[picked]): the log-softmax's terms at the picked elements, averaged; its backward is the
    log-softmax's for an upstream gradient of -g / 3 at the picked elements."""
    fwd, _ = T.log_softmax_terms(arrays[0], axis=1)
    if upstreams is None:
        return [fwd[_PICK].mean()], []
    u = np.zeros(arrays[0].shape)
    u[_PICK] = np.abs(upstreams[0]) / 3
    return [fwd[_PICK].mean()], [T.log_softmax_terms(arrays[0], u, axis=1)[1]]


# relu(|z|) = |z|: the products and sums on absolute values bound every term relu lets through
case("mlp_layer", lambda x, w, b: cr.relu(x @ w + b).sum(axis=1),
     lambda x, w, b: torch.relu(x @ w + b).sum(dim=1), inputs=[I(4, 3), I(3, 5), I(5)], gradcheck=True,
     magnitude=T.linear)
case("reuse_input", lambda x: x * x.exp() - x.sum(axis=0, keepdims=True) / 3, inputs=[I(3, 4, domain=small)],
     magnitude=_reuse_input_terms)
case("cross_entropy_like", lambda z: -(z.log_softmax(axis=1)[_PICK]).mean(),
     lambda z: -(z.log_softmax(dim=1)[torch.arange(3), torch.tensor([0, 2, 1])]).mean(), inputs=[I(3, 4)],
     magnitude=_cross_entropy_like_terms)

# ---- fused layers and losses (their other options: tests/ops/test_fused*.py and tests/nn) -------------------

section(T.linear)
case("linear", F.linear, TF.linear, inputs=[I(4, 5), I(3, 5), I(3)])
case("linear_3d_no_bias", lambda x, w: F.linear(x, w), lambda x, w: TF.linear(x, w), inputs=[I(2, 3, 5), I(4, 5)])
case("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda x, w, b: TF.conv2d(x, w, b, padding=1),
     inputs=[I(2, 2, 5, 4), I(3, 2, 3, 3), I(3)])
case("conv2d_stride_groups", lambda x, w: F.conv2d(x, w, stride=2, groups=2),
     lambda x, w: TF.conv2d(x, w, stride=2, groups=2), inputs=[I(2, 4, 5, 5), I(4, 2, 2, 2)])
case("avg_pool2d", lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2), inputs=[I(2, 3, 4, 6)])
case("avg_pool2d_overlap_pad", lambda x: F.avg_pool2d(x, 3, 2, 1), lambda x: TF.avg_pool2d(x, 3, 2, 1),
     inputs=[I(1, 2, 5, 5)])
case("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)), lambda x: TF.adaptive_avg_pool2d(x, (2, 3)),
     inputs=[I(2, 2, 5, 7)])
_EMBED = np.array([[1, 4, 1], [0, 1, 3]])  # row 1 three times: its gradients add
case("embedding", lambda w: F.embedding(_EMBED, w), lambda w: TF.embedding(_t(_EMBED), w), inputs=[I(5, 3)])
_CLASSES = np.array([2, 0, 1, 2])
case("nll_loss", lambda x: F.nll_loss(x, _CLASSES), lambda x: TF.nll_loss(x, _t(_CLASSES)), inputs=[I(4, 3)])

section(T.exact)  # a max-pool selects: distinct values keep every window's maximum clear
case("max_pool2d", lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2), inputs=[I(2, 2, 4, 6, domain=distinct)])
case("max_pool2d_overlap_pad", lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: TF.max_pool2d(x, 3, 2, 1),
     inputs=[I(1, 2, 5, 5, domain=distinct)])

section(T.elementwise)
case("elu", F.elu, TF.elu, inputs=[I(3, 4, domain=nonzero)])
case("elu_alpha", lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5), inputs=[I(3, 4, domain=nonzero)])
case("silu", F.silu, TF.silu, inputs=[I(3, 4)])
case("silu_wide", F.silu, TF.silu, inputs=[I(10, domain=lambda r, s: r.uniform(-8, 8, s))])

_RUNNING = (np.array([0.5, -1.0, 0.2], np.float32), np.array([2.0, 0.3, 1.0], np.float32))
case("batch_norm_train", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
     lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True), inputs=[I(4, 3, 2), I(3), I(3)],
     magnitude=T.normalization((0, 2), channel_axis=1))
case("batch_norm_eval", lambda x, w, b: F.batch_norm(x, *_RUNNING, w, b),
     lambda x, w, b: TF.batch_norm(x, *map(_t, _RUNNING), w, b), inputs=[I(4, 3), I(3), I(3)],
     magnitude=T.normalization((0,), channel_axis=1, stats=_RUNNING))
case("layer_norm", lambda x, w, b: F.layer_norm(x, (2, 4), w, b), lambda x, w, b: TF.layer_norm(x, (2, 4), w, b),
     inputs=[I(3, 2, 4), I(2, 4), I(2, 4)], magnitude=T.normalization((1, 2)))


def _loss_rule(fn, target, **kwargs):
    """The magnitude rule of the loss ``fn`` (torch.nn.functional's name) of one input and a constant target."""

    def magnitudes(torch_fn, arrays, upstreams=None):
        mag, grads = T.loss_magnitudes(fn, [arrays[0], target], kwargs, None if upstreams is None else upstreams[0])
        return [mag], grads[:1] if upstreams is not None else []

    return magnitudes


_WEIGHTS = np.array([0.5, 2.0, 1.0], np.float32)
_IGNORED = np.array([2, -1, 1, 0])
case("cross_entropy", lambda x: F.cross_entropy(x, _CLASSES), lambda x: TF.cross_entropy(x, _t(_CLASSES)),
     inputs=[I(4, 3)], magnitude=_loss_rule("cross_entropy", _CLASSES))
case("cross_entropy_options",
     lambda x: F.cross_entropy(x, _IGNORED, weight=_WEIGHTS, ignore_index=-1, label_smoothing=0.1, reduction="sum"),
     lambda x: TF.cross_entropy(x, _t(_IGNORED), weight=_t(_WEIGHTS), ignore_index=-1, label_smoothing=0.1,
                                reduction="sum"),
     inputs=[I(4, 3)],
     magnitude=_loss_rule("cross_entropy", _IGNORED, weight=_WEIGHTS, ignore_index=-1, label_smoothing=0.1,
                          reduction="sum"))
_BINARY = (np.random.default_rng(13).random((3, 4)) < 0.5).astype(np.float32)
case("binary_cross_entropy", lambda p: F.binary_cross_entropy(p, _BINARY),
     lambda p: TF.binary_cross_entropy(p, _t(_BINARY)), inputs=[I(3, 4, domain=probability)],
     magnitude=_loss_rule("binary_cross_entropy", _BINARY))
case("binary_cross_entropy_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, _BINARY, reduction="none"),
     lambda x: TF.binary_cross_entropy_with_logits(x, _t(_BINARY), reduction="none"), inputs=[I(3, 4)],
     magnitude=_loss_rule("binary_cross_entropy_with_logits", _BINARY, reduction="none"))

# further sections live in their own files (cases_*.py beside this one); each imports this module's helpers
# and adds its cases with ``case`` as it is imported here, after everything above is defined
import importlib.util  # noqa: E402
import pathlib  # noqa: E402

for _path in sorted(pathlib.Path(__file__).parent.glob("cases_*.py")):
    # by path, under a name of this folder's: tests/conformance has cases_*.py files of its own
    _spec = importlib.util.spec_from_file_location(f"op_{_path.stem}", _path)
    _spec.loader.exec_module(importlib.util.module_from_spec(_spec))

NAMES = [c.name for c in CASES]
assert len(NAMES) == len(set(NAMES)), "case names must be unique"
CASE_BY_NAME = {c.name: c for c in CASES}
