"""smooth_l1_loss, kl_div, cosine_similarity, normalize and one_hot against PyTorch (forward and gradients,
float32, tolerances from tests/tolerance.py), gradcheck in float64, their errors; the SmoothL1Loss,
KLDivLoss and CosineSimilarity modules; huber_loss at its kinks."""

import inspect
import json
import math
import warnings

import numpy as np
import pytest
import tolerance as T
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, registry
from chainrule.errors import ArgumentError, DTypeError, OutOfRangeError, ShapeError

# ---- inputs ------------------------------------------------------------------------------------------------------


def regression(shape, kinks=(1.0,), seed=0):
    """Input and target whose difference keeps 0.05 away from 0 and from +-each kink (beta, delta)."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.1, 2.5, shape) * rng.choice([-1.0, 1.0], shape)
    for k in kinks:
        near = np.abs(np.abs(d) - k) < 0.05
        d[near] += 0.1 * np.sign(d[near])
    y = rng.standard_normal(shape)
    return [(y + d).astype(np.float32), y.astype(np.float32)]


def distributions(shape, log_target=False, zeros=False, seed=0):
    """Log-probabilities (the input) and probabilities (the target), along the last axis."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    x = x - np.log(np.exp(x).sum(axis=-1, keepdims=True))
    q = rng.uniform(0.05, 1.0, shape)
    if zeros:
        q[rng.random(shape) < 0.3] = 0.0
    q = q / q.sum(axis=-1, keepdims=True)
    return [x.astype(np.float32), (np.log(q) if log_target else q).astype(np.float32)]


def _scaled_sum(none_fn, divide_by):
    """The rule of a sum of an elementwise loss divided by ``divide_by`` (kl_div's 'batchmean')."""

    def rule(torch_fn, arrays, upstreams=None):
        ups = None if upstreams is None else [np.asarray(upstreams[0], np.float64) / divide_by]
        (mag,), grads = T.reduced(none_fn, "sum")(None, arrays, ups)
        return [mag / divide_by], grads

    return rule


def loss_rule(fn, kwargs, shape):
    """The magnitude rule of loss ``fn`` (its torch.nn.functional name) with ``kwargs``: an elementwise loss reduced."""
    options = {k: v for k, v in kwargs.items() if k != "reduction"}
    reduction = kwargs.get("reduction", "mean")

    def none_fn(*a):
        return getattr(TF, fn)(*a, reduction="none", **options)

    if reduction == "batchmean":
        return _scaled_sum(none_fn, shape[0] if len(shape) else 1)
    return T.reduced(none_fn, reduction)


