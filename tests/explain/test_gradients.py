"""Gradient attributions against Captum 0.9 (weights copied by state_dict), completeness, the exact path integral
of piecewise-linear networks, baselines, groups, and what the methods leave untouched."""

import numpy as np
import pytest
import torch
from captum.attr import GradientShap, InputXGradient, IntegratedGradients, NoiseTunnel, Saliency

import chainrule as cr
from chainrule import nn
from chainrule.data import Preprocessor, datasets
from chainrule.errors import ArgumentError, ShapeError
from chainrule.explain import _core
from chainrule.explain import gradients as G

ACTS = {"relu": (nn.ReLU, torch.nn.ReLU), "tanh": (nn.Tanh, torch.nn.Tanh), "sigmoid": (nn.Sigmoid, torch.nn.Sigmoid),
        "leaky": (lambda: nn.LeakyReLU(0.1), lambda: torch.nn.LeakyReLU(0.1))}


@pytest.fixture(scope="module")
def credit():
    pre = Preprocessor(target="credit_risk")
    X, _ = pre.fit_transform(datasets.german_credit())
    return pre, X


def _pair(act, widths, out=1, seed=0, double=True):
    """The same MLP in chainrule and in torch (weights copied)."""
    cr.manual_seed(seed)
    ours, theirs = [], []
    for a, b in zip(widths[:-1], widths[1:]):
        ours += [nn.Linear(a, b), ACTS[act][0]()]
        theirs += [torch.nn.Linear(a, b), ACTS[act][1]()]
    ours.append(nn.Linear(widths[-1], out))
    theirs.append(torch.nn.Linear(widths[-1], out))
    m, t = nn.Sequential(*ours), torch.nn.Sequential(*theirs)
    if double:
        m.double()
        t.double()
    t.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in m.state_dict().items()})
    return m, t


def _rows(X, idx, dtype=np.float64):
    return np.ascontiguousarray(X[idx], dtype=dtype)


def _captum(cls, t, X, **kw):
    return cls(t).attribute(torch.tensor(X, requires_grad=True), **kw).detach().numpy()


# ---- against Captum -------------------------------------------------------------------------------------------


