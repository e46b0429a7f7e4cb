"""DeepLIFT and DeepLiftShap: against Captum on the networks Captum handles, summation to delta on those it does
not (a reused module, functional relu, exp, products, division, softmax, layer norm), and the errors."""

import importlib
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.autograd import function as _function
from chainrule.data import Preprocessor, datasets
from chainrule.errors import ArgumentError, ShapeError
from chainrule.explain import _core

D = importlib.import_module("chainrule.explain.deeplift")  # (the package's name deeplift is the function)

captum = pytest.importorskip("captum.attr")

EXACT = 1e-10


@pytest.fixture(scope="module")
def credit():
    table = datasets.german_credit()
    pre = Preprocessor(target="credit_risk")
    X, _ = pre.fit_transform(table)
    return np.asarray(X, dtype=np.float64), pre


def _torch_copy(model, torch_model):
    torch_model.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in model.state_dict().items()})
    return torch_model.double().eval()


def _mlp(act, d=61, seed=0):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(d, 8), act(), nn.Linear(8, 5), act(), nn.Linear(5, 1)).double()
    tact = {nn.ReLU: torch.nn.ReLU, nn.Sigmoid: torch.nn.Sigmoid}[act]
    tm = torch.nn.Sequential(torch.nn.Linear(d, 8), tact(), torch.nn.Linear(8, 5), tact(), torch.nn.Linear(5, 1))
    return model, _torch_copy(model, tm)


def _captum(cls, tm, X, baselines, target=0):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = cls(tm).attribute(torch.tensor(X), baselines=torch.tensor(baselines), target=target)
    return out.detach().numpy()


def _complete(e, tol=EXACT):
    scale = max(1.0, float(np.abs(e.outputs - e.base_values).max()))
    assert np.abs(e.delta).max() <= tol * scale, np.abs(e.delta).max()


# ---- against Captum ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("act", [nn.ReLU, nn.Sigmoid])
def test_mlp_matches_captum_with_zero_and_row_baselines(credit, act):
    X, _ = credit
    x, row = X[:6], X[100]
    model, tm = _mlp(act)
    e = D.deeplift(model, x)
    np.testing.assert_allclose(e.values, _captum(captum.DeepLift, tm, x, np.zeros((1, 61))), rtol=0, atol=EXACT)
    assert e.method == "deeplift" and e.names[0] == "x0" and e.info["baselines"] == "zeros"
    _complete(e)
    e = D.deeplift(model, x, baselines=row)
    np.testing.assert_allclose(e.values, _captum(captum.DeepLift, tm, x, row[None]), rtol=0, atol=EXACT)
    with torch.no_grad():
        np.testing.assert_allclose(e.outputs, tm(torch.tensor(x))[:, 0].numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(e.base_values, tm(torch.tensor(row[None]))[0, 0].item(), rtol=0, atol=1e-12)
    _complete(e)


def test_deeplift_shap_matches_captum(credit):
    X, _ = credit
    model, tm = _mlp(nn.ReLU, seed=3)
    x, background = X[:4], X[200:207]
    e = D.deeplift_shap(model, x, background=background)
    np.testing.assert_allclose(e.values, _captum(captum.DeepLiftShap, tm, x, background), rtol=0, atol=EXACT)
    with torch.no_grad():
        mean = tm(torch.tensor(background))[:, 0].mean().item()
    np.testing.assert_allclose(e.base_values, mean, rtol=0, atol=1e-12)
    assert e.method == "deeplift_shap" and e.info["background_rows"] == 7
    _complete(e)


class _TorchCNN(torch.nn.Module):
    def __init__(self, separate):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 3, 3, padding=1)
        self.act = torch.nn.ReLU()
        self.pool = torch.nn.MaxPool2d(2)
        self.flat = torch.nn.Flatten()
        self.fc = torch.nn.Linear(3 * 3 * 3, 2)
        self.separate = separate

    def forward(self, x):
        h = self.act(self.conv(x))
        return self.fc(self.flat(self.pool(h * 1.0 if self.separate else h)))


class _CNN(nn.Module):
    def __init__(self, separate):
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 3, padding=1)
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(3 * 3 * 3, 2)
        self.separate = separate

    def forward(self, x):
        h = self.act(self.conv(x))
        return self.fc(self.flat(self.pool(h * 1.0 if self.separate else h)))