LOSS_CASES = [
    ("smooth_l1_loss", {}, regression((6, 3))),
    ("smooth_l1_loss", {"beta": 0.5, "reduction": "sum"}, regression((4, 5), kinks=(0.5,))),
    ("smooth_l1_loss", {"beta": 2.0, "reduction": "none"}, regression((7,), kinks=(2.0,))),
    ("smooth_l1_loss", {"beta": 0.0}, regression((5, 2), kinks=())),  # the l1 loss
    ("smooth_l1_loss", {"beta": 0, "reduction": "none"}, regression((3, 4), kinks=())),
    ("huber_loss", {"delta": 0.7, "reduction": "none"}, regression((5, 4), kinks=(0.7,))),
    ("kl_div", {}, distributions((4, 5))),
    ("kl_div", {"reduction": "batchmean"}, distributions((6, 3))),
    ("kl_div", {"reduction": "sum"}, distributions((2, 3, 4))),
    ("kl_div", {"reduction": "none"}, distributions((4, 5))),
    ("kl_div", {"log_target": True}, distributions((4, 5), log_target=True)),
    ("kl_div", {"log_target": True, "reduction": "batchmean"}, distributions((3, 6), log_target=True)),
    ("kl_div", {"log_target": True, "reduction": "none"}, distributions((2, 2, 3), log_target=True)),
    ("kl_div", {"reduction": "batchmean"}, distributions((5,))),  # one distribution: batchmean divides by its size
]
LOSS_IDS = [f"{f}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for f, kw, _ in LOSS_CASES]


@pytest.mark.parametrize("fn, kwargs, arrays", LOSS_CASES, ids=LOSS_IDS)
def test_loss_parity_with_torch(fn, kwargs, arrays):
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning of ours (PyTorch warns about kl_div's 'mean')
        out = getattr(F, fn)(*xs, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tout = getattr(TF, fn)(*ts, **kwargs)
    assert out.shape == tuple(tout.shape) and out.dtype == cr.float32
    g = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
    (mag,), grad_mags = loss_rule(fn, kwargs, arrays[0].shape)(None, [a.astype(np.float64) for a in arrays], [g])
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    out.backward(g)
    tout.backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts)):
        assert x.grad.dtype == cr.float32
        T.assert_close(x.grad.numpy(), t.grad.numpy(), grad_mags[i], f"gradient {i}")


@pytest.mark.parametrize("fn, kwargs, arrays", LOSS_CASES, ids=LOSS_IDS)
def test_loss_gradcheck(fn, kwargs, arrays):
    xs = [cr.tensor(a.astype(np.float64), dtype="float64", requires_grad=True) for a in arrays]
    assert cr.autograd.gradcheck(lambda *a: getattr(F, fn)(*a, **kwargs), xs, atol=1e-6, rtol=1e-4)


def test_losses_at_their_kinks_match_torch():
    """|input - target| exactly beta (smooth l1) or delta (huber): both pieces meet, as do the gradients."""
    y = np.array([0.0, 1.0, -2.0, 3.0], np.float32)
    kinks = [("smooth_l1_loss", "beta", 0.5), ("huber_loss", "delta", 0.5), ("smooth_l1_loss", "beta", 1.0)]
    for fn, option, k in kinks:
        x = y + np.array([k, -k, 0.0, 2 * k], np.float32)
        a, t = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out = getattr(F, fn)(a, y, reduction="none", **{option: k})
        tout = getattr(TF, fn)(t, torch.tensor(y), reduction="none", **{option: k})
        np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())


