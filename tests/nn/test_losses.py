"""The losses against PyTorch (forward and input gradients, float32) and gradcheck (float64), for every
reduction and option; their errors; and the loss modules' buffers, configs and registry names.

One table: each ``Case`` names a function that has the same name and keywords in
``chainrule.functional`` and ``torch.nn.functional``, its inputs, which of them need a gradient,
and its constant keyword arguments (arrays there become each library's tensors).
"""

import json
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest
import tolerance as T
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, registry
from chainrule.errors import ArgumentError, DTypeError, ShapeError

REDUCTIONS = ["mean", "sum", "none"]


# ---- inputs: rng -> arrays -------------------------------------------------------------------------


def regression(*shape):
    # |input - target| in [0.1, 2.5], never within 0.05 of the huber deltas used below (0.5, 1.0)
    def make(rng):
        lo, hi = np.array([[0.1, 0.45], [0.55, 0.95], [1.05, 2.5]])[rng.integers(0, 3, shape)].T
        d = rng.choice([-1.0, 1.0], shape) * rng.uniform(lo.T, hi.T)
        y = rng.standard_normal(shape)
        return [y + d, y]

    return make


def probabilities(*shape):
    return lambda rng: [rng.uniform(0.05, 0.95, shape), rng.uniform(0.0, 1.0, shape)]


def logits_and_labels(*shape, soft=False):
    return lambda rng: [
        2 * rng.standard_normal(shape),
        rng.uniform(0, 1, shape) if soft else (rng.random(shape) < 0.5).astype(np.float64),
    ]


def classes(n, c, *spatial, ignore=None, log_probs=False):
    """Logits (or log-probabilities) and class indices; ``ignore`` = (value, fraction of targets set to it)."""

    def make(rng):
        x = 2 * rng.standard_normal((n, c, *spatial))
        if log_probs:
            x = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
        y = rng.integers(0, c, (n, *spatial))
        if ignore is not None:
            value, frac = ignore
            y[rng.random(y.shape) < frac] = value
            y.flat[0] = value  # at least one ignored target
        return [x, y]

    return make


def soft_classes(n, c, *spatial):
    def make(rng):
        q = rng.random((n, c, *spatial))
        return [2 * rng.standard_normal((n, c, *spatial)), q / q.sum(axis=1, keepdims=True)]

    return make


def weights(c, seed):
    return np.random.default_rng(seed).uniform(0.2, 2.0, c)


# ---- the table -------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    fn: str  # the function's name, the same in both libraries
    make: object  # rng -> [input, target]
    grad: tuple = (True, False)  # which of input, target need a gradient
    kwargs: dict = field(default_factory=dict)

    def __repr__(self):
        return self.name