def _cnn(seed=0, separate=True):
    cr.manual_seed(seed)
    model = _CNN(separate).double()
    return model, _torch_copy(model, _TorchCNN(separate))


def test_cnn_with_max_pool_matches_captum_and_sums_to_delta():
    # Captum's hooks on two adjacent modules (ReLU straight into MaxPool2d) hand the pool the gradient the ReLU
    # got before its own rule, and its attributions then miss summation to delta; with an op between the two
    # (h * 1.0) Captum applies both rules, and chainrule gives the same values either way
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 2, 6, 6))
    separate, tm = _cnn(separate=True)
    adjacent, _ = _cnn(separate=False)
    for base in (np.zeros((1, 2, 6, 6)), rng.normal(size=(1, 2, 6, 6))):
        for target in (0, 1):
            e = D.deeplift(separate, x, target=target, baselines=base)
            assert e.values.shape == x.shape and e.names is None
            _complete(e)
            np.testing.assert_allclose(e.values, _captum(captum.DeepLift, tm, x, base, target), rtol=0, atol=EXACT)
            same = D.deeplift(adjacent, x, target=target, baselines=base)
            np.testing.assert_allclose(same.values, e.values, rtol=0, atol=1e-12)


# ---- summation to delta where Captum cannot follow ------------------------------------------------------------


class _Reused(nn.Module):
    """The ReLU MLP with one ReLU module used twice."""

    def __init__(self, seq):
        super().__init__()
        self.l1, self.l2, self.l3 = seq[0], seq[2], seq[4]
        self.act = nn.ReLU()

    def forward(self, x):
        return self.l3(self.act(self.l2(self.act(self.l1(x)))))


class _Functional(_Reused):
    def forward(self, x):
        return self.l3(F.relu(self.l2(F.relu(self.l1(x)))))


def test_three_relu_spellings_agree_and_sum_to_delta(credit):
    X, _ = credit
    x, row = X[:5], X[300]
    seq, _ = _mlp(nn.ReLU, seed=5)
    results = [D.deeplift(m, x, baselines=row) for m in (seq, _Reused(seq), _Functional(seq))]
    for e in results:
        _complete(e)
    for e in results[1:]:
        np.testing.assert_allclose(e.values, results[0].values, rtol=0, atol=1e-12)


def test_inplace_relu_gives_the_same_values(credit):
    X, _ = credit
    seq, _ = _mlp(nn.ReLU, seed=5)
    inplace = nn.Sequential(seq[0], nn.ReLU(inplace=True), seq[2], nn.ReLU(inplace=True), seq[4])
    a = D.deeplift(seq, X[:4], baselines=X[7])
    b = D.deeplift(inplace, X[:4], baselines=X[7])
    np.testing.assert_allclose(b.values, a.values, rtol=0, atol=1e-12)


class _Net(nn.Module):
    """Two branches of the input, combined by ``combine``."""

    def __init__(self, combine, d=61, k=1):
        super().__init__()
        self.a = nn.Linear(d, 6)
        self.b = nn.Linear(d, 6)
        self.out = nn.Linear(6, k)
        self.combine = combine

    def forward(self, x):
        return self.out(self.combine(self.a(x), self.b(x)))


COMBINE = {
    "exp": lambda h1, h2: (h1 * 0.3).exp() - h2.tanh(),
    "product": lambda h1, h2: F.relu(h1) * h2.sigmoid(),
    "raw product": lambda h1, h2: h1 * h2,
    "matmul": lambda h1, h2: (h1[:, :, None] @ h2[:, None, :]).sum(dim=2),
    "divide": lambda h1, h2: h1 / (h2.exp() + 1.0),
    "maximum": lambda h1, h2: cr.maximum(h1, h2) + cr.minimum(h1, 0.5 * h2),
    "square": lambda h1, h2: h1 * h1 + h2**2,
    "activations": lambda h1, h2: F.gelu(h1) + F.elu(h2) + F.silu(h1) + F.softplus(h2) + F.leaky_relu(h1, 0.1),
    "layer norm": lambda h1, h2: F.layer_norm(h1 * h2, (6,)),
    "softmax": lambda h1, h2: F.softmax(h1, dim=1) * 3.0 + F.log_softmax(h2, dim=1),
    "logsumexp": lambda h1, h2: h1 - h2.logsumexp(dim=1, keepdim=True),
    "amax": lambda h1, h2: h1 * h2.amax(dim=1, keepdim=True) - h1.amin(dim=1, keepdim=True),
    "cat and slice": lambda h1, h2: cr.cat([h1[:, :3], F.relu(h2[:, 3:])], dim=1).flip(1),
    "clamp and abs": lambda h1, h2: h1.clamp(-0.2, 0.3) + h2.abs().sqrt() + (h1 - h2).pow(3.0),
    "einsum": lambda h1, h2: cr.einsum("bi,bj->bi", h1, h2.tanh()),
    "index and where": lambda h1, h2: h1[:, [0, 2, 2, 5, 1, 3]] + cr.where(np.array([True, False] * 3), h2, -h2),
}