def test_kl_div_with_zero_targets():
    """A zero probability adds nothing (0 log 0 = 0), as in PyTorch; its gradient is finite (PyTorch's is nan)."""
    x, q = distributions((4, 5), zeros=True, seed=3)
    assert (q == 0).any()
    a, t = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    target = cr.tensor(q, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.kl_div(a, target, reduction="sum")
    tout = TF.kl_div(t, torch.tensor(q), reduction="sum")
    (mag,), grads = loss_rule("kl_div", {"reduction": "sum"}, x.shape)(None, [x, q], [1.0])
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    out.backward()
    tout.backward()
    T.assert_close(a.grad.numpy(), t.grad.numpy(), grads[0], "input gradient")
    np.testing.assert_array_equal(a.grad.numpy(), -q)
    assert np.isfinite(target.grad.numpy()).all()
    np.testing.assert_array_equal(target.grad.numpy()[q == 0], -x[q == 0])  # d/dq (q log q - q x) without log q
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad = F.kl_div(cr.tensor(x), -q, reduction="none")  # a negative target: nan, silently (as PyTorch)
    assert np.isnan(bad.numpy()[q > 0]).all()


# ---- cosine similarity and normalize ------------------------------------------------------------------------------


def cosine_rule(x1, x2, dim, eps, g=None):
    """cos = sum_d (x1_d / c1) (x2_d / c2), c = max(|x|, eps): the products' terms S = sum |x1_d x2_d| / (c1 c2),
    and the norms' rounding (D squares summed, a root, a division: D + 2 terms) relative to |cos|. The backward,
    g (x2 / (c1 c2) - (sum x1 x2 / (c1^2 c2)) x1 / n1) (its second part zero where n1 is 0), has those terms,
    rounded as the forward's: |g| (|x2| / (c1 c2) + S |x1| / (c1 n1)) (D + 2); and the same for x2."""
    x1, x2 = np.broadcast_arrays(np.asarray(x1, np.float64), np.asarray(x2, np.float64))
    n1, n2 = (np.sqrt((x * x).sum(axis=dim, keepdims=True)) for x in (x1, x2))
    c1, c2 = np.maximum(n1, eps), np.maximum(n2, eps)
    k = x1.shape[dim] + 2
    s = (np.abs(x1 * x2) / (c1 * c2)).sum(axis=dim, keepdims=True)
    cos = (x1 * x2 / (c1 * c2)).sum(axis=dim, keepdims=True)
    fwd = (s + k * np.abs(cos)).squeeze(dim)
    if g is None:
        return fwd, None
    g = np.expand_dims(np.abs(np.asarray(g, np.float64)), dim)

    def grad(a, b, na, ca, cb):
        with np.errstate(invalid="ignore", divide="ignore"):
            second = np.where(na == 0, 0.0, s * np.abs(a) / (ca * na))
        return g * (np.abs(b) / (ca * cb) + second) * k

    return fwd, [grad(x1, x2, n1, c1, c2), grad(x2, x1, n2, c2, c1)]


def normalize_rule(x, p, dim, eps, g=None):
    """y = x / c, c = max(|x|_p, eps): |y| and the norm's rounding (D terms summed, a root: D + 2) relative to |y|.
    The backward, g / c - (sum g x / c^2) dn/dx (dn/dx = sign(x) (|x| / n)^(p - 1); for inf the share of the
    largest |x|; zero where c is clamped), has the terms |g| / c + (sum |g x| / c^2) |dn/dx|, rounded alike."""
    x = np.asarray(x, np.float64)
    a = np.abs(x)
    if p == math.inf:
        n = a.max(axis=dim, keepdims=True)
        top = a == n
        with np.errstate(invalid="ignore", divide="ignore"):
            dn = np.where(top, 1.0, 0.0) / top.sum(axis=dim, keepdims=True)
    else:
        n = (a**p).sum(axis=dim, keepdims=True) ** (1 / p)
        with np.errstate(invalid="ignore", divide="ignore"):
            dn = np.where((n == 0) | (a == 0), 0.0, (a / np.where(n == 0, 1, n)) ** (p - 1))
    c = np.maximum(n, eps)
    k = x.shape[dim] + 2
    fwd = np.abs(x / c) * k
    if g is None:
        return fwd, None
    g = np.abs(np.asarray(g, np.float64))
    dn = np.where(n < eps, 0.0, dn)
    return fwd, [(g / c + (g * a).sum(axis=dim, keepdims=True) / c**2 * dn) * k]


COSINE_CASES = [
    ((5, 4), (5, 4), {}),
    ((5, 4), (5, 4), {"dim": 0}),
    ((2, 3, 4), (2, 3, 4), {"dim": -1}),
    ((4, 1), (4, 6), {}),  # broadcast along dim: x1's norm is that of the broadcast rows
    ((1, 6), (5, 6), {"dim": -1, "eps": 1e-4}),
    ((6,), (6,), {"dim": 0}),
]


def _cosine_arrays(s1, s2, seed=0, zero_row=True):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal(s1).astype(np.float32), rng.standard_normal(s2).astype(np.float32)
    if zero_row and len(s1) == 2 and s1[0] > 2:
        x1[1] = 0  # a zero vector: its norm is clamped to eps, its norm's gradient is 0
        x1[2] = 1e-10  # a norm below eps
    return x1, x2


@pytest.mark.parametrize("s1, s2, kwargs", COSINE_CASES, ids=[f"{a}-{b}-{k}" for a, b, k in COSINE_CASES])
def test_cosine_similarity_parity_with_torch(s1, s2, kwargs):
    x1, x2 = _cosine_arrays(s1, s2)
    a, b = cr.tensor(x1, requires_grad=True), cr.tensor(x2, requires_grad=True)
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    out, tout = F.cosine_similarity(a, b, **kwargs), TF.cosine_similarity(ta, tb, **kwargs)
    assert out.shape == tuple(tout.shape) and out.dtype == cr.float32
    g = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    dim, eps = kwargs.get("dim", 1), kwargs.get("eps", 1e-8)
    mag, grads = cosine_rule(x1, x2, dim % len(np.broadcast_shapes(s1, s2)), eps, g)
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    assert np.all(np.abs(out.numpy()) <= 1)
    out.backward(g)
    tout.backward(torch.tensor(g))
    for x, t, m in zip((a, b), (ta, tb), grads):
        T.assert_close(x.grad.numpy(), t.grad.numpy(), T.sum_to(m, x.shape), "gradient")


@pytest.mark.parametrize("p", [2.0, 1.0, 3, 0.5, math.inf])
@pytest.mark.parametrize("dim", [1, 0, -1])
def test_normalize_parity_with_torch(p, dim):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    x[1] = 0  # a zero vector (0 / eps), and a tiny one
    x[3] = 1e-14 * np.arange(1, 5)
    a, t = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = F.normalize(a, p=p, dim=dim), TF.normalize(t, p=p, dim=dim)
    g = np.random.default_rng(5).standard_normal(out.shape).astype(np.float32)
    mag, (gmag,) = normalize_rule(x, float(p), dim, 1e-12, g)
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    out.backward(g)
    tout.backward(torch.tensor(g))
    assert np.isfinite(a.grad.numpy()).all()
    T.assert_close(a.grad.numpy(), t.grad.numpy(), gmag, "gradient")


def test_normalize_gives_unit_vectors_and_default_dim():
    x = np.random.default_rng(6).standard_normal((3, 4, 2))
    y = F.normalize(cr.tensor(x, dtype="float64")).numpy()
    np.testing.assert_allclose(np.sqrt((y * y).sum(axis=1)), 1.0, rtol=1e-15)
    l1 = F.normalize(cr.tensor(x, dtype="float64"), p=1, dim=-1).numpy()
    np.testing.assert_allclose(np.abs(l1).sum(axis=-1), 1.0, rtol=1e-15)
    counts = F.normalize(cr.tensor(np.array([[0.0, 2.0, -1.0]])), p=0).numpy()  # p = 0 counts the nonzeros
    np.testing.assert_array_equal(counts, TF.normalize(torch.tensor([[0.0, 2.0, -1.0]]), p=0).numpy())


def _gradcheck_inputs(*shapes, seed=9):
    rng = np.random.default_rng(seed)
    return [cr.tensor(rng.standard_normal(s), dtype="float64", requires_grad=True) for s in shapes]


@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": -1, "eps": 1e-3}])
def test_cosine_similarity_gradcheck(kwargs):
    assert cr.autograd.gradcheck(lambda a, b: F.cosine_similarity(a, b, **kwargs), _gradcheck_inputs((4, 3), (4, 3)))
    assert cr.autograd.gradcheck(lambda a, b: F.cosine_similarity(a, b, **kwargs), _gradcheck_inputs((1, 3), (4, 3)))


@pytest.mark.parametrize("p", [2.0, 3.0, 1.0, math.inf, 1.5])
def test_normalize_gradcheck(p):
    assert cr.autograd.gradcheck(lambda x: F.normalize(x, p=p, dim=-1), _gradcheck_inputs((3, 4)))


# ---- one_hot ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "indices, num_classes",
    [([0, 2, 1, 2], -1), ([[0, 3], [1, 1]], 5), (3, 4), (np.zeros((0,), np.int64), 3), (np.array([1, 0], np.int32), 2)],
)
def test_one_hot_matches_torch(indices, num_classes):
    a = np.asarray(indices)
    out = F.one_hot(cr.tensor(a), num_classes)
    tout = TF.one_hot(torch.tensor(a.astype(np.int64)), num_classes)
    assert out.dtype == cr.int64 and out.shape == tuple(tout.shape)
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    assert not out.requires_grad