def _cases():
    w4, w5 = weights(4, 1), weights(5, 2)
    base = [
        Case("mse", "mse_loss", regression(6, 3), (True, True)),
        Case("mse_1d", "mse_loss", regression(7)),
        Case("l1", "l1_loss", regression(6, 3), (True, True)),
        Case("huber", "huber_loss", regression(6, 3), (True, True)),
        Case("huber_delta", "huber_loss", regression(4, 5), (True, True), {"delta": 0.5}),
        Case("bce", "binary_cross_entropy", probabilities(6, 4), (True, True)),
        Case("bce_weight_class", "binary_cross_entropy", probabilities(6, 4), kwargs={"weight": w4}),
        Case("bce_weight_full", "binary_cross_entropy", probabilities(3, 4), kwargs={"weight": weights((3, 4), 3)}),
        Case("bce_logits", "binary_cross_entropy_with_logits", logits_and_labels(6, 4)),
        Case("bce_logits_soft", "binary_cross_entropy_with_logits", logits_and_labels(6, 4, soft=True), (True, True)),
        Case("bce_logits_weight", "binary_cross_entropy_with_logits", logits_and_labels(6, 4), kwargs={"weight": w4}),
        Case(
            "bce_logits_pos_weight",
            "binary_cross_entropy_with_logits",
            logits_and_labels(6, 4, soft=True),
            (True, True),
            {"pos_weight": weights(4, 4)},
        ),
        Case(
            "bce_logits_both",
            "binary_cross_entropy_with_logits",
            logits_and_labels(6, 4),
            kwargs={"weight": weights((6, 1), 5), "pos_weight": weights(4, 6)},
        ),
        Case("ce", "cross_entropy", classes(8, 5)),
        Case("ce_weight", "cross_entropy", classes(8, 5), kwargs={"weight": w5}),
        Case("ce_ignore", "cross_entropy", classes(8, 5, ignore=(-100, 0.3))),
        Case("ce_ignore_custom", "cross_entropy", classes(8, 5, ignore=(2, 0.0)), kwargs={"ignore_index": 2}),
        Case("ce_smoothing", "cross_entropy", classes(8, 5), kwargs={"label_smoothing": 0.2}),
        Case(
            "ce_all_options",
            "cross_entropy",
            classes(8, 5, ignore=(-1, 0.3)),
            kwargs={"weight": w5, "ignore_index": -1, "label_smoothing": 0.15},
        ),
        Case("ce_spatial", "cross_entropy", classes(2, 4, 3, 5)),
        Case(
            "ce_spatial_all_options",
            "cross_entropy",
            classes(2, 4, 3, 5, ignore=(-100, 0.2)),
            kwargs={"weight": w4, "label_smoothing": 0.1},
        ),
        Case("ce_3d", "cross_entropy", classes(3, 4, 6, ignore=(-100, 0.2)), kwargs={"weight": w4}),
        Case(
            "ce_unbatched",
            "cross_entropy",
            lambda rng: [rng.standard_normal(5), np.array(3)],
            kwargs={"label_smoothing": 0.1},
        ),
        Case("ce_probs", "cross_entropy", soft_classes(6, 5), (True, True)),
        Case(
            "ce_probs_weight_smoothing",
            "cross_entropy",
            soft_classes(6, 5),
            (True, True),
            {"weight": w5, "label_smoothing": 0.25},
        ),
        Case("ce_probs_spatial", "cross_entropy", soft_classes(2, 4, 3, 3), (True, True), {"weight": w4}),
        Case("ce_probs_unbatched", "cross_entropy", soft_classes(1, 5), (True, True)),
        Case("nll", "nll_loss", classes(8, 5, log_probs=True)),
        Case("nll_weight_ignore", "nll_loss", classes(8, 5, ignore=(-100, 0.3), log_probs=True), kwargs={"weight": w5}),
        Case(
            "nll_ignore_custom", "nll_loss", classes(8, 5, ignore=(0, 0.0), log_probs=True), kwargs={"ignore_index": 0}
        ),
        Case("nll_spatial", "nll_loss", classes(2, 4, 3, 5, ignore=(-100, 0.2), log_probs=True), kwargs={"weight": w4}),
    ]
    return [Case(f"{c.name}-{r}", c.fn, c.make, c.grad, {**c.kwargs, "reduction": r}) for c in base for r in REDUCTIONS]


CASES = _cases()


def _arrays(case):
    arrays = case.make(np.random.default_rng(zlib.crc32(case.name.split("-")[0].encode())))
    if case.name.startswith("ce_probs_unbatched"):
        arrays = [a[0] for a in arrays]
    return [a.astype(np.float32) if a.dtype.kind == "f" else a for a in arrays]


def _kwargs(kwargs, to_tensor):
    return {k: to_tensor(np.asarray(v, np.float32)) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


# ---- parity with PyTorch ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_parity_with_torch(case):
    arrays = _arrays(case)
    xs = [cr.tensor(a, requires_grad=g) for a, g in zip(arrays, case.grad)]
    ts = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, case.grad)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = getattr(F, case.fn)(*xs, **_kwargs(case.kwargs, cr.tensor))
    tout = getattr(TF, case.fn)(*ts, **_kwargs(case.kwargs, torch.tensor))
    assert out.shape == tuple(tout.shape)
    assert out.dtype == cr.float32

    g = np.random.default_rng(7).standard_normal(out.shape).astype(np.float32)
    mag, grad_mags = T.loss_magnitudes(case.fn, arrays, case.kwargs, g)
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    out.backward(g)
    tout.backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts)):
        if not case.grad[i]:
            assert x.grad is None
            continue
        assert x.grad.shape == x.shape and x.grad.dtype == cr.float32
        T.assert_close(x.grad.numpy(), t.grad.numpy(), grad_mags[i], f"gradient {i}")


