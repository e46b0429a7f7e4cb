"""Linear, Identity, Flatten, Dropout and the activation modules against PyTorch; finite-difference checks;
initialisers (bounds, standard deviations and gains as torch.nn.init) and reproducible construction."""

import math

import numpy as np
import pytest
import tolerance as T
import torch

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentError, ChainruleError, ShapeError


def _x(*shape, seed=0, scale=1.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


def _copy_into_torch(layer, torch_layer):
    torch_layer.load_state_dict({k: torch.tensor(v) for k, v in layer.state_dict().items()})


def check_parity(layer, torch_layer, x, rule=T.linear):
    """Forward values and the gradients of the input and of every parameter, for a random upstream gradient,
    within C * eps of the magnitudes that ``rule`` gives (``tests/tolerance.py``): ``linear`` for the layers
    that multiply, add and move, ``elementwise`` for activations."""
    _copy_into_torch(layer, torch_layer)
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out = layer(xc)
    tout = torch_layer(xt)
    assert out.shape == tuple(tout.shape)
    assert out.dtype == np.float32

    g = np.random.default_rng(99).standard_normal(out.shape).astype(np.float32)
    mag, (gx_mag,), param_mags = T.module_magnitudes(rule, torch_layer, [x], g)
    T.assert_close(out.numpy(), tout.detach().numpy(), mag, "forward")
    out.backward(g)
    tout.backward(torch.from_numpy(g))
    assert xc.grad is not None and xc.grad.shape == xc.shape
    T.assert_close(xc.grad.numpy(), xt.grad.numpy(), gx_mag, "input gradient")
    tparams = dict(torch_layer.named_parameters())
    assert [n for n, _ in layer.named_parameters()] == list(tparams)
    for name, p in layer.named_parameters():
        assert p.grad is not None, name
        assert p.grad.dtype == np.float32
        T.assert_close(p.grad.numpy(), tparams[name].grad.numpy(), param_mags[name], name)
    return out


# ---- Linear ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)], ids=["2d", "3d", "1d"])
def test_linear_parity(shape, bias):
    layer = nn.Linear(3, 4, bias=bias)
    torch_layer = torch.nn.Linear(3, 4, bias=bias)
    out = check_parity(layer, torch_layer, _x(*shape))
    assert out.shape == shape[:-1] + (4,)


def test_linear_parameters():
    layer = nn.Linear(3, 4)
    assert layer.weight.shape == (4, 3) and layer.bias.shape == (4,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert nn.Linear(3, 4, bias=False).bias is None
    assert [n for n, _ in nn.Linear(3, 4, bias=False).named_parameters()] == ["weight"]


def test_linear_shape_mismatch():
    layer = nn.Linear(3, 4)
    with pytest.raises(ShapeError) as e:
        layer(cr.tensor(_x(5, 2)))
    msg = str(e.value)
    assert "linear" in msg.lower()
    assert "(5, 2)" in msg and "(4, 3)" in msg
    assert isinstance(e.value, ChainruleError) and isinstance(e.value, ValueError)


def test_gradcheck_linear_float64():
    rng = np.random.default_rng(0)
    x = cr.tensor(rng.standard_normal((3, 4)), dtype=cr.float64, requires_grad=True)
    w = cr.tensor(rng.standard_normal((2, 4)), dtype=cr.float64, requires_grad=True)
    b = cr.tensor(rng.standard_normal(2), dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(F.linear, (x, w, b))
    assert cr.autograd.gradcheck(lambda x, w: F.linear(x, w), (x, w))
    x3 = cr.tensor(rng.standard_normal((2, 3, 4)), dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(F.linear, (x3, w, b))


# ---- Identity and Flatten -------------------------------------------------------------------------------------


def test_identity():
    check_parity(nn.Identity(), torch.nn.Identity(), _x(2, 3))
    x = cr.tensor(_x(2, 3))
    assert nn.Identity()(x) is x


@pytest.mark.parametrize("dims", [(), (0, -1), (1, 2), (2, 3), (-3, -2), (0, 1), (3, 3)], ids=str)
def test_flatten_parity(dims):
    check_parity(nn.Flatten(*dims), torch.nn.Flatten(*dims), _x(2, 3, 4, 5))


# ---- Dropout -----------------------------------------------------------------------------------------------------


def test_dropout_eval_is_identity():
    layer = nn.Dropout(0.5).eval()
    x = _x(10, 10)
    out = layer(cr.tensor(x))
    np.testing.assert_array_equal(out.numpy(), x)
    check_parity(nn.Dropout(0.7).eval(), torch.nn.Dropout(0.7).eval(), x)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8])
def test_dropout_train_statistics(p):
    n = 200_000
    x = np.ones(n, dtype=np.float32)
    out = nn.Dropout(p, seed=1)(cr.tensor(x)).numpy()
    zero = out == 0
    # fraction zeroed ~ p: the standard error is sqrt(p(1-p)/n) < 0.0012
    assert abs(zero.mean() - p) < 0.006
    np.testing.assert_allclose(out[~zero], np.float32(1 / (1 - p)), rtol=1e-6)
    # the expectation is kept
    assert abs(out.mean() - 1) < 0.02


def test_dropout_scales_survivors_of_any_input_and_gradient():
    p = 0.4
    x = _x(50, 40)
    xc = cr.tensor(x, requires_grad=True)
    out = nn.Dropout(p, seed=3)(xc)
    keep = out.numpy() != 0
    np.testing.assert_allclose(out.numpy()[keep], x[keep] / (1 - p), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), keep / (1 - p), rtol=1e-6)


def test_dropout_p_zero_and_one():
    x = _x(4, 5)
    np.testing.assert_array_equal(nn.Dropout(0.0)(cr.tensor(x)).numpy(), x)
    out = nn.Dropout(1.0)(cr.tensor(x)).numpy()
    assert out.shape == x.shape and not out.any()


def test_dropout_invalid_p():
    with pytest.raises(ArgumentError):
        nn.Dropout(1.5)(cr.tensor(_x(2, 2)))
    with pytest.raises(ArgumentError):
        nn.Dropout(-0.1)(cr.tensor(_x(2, 2)))


def test_dropout_seeded_masks_reproducible():
    x = cr.tensor(np.ones((30, 30), dtype=np.float32))
    a, b = nn.Dropout(0.5, seed=7), nn.Dropout(0.5, seed=7)
    first_a, first_b = a(x).numpy(), b(x).numpy()
    np.testing.assert_array_equal(first_a, first_b)
    second_a = a(x).numpy()
    assert not np.array_equal(first_a, second_a)  # the layer's generator moves on
    np.testing.assert_array_equal(second_a, b(x).numpy())
    assert not np.array_equal(first_a, nn.Dropout(0.5, seed=8)(x).numpy())


def test_dropout_masks_reproducible_with_manual_seed():
    x = cr.tensor(np.ones((30, 30), dtype=np.float32))
    cr.manual_seed(123)
    first = [nn.Dropout(0.5)(x).numpy() for _ in range(2)]
    cr.manual_seed(123)
    again = [nn.Dropout(0.5)(x).numpy() for _ in range(2)]
    for u, v in zip(first, again):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(first[0], first[1])
    cr.manual_seed(124)
    assert not np.array_equal(first[0], nn.Dropout(0.5)(x).numpy())


# ---- activations ------------------------------------------------------------------------------------------------

ACTIVATIONS = [
    ("sigmoid", lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid(), T.elementwise),
    ("tanh", lambda: nn.Tanh(), lambda: torch.nn.Tanh(), T.elementwise),
    ("relu", lambda: nn.ReLU(), lambda: torch.nn.ReLU(), T.elementwise),
    ("leaky_relu", lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU(), T.elementwise),
    ("leaky_relu_0.2", lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2), T.elementwise),
    ("gelu", lambda: nn.GELU(), lambda: torch.nn.GELU(), T.elementwise),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh"), lambda: torch.nn.GELU(approximate="tanh"),
     T.from_terms(T.gelu_tanh_terms)),
    ("softplus", lambda: nn.Softplus(), lambda: torch.nn.Softplus(), T.elementwise),
    ("softplus_beta", lambda: nn.Softplus(beta=2.0, threshold=3.0), lambda: torch.nn.Softplus(beta=2.0, threshold=3.0),
     T.elementwise),
    ("softmax_last", lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1),
     T.from_terms(T.softmax_terms, axis=-1)),
    ("softmax_0", lambda: nn.Softmax(dim=0), lambda: torch.nn.Softmax(dim=0), T.from_terms(T.softmax_terms, axis=0)),
    ("softmax_1", lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1), T.from_terms(T.softmax_terms, axis=1)),
    ("log_softmax_last", lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1),
     T.from_terms(T.log_softmax_terms, axis=-1)),
    ("log_softmax_0", lambda: nn.LogSoftmax(dim=0), lambda: torch.nn.LogSoftmax(dim=0),
     T.from_terms(T.log_softmax_terms, axis=0)),
    ("log_softmax_1", lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1),
     T.from_terms(T.log_softmax_terms, axis=1)),
    ("elu", lambda: nn.ELU(), lambda: torch.nn.ELU(), T.elementwise),
    ("elu_0.5", lambda: nn.ELU(alpha=0.5), lambda: torch.nn.ELU(alpha=0.5), T.elementwise),
    ("silu", lambda: nn.SiLU(), lambda: torch.nn.SiLU(), T.elementwise),
]