def test_one_hot_errors():
    with pytest.raises(OutOfRangeError, match="must be non-negative, got -1"):
        F.one_hot(cr.tensor([0, -1, 2]))
    with pytest.raises(OutOfRangeError, match="class index 3 is out of range for num_classes=3"):
        F.one_hot(cr.tensor([0, 3]), 3)
    with pytest.raises(ArgumentError, match="cannot infer the number of classes from an empty tensor"):
        F.one_hot(cr.tensor(np.zeros(0, np.int64)))
    with pytest.raises(DTypeError, match="class indices must be integers, got dtype float32"):
        F.one_hot(cr.tensor([0.0, 1.0]))
    with pytest.raises(ArgumentError, match="num_classes must be -1"):
        F.one_hot(cr.tensor([0, 1]), -2)
    with pytest.raises(ArgumentError, match="num_classes must be -1"):
        F.one_hot(cr.tensor([0, 1]), 2.0)


# ---- errors ------------------------------------------------------------------------------------------------------


def test_argument_errors():
    x, y = (cr.tensor(a) for a in regression((3, 2)))
    with pytest.raises(ArgumentError, match="smooth_l1_loss: beta must be a number >= 0, got -1"):
        F.smooth_l1_loss(x, y, beta=-1.0)
    with pytest.raises(ArgumentError, match="smooth_l1_loss: reduction must be"):
        F.smooth_l1_loss(x, y, reduction="batchmean")
    with pytest.raises(ShapeError, match=r"smooth_l1_loss: target of shape \(2,\) does not match input of shape"):
        F.smooth_l1_loss(x, y[0])
    with pytest.raises(ArgumentError, match="kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none'"):
        F.kl_div(x, y, reduction="avg")
    with pytest.raises(ShapeError, match=r"kl_div: target of shape \(3, 1\) does not match input of shape \(3, 2\)"):
        F.kl_div(x, np.ones((3, 1)))
    with pytest.raises(ShapeError, match=r"cosine_similarity: x1 of shape \(3, 2\) and x2 of shape \(4, 2\)"):
        F.cosine_similarity(x, cr.zeros(4, 2))
    with pytest.raises(ShapeError, match="cosine_similarity: dim 2 is out of range for a tensor with 2 dimension"):
        F.cosine_similarity(x, y, dim=2)
    with pytest.raises(DTypeError, match="at least one must be floating point"):
        F.cosine_similarity(cr.tensor([1, 2]), cr.tensor([3, 4]), dim=0)
    with pytest.raises(ShapeError, match="normalize: dim 1 is out of range for a tensor with 1 dimension"):
        F.normalize(cr.tensor([3.0, 4.0]))
    with pytest.raises(ArgumentError, match="normalize: p must be a number >= 0"):
        F.normalize(x, p=-1)
    with pytest.raises(DTypeError, match="normalize: input must be floating point"):
        F.normalize(cr.tensor([[1, 2]]))
    with pytest.raises(ArgumentError, match="beta"):
        nn.SmoothL1Loss(beta=-0.5)
    with pytest.raises(ArgumentError, match="KLDivLoss: reduction must be"):
        nn.KLDivLoss(reduction="avg")