@pytest.mark.parametrize("case", [c for c in CASES if c.name.endswith("-mean")], ids=repr)
def test_numpy_targets_and_weights_match_tensors(case):
    """Targets and weights may be NumPy arrays (float64 ones too): same result, still float32."""
    arrays = _arrays(case)
    fn = getattr(F, case.fn)
    as_tensors = fn(cr.tensor(arrays[0]), cr.tensor(arrays[1]), **_kwargs(case.kwargs, cr.tensor))
    raw_target = arrays[1].astype(np.float64) if arrays[1].dtype.kind == "f" else arrays[1]
    kwargs = {k: v.astype(np.float64) if isinstance(v, np.ndarray) else v for k, v in case.kwargs.items()}
    as_arrays = fn(cr.tensor(arrays[0]), raw_target, **kwargs)
    assert as_arrays.dtype == cr.float32
    mag, _ = T.loss_magnitudes(case.fn, arrays, case.kwargs, None)  # float64 targets may round the loss differently
    T.assert_close(as_arrays.numpy(), as_tensors.numpy(), mag, "forward")


# ---- gradcheck in float64 --------------------------------------------------------------------------

GRADCHECK = [c for c in CASES if c.name.endswith("-mean") or c.name.endswith("-none")]


@pytest.mark.parametrize("case", GRADCHECK, ids=repr)
def test_gradcheck(case):
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in _arrays(case)]
    xs = [cr.tensor(a, dtype=a.dtype, requires_grad=g) for a, g in zip(arrays, case.grad)]
    kwargs = _kwargs(case.kwargs, cr.tensor)
    assert cr.autograd.gradcheck(lambda *a: getattr(F, case.fn)(*a, **kwargs), xs, atol=1e-6, rtol=1e-4)


# ---- edge cases ------------------------------------------------------------------------------------


IGNORED = [
    ("cross_entropy", {}),
    ("cross_entropy", {"weight": weights(4, 9)}),
    ("cross_entropy", {"label_smoothing": 0.3}),
    ("cross_entropy", {"weight": weights(4, 9), "label_smoothing": 0.3}),
    ("nll_loss", {}),
    ("nll_loss", {"weight": weights(4, 9)}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("fn, options", IGNORED, ids=[f"{f}-{'+'.join(o) or 'plain'}" for f, o in IGNORED])
def test_all_targets_ignored(fn, options, reduction):
    """Every target ignored: nan for a mean (0 / 0, as PyTorch), 0 for a sum, zeros for none; no warning,
    and a zero gradient."""
    x = np.random.default_rng(0).standard_normal((3, 4, 2)).astype(np.float32)
    y = np.full((3, 2), -100)
    a, t = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    kw = {**options, "reduction": reduction}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = getattr(F, fn)(a, y, **_kwargs(kw, cr.tensor))
        out.sum().backward()
    tout = getattr(TF, fn)(t, torch.tensor(y), **_kwargs(kw, torch.tensor))
    tout.sum().backward()
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())  # nan == nan here
    if reduction == "mean":
        assert np.isnan(out.item())
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
    assert not a.grad.numpy().any()


def test_ignored_rows_among_valid_ones_get_zero_gradient():
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    y = np.array([0, -100, 2, -100])
    a = cr.tensor(x, requires_grad=True)
    F.cross_entropy(a, y, label_smoothing=0.2, weight=[1.0, 2.0, 3.0]).backward()
    assert not a.grad.numpy()[[1, 3]].any()
    assert a.grad.numpy()[[0, 2]].all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "fn, make, kwargs",
    [
        (
            "cross_entropy",
            lambda: [np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]]), np.array([1, 2])],
            {"label_smoothing": 0.1, "weight": np.array([1.0, 2.0, 0.5])},
        ),
        (
            "cross_entropy",
            lambda: [
                np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]]),
                np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]),
            ],
            {"label_smoothing": 0.2},
        ),
        (
            "binary_cross_entropy_with_logits",
            lambda: [np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.0, 0.5])],
            {},
        ),
        (
            "binary_cross_entropy_with_logits",
            lambda: [np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0]), np.array([0.0, 1.0, 1.0, 0.0, 0.5])],
            {"pos_weight": np.array([3.0])},
        ),
        (
            "binary_cross_entropy",
            lambda: [np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([1.0, 0.0, 0.0, 1.0, 1.0])],
            {},
        ),
    ],
    ids=["ce", "ce_probs", "bce_logits", "bce_logits_pos_weight", "bce_probs_0_and_1"],
)
def test_extreme_values_stay_finite_without_warnings(fn, make, kwargs, reduction):
    """Logits of magnitude 1000 (and probabilities of exactly 0 and 1): finite loss and gradient, as
    PyTorch's, and NumPy never warns."""
    x, y = (a.astype(np.float32) if a.dtype.kind == "f" else a for a in make())
    kwargs = {**kwargs, "reduction": reduction}
    a, t = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(divide="raise", over="raise", invalid="raise"):
        warnings.simplefilter("error")
        out = getattr(F, fn)(a, y, **_kwargs(kwargs, cr.tensor))
        out.sum().backward()
    tout = getattr(TF, fn)(t, torch.tensor(y), **_kwargs(kwargs, torch.tensor))
    tout.sum().backward()
    assert np.isfinite(out.numpy()).all() and np.isfinite(a.grad.numpy()).all()
    mag, grad_mags = T.loss_magnitudes(fn, [x, y], kwargs, np.ones(out.shape))
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    T.assert_close(a.grad.numpy(), t.grad.numpy(), grad_mags[0], "gradient")