@pytest.mark.parametrize("name", list(COMBINE))
def test_sums_to_delta(credit, name):
    X, _ = credit
    cr.manual_seed(7)
    model = _Net(COMBINE[name]).double()
    e = D.deeplift(model, X[:6], baselines=X[500])
    assert np.abs(e.outputs - e.base_values).max() > 1e-3  # a real change to explain
    _complete(e)
    e = D.deeplift(model, X[:3])
    _complete(e)


def test_batch_norm_in_eval_mode_and_probability_outputs(credit):
    X, _ = credit
    cr.manual_seed(2)
    model = nn.Sequential(nn.Linear(61, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 3)).double()
    model.train()
    model(cr.tensor(X[:50]))  # running statistics that are not the defaults
    for output in (None, "probability"):
        e = D.deeplift(model, X[:5], target=np.array([0, 1, 2, 1, 0]), baselines=X[600], output=output)
        _complete(e)
    assert model.training  # its mode is given back
    probs = D.deeplift(model, X[:5], target=2, baselines=X[600], output="probability")
    with cr.no_grad():
        model.eval()
        expect = model(cr.tensor(X[:5])).softmax(dim=1).numpy()[:, 2]
    np.testing.assert_allclose(probs.outputs, expect, rtol=0, atol=1e-12)


def test_float32_model_sums_to_delta_within_float32_rounding(credit):
    X, _ = credit
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(61, 8), nn.ReLU(), nn.Linear(8, 1))
    e = D.deeplift(model, X[:5].astype(np.float32), baselines=X[5].astype(np.float32))
    _complete(e, tol=1e-5)


# ---- targets, groups, batches, baselines ------------------------------------------------------------------------


def test_target_selects_the_output_explained(credit):
    X, _ = credit
    cr.manual_seed(4)
    model = nn.Sequential(nn.Linear(61, 6), nn.ReLU(), nn.Linear(6, 3)).double()
    x = X[:4]
    per_row = np.array([2, 0, 1, 2])
    e = D.deeplift(model, x, target=per_row, baselines=X[9])
    for t in range(3):
        single = D.deeplift(lambda v, t=t: model(v)[:, t], x, baselines=X[9])
        rows = per_row == t
        np.testing.assert_allclose(e.values[rows], single.values[rows], rtol=0, atol=1e-12)
        np.testing.assert_allclose(e.outputs[rows], single.outputs[rows], rtol=0, atol=1e-12)
    _complete(e)
    with pytest.raises(ArgumentError, match="3 outputs"):
        D.deeplift(model, x)
    with pytest.raises(ArgumentError, match="one int per row"):
        D.deeplift(model, x, target=[0, 1])
    shap = D.deeplift_shap(model, x, target=per_row, background=X[20:23])
    _complete(shap)


def test_groups_sum_their_columns(credit):
    X, pre = credit
    model, _ = _mlp(nn.ReLU, seed=1)
    plain = D.deeplift(model, X[:4], baselines=X[11])
    e = D.deeplift(model, X[:4], baselines=X[11], groups=pre)
    groups = _core.resolve_groups(pre, 61, "test")
    assert e.names == groups.names and len(e.names) < 61
    for g, cols in enumerate(groups.columns):
        np.testing.assert_allclose(e.values[:, g], plain.values[:, cols].sum(axis=1), rtol=0, atol=1e-14)
    _complete(e)
    e = D.deeplift(model, X[:4], groups={"first two": [0, 1]})
    assert e.names[0] == "first two" and e.values.shape == (4, 60)
    with pytest.raises(ArgumentError, match="groups= is for table"):
        D.deeplift(_cnn()[0], np.zeros((1, 2, 6, 6)), groups=[[0]])


