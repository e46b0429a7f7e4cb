"""``inplace=`` of the activations and of dropout, as torch: the functional forms and the modules write their
result into the input tensor and return it (recorded, so gradients flow), refuse a leaf that requires grad
while gradients are recorded, and show the flag in their config and repr as torch's repr does."""

import inspect

import numpy as np
import pytest
import tolerance as T
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F
from chainrule import nn
from chainrule.errors import ArgumentTypeError, BackwardError


def _x(*shape, seed=0, scale=1.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


# name -> (chainrule form, torch form), each f(x, inplace)
FUNCTIONS = {
    "relu": (lambda x, i: F.relu(x, inplace=i), lambda t, i: TF.relu(t, inplace=i)),
    "leaky_relu": (lambda x, i: F.leaky_relu(x, 0.2, inplace=i), lambda t, i: TF.leaky_relu(t, 0.2, inplace=i)),
    "elu": (lambda x, i: F.elu(x, 0.7, inplace=i), lambda t, i: TF.elu(t, 0.7, inplace=i)),
    "silu": (lambda x, i: F.silu(x, inplace=i), lambda t, i: TF.silu(t, inplace=i)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functional_inplace_writes_into_the_input_like_torch(name):
    fn, tfn = FUNCTIONS[name]
    a = _x(4, 5)
    x, t = cr.tensor(a), torch.tensor(a)
    memory = x.numpy()
    out, tout = fn(x, True), tfn(t, True)
    assert out is x and x.numpy() is memory and tout is t
    (mag,), _ = T.elementwise(lambda v: tfn(v, False), [a])
    T.assert_close(x.numpy(), t.numpy(), mag, f"{name} in place")
    assert x._version == t._version == 1
    # out of place, the input stays as it was
    y = cr.tensor(a)
    out = fn(y, False)
    assert out is not y and y._version == 0
    np.testing.assert_array_equal(y.numpy(), a)
    T.assert_close(out.numpy(), t.numpy(), mag, f"{name} out of place")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functional_inplace_gradient_like_torch(name):
    fn, tfn = FUNCTIONS[name]
    a, g = _x(3, 4, seed=1), _x(3, 4, seed=2)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    h, th = x.clone(), t.clone()
    assert fn(h, True) is h and tfn(th, True) is th
    assert h.requires_grad and not h.is_leaf
    h.backward(cr.tensor(g))
    th.backward(torch.tensor(g))
    (mag,), (gmag,) = T.elementwise(lambda v: tfn(v, False), [a], [g])
    T.assert_close(h.detach().numpy(), th.detach().numpy(), mag, "forward")
    T.assert_close(x.grad.numpy(), t.grad.numpy(), gmag, "gradient")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_inplace_on_a_leaf_that_requires_grad_is_refused_like_torch(name):
    fn, tfn = FUNCTIONS[name]
    a = _x(2, 3)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        tfn(t, True)
    with pytest.raises(BackwardError, match=rf"{name}_: a leaf tensor that requires grad"):
        fn(x, True)
    np.testing.assert_array_equal(x.numpy(), a)  # refused before anything was written
    # under no_grad (an initialisation, an optimiser step) both allow it, and the tensor stays a leaf
    with cr.no_grad():
        assert fn(x, True) is x
    with torch.no_grad():
        tfn(t, True)
    assert x.is_leaf and x.grad_fn is None and t.is_leaf
    (mag,), _ = T.elementwise(lambda v: tfn(v, False), [a])
    T.assert_close(x.detach().numpy(), t.detach().numpy(), mag, "under no_grad")


def test_inplace_over_a_value_saved_for_backward_fails_at_backward_like_torch():
    a = _x(3, 4)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, u = x.sigmoid(), t.sigmoid()  # sigmoid saves its output for its gradient
    F.relu(y, inplace=True)
    TF.relu(u, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        u.sum().backward()
    with pytest.raises(BackwardError, match="modified by an in-place operation"):
        y.sum().backward()


@pytest.mark.parametrize("name", [*sorted(FUNCTIONS), "dropout"])
def test_inplace_needs_a_tensor(name):
    fn = FUNCTIONS[name][0] if name != "dropout" else (lambda x, i: F.dropout(x, 0.5, True, i))
    with pytest.raises(TypeError):
        TF.relu(np.ones(3, np.float32), inplace=True)
    with pytest.raises(ArgumentTypeError, match=rf"{name}: inplace=True needs a Tensor"):
        fn(np.ones(3, np.float32), True)


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "silu", "dropout"])
def test_functional_signatures_are_torchs(name):
    ours = list(inspect.signature(getattr(F, name)).parameters.values())
    theirs = list(inspect.signature(getattr(TF, name)).parameters.values())
    assert [(p.name, p.default) for p in ours[: len(theirs)]] == [(p.name, p.default) for p in theirs]
    # chainrule's extras (dropout's generator and seed) are keyword-only, after torch's parameters
    assert all(p.kind is p.KEYWORD_ONLY for p in ours[len(theirs):])


# ---- modules -----------------------------------------------------------------------------------------------------

# name -> (chainrule module, torch module, input scale), each made from ``inplace``
MODULES = {
    "relu": (lambda i: nn.ReLU(i), lambda i: torch.nn.ReLU(i), 1.0),
    "leaky_relu": (lambda i: nn.LeakyReLU(0.2, i), lambda i: torch.nn.LeakyReLU(0.2, i), 1.0),
    "elu": (lambda i: nn.ELU(0.7, i), lambda i: torch.nn.ELU(0.7, i), 1.0),
    "silu": (lambda i: nn.SiLU(i), lambda i: torch.nn.SiLU(i), 1.0),
    "hardtanh": (lambda i: nn.Hardtanh(-0.5, 0.8, i), lambda i: torch.nn.Hardtanh(-0.5, 0.8, i), 1.0),
    "relu6": (lambda i: nn.ReLU6(i), lambda i: torch.nn.ReLU6(i), 5.0),  # past both bounds
    # mish's gradient from its composite loses accuracy where tanh(softplus(x)) rounds to 1 (x near 10), which
    # the elementwise rule does not cover: a matter of functional.mish, not of in place, so kept to |x| of a few
    "mish": (lambda i: nn.Mish(i), lambda i: torch.nn.Mish(i), 1.0),
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_inplace_module_writes_into_its_input_with_torchs_gradient(name):
    make, tmake, scale = MODULES[name]
    a, g = _x(4, 5, seed=3, scale=scale), _x(4, 5, seed=4)
    layer, tlayer = make(True), tmake(True)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    h, th = x * 1, t * 1
    out, tout = layer(h), tlayer(th)
    assert out is h and tout is th
    h.backward(cr.tensor(g))
    th.backward(torch.tensor(g))
    (mag,), (gmag,) = T.elementwise(tmake(False), [a], [g])
    T.assert_close(h.detach().numpy(), th.detach().numpy(), mag, "forward")
    T.assert_close(x.grad.numpy(), t.grad.numpy(), gmag, "gradient")
    # the out-of-place module leaves its input alone and gives the same values and gradient
    y = cr.tensor(a, requires_grad=True)
    out = make(False)(y * 1)
    np.testing.assert_array_equal(out.detach().numpy(), h.detach().numpy())
    out.backward(cr.tensor(g))
    np.testing.assert_array_equal(y.grad.numpy(), x.grad.numpy())
    np.testing.assert_array_equal(y.detach().numpy(), a)
    with pytest.raises(BackwardError, match="a leaf tensor that requires grad"):
        layer(cr.tensor(a, requires_grad=True))


CONFIGURED = {
    **{name: (make, tmake) for name, (make, tmake, _) in MODULES.items()},
    "dropout": (lambda i: nn.Dropout(0.3, i), lambda i: torch.nn.Dropout(0.3, i)),
}


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name", sorted(CONFIGURED))
def test_inplace_in_config_and_repr_like_torch(name, inplace):
    make, tmake = CONFIGURED[name]
    layer, tlayer = make(inplace), tmake(inplace)
    assert repr(layer) == repr(tlayer)
    assert layer.inplace is tlayer.inplace is inplace
    config = layer.get_config()
    for k, v in config.items():
        assert getattr(tlayer, k) == v, k
    # torch's repr shows an activation's flag only when it is set (dropout's always): so does the config
    assert ("inplace" in config) == (inplace or name == "dropout")
    rebuilt = type(layer).from_config(config)
    assert rebuilt.inplace is inplace and repr(rebuilt) == repr(layer) and rebuilt.get_config() == config


@pytest.mark.parametrize("cls", ["ReLU", "LeakyReLU", "ELU", "SiLU", "Dropout", "Hardtanh", "ReLU6", "Mish"])
def test_module_constructor_arguments_are_torchs(cls):
    ours = list(inspect.signature(getattr(nn, cls).__init__).parameters.values())[1:]
    theirs = list(inspect.signature(getattr(torch.nn, cls).__init__).parameters.values())[1:]
    theirs = [p for p in theirs if p.name not in ("min_value", "max_value")]  # Hardtanh's deprecated aliases
    assert [(p.name, p.default) for p in ours[: len(theirs)]] == [(p.name, p.default) for p in theirs]
    assert repr(getattr(nn, cls)()) == repr(getattr(torch.nn, cls)())


def test_dropout_seed_shows_only_when_given():
    assert nn.Dropout(0.25, seed=7).get_config() == {"p": 0.25, "inplace": False, "seed": 7}
    assert repr(nn.Dropout(0.25, True, seed=7)) == "Dropout(p=0.25, inplace=True, seed=7)"
    assert nn.Dropout().get_config() == {"p": 0.5, "inplace": False}
    assert nn.Dropout.from_config({"p": 0.1, "seed": None}).get_config() == {"p": 0.1, "inplace": False}


# ---- dropout ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.2, 0.6])
def test_dropout_inplace_is_the_out_of_place_result_written_into_the_input(p):
    a = _x(40, 30, seed=5)
    expected = F.dropout(cr.tensor(a), p, True, generator=np.random.default_rng(11)).numpy()
    x = cr.tensor(a)
    memory = x.numpy()
    out = F.dropout(x, p, True, True, generator=np.random.default_rng(11))
    assert out is x and x.numpy() is memory and x._version == 1
    np.testing.assert_array_equal(x.numpy(), expected)
    keep = expected != 0
    assert abs(1 - keep.mean() - p) < 0.05  # 1200 draws: the standard error is below 0.015
    np.testing.assert_array_equal(expected, np.where(keep, a * np.float32(1 / (1 - p)), np.float32(0)))
    # the module, seeded alike
    x = cr.tensor(a)
    assert nn.Dropout(p, inplace=True, seed=np.random.default_rng(11))(x) is x
    np.testing.assert_array_equal(x.numpy(), expected)


def test_dropout_inplace_gradient_is_the_scaled_mask():
    p = 0.4
    a, g = _x(20, 10, seed=6), _x(20, 10, seed=7)
    x = cr.tensor(a, requires_grad=True)
    h = x.clone()
    assert F.dropout(h, p, training=True, inplace=True, seed=3) is h
    h.backward(cr.tensor(g))
    scale = (h.detach().numpy() != 0) * np.float32(1 / (1 - p))
    np.testing.assert_array_equal(h.detach().numpy(), a * scale)
    np.testing.assert_array_equal(x.grad.numpy(), g * scale)


@pytest.mark.parametrize("p, training", [(0.5, False), (0.0, True), (1.0, True)])
def test_dropout_inplace_edge_cases_like_torch(p, training):
    a = _x(3, 4, seed=8)
    x, t = cr.tensor(a), torch.tensor(a)
    assert F.dropout(x, p, training, True) is x
    assert TF.dropout(t, p, training, True) is t
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    assert x._version == t._version  # changed only when p is 1
    # as torch, the input itself comes back when nothing is dropped, out of place too
    y, u = cr.tensor(a), torch.tensor(a)
    assert (F.dropout(y, p, training) is y) == (TF.dropout(u, p, training) is u)


def test_dropout_inplace_on_a_leaf_that_requires_grad():
    a = _x(3, 4)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        TF.dropout(t, 0.5, True, True)
    with pytest.raises(BackwardError, match="dropout_: a leaf tensor that requires grad"):
        F.dropout(x, 0.5, True, True)
    # not training, nothing is written: both give the leaf back
    assert F.dropout(x, 0.5, False, True) is x and TF.dropout(t, 0.5, False, True) is t


def test_dropout_generator_is_keyword_only():
    x = cr.tensor(_x(3, 4))
    with pytest.raises(TypeError):
        F.dropout(x, 0.5, True, False, np.random.default_rng(0))
    with pytest.raises(cr.errors.ArgumentError, match="between 0 and 1"):
        F.dropout(x, 1.5)
    # NumPy's scalars are probabilities too
    assert F.dropout(x, np.float32(0.0)) is x


# ---- networks -----------------------------------------------------------------------------------------------------


def _mlp(m, inplace):
    """The same network from chainrule's ``nn`` or torch's."""
    return m.Sequential(m.Linear(5, 8), m.ReLU(inplace), m.Linear(8, 8), m.LeakyReLU(0.1, inplace), m.Linear(8, 3))


def test_network_with_inplace_activations_like_torch():
    cr.manual_seed(0)
    model = _mlp(nn, True)
    tmodel = _mlp(torch.nn, True)
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    a, g = _x(6, 5, seed=9), _x(6, 3, seed=10)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, tout = model(x), tmodel(t)
    out.backward(cr.tensor(g))
    tout.backward(torch.tensor(g))
    # linear's rule: relu and leaky relu (slope 0.1) neither grow a value nor a gradient
    reference = _mlp(torch.nn, False)
    reference.load_state_dict(tmodel.state_dict())
    mag, (gx_mag,), param_mags = T.module_magnitudes(T.linear, reference, [a], g)
    T.assert_close(out.detach().numpy(), tout.detach().numpy(), mag, "forward")
    T.assert_close(x.grad.numpy(), t.grad.numpy(), gx_mag, "input gradient")
    tparams = dict(tmodel.named_parameters())
    for k, p in model.named_parameters():
        T.assert_close(p.grad.numpy(), tparams[k].grad, param_mags[k], f"gradient of {k}")


def test_inplace_activations_give_the_out_of_place_networks_results_exactly():
    def net(inplace):
        return nn.Sequential(nn.Linear(5, 8), nn.ReLU(inplace), nn.Linear(8, 8), nn.LeakyReLU(0.1, inplace),
                             nn.Linear(8, 6), nn.ELU(0.7, inplace), nn.Linear(6, 6), nn.SiLU(inplace),
                             nn.Dropout(0.3, inplace, seed=4), nn.Linear(6, 2))

    cr.manual_seed(1)
    a, b = net(True), net(False)
    b.load_state_dict(a.state_dict())
    x0 = _x(7, 5, seed=12)
    results = []
    for model in (a, b):
        x = cr.tensor(x0, requires_grad=True)
        out = model(x)
        out.sum().backward()
        results.append([out.detach().numpy(), x.grad.numpy(), *(p.grad.numpy() for p in model.parameters())])
    for u, v in zip(*results):
        np.testing.assert_array_equal(u, v)