@pytest.mark.parametrize("name, make, tmake, rule", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_parity(name, make, tmake, rule):
    x = _x(2, 3, 4, seed=1, scale=3.0)
    check_parity(make(), tmake(), x, rule)


def test_step_matches_heaviside_with_zero_gradient():
    x = _x(3, 4, seed=2, scale=2.0)
    x[0, :2] = 0.0  # the step is 1 at 0, as torch.heaviside(x, 1)
    xc = cr.tensor(x, requires_grad=True)
    out = nn.Step()(xc)
    expected = torch.heaviside(torch.tensor(x), torch.tensor(1.0)).numpy()
    np.testing.assert_array_equal(out.numpy(), expected)
    assert out.dtype == np.float32
    out.backward(np.ones_like(x))
    assert xc.grad is not None and not xc.grad.numpy().any()


def test_activation_modules_have_no_parameters():
    for _, make, _, _ in ACTIVATIONS:
        assert list(make().parameters()) == []


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_gradcheck_elu_float64(alpha):
    x = np.random.default_rng(4).uniform(-3, 3, (3, 4))
    x[np.abs(x) < 0.05] = 0.5  # away from the kink at 0 (for alpha != 1)
    xc = cr.tensor(x, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda t: F.elu(t, alpha), xc)
    assert cr.autograd.gradcheck(nn.ELU(alpha), xc)


def test_gradcheck_silu_float64():
    x = cr.tensor(np.random.default_rng(5).uniform(-6, 6, (3, 4)), dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(F.silu, x)
    assert cr.autograd.gradcheck(nn.SiLU(), x)


# ---- initialisers ----------------------------------------------------------------------------------------------

SHAPES = [(512, 384), (128, 64, 3, 3)]  # 196,608 and 73,728 elements; the second has a receptive field of 9


def _empty(shape):
    return nn.Parameter(np.empty(shape, dtype=np.float32))


def _torch_fans(shape):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def _check_uniform(values, low, high):
    assert values.min() >= low and values.max() <= high
    span = high - low
    # the extremes of ~1e5 uniform draws lie within span/1000 of the bounds
    assert values.min() - low < span / 1000 and high - values.max() < span / 1000
    np.testing.assert_allclose(values.mean(), (low + high) / 2, atol=span * 0.01)
    np.testing.assert_allclose(values.std(), span / math.sqrt(12), rtol=0.01)


def _check_normal(values, mean, std):
    np.testing.assert_allclose(values.mean(), mean, atol=std * 0.02)
    np.testing.assert_allclose(values.std(), std, rtol=0.015)
    # normal, not uniform: some draws lie beyond 3 std, about 0.27%
    assert 0.0015 < (np.abs(values - mean) > 3 * std).mean() < 0.004


def test_uniform_():
    t = _empty((400, 500))
    out = nn.init.uniform_(t, -2.0, 3.0, seed=0)
    assert out is t
    _check_uniform(t.numpy(), -2.0, 3.0)
    _check_uniform(nn.init.uniform_(_empty((400, 500)), seed=1).numpy(), 0.0, 1.0)


def test_normal_():
    t = _empty((400, 500))
    assert nn.init.normal_(t, 1.5, 0.5, seed=0) is t
    _check_normal(t.numpy(), 1.5, 0.5)
    _check_normal(nn.init.normal_(_empty((400, 500)), seed=1).numpy(), 0.0, 1.0)


def test_constant_zeros_ones():
    t = _empty((3, 4))
    assert nn.init.constant_(t, 0.3) is t
    np.testing.assert_array_equal(t.numpy(), np.full((3, 4), 0.3, dtype=np.float32))
    assert nn.init.zeros_(t) is t and not t.numpy().any()
    assert nn.init.ones_(t) is t and (t.numpy() == 1).all()
    assert t.dtype == np.float32


def test_init_records_no_gradient():
    t = _empty((10, 10))
    nn.init.normal_(t, seed=0)
    assert t.is_leaf and t.grad_fn is None and t.requires_grad


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("gain", [1.0, 5.0 / 3])
def test_xavier_uniform_(shape, gain):
    fan_in, fan_out = _torch_fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    t = nn.init.xavier_uniform_(_empty(shape), gain=gain, seed=0)
    _check_uniform(t.numpy(), -a, a)
    ref = torch.nn.init.xavier_uniform_(torch.empty(shape), gain=gain).numpy()
    np.testing.assert_allclose(t.numpy().std(), ref.std(), rtol=0.02)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
def test_xavier_normal_(shape, gain):
    fan_in, fan_out = _torch_fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    t = nn.init.xavier_normal_(_empty(shape), gain=gain, seed=0)
    _check_normal(t.numpy(), 0.0, std)
    ref = torch.nn.init.xavier_normal_(torch.empty(shape), gain=gain).numpy()
    np.testing.assert_allclose(t.numpy().std(), ref.std(), rtol=0.03)


KAIMING = [
    {},
    {"nonlinearity": "relu"},
    {"nonlinearity": "relu", "mode": "fan_out"},
    {"a": 0.2, "nonlinearity": "leaky_relu"},
    {"a": math.sqrt(5), "nonlinearity": "leaky_relu"},
    {"a": 0.1, "nonlinearity": "leaky_relu", "mode": "fan_out"},
    {"nonlinearity": "tanh"},
    {"nonlinearity": "linear", "mode": "fan_out"},
    {"nonlinearity": "sigmoid"},
    {"nonlinearity": "selu"},
]


def _kaiming_std(shape, kw):
    fan_in, fan_out = _torch_fans(shape)
    fan = fan_out if kw.get("mode") == "fan_out" else fan_in
    gain = torch.nn.init.calculate_gain(kw.get("nonlinearity", "leaky_relu"), kw.get("a", 0))
    return gain / math.sqrt(fan)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", KAIMING, ids=str)
def test_kaiming_uniform_(shape, kw):
    bound = math.sqrt(3.0) * _kaiming_std(shape, kw)
    t = nn.init.kaiming_uniform_(_empty(shape), seed=0, **kw)
    _check_uniform(t.numpy(), -bound, bound)
    torch.manual_seed(0)
    ref = torch.nn.init.kaiming_uniform_(torch.empty(shape), **kw).numpy()
    np.testing.assert_allclose(np.abs(t.numpy()).max(), np.abs(ref).max(), rtol=0.002)
    np.testing.assert_allclose(t.numpy().std(), ref.std(), rtol=0.02)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", KAIMING, ids=str)
def test_kaiming_normal_(shape, kw):
    std = _kaiming_std(shape, kw)
    t = nn.init.kaiming_normal_(_empty(shape), seed=0, **kw)
    _check_normal(t.numpy(), 0.0, std)
    torch.manual_seed(0)
    ref = torch.nn.init.kaiming_normal_(torch.empty(shape), **kw).numpy()
    np.testing.assert_allclose(t.numpy().std(), ref.std(), rtol=0.03)


def test_kaiming_bad_mode():
    with pytest.raises(ArgumentError):
        nn.init.kaiming_uniform_(_empty((3, 3)), mode="fan_avg")


def test_fan_needs_two_dimensions():
    with pytest.raises(ShapeError):
        nn.init.xavier_uniform_(_empty((5,)))
    with pytest.raises(ShapeError):
        nn.init.kaiming_normal_(_empty((5,)))


GAINS = [
    ("linear", None),
    ("conv1d", None),
    ("conv2d", None),
    ("conv3d", None),
    ("conv_transpose1d", None),
    ("conv_transpose2d", None),
    ("conv_transpose3d", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("leaky_relu", 0),
    ("leaky_relu", 1),
    ("leaky_relu", math.sqrt(5)),
    ("selu", None),
]


@pytest.mark.parametrize("name, param", GAINS, ids=[f"{n}-{p}" for n, p in GAINS])
def test_calculate_gain_matches_torch(name, param):
    assert nn.init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-12)


def test_calculate_gain_unknown():
    with pytest.raises(ArgumentError, match="softsign"):
        nn.init.calculate_gain("softsign")
    with pytest.raises(ValueError):  # as torch
        nn.init.calculate_gain("nonsense")


# ---- reproducibility ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [
        nn.init.uniform_,
        nn.init.normal_,
        nn.init.xavier_uniform_,
        nn.init.xavier_normal_,
        nn.init.kaiming_uniform_,
        nn.init.kaiming_normal_,
    ],
    ids=lambda f: f.__name__,
)
def test_seed_and_generator_reproducible(fn):
    a = fn(_empty((20, 30)), seed=5).numpy().copy()
    b = fn(_empty((20, 30)), seed=5).numpy().copy()
    c = fn(_empty((20, 30)), generator=np.random.default_rng(5)).numpy().copy()
    d = fn(_empty((20, 30)), seed=6).numpy().copy()
    assert a.tobytes() == b.tobytes() == c.tobytes()
    assert not np.array_equal(a, d)
    g = np.random.default_rng(0)
    e, f = fn(_empty((20, 30)), generator=g).numpy().copy(), fn(_empty((20, 30)), generator=g).numpy().copy()
    assert not np.array_equal(e, f)  # a generator moves on
    cr.manual_seed(11)
    h = fn(_empty((20, 30))).numpy().copy()
    cr.manual_seed(11)
    assert h.tobytes() == fn(_empty((20, 30))).numpy().tobytes()