def test_batches_give_the_same_values(credit):
    X, _ = credit
    model, _ = _mlp(nn.Sigmoid, seed=2)
    whole = D.deeplift(model, X[:7], target=np.zeros(7, dtype=np.int64), baselines=X[40:47])
    assert whole.info["baselines"] == "paired"
    one = D.deeplift(model, X[:7], target=np.zeros(7, dtype=np.int64), baselines=X[40:47], batch_size=2)
    np.testing.assert_allclose(one.values, whole.values, rtol=0, atol=1e-14)
    shap = D.deeplift_shap(model, X[:3], background=X[50:55], batch_size=4)
    np.testing.assert_allclose(shap.values, D.deeplift_shap(model, X[:3], background=X[50:55]).values, rtol=0,
                               atol=1e-14)
    with pytest.raises(ArgumentError, match="batch_size"):
        D.deeplift(model, X[:2], batch_size=0)


def test_baseline_errors(credit):
    X, _ = credit
    model, _ = _mlp(nn.ReLU)
    with pytest.raises(ArgumentError, match="deeplift_shap"):
        D.deeplift(model, X[:3], baselines=X[10:15])
    with pytest.raises(ShapeError, match="baselines of shape"):
        D.deeplift(model, X[:3], baselines=np.zeros(5))
    with pytest.raises(ArgumentError, match="needs background"):
        D.deeplift_shap(model, X[:3])
    with pytest.raises(ShapeError, match="background of shape"):
        D.deeplift_shap(model, X[:3], background=np.zeros((4, 3)))
    with pytest.raises(ArgumentError, match="output must be"):
        D.deeplift(model, X[:3], output="odds")


# ---- ops without a rule ----------------------------------------------------------------------------------------


class _Cube(cr.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * g * x * x


@pytest.mark.parametrize("body, name", [
    (lambda h: h.prod(dim=1, keepdim=True), "prod"),
    (lambda h: h.norm(dim=1, keepdim=True), "norm"),
    (lambda h: h.topk(2, dim=1).values, "getitem"),
    (lambda h: _Cube.apply(h), "function _Cube"),
])
def test_an_op_without_a_rule_is_named(credit, body, name):
    X, _ = credit
    cr.manual_seed(0)
    lin = nn.Linear(61, 4).double()
    with pytest.raises(ArgumentError, match=f"deeplift: no DeepLIFT rule for {name}"):
        D.deeplift(lambda v: body(lin(v)).sum(dim=1), X[:3], baselines=X[3])
    assert _function._anomaly is None  # the hook is given back on an error too


def test_data_dependent_where_is_refused(credit):
    X, _ = credit
    lin = nn.Linear(61, 4).double()
    with pytest.raises(ArgumentError, match="no DeepLIFT rule for where whose condition differs"):
        D.deeplift(lambda v: cr.where(lin(v)._data > 0, lin(v), 0.0).sum(dim=1), X[:4], baselines=X[4])


# ---- no side effects ------------------------------------------------------------------------------------------


def test_no_grad_written_and_training_unaffected(credit):
    X, _ = credit
    model, _ = _mlp(nn.ReLU, seed=6)
    x = cr.tensor(X[:8])

    def grads():
        model.zero_grad()
        model(x).sum().backward()
        return [p.grad.numpy().copy() for p in model.parameters()]

    before = grads()
    model.zero_grad()
    D.deeplift(model, X[:4], baselines=X[5])
    D.deeplift_shap(model, X[:2], background=X[10:13])
    assert all(p.grad is None for p in model.parameters())
    assert _function._anomaly is None
    for a, b in zip(before, grads()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_mode_still_checks_inside_deeplift(credit):
    X, _ = credit
    lin = nn.Linear(61, 2).double()
    with cr.autograd.detect_anomaly():
        with pytest.raises(cr.errors.AnomalyError, match="log"):
            D.deeplift(lambda v: (lin(v) - 1e6).log().sum(dim=1), X[:2])
        checker = _function._anomaly
    assert checker is not None and _function._anomaly is None