def test_integer_targets_never_need_grad():
    x = cr.tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    for y in (cr.tensor([0, 2, 1, 1]), np.array([0, 2, 1, 1], dtype=np.int32), [0, 2, 1, 1]):
        F.cross_entropy(x, y).backward()
        F.nll_loss(F.log_softmax(x, axis=1), y).backward()
    assert x.grad is not None


def test_float64_inputs_stay_float64():
    x = cr.tensor(np.random.default_rng(3).standard_normal((4, 3)), dtype=cr.float64)
    assert F.cross_entropy(x, [0, 1, 2, 0], weight=[1.0, 2.0, 3.0]).dtype == cr.float64
    assert F.mse_loss(x, np.zeros((4, 3))).dtype == cr.float64
    assert F.binary_cross_entropy_with_logits(x, np.ones((4, 3)), pos_weight=cr.tensor([2.0, 1, 1])).dtype == cr.float64


# ---- errors ----------------------------------------------------------------------------------------

ELEMENTWISE = ["mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits"]


@pytest.mark.parametrize("fn", ELEMENTWISE)
@pytest.mark.parametrize("shapes", [((32, 1), (32,)), ((32,), (32, 1)), ((4, 3), (3,)), ((4, 3), (4, 2))], ids=str)
def test_target_shape_mismatch_is_an_error_naming_both_shapes(fn, shapes):
    xs, ys = shapes
    x = cr.tensor(np.full(xs, 0.5, np.float32), requires_grad=True)
    with pytest.raises(ShapeError) as e:
        getattr(F, fn)(x, np.full(ys, 0.5, np.float32))
    msg = str(e.value)
    assert fn in msg and str(xs) in msg and str(ys) in msg


@pytest.mark.parametrize(
    "fn, x_shape, target, fragment",
    [
        ("cross_entropy", (4, 3), np.zeros(5, np.int64), "(4,)"),
        ("cross_entropy", (4, 3), np.zeros((4, 1), np.int64), "(4,)"),
        ("cross_entropy", (2, 3, 5), np.zeros((2, 3), np.int64), "(2, 5)"),
        ("cross_entropy", (4, 3), np.zeros((4, 3, 1), np.float32), "(4,)"),
        ("nll_loss", (4, 3), np.zeros(3, np.int64), "(4,)"),
        ("nll_loss", (2, 3, 5, 5), np.zeros((2, 5), np.int64), "(2, 5, 5)"),
    ],
)
def test_class_target_shape_mismatch(fn, x_shape, target, fragment):
    with pytest.raises(ShapeError) as e:
        getattr(F, fn)(cr.zeros(*x_shape), target)
    msg = str(e.value)
    assert fn in msg and str(x_shape) in msg and str(target.shape) in msg and fragment in msg