def _model():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


def test_manual_seed_makes_model_construction_reproducible_bit_for_bit():
    cr.manual_seed(0)
    first = _model().state_dict()
    cr.manual_seed(0)
    second = _model().state_dict()
    assert list(first) == list(second)
    for k in first:
        assert first[k].dtype == second[k].dtype == np.float32
        assert first[k].tobytes() == second[k].tobytes(), k
    third = _model().state_dict()  # without re-seeding: different
    assert not np.array_equal(first["0.weight"], third["0.weight"])


def test_reset_parameters_with_generator():
    layer = nn.Linear(6, 5)
    layer.reset_parameters(generator=np.random.default_rng(3))
    first = layer.state_dict()
    layer.reset_parameters(generator=np.random.default_rng(3))
    for k, v in layer.state_dict().items():
        assert v.tobytes() == first[k].tobytes()


@pytest.mark.parametrize("in_features, out_features", [(400, 300), (30, 2000)])
def test_linear_default_init_matches_torch(in_features, out_features):
    cr.manual_seed(0)
    layer = nn.Linear(in_features, out_features)
    bound = 1 / math.sqrt(in_features)
    _check_uniform(layer.weight.numpy(), -bound, bound)
    b = layer.bias.numpy()
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    torch.manual_seed(0)
    ref = torch.nn.Linear(in_features, out_features)
    np.testing.assert_allclose(np.abs(layer.weight.numpy()).max(), ref.weight.abs().max().item(), rtol=0.002)
    np.testing.assert_allclose(layer.weight.numpy().std(), ref.weight.std().item(), rtol=0.02)
    assert ref.bias.abs().max().item() <= bound
