"""Tolerances that follow the size of what was summed, not the size of the result (DESIGN convention 11).

A floating-point result y = sum_k t_k (a dot product, a reduction, a convolution, or the few terms of
an elementwise formula such as 1 + erf(x)) carries a rounding error of the order of eps * sum_k |t_k|:
the *magnitude* M of what was summed. Where the terms cancel, y is small and its error is not, so no
tolerance in units of |y| (rtol) or in fixed units (atol) fits every element of every test. Two
correct implementations (chainrule and PyTorch, one BLAS kernel and another, one thread count and
another) sum in different orders and agree to a multiple of eps * M; ``assert_close`` checks that,
element by element:

    |actual - expected| <= C * eps * M,    C = 8.

Why C = 8. A sum of n terms in any order is off by at most (n - 1) u M (u = eps / 2; Higham, Accuracy
and Stability of Numerical Algorithms, 2nd ed., section 4.2), so two of them differ by at most
(n - 1) eps M: C = 8 covers any two orders outright for up to 9 terms (the elementwise formulas, small
reductions). For long sums that worst case needs every rounding to push the same way; rounding errors
behave as independent random variables of size at most u (Higham and Mary, SIAM J. Sci. Comput. 41,
2019), and for terms of random sign, as these seeded tests draw, the error is a random walk weighted
by the partial sums, of standard deviation about 0.6 u M whatever n and the order (sequential,
blocked as a BLAS kernel sums, pairwise as NumPy does): two sums differ by some 0.45 eps M typically,
and C = 8 is some 18 standard deviations away. The failure that led here (a sum of 300 products, with
PyTorch on SSE kernels: 5.9e-6 against atol=2e-6) was within 0.31 eps M. A transcendental function is
within a few ulps in each library, inside 8 too. And the bound stays tight: 8 * eps32 * M is about
1e-6 * M, so a wrong sign, a missing or a doubled term larger than a millionth of the magnitude still
fails (``tests/ops/test_tolerance.py`` checks that).

M is computed in float64 from the operands' absolute values, by the rule of the op (the functions
below): for a product or any multilinear op, the op itself on absolute values (|a| @ |b|, the
convolution of |x| with |w|, the sum of |x|); for an elementwise op, its inputs, its output and the
constants of size one in its formula; for the fused ops (softmax, log-softmax, logsumexp, variance,
normalisation, cross-entropy), the terms their formulas add. A rule gives the magnitudes of an op's
outputs and, for an upstream gradient, of its inputs' gradients (each a sum over the output elements
that use them).
"""

import copy
import math

import numpy as np
import torch
import torch.nn.functional as TF

C = 8  # see the module docstring


def eps(dtype):
    """The machine epsilon of a floating dtype (that of float32 for any other dtype: integers are exact)."""
    dtype = np.dtype(dtype)
    return float(np.finfo(dtype if dtype.kind == "f" else np.float32).eps)


def bound(magnitude, dtype=np.float32):
    """The largest difference two correct computations of a value of this magnitude may show."""
    return C * eps(dtype) * np.asarray(magnitude, dtype=np.float64)


def _numpy(a):
    if isinstance(a, torch.Tensor):
        return a.detach().numpy()
    if hasattr(a, "numpy") and not isinstance(a, np.ndarray):  # a chainrule Tensor
        return a.numpy()
    return np.asarray(a)