@pytest.mark.parametrize("fn", ELEMENTWISE + ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["avg", "elementwise_mean", None, "Mean"])
def test_bad_reduction(fn, reduction):
    target = np.zeros(4, np.int64) if fn in ("cross_entropy", "nll_loss") else np.full((4, 3), 0.5, np.float32)
    with pytest.raises(ArgumentError) as e:
        getattr(F, fn)(cr.full((4, 3), 0.5), target, reduction=reduction)
    assert fn in str(e.value) and repr(reduction) in str(e.value) and "'mean', 'sum' or 'none'" in str(e.value)


@pytest.mark.parametrize(
    "cls", [nn.MSELoss, nn.L1Loss, nn.HuberLoss, nn.BCELoss, nn.BCEWithLogitsLoss, nn.CrossEntropyLoss, nn.NLLLoss]
)
def test_bad_reduction_in_a_module(cls):
    with pytest.raises(ArgumentError, match=f"{cls.__name__}: reduction must be"):
        cls(reduction="avg")


def test_other_argument_errors():
    x = cr.zeros(4, 3)
    with pytest.raises(ShapeError, match=r"cross_entropy: weight of shape \(4,\) .* input of shape \(4, 3\)"):
        F.cross_entropy(x, [0, 1, 2, 0], weight=np.ones(4))
    with pytest.raises(ShapeError, match=r"nll_loss: weight of shape \(2,\)"):
        F.nll_loss(x, [0, 1, 2, 0], weight=np.ones(2))
    with pytest.raises(ArgumentError, match="cross_entropy: target 3 is out of range for 3 classes"):
        F.cross_entropy(x, [0, 1, 3, 0])
    with pytest.raises(ArgumentError, match="nll_loss: target -2 is out of range"):
        F.nll_loss(x, [0, -2, 1, 0])
    with pytest.raises(DTypeError, match="cross_entropy: class-index targets must be integers"):
        F.cross_entropy(x, np.zeros(4, np.float32))
    with pytest.raises(DTypeError, match="class probabilities and must be floating point"):
        F.cross_entropy(x, np.zeros((4, 3), np.int64))
    with pytest.raises(ArgumentError, match="ignore_index .* not supported with probability targets"):
        F.cross_entropy(x, np.full((4, 3), 1 / 3), ignore_index=1)
    with pytest.raises(ArgumentError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(x, [0, 1, 2, 0], label_smoothing=1.5)
    with pytest.raises(ArgumentError, match="CrossEntropyLoss: label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=-0.1)
    with pytest.raises(ShapeError, match="cross_entropy: input of shape \\(\\) has no class axis"):
        F.cross_entropy(cr.tensor(1.0), np.array(0))
    with pytest.raises(ArgumentError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"):
        F.binary_cross_entropy(cr.tensor([0.5, 1.5]), [1.0, 0.0])
    with pytest.raises(ShapeError, match=r"pos_weight of shape \(4,\) does not broadcast to input of shape \(2, 3\)"):
        F.binary_cross_entropy_with_logits(cr.zeros(2, 3), np.zeros((2, 3)), pos_weight=np.ones(4))
    with pytest.raises(ShapeError, match=r"binary_cross_entropy: weight of shape \(2, 2, 3\)"):
        F.binary_cross_entropy(cr.full((2, 3), 0.5), np.zeros((2, 3)), weight=np.ones((2, 2, 3)))
    with pytest.raises(ArgumentError, match="huber_loss: delta must be positive"):
        F.huber_loss(x, np.zeros((4, 3)), delta=0.0)


# ---- modules ---------------------------------------------------------------------------------------

W3 = [0.5, 1.0, 2.0]
MODULES = [
    ("mse", {}, (nn.MSELoss, torch.nn.MSELoss), regression(4, 3)),
    ("l1", {"reduction": "sum"}, (nn.L1Loss, torch.nn.L1Loss), regression(4, 3)),
    ("huber", {"reduction": "none", "delta": 0.5}, (nn.HuberLoss, torch.nn.HuberLoss), regression(4, 3)),
    ("bce", {"weight": W3}, (nn.BCELoss, torch.nn.BCELoss), probabilities(4, 3)),
    (
        "bce_with_logits",
        {"weight": W3, "reduction": "sum", "pos_weight": [3.0, 1.0, 0.5]},
        (nn.BCEWithLogitsLoss, torch.nn.BCEWithLogitsLoss),
        logits_and_labels(4, 3),
    ),
    (
        "cross_entropy",
        {"weight": W3, "ignore_index": 1, "label_smoothing": 0.1},
        (nn.CrossEntropyLoss, torch.nn.CrossEntropyLoss),
        classes(6, 3, 2),
    ),
    (
        "nll",
        {"weight": W3, "reduction": "none"},
        (nn.NLLLoss, torch.nn.NLLLoss),
        classes(6, 3, ignore=(-100, 0.3), log_probs=True),
    ),
]


def _torch_kwargs(kwargs):
    return {k: torch.tensor(v) if isinstance(v, list) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("name, kwargs, classes_, make", MODULES, ids=[m[0] for m in MODULES])
def test_module(name, kwargs, classes_, make):
    cls, tcls = classes_
    assert registry.get(name) is cls and registry.name_of(cls) == name
    loss = cls(**kwargs)
    tloss = tcls(**_torch_kwargs(kwargs))

    # buffers: in the state dict under PyTorch's names, with PyTorch's values
    sd = loss.state_dict()
    tsd = tloss.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        np.testing.assert_array_equal(sd[k], tsd[k].numpy())
        assert sd[k].dtype == np.float32

    # config: plain JSON, every argument, weights as lists; from_config rebuilds an equal loss
    config = loss.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config == {**cls().get_config(), **kwargs}
    rebuilt = cls.from_config(json.loads(json.dumps(config)))
    assert rebuilt.get_config() == config and repr(rebuilt) == repr(loss)
    rebuilt.load_state_dict(loss.state_dict())

    x, y = (a.astype(np.float32) if a.dtype.kind == "f" else a for a in make(np.random.default_rng(5)))
    a = cr.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    out, tout = loss(a, y), tloss(t, torch.tensor(y))
    fn = {"bce": "binary_cross_entropy", "bce_with_logits": "binary_cross_entropy_with_logits"}.get(name, name)
    fn = {"mse": "mse_loss", "l1": "l1_loss", "huber": "huber_loss", "nll": "nll_loss"}.get(fn, fn)
    mag, grad_mags = T.loss_magnitudes(fn, [x, y], kwargs, np.ones(out.shape))
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    np.testing.assert_array_equal(rebuilt(cr.tensor(x), y).numpy(), out.numpy())
    out.sum().backward()
    tout.sum().backward()
    T.assert_close(a.grad.numpy(), t.grad.numpy(), grad_mags[0], "gradient")


def test_module_defaults_and_signatures_follow_torch():
    import inspect

    for cls, tcls in [(m[2][0], m[2][1]) for m in MODULES]:
        ours = inspect.signature(cls.__init__).parameters
        theirs = {
            k: v for k, v in inspect.signature(tcls.__init__).parameters.items() if k not in ("size_average", "reduce")
        }
        assert list(ours) == list(theirs), cls.__name__
        for k in ours:
            assert ours[k].default == theirs[k].default, (cls.__name__, k)


def test_weight_buffers():
    loss = nn.CrossEntropyLoss()
    assert loss.weight is None and loss.state_dict() == {}
    assert loss.get_config()["weight"] is None
    loss = nn.CrossEntropyLoss(weight=np.array([1, 2, 3]))  # integer weights become float32
    assert loss.weight.dtype == cr.float32 and list(loss.buffers())[0] is loss.weight
    loss.load_state_dict({"weight": np.array([3.0, 2.0, 1.0], np.float32)})
    assert loss.get_config()["weight"] == [3.0, 2.0, 1.0]
    x = cr.tensor(np.random.default_rng(6).standard_normal((4, 3)))
    expected = F.cross_entropy(x, [0, 1, 2, 2], weight=[3.0, 2, 1]).numpy()
    np.testing.assert_array_equal(loss(x, [0, 1, 2, 2]).numpy(), expected)
    bce = nn.BCEWithLogitsLoss(pos_weight=cr.tensor([2.0, 1.0]))
    assert list(bce.state_dict()) == ["pos_weight"]
    assert bce.get_config() == {"weight": None, "reduction": "mean", "pos_weight": [2.0, 1.0]}