def test_cosine_similarity_of_an_integer_and_a_float_input():
    ints = np.array([[1, 2, 3]])
    floats = np.array([[0.5, -1.0, 2.0]], np.float32)
    out = F.cosine_similarity(cr.tensor(ints), cr.tensor(floats))
    tout = TF.cosine_similarity(torch.tensor(ints), torch.tensor(floats))
    assert out.dtype == cr.float32
    T.assert_close(out.numpy(), tout.numpy(), cosine_rule(ints, floats, 1, 1e-8)[0], "forward")


# ---- modules -------------------------------------------------------------------------------------------------------

MODULES = [
    ("smooth_l1", nn.SmoothL1Loss, torch.nn.SmoothL1Loss, {"beta": 0.5}, regression((4, 3), kinks=(0.5,))),
    ("smooth_l1", nn.SmoothL1Loss, torch.nn.SmoothL1Loss, {"reduction": "sum"}, regression((4, 3))),
    ("kl_div", nn.KLDivLoss, torch.nn.KLDivLoss, {"reduction": "batchmean"}, distributions((4, 3))),
    ("kl_div", nn.KLDivLoss, torch.nn.KLDivLoss, {"log_target": True, "reduction": "sum"},
     distributions((4, 3), log_target=True)),  # fmt: skip
]
FN = {"smooth_l1": "smooth_l1_loss", "kl_div": "kl_div"}