def test_ig_gausslegendre_float64_equals_captum(credit):
    _, X = credit
    x = _rows(X, slice(0, 6))
    m, t = _pair("tanh", [61, 16, 8], out=3)
    targets = np.array([0, 2, 1, 1, 0, 2])
    for target in (1, targets):
        e = G.integrated_gradients(m, x, target=target, baselines=x[::-1].copy())
        c = _captum(IntegratedGradients, t, x, baselines=torch.tensor(x[::-1].copy()),
                    target=torch.tensor(target) if np.ndim(target) else target, n_steps=50)
        assert np.abs(e.values - c).max() <= 1e-8
        assert e.method == "integrated_gradients" and e.info["method"] == "gausslegendre"
        ref = t(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(e.outputs, ref[np.arange(6), np.broadcast_to(target, 6)], atol=1e-14)


def test_ig_float32_equals_captum(credit):
    _, X = credit
    x = _rows(X, slice(10, 16), np.float32)
    m, t = _pair("sigmoid", [61, 16, 8], double=False)
    e = G.integrated_gradients(m, x)
    c = _captum(IntegratedGradients, t, x, n_steps=50)
    assert e.values.dtype == np.float64
    assert np.abs(e.values - c).max() <= 1e-5 * np.abs(c).max()


@pytest.mark.parametrize("method", ["riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"])
def test_ig_riemann_methods_equal_captum(credit, method):
    _, X = credit
    x = _rows(X, slice(20, 24))
    m, t = _pair("tanh", [61, 12])
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # Captum makes the Riemann alphas with torch.linspace
    try:
        c = _captum(IntegratedGradients, t, x, method=method, n_steps=20)
    finally:
        torch.set_default_dtype(default)
    e = G.integrated_gradients(m, x, method=method, n_steps=20)
    assert np.abs(e.values - c).max() <= 1e-8  # Captum rounds its step sizes to float32
    assert e.info["n_steps"] == 20


def test_ig_on_images_equals_captum():
    cr.manual_seed(3)
    m = nn.Sequential(nn.Conv2d(1, 3, 3), nn.Tanh(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(27, 2)).double()
    t = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.Tanh(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                            torch.nn.Linear(27, 2)).double()
    t.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in m.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 1, 8, 8))
    e = G.integrated_gradients(m, x, target=1, n_steps=16)
    assert e.values.shape == x.shape and e.names is None
    assert np.abs(e.values - _captum(IntegratedGradients, t, x, target=1, n_steps=16)).max() <= 1e-8
    s = G.saliency(m, x, target=0)
    np.testing.assert_allclose(s.values, _captum(Saliency, t, x, target=0), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_saliency_and_input_x_gradient_equal_captum(credit, dtype):
    _, X = credit
    x = _rows(X, slice(30, 38), dtype)
    m, t = _pair("relu", [61, 16, 16], out=2, double=dtype == np.float64)
    eps = np.finfo(dtype).eps
    for abs_ in (True, False):
        e = G.saliency(m, x, target=1, abs=abs_)
        c = _captum(Saliency, t, x, target=1, abs=abs_)
        assert np.abs(e.values - c).max() <= 64 * eps * np.abs(c).max()
        assert e.info["abs"] is abs_
    e = G.input_x_gradient(m, x, target=0)
    c = _captum(InputXGradient, t, x, target=0)
    assert np.abs(e.values - c).max() <= 64 * eps * np.abs(c).max()
    zero = t(torch.zeros(1, 61, dtype=torch.float64 if dtype == np.float64 else torch.float32))
    np.testing.assert_allclose(e.base_values, zero.detach().numpy()[0, 0], rtol=64 * eps)


# ---- completeness ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_completeness_of_gausslegendre_50_on_smooth_networks(credit, act):
    _, X = credit
    x = _rows(X, slice(40, 60))
    for seed, widths in enumerate([[61, 32], [61, 32, 16], [61, 16, 16, 16]]):
        m, _ = _pair(act, widths, seed=seed)
        for baselines in (None, _rows(X, slice(100, 101)), _rows(X, slice(200, 220))):
            e = G.integrated_gradients(m, x, baselines=baselines)
            change = np.abs(e.outputs - e.base_values)
            assert np.all(np.abs(e.delta) <= 1e-9 * np.maximum(1, change))


def _exact_one_hidden_layer(W1, b1, w2, x, b):
    """Integrated gradients of w2 . relu(W1 x + b1) + b2 from b to x in closed form: unit k's input is affine in
    alpha, so the length of the part of [0, 1] where it is positive is known."""
    z0, z1 = W1 @ b + b1, W1 @ x + b1
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.clip(-z0 / (z1 - z0), 0, 1)
    length = np.where(z0 > 0, np.where(z1 > 0, 1.0, cross), np.where(z1 > 0, 1 - cross, 0.0))
    return (x - b) * ((w2 * length) @ W1)


def test_exact_equals_the_closed_form_of_a_one_hidden_layer_net(credit):
    _, X = credit
    x = _rows(X, slice(0, 25))
    b = _rows(X, slice(500, 501))[0]
    m, _ = _pair("relu", [61, 48], seed=4)
    W1, b1 = np.asarray(m[0].weight.numpy()), m[0].bias.numpy()
    w2 = m[2].weight.numpy()[0]
    e = G.integrated_gradients(m, x, baselines=b, method="exact")
    ref = np.stack([_exact_one_hidden_layer(W1, b1, w2, row, b) for row in x])
    assert np.abs(e.values - ref).max() <= 1e-12 * max(1.0, np.abs(ref).max())
    assert np.abs(e.delta).max() <= 1e-12
    assert e.info["kinks"].min() >= 1 and e.info["n_steps"] is None


@pytest.mark.parametrize("act", ["relu", "leaky"])
def test_exact_completeness_on_random_relu_networks(credit, act):
    _, X = credit
    x = _rows(X, slice(60, 90))
    for seed, widths in enumerate([[61, 64], [61, 64, 32], [61, 32, 32, 16], [61, 16, 16, 16, 16]]):
        m, _ = _pair(act, widths, out=2, seed=seed)
        for baselines in (None, _rows(X, slice(300, 301)), _rows(X, slice(400, 430)), _rows(X, slice(700, 705))):
            e = G.integrated_gradients(m, x, target=1, baselines=baselines, method="exact")
            assert np.abs(e.delta).max() <= 1e-12, (seed, None if baselines is None else len(baselines))
            assert e.info["kinks"].max() > 0


def test_exact_agrees_with_a_fine_riemann_sum_on_a_deep_net(credit):
    _, X = credit
    x = _rows(X, slice(90, 94))
    m, _ = _pair("relu", [61, 32, 32, 16], seed=7)
    exact = G.integrated_gradients(m, x, method="exact")
    fine = G.integrated_gradients(m, x, method="riemann_middle", n_steps=20000)
    # the midpoint rule on a piecewise-constant integrand is off by at most (jump x step) per kink
    assert np.abs(exact.values - fine.values).max() <= 1e-3 * np.abs(exact.values).max()
    assert np.abs(exact.delta).max() <= 1e-12 < np.abs(fine.delta).max()


def test_exact_on_a_cnn_with_max_pool_and_functional_relu():
    cr.manual_seed(5)
    conv, lin = nn.Conv2d(2, 4, 3, padding=1).double(), nn.Linear(4 * 4 * 4, 3).double()

    def model(x):
        h = cr.nn.functional.max_pool2d(conv(x).relu(), 2)
        return lin(h.reshape(h.shape[0], -1).clamp(-0.3, 0.5)) + h.amax(dim=(1, 2, 3), keepdim=False)[:, None]

    x = np.random.default_rng(1).standard_normal((4, 2, 8, 8))
    e = G.integrated_gradients(model, x, target=2, baselines=0.1, method="exact")
    assert e.values.shape == x.shape and np.abs(e.delta).max() <= 1e-12 and e.info["kinks"].min() > 0
    fine = G.integrated_gradients(model, x, target=2, baselines=0.1, method="riemann_middle", n_steps=4000)
    assert np.abs(e.values - fine.values).max() <= 2e-3 * np.abs(e.values).max()


def test_exact_refuses_what_is_not_piecewise_linear(credit):
    _, X = credit
    x = _rows(X, slice(0, 3))
    m, _ = _pair("tanh", [61, 8])
    with pytest.raises(ArgumentError, match="integrated_gradients: method='exact'.*computes tanh"):
        G.integrated_gradients(m, x, method="exact")
    r, _ = _pair("relu", [61, 8])
    with pytest.raises(ArgumentError, match="computes sigmoid"):
        G.integrated_gradients(r, x, method="exact", output="probability")
    with pytest.raises(ArgumentError, match="computes mul of two values that both depend on the inputs"):
        G.integrated_gradients(lambda t: r(t) * r(t), x, method="exact")
    e = G.integrated_gradients(lambda t: r(t) * 3.0 - r(t), x, method="exact")  # linear in r: fine
    assert np.abs(e.delta).max() <= 1e-12


# ---- baselines, batching, groups -------------------------------------------------------------------------------


def test_background_baselines_are_averaged(credit):
    _, X = credit
    x, bg = _rows(X, slice(0, 4)), _rows(X, slice(600, 605))
    m, t = _pair("relu", [61, 16, 8], out=2, seed=2)
    for method in ("gausslegendre", "exact"):
        e = G.integrated_gradients(m, x, target=0, baselines=bg, method=method)
        each = [G.integrated_gradients(m, x, target=0, baselines=row, method=method) for row in bg]
        np.testing.assert_allclose(e.values, np.mean([a.values for a in each], axis=0), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(e.base_values, t(torch.tensor(bg)).detach().numpy()[:, 0].mean(), rtol=1e-13)
        assert e.info["baselines"] == "background" and e.info["n_baselines"] == 5
        assert np.abs(e.delta).max() <= (1e-12 if method == "exact" else 1e-3)
    # per-row targets: each row's base value is the background's mean for its own target
    e = G.integrated_gradients(m, x, target=np.array([0, 1, 1, 0]), baselines=bg, method="exact")
    mean = t(torch.tensor(bg)).detach().numpy().mean(axis=0)
    np.testing.assert_allclose(e.base_values, mean[[0, 1, 1, 0]], rtol=1e-13)
    assert np.abs(e.delta).max() <= 1e-12


def test_paired_baselines_equal_captum(credit):
    _, X = credit
    x, b = _rows(X, slice(0, 5)), _rows(X, slice(800, 805))
    m, t = _pair("tanh", [61, 16], seed=1)
    e = G.integrated_gradients(m, x, baselines=b)
    assert e.info["baselines"] == "paired"
    assert np.abs(e.values - _captum(IntegratedGradients, t, x, baselines=torch.tensor(b))).max() <= 1e-8
    np.testing.assert_allclose(e.base_values, t(torch.tensor(b)).detach().numpy()[:, 0], rtol=1e-13)


def test_batch_size_does_not_change_the_values(credit):
    _, X = credit
    x, bg = _rows(X, slice(0, 7)), _rows(X, slice(600, 603))
    m, _ = _pair("relu", [61, 16, 8], seed=2)
    for method in ("gausslegendre", "exact"):
        a = G.integrated_gradients(m, x, baselines=bg, method=method)
        for bs in (1, 5, 13):
            b = G.integrated_gradients(m, x, baselines=bg, method=method, batch_size=bs)
            np.testing.assert_allclose(b.values, a.values, rtol=1e-11, atol=1e-14)
            assert b.info["batch_size"] == bs
    c = G.integrated_gradients(m, x, internal_batch_size=5)
    assert c.info["batch_size"] == 5
    with pytest.raises(ArgumentError, match="batch_size=4 and internal_batch_size=5 differ"):
        G.integrated_gradients(m, x, batch_size=4, internal_batch_size=5)


def test_groups_on_german_credit_sum_the_columns(credit):
    pre, X = credit
    x, bg = _rows(X, slice(0, 6)), _rows(X, slice(900, 910))
    m, _ = _pair("relu", [61, 16, 8], seed=3)
    groups = pre.feature_groups()
    calls = [lambda **k: G.integrated_gradients(m, x, baselines=bg, method="exact", **k),
             lambda **k: G.integrated_gradients(m, x, baselines=bg, **k),
             lambda **k: G.saliency(m, x, **k), lambda **k: G.input_x_gradient(m, x, **k),
             lambda **k: G.gradient_shap(m, x, background=bg, n_samples=3, **k),
             lambda **k: G.smoothgrad("saliency", m, x, n_samples=3, stdev=0.1, kind="vargrad", **k)]
    for call in calls:
        cols, grouped = call(), call(groups=pre)
        assert grouped.names == list(groups) and grouped.values.shape == (6, len(groups))
        if not grouped.method.startswith("vargrad"):  # a variance of sums is not a sum of variances
            summed = np.stack([cols.values[:, c].sum(axis=1) for c in groups.values()], axis=1)
            np.testing.assert_allclose(grouped.values, summed, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(grouped.delta, cols.delta, rtol=1e-9, atol=1e-15)
        assert grouped.data.shape == (6, len(groups))
        assert list(grouped.data[:, 0]) == list(pre.inverse_transform_features(x)[:, 0])  # checking_account
        assert cols.names == [f"x{j}" for j in range(61)]
    by_dict = G.saliency(m, x, groups={"checking": [0, 1, 2, 3]})
    assert by_dict.names[:2] == ["checking", "x4"] and by_dict.values.shape == (6, 58)
    with pytest.raises(ShapeError, match="groups= needs a table"):
        G.saliency(m, x[:, None], groups=pre)


# ---- what the methods leave as it was --------------------------------------------------------------------------


def test_no_parameter_grad_and_the_mode_restored(credit):
    _, X = credit
    x = _rows(X, slice(0, 5))
    cr.manual_seed(0)
    m = nn.Sequential(nn.Linear(61, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 1)).double()
    m.eval()
    ref = G.integrated_gradients(m, x, method="exact").values
    m.train()
    for call in (lambda: G.integrated_gradients(m, x, method="exact"), lambda: G.integrated_gradients(m, x),
                 lambda: G.saliency(m, x), lambda: G.input_x_gradient(m, x),
                 lambda: G.smoothgrad(G.saliency, m, x, n_samples=2), lambda: G.gradient_shap(m, x, background=x[:2])):
        e = call()
        assert m.training and all(mod.training for mod in m.modules())
        assert all(p.grad is None and p.requires_grad for p in m.parameters())
    np.testing.assert_array_equal(G.integrated_gradients(m, x, method="exact").values, ref)  # dropout was off
    m.eval()
    G.saliency(m, x)
    assert not m.training
    assert e.method == "gradient_shap"


def test_bad_arguments_raise_clear_errors(credit):
    _, X = credit
    x = _rows(X, slice(0, 4))
    m, _ = _pair("relu", [61, 8], out=3)
    with pytest.raises(ArgumentError, match="the model has 3 outputs: say which"):
        G.integrated_gradients(m, x)
    with pytest.raises(ArgumentError, match="the model has 3 outputs: say which"):
        G.saliency(m, x)
    with pytest.raises(ArgumentError, match="target has 3 entries for 4 rows"):
        G.saliency(m, x, target=[0, 1, 2])
    with pytest.raises(ArgumentError, match="method must be one of riemann_left"):
        G.integrated_gradients(m, x, target=0, method="simpson")
    with pytest.raises(ArgumentError, match="n_steps must be an int >= 2"):
        G.integrated_gradients(m, x, target=0, method="riemann_left", n_steps=1)
    with pytest.raises(ArgumentError, match="kind must be one of smoothgrad"):
        G.smoothgrad("saliency", m, x, target=0, kind="mean")
    with pytest.raises(ArgumentError, match="method must be one of saliency"):
        G.smoothgrad("deeplift", m, x, target=0)
    with pytest.raises(ArgumentError, match="stdev must be a number >= 0"):
        G.gradient_shap(m, x, target=0, background=x, stdev=-1.0)
    with pytest.raises(ShapeError, match="baselines of shape"):
        G.integrated_gradients(m, x, target=0, baselines=np.zeros((2, 5)))
    assert G.integrated_gradients(m, x, target=0, n_steps=1).info["n_steps"] == 1  # one Gauss-Legendre point


# ---- SmoothGrad and GradientSHAP -------------------------------------------------------------------------------


def _noise_like_captum(monkeypatch, noise):
    """Captum's NoiseTunnel draws its noise with torch.normal over the rows repeated sample by sample; hand it
    ``noise`` (rows x samples x features) instead."""
    flat = torch.tensor(noise.reshape(-1, *noise.shape[2:]))

    def normal(mean, std, *args, **kwargs):
        assert tuple(std.shape) == tuple(flat.shape)
        return flat.clone()

    monkeypatch.setattr(torch, "normal", normal)


@pytest.mark.parametrize("kind", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_smoothgrad_equals_captum_noise_tunnel_with_the_same_noise(credit, monkeypatch, kind):
    _, X = credit
    x = _rows(X, slice(0, 4))
    m, t = _pair("tanh", [61, 12], out=2, seed=6)
    S, stdev = 6, 0.3
    rng = np.random.default_rng(11)
    noise = stdev * np.stack([rng.standard_normal(x.shape) for _ in range(S)], axis=1)  # our draws, as documented
    _noise_like_captum(monkeypatch, noise)
    for method, cls, kw in (("saliency", Saliency, {}), ("integrated_gradients", IntegratedGradients,
                                                         {"n_steps": 8})):
        e = G.smoothgrad(method, m, x, target=1, n_samples=S, stdev=stdev, kind=kind, seed=11, **kw)
        c = NoiseTunnel(cls(t)).attribute(torch.tensor(x, requires_grad=True), nt_type=kind, nt_samples=S,
                                          stdevs=stdev, target=1, **kw).detach().numpy()
        assert np.abs(e.values - c).max() <= 1e-8 * max(1, np.abs(c).max())
        assert e.method == f"{kind}({method})"


def test_smoothgrad_seed_zero_noise_and_variance(credit):
    _, X = credit
    x = _rows(X, slice(0, 5))
    m, _ = _pair("relu", [61, 12], seed=6)
    a = G.smoothgrad(G.input_x_gradient, m, x, n_samples=4, stdev=0.5, seed=3)
    np.testing.assert_array_equal(a.values, G.smoothgrad("input_x_gradient", m, x, n_samples=4, stdev=0.5,
                                                         seed=3).values)
    assert not np.array_equal(a.values, G.smoothgrad(G.input_x_gradient, m, x, n_samples=4, stdev=0.5,
                                                     seed=4).values)
    for method, kw in ((G.saliency, {"abs": False}), (G.integrated_gradients, {"method": "exact"})):
        base = method(m, x, **kw)
        z = G.smoothgrad(method, m, x, n_samples=3, stdev=0.0, **kw)
        np.testing.assert_array_equal(z.values, base.values)
        np.testing.assert_array_equal(z.outputs, base.outputs)
        np.testing.assert_array_equal(z.base_values, base.base_values)
        assert np.all(G.smoothgrad(method, m, x, n_samples=3, stdev=0.0, kind="vargrad", **kw).values == 0)
    v = G.smoothgrad(G.saliency, m, x, n_samples=5, stdev=1.0, kind="vargrad")
    assert np.all(v.values >= 0) and v.values.max() > 0
    sq = G.smoothgrad(G.saliency, m, x, n_samples=5, stdev=1.0, kind="smoothgrad_sq")
    mean = G.smoothgrad(G.saliency, m, x, n_samples=5, stdev=1.0)
    np.testing.assert_allclose(v.values, sq.values - mean.values**2, rtol=1e-9, atol=1e-14)


def test_gradient_shap_equals_captum_with_the_same_draws(credit, monkeypatch):
    _, X = credit
    x, bg = _rows(X, slice(0, 5)), _rows(X, slice(600, 612))
    m, t = _pair("tanh", [61, 16, 8], out=2, seed=8)
    S, stdev, seed = 4, 0.2, 5
    rng = np.random.default_rng(seed)  # the draws as gradient_shap documents them
    idx, alpha = rng.integers(0, len(bg), (5, S)), rng.uniform(size=(5, S))
    noise = stdev * rng.standard_normal((5, S, 61))
    monkeypatch.setattr(np.random, "choice", lambda k, size: idx.reshape(-1))
    monkeypatch.setattr(np.random, "uniform", lambda lo, hi, size: alpha.reshape(-1))
    _noise_like_captum(monkeypatch, noise)
    e = G.gradient_shap(m, x, target=1, background=bg, n_samples=S, stdev=stdev, seed=seed, batch_size=7)
    c = GradientShap(t).attribute(torch.tensor(x, requires_grad=True), baselines=torch.tensor(bg), target=1,
                                  n_samples=S, stdevs=stdev).detach().numpy()
    assert np.abs(e.values - c).max() <= 1e-12 * max(1, np.abs(c).max())
    np.testing.assert_allclose(e.base_values, t(torch.tensor(bg)).detach().numpy()[:, 1].mean(), rtol=1e-13)


def test_gradient_shap_is_deterministic_and_complete_in_expectation(credit):
    _, X = credit
    x, bg = _rows(X, slice(0, 3)), _rows(X, slice(600, 640))
    m, _ = _pair("tanh", [61, 8], seed=9)
    a = G.gradient_shap(m, x, background=bg, n_samples=6, seed=1)
    np.testing.assert_array_equal(a.values, G.gradient_shap(m, x, background=bg, n_samples=6, seed=1).values)
    assert not np.array_equal(a.values, G.gradient_shap(m, x, background=bg, n_samples=6, seed=2).values)
    many = G.gradient_shap(m, x, background=bg, n_samples=4000, seed=0)
    change = np.abs(many.outputs - many.base_values)
    assert np.all(np.abs(many.delta) <= 0.05 * np.maximum(change, 0.1))
    # a linear model: every sample's (x - b) . w is exactly f(x) - f(b), whatever alpha
    lin = nn.Linear(61, 1).double()
    one = G.gradient_shap(lin, x, background=bg[:1], n_samples=3)
    assert np.abs(one.delta).max() <= 1e-13
    assert _core.Explanation is type(one)