def assert_close(actual, expected, magnitude, err_msg=""):
    """Assert |actual - expected| <= C * eps * magnitude elementwise (eps of ``actual``'s dtype).

    NaN must meet NaN and an infinity the same infinity. On failure the message names the worst element,
    both values, the magnitude and the bound."""
    a, e = _numpy(actual), _numpy(expected)
    m = np.broadcast_to(np.asarray(_numpy(magnitude), dtype=np.float64), e.shape)
    assert a.shape == e.shape, f"{err_msg}: shape {a.shape}, expected {e.shape}"
    if a.size == 0:
        return
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore"):
        vacuous = ~np.isfinite(m) & np.isfinite(e64)
    assert not vacuous.any(), f"{err_msg}: the magnitude of a finite value is not finite: the rule is wrong"
    tol = bound(m, a.dtype)
    with np.errstate(invalid="ignore"):
        diff = np.abs(a64 - e64)
        ok = (diff <= tol) | (a64 == e64) | (np.isnan(a64) & np.isnan(e64))
    if ok.all():
        return
    bad = np.argwhere(~ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(ok, 0, np.nan_to_num(diff / np.maximum(tol, np.finfo(np.float64).tiny), nan=np.inf))
    worst = np.unravel_index(np.argmax(excess), e.shape)
    raise AssertionError(
        f"{err_msg}: {len(bad)} of {e.size} elements differ by more than {C} * eps * magnitude; worst at "
        f"{tuple(int(i) for i in worst)}: {a64[worst]!r} against {e64[worst]!r} (difference {diff[worst]:.3g}, "
        f"magnitude {m[worst]:.3g}, bound {tol[worst]:.3g})"
    )


# ---- magnitudes by rule -----------------------------------------------------------------------------------------
#
# A rule is called as rule(torch_fn, arrays, upstreams) with the op's float inputs (NumPy arrays) and, for the
# backward, one upstream gradient per output (or None): it returns (magnitudes of the outputs, magnitudes of the
# inputs' gradients), NumPy float64 arrays of their shapes (the second list empty without upstreams).


def _t64(a, requires_grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _as_list(out):
    return list(out) if isinstance(out, tuple | list) else [out]


def _grads(outs, leaves, upstreams):
    """The gradients of ``leaves`` for ``upstreams`` (zeros where a leaf takes no part)."""
    pairs = [(o, g) for o, g in zip(outs, upstreams) if o.requires_grad]
    if not pairs:
        return [np.zeros(x.shape) for x in leaves]
    got = torch.autograd.grad([o for o, _ in pairs], leaves, [g for _, g in pairs], allow_unused=True)
    return [np.zeros(x.shape) if g is None else g.numpy() for g, x in zip(got, leaves)]


def linear(torch_fn, arrays, upstreams=None):
    """For an op that is linear (or affine) in each input (a product, a sum, a convolution, a gather, a move):
    the op on the inputs' absolute values, and its gradients at the absolute values of the upstream gradients.

    Each output element is then the sum of the absolute values of the terms it adds, and each gradient element
    that of the terms its backward adds. For a chain of such ops it also bounds the errors each carries into
    the next; an activation f with |f(z)| <= |z| and slope at most 1 between them (relu, tanh) is bounded by
    leaving it out (relu(|z|) = |z| does so by itself), a max-pool by the sum over its window."""
    xs = [_t64(np.abs(a), requires_grad=upstreams is not None) for a in arrays]
    outs = _as_list(torch_fn(*xs))
    mags = [np.abs(o.detach().numpy()) for o in outs]
    if upstreams is None:
        return mags, []
    grads = _grads(outs, xs, [_t64(np.abs(g)) for g in upstreams])
    return mags, [np.abs(g) for g in grads]


def elementwise(torch_fn, arrays, upstreams=None):
    """For an elementwise op y = f(x1, x2, ...) with broadcasting: the terms of an elementwise formula are of
    the size of its inputs, its output and constants of size one (1 + e^-x, 1 - t^2, (1 + erf(x)) / 2), so the
    output's magnitude is |y| + sum_i |x_i| + 1. The backward's terms are the upstream gradient and its product
    with the local derivative, and a derivative's formula is exact for an input a few ulps away, x (1 + d),
    which moves it by |x f''(x)| d: |g| (1 + |df/dx_i| + |x_i d2f/dx_i2|), summed over the elements that
    broadcast from x_i."""
    x64 = [np.asarray(a, dtype=np.float64) for a in arrays]
    shape = np.broadcast_shapes(*(a.shape for a in x64))
    full = [_t64(np.broadcast_to(a, shape), requires_grad=True) for a in x64]
    outs = _as_list(torch_fn(*full))
    (y,) = outs
    if y.shape != shape:
        raise ValueError(f"elementwise: an output of shape {tuple(y.shape)} from inputs of shape {shape}")
    mag = np.abs(y.detach().numpy()) + sum(np.abs(a.detach().numpy()) for a in full) + 1
    if upstreams is None:
        return [mag], []
    (g,) = upstreams
    g = np.abs(np.asarray(g, dtype=np.float64))
    grads = []
    if y.requires_grad:
        first = torch.autograd.grad(y.sum(), full, create_graph=True, allow_unused=True)
    else:  # a constant result (a step): no derivative
        first = [None] * len(full)
    for x, d in zip(full, first):
        if d is None:
            grads.append(np.zeros(shape))
            continue
        second = torch.autograd.grad(d.sum(), x, retain_graph=True, allow_unused=True)[0] if d.requires_grad else None
        curv = 0 if second is None else np.abs(x.detach().numpy() * second.numpy(force=True))
        grads.append(g * (1 + np.abs(d.detach().numpy()) + curv))
    return [mag], [sum_to(m, a.shape) for m, a in zip(grads, x64)]


def exact(torch_fn, arrays, upstreams=None):
    """For an op that only selects, moves or scales (max, max-pooling, argmax): the output's magnitude is its
    value; the backward routes each upstream gradient to the element it came from (scaled, as g / count at a
    tie), and sums those that meet: its magnitude is the same routing of |g|, at the real inputs."""
    xs = [_t64(a, requires_grad=upstreams is not None) for a in arrays]
    outs = _as_list(torch_fn(*xs))
    mags = [np.abs(o.detach().numpy().astype(np.float64)) for o in outs]
    if upstreams is None:
        return mags, []
    return mags, [np.abs(g) for g in _grads(outs, xs, [_t64(np.abs(g)) for g in upstreams])]


def sum_to(a, shape):
    """``a`` summed over the axes that broadcast to it from ``shape`` (the engine's sum-back, in float64)."""
    lead = a.ndim - len(shape)
    a = a.sum(axis=tuple(range(lead))) if lead else a
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and a.shape[i] != 1)
    return a.sum(axis=axes, keepdims=True) if axes else a


# ---- fused ops: the terms their formulas add ---------------------------------------------------------------------


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    return tuple(a % ndim for a in ((axis,) if isinstance(axis, int) else axis)) if ndim else ()


def softmax_terms(x, g=None, axis=-1):
    """softmax: s = e / sum(e), e = exp(x - max), whose argument is rounded by u |x - max|, a relative error of
    exp; its backward s g - s sum(s g) (ours and PyTorch's) adds terms s |g| and s sum(s |g|)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.copy(), (None if g is None else x.copy())
    ax = _axes(axis, x.ndim)
    m = x.max(axis=ax, keepdims=True)
    e = np.exp(x - m)
    s = e / e.sum(axis=ax, keepdims=True)
    rel = 1 + np.abs(x - m)
    if g is None:
        return s * rel, None
    sg = s * np.abs(g)
    return s * rel, (sg + s * sg.sum(axis=ax, keepdims=True)) * rel


def log_softmax_terms(x, g=None, axis=-1):
    """log-softmax: x - max - log(sum(exp(x - max))), terms |x|, |max| and |lse| (plus 1 for the log's rounding);
    its backward g - exp(out) sum(g): terms |g| and exp(out) sum |g|, exp(out) rounded relative to 1 + |out|."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.copy(), (None if g is None else x.copy())
    ax = _axes(axis, x.ndim)
    m = x.max(axis=ax, keepdims=True)
    lse = m + np.log(np.exp(x - m).sum(axis=ax, keepdims=True))
    out = x - lse
    fwd = 1 + np.abs(x) + np.abs(m) + np.abs(lse)
    if g is None:
        return fwd, None
    g = np.abs(np.asarray(g, dtype=np.float64))
    return fwd, g + np.exp(out) * (1 + np.abs(out)) * g.sum(axis=ax, keepdims=True)


def logsumexp_terms(x, g=None, axis=None, keepdims=False):
    """logsumexp: max + log(sum(exp(x - max))): terms |max|, |lse - max| and the arguments of exp, up to 2 max |x|;
    its backward g exp(x - out), rounded relative to 1 + |x| + |out|."""
    x = np.asarray(x, dtype=np.float64)
    ax = _axes(axis, x.ndim)
    if x.size == 0:
        out = np.full([1 if i in ax else n for i, n in enumerate(x.shape)], -np.inf)
        fwd = np.ones(out.shape)
        return (fwd if keepdims else fwd.reshape([n for i, n in enumerate(x.shape) if i not in ax])), (
            None if g is None else np.zeros(x.shape)
        )
    m = x.max(axis=ax, keepdims=True)
    out = m + np.log(np.exp(x - m).sum(axis=ax, keepdims=True))
    fwd = 1 + np.abs(out) + 2 * np.abs(x).max(axis=ax, keepdims=True)
    fwd_shaped = fwd if keepdims else fwd.reshape([n for i, n in enumerate(x.shape) if i not in ax])
    if g is None:
        return fwd_shaped, None
    g = np.abs(np.asarray(g, dtype=np.float64)).reshape(out.shape)
    return fwd_shaped, g * np.exp(x - out) * (1 + np.abs(x) + np.abs(out))


def variance_terms(x, g=None, axis=None, ddof=0, keepdims=False, std=False):
    """var = sum((x - mean)^2) / (n - ddof): terms (|x| + |mean|)^2 / (n - ddof), each deviation rounded relative
    to |x| + |mean|; its backward 2 (x - mean) g / (n - ddof), less the mean of that (zero, but summed with
    cancellation in a composite). std = sqrt(var) turns an error d of var into d / (2 std)."""
    x = np.asarray(x, dtype=np.float64)
    ax = _axes(axis, x.ndim)
    n = math.prod(x.shape[a] for a in ax)
    k = n - ddof
    mu = x.mean(axis=ax, keepdims=True)
    dev = np.abs(x) + np.abs(mu)
    var = ((x - mu) ** 2).sum(axis=ax, keepdims=True) / k
    fwd = (dev**2).sum(axis=ax, keepdims=True) / k
    sd = np.sqrt(var)
    if std:
        fwd = fwd / (2 * sd) + sd
    out_shape = [n for i, n in enumerate(x.shape) if i not in ax]
    fwd_shaped = fwd if keepdims else fwd.reshape(out_shape)
    if g is None:
        return fwd_shaped, None
    g = np.abs(np.asarray(g, dtype=np.float64)).reshape(var.shape)
    terms = 2 * g * (dev + dev.mean(axis=ax, keepdims=True)) / k
    if std:
        terms = terms / (2 * sd) + g * np.abs(x - mu) / (k * sd) * (fwd / sd)
    return fwd_shaped, terms


def normalization(axes, channel_axis=None, stats=None, eps=1e-5):
    """The rule of batch / layer normalisation, y = w xhat + b with xhat = (x - mean) / sqrt(var + eps), the
    statistics over ``axes`` (of the batch, or the running ``stats`` = (mean, var) when given); its inputs are
    x, then the weight and the bias where there are some, each of shape (C,) along ``channel_axis`` (batch
    norm) or of the normalised shape (layer norm, ``channel_axis`` None).

    xhat's rounding is that of x - mean, relative to |x| + |mean|, and of the variance's terms (``variance_terms``)
    relative to var: Mx = (|x| + |mean|) / std + |xhat| (1 + mean((|x| + |mean|)^2) / var). The backward,
    w / std (g - mean(g) - xhat mean(g xhat)) with batch statistics (w g / std with running ones), adds the terms
    |g|, mean |g| and Mx mean(|g| Mx); the weight's gradient sums g xhat (terms |g| Mx), the bias's g."""

    def rule(torch_fn, arrays, upstreams=None):
        x = np.asarray(arrays[0], dtype=np.float64)
        params = [np.abs(np.asarray(a, dtype=np.float64)) for a in arrays[1:]]
        shape = [1] * x.ndim
        if channel_axis is not None:
            shape[channel_axis] = x.shape[channel_axis]
        elif params:
            k = params[0].ndim
            shape = [1] * (x.ndim - k) + list(x.shape[x.ndim - k :])
        w = params[0].reshape(shape) if params else 1.0
        b = params[1].reshape(shape) if len(params) > 1 else 0.0
        if stats is None:
            mu = x.mean(axis=axes, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
        else:
            mu, var = (np.asarray(a, dtype=np.float64).reshape(shape) for a in stats)
        dev = np.abs(x) + np.abs(mu)
        sd = np.sqrt(var + eps)
        xhat = (x - mu) / sd
        rel = 1 + (dev**2).mean(axis=axes, keepdims=True) / (var + eps) if stats is None else 1.0
        mx = dev / sd + np.abs(xhat) * rel
        fwd = w * mx + np.abs(w * xhat) + b
        if upstreams is None:
            return [fwd], []
        g = np.abs(np.asarray(upstreams[0], dtype=np.float64))
        gw = g * w
        if stats is None:
            gx = (gw + gw.mean(axis=axes, keepdims=True) + 2 * mx * (gw * mx).mean(axis=axes, keepdims=True)) * rel / sd
        else:  # a product, g w / std
            gx = gw / sd
        if not params:
            return [fwd], [gx]
        lead = tuple(i for i in range(x.ndim) if shape[i] == 1)  # the axes the weight and bias broadcast over
        gparams = [(g * mx).sum(axis=lead), g.sum(axis=lead)]
        return [fwd], [gx] + [m.reshape(a.shape) for m, a in zip(gparams, params)]

    return rule


def cross_entropy_terms(x, target, g=None, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    """Cross-entropy from logits x (N, C, ...) or (C,), for class indices or probabilities as targets.

    The loss of each target is -sum_c q_c log_softmax(x)_c, its distribution q (the one-hot target or the given
    probabilities, smoothed, weighted, zero where ignored) times the log-softmax's terms (``log_softmax_terms``);
    a mean divides by the total weight of the targets (index targets) or their number (probabilities). The
    backward is the log-softmax's for the upstream q |g| / total; a probability target's gradient has the terms
    w (1 - smoothing) |log_softmax| |g| / total. Returns (magnitude of the loss, [of x's gradient, of the
    target's]) with the second list empty without ``g``."""
    x = np.asarray(x, dtype=np.float64)
    target = np.asarray(target)
    unbatched = x.ndim == 1
    if unbatched:
        x, target = x[None], target[None]
    n_classes = x.shape[1]
    cshape = (1, n_classes) + (1,) * (x.ndim - 2)
    w = np.ones(cshape) if weight is None else np.abs(np.asarray(weight, dtype=np.float64)).reshape(cshape)
    eps = float(label_smoothing)
    if target.dtype.kind == "f":  # probabilities
        q = w * ((1 - eps) * target.astype(np.float64) + eps / n_classes)
        total = float(np.prod(x.shape) // n_classes)
    else:
        valid = target != ignore_index
        y = np.where(valid, target, 0)
        onehot = (np.arange(n_classes).reshape(cshape) == y[:, None]).astype(np.float64)
        q = w * ((1 - eps) * onehot + eps / n_classes) * valid[:, None]
        total = float((w * onehot * valid[:, None]).sum())
    lsm, _ = log_softmax_terms(x, axis=1)
    per = (q * lsm).sum(axis=1)
    if reduction == "none":
        fwd, scale = per, 1.0
    else:
        scale = 1.0 / total if reduction == "mean" and total else 1.0
        fwd = per.sum() * scale
    if unbatched and reduction == "none":
        fwd = fwd[0]
    if g is None:
        return fwd, []
    ga = np.abs(np.asarray(g, dtype=np.float64)) * scale
    ga = ga.reshape(per.shape if reduction == "none" else ())
    ga = ga[:, None] if reduction == "none" else ga
    gx = log_softmax_terms(x, q * ga, axis=1)[1]
    gt = w * (1 - eps) * lsm * ga
    return fwd, [gx[0] if unbatched else gx, gt[0] if unbatched else gt]


def from_terms(terms, **options):
    """A rule from one of the ``*_terms`` functions of a one-input op above (``options`` are the op's)."""

    def magnitudes(torch_fn, arrays, upstreams=None):
        fwd, grad = terms(arrays[0], None if upstreams is None else upstreams[0], **options)
        return [fwd], ([] if upstreams is None else [grad])

    return magnitudes


def reduced(none_fn, reduction, rule=elementwise):
    """The rule of a loss that reduces an elementwise loss ``none_fn`` (its reduction='none' form, on torch
    tensors) by ``reduction``: the elementwise magnitudes summed (and divided by their number for a mean);
    the backward is the elementwise one for the upstream gradient spread as the reduction spreads it."""

    def magnitudes(torch_fn, arrays, upstreams=None):
        shape = tuple(none_fn(*[_t64(a) for a in arrays]).shape)
        scale = 1.0 / max(math.prod(shape), 1) if reduction == "mean" else 1.0
        spread = None
        if upstreams is not None:
            g = np.abs(np.asarray(upstreams[0], dtype=np.float64))
            spread = [g if reduction == "none" else np.full(shape, float(g) * scale)]
        (mag,), grads = rule(none_fn, arrays, spread)
        return [mag if reduction == "none" else mag.sum() * scale], grads

    return magnitudes


def module_magnitudes(rule, module, inputs, upstream, constants=()):
    """``rule`` applied to a torch module as a function of its float inputs and its parameters (a float64 copy of
    it: the module's running statistics stay put); ``constants`` (class indices, embedding indices) follow the
    float inputs in the call. Returns (magnitude of the output, [of each input's gradient], {parameter name: of
    its gradient}); without ``upstream`` the two last are empty."""
    m = copy.deepcopy(module).double()
    named = list(m.named_parameters())
    names = [n for n, _ in named]
    k = len(inputs)
    const = [c if isinstance(c, torch.Tensor) else torch.as_tensor(np.asarray(c)) for c in constants]

    def fn(*args):
        return torch.func.functional_call(m, dict(zip(names, args[k:])), (*args[:k], *const))

    arrays = [np.asarray(a) for a in inputs] + [p.detach().numpy() for _, p in named]
    (mag,), grads = rule(fn, arrays, None if upstream is None else [upstream])
    return mag, grads[:k], dict(zip(names, grads[k:]))


def gelu_tanh_terms(x, g=None):
    """GELU's tanh form, x (1 + t) / 2 with t = tanh(k (x + 0.044715 x^3)): terms |x| (``elementwise``'s); its
    backward g ((1 + t) / 2 + x (1 - t^2) k (1 + 3 0.044715 x^2) / 2), where 1 - t^2 adds 1 and t^2 and t's
    rounding is amplified by x k (1 + 3 0.044715 x^2): terms |g| ((1 + |t|) / 2 + |x| (1 + t^2) |k'| / 2)."""
    x = np.asarray(x, dtype=np.float64)
    k = math.sqrt(2 / math.pi)
    t = np.tanh(k * (x + 0.044715 * x**3))
    fwd = np.abs(0.5 * x * (1 + t)) + np.abs(x) + 1
    if g is None:
        return fwd, None
    dinner = k * (1 + 3 * 0.044715 * x * x)
    g = np.abs(np.asarray(g, dtype=np.float64))
    return fwd, g * (1 + 0.5 * (1 + np.abs(t)) + 0.5 * np.abs(x) * (1 + t * t) * dinner)


def loss_magnitudes(fn, arrays, kwargs, upstream=None):
    """The magnitudes of the loss ``fn`` (its name in torch.nn.functional) of ``arrays``, its input and target, with
    keyword arguments ``kwargs`` (arrays or lists for weights), and of both gradients for ``upstream`` (None for
    a target that is not a float array): the cross-entropy's terms, the nll loss as the linear pick it is, the
    others as elementwise losses reduced (``reduced``)."""
    kw = {k: np.asarray(v, np.float64) if isinstance(v, np.ndarray | list) else v for k, v in kwargs.items()}
    reduction = kw.pop("reduction", "mean")
    if fn == "cross_entropy":
        return cross_entropy_terms(*arrays, upstream, reduction=reduction, **kw)
    t64 = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    x, y = arrays
    ups = None if upstream is None else [upstream]
    if fn == "nll_loss":
        (mag,), grads = linear(lambda a: TF.nll_loss(a, torch.tensor(y), reduction=reduction, **t64), [x], ups)
        return mag, grads + [None]
    floats = [x, y] if y.dtype.kind == "f" else [x]
    rule = reduced(lambda *a: getattr(TF, fn)(*a, reduction="none", **t64), reduction)
    (mag,), grads = rule(None, floats, ups)
    return mag, grads + [None] * (2 - len(grads))