@pytest.mark.parametrize("name, cls, tcls, kwargs, arrays", MODULES, ids=[f"{m[0]}-{m[3]}" for m in MODULES])
def test_loss_modules(name, cls, tcls, kwargs, arrays):
    assert registry.get(name) is cls and registry.name_of(cls) == name
    loss, tloss = cls(**kwargs), tcls(**kwargs)
    assert loss.state_dict() == {} and list(tloss.state_dict()) == []
    config = loss.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config == {**cls().get_config(), **kwargs}
    rebuilt = cls.from_config(config)
    assert rebuilt.get_config() == config and repr(rebuilt) == repr(loss)
    x, y = arrays
    a, t = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = loss(a, y), tloss(t, torch.tensor(y))
    (mag,), grads = loss_rule(FN[name], kwargs, x.shape)(None, [x, y], [1.0])
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    np.testing.assert_array_equal(rebuilt(cr.tensor(x), y).numpy(), out.numpy())
    out.backward()
    tout.backward()
    T.assert_close(a.grad.numpy(), t.grad.numpy(), grads[0], "gradient")


def test_cosine_similarity_module():
    assert registry.get("cosine_similarity") is nn.CosineSimilarity
    m, tm = nn.CosineSimilarity(dim=0, eps=1e-6), torch.nn.CosineSimilarity(dim=0, eps=1e-6)
    assert m.get_config() == {"dim": 0, "eps": 1e-6} and repr(m) == "CosineSimilarity(dim=0, eps=1e-06)"
    x1, x2 = _cosine_arrays((3, 4), (3, 4), zero_row=False)
    a, b = cr.tensor(x1, requires_grad=True), cr.tensor(x2, requires_grad=True)
    ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    out, tout = m(a, b), tm(ta, tb)
    g = np.random.default_rng(3).standard_normal(out.shape).astype(np.float32)
    mag, grads = cosine_rule(x1, x2, 0, 1e-6, g)
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    out.backward(g)
    tout.backward(torch.tensor(g))
    for x, t, gm in zip((a, b), (ta, tb), grads):
        T.assert_close(x.grad.numpy(), t.grad.numpy(), gm, "gradient")


def test_module_defaults_and_signatures_follow_torch():
    for cls, tcls in [(nn.SmoothL1Loss, torch.nn.SmoothL1Loss), (nn.KLDivLoss, torch.nn.KLDivLoss),
                      (nn.CosineSimilarity, torch.nn.CosineSimilarity)]:  # fmt: skip
        ours = inspect.signature(cls.__init__).parameters
        theirs = {
            k: v for k, v in inspect.signature(tcls.__init__).parameters.items() if k not in ("size_average", "reduce")
        }
        assert list(ours) == list(theirs), cls.__name__
        for k in ours:
            assert ours[k].default == theirs[k].default, (cls.__name__, k)
    for fn in ("smooth_l1_loss", "kl_div", "normalize"):  # (torch's cosine_similarity and one_hot are builtins)
        ours = inspect.signature(getattr(F, fn)).parameters
        theirs = {k: v for k, v in inspect.signature(getattr(TF, fn)).parameters.items()
                  if k not in ("size_average", "reduce", "out")}  # fmt: skip
        assert list(ours) == list(theirs), fn
        for k in ours:
            assert ours[k].default == theirs[k].default, (fn, k)
    assert list(inspect.signature(F.cosine_similarity).parameters) == ["x1", "x2", "dim", "eps"]
    assert list(inspect.signature(F.one_hot).parameters) == ["tensor", "num_classes"]
    assert (nn.KLDivLoss.target_kind, nn.KLDivLoss.input_kind) == ("probability", "log_probability")
    assert (nn.SmoothL1Loss.target_kind, nn.SmoothL1Loss.input_kind) == ("value", "value")
