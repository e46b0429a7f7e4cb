"""``nn.mlp``: the one MLP builder (used by chainrule.sklearn and the command line)."""

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, registry
from chainrule.errors import ArgumentError, UnknownNameError

ACTIVATIONS = ["elu", "gelu", "hardtanh", "identity", "leaky_relu", "log_softmax", "mish", "prelu", "relu", "relu6",
               "sigmoid", "silu", "softmax", "softplus", "step", "tanh"]


def test_layers_order_and_state_dict_keys_are_torch_sequential_ones():
    model = nn.mlp(20, [64, 32], 3, activation="gelu", dropout=0.1)
    assert isinstance(model, nn.Sequential)
    assert [type(m).__name__ for m in model] == ["Linear", "GELU", "Dropout", "Linear", "GELU", "Dropout", "Linear"]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)] == [(20, 64), (64, 32), (32, 3)]
    assert model[2].p == 0.1 and model[2].seed is None
    assert list(model.state_dict()) == ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"]
    assert model(cr.zeros(5, 20)).shape == (5, 3)


def test_hidden_as_int_or_empty_and_no_bias():
    assert [type(m).__name__ for m in nn.mlp(4, 8, 2)] == ["Linear", "ReLU", "Linear"]
    assert [type(m).__name__ for m in nn.mlp(4, (), 2)] == ["Linear"]  # a linear model
    assert [type(m).__name__ for m in nn.mlp(4, np.array([8, 8]), 2, dropout=0)] == ["Linear", "ReLU"] * 2 + ["Linear"]
    model = nn.mlp(4, [8], 2, bias=False)
    assert all(m.bias is None for m in model if isinstance(m, nn.Linear))


def test_every_registered_activation_and_only_those():
    assert registry.names("activation") == ACTIVATIONS
    for name in ACTIVATIONS:
        model = nn.mlp(3, [4], 2, activation=name)
        assert type(model[1]) is registry.get(name, kind="activation") is registry.get(name)
    # a Module class works too, as torchvision's activation_layer
    assert type(nn.mlp(3, [4], 2, activation=nn.Tanh)[1]) is nn.Tanh


@pytest.mark.parametrize("name", ["linear", "mse", "sequential", "cross_entropy", "dropout", "conv2d"])
def test_registered_modules_that_are_not_activations_are_refused(name):
    expected = f"'{name}' is not an activation.*valid names: elu, gelu, hardtanh, identity"
    with pytest.raises(UnknownNameError, match=expected):
        nn.mlp(3, [4], 2, activation=name)


def test_an_unknown_activation_lists_the_valid_ones():
    with pytest.raises(UnknownNameError) as info:
        nn.mlp(3, [4], 2, activation="rleu")
    message = str(info.value)
    assert message.startswith("activation 'rleu' is not known; valid names: ")
    assert all(name in message for name in ACTIVATIONS)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((0, [4], 2), {}, "in_features must be an integer >= 1, got 0"),
        ((3.0, [4], 2), {}, "in_features"),
        ((3, [4], True), {}, "out_features"),
        ((3, [4, 0], 2), {}, r"hidden_features must be an integer >= 1 or a sequence of them.*\[4, 0\]"),
        ((3, "64,32", 2), {}, "hidden_features"),
        ((3, [4.5], 2), {}, "hidden_features"),
        ((3, None, 2), {}, "hidden_features"),
        ((3, [4], 2), {"dropout": 1.0}, r"dropout must be a probability in \[0, 1\), got 1.0"),
        ((3, [4], 2), {"dropout": -0.1}, "dropout"),
        ((3, [4], 2), {"dropout": True}, "dropout"),
        ((3, [4], 2), {"bias": 1}, "bias must be True or False"),
        ((3, [4], 2), {"dropout_seed": -1}, "dropout_seed"),
        ((3, [4], 2), {"activation": 3}, "activation must be an activation's name"),
        ((3, [4], 2), {"activation": nn.ReLU()}, "activation must be an activation's name"),
        ((3, [4], 2), {"activation": nn.Linear}, "cannot be built without arguments"),
    ],
)
def test_bad_arguments(args, kwargs, message):
    with pytest.raises(ArgumentError, match=message):
        nn.mlp(*args, **kwargs)


def test_generator_and_dropout_seed_make_it_reproducible_without_the_default_generator():
    def build(seed):
        cr.manual_seed(seed)  # must not matter
        return nn.mlp(5, [7, 6], 3, dropout=0.5, generator=np.random.default_rng(1), dropout_seed=10)

    a, b = build(0), build(1)
    for (k, wa), wb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(wa, wb, err_msg=k)
    assert [m.seed for m in a if isinstance(m, nn.Dropout)] == [10, 11]
    x = cr.ones(4, 5)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())  # the same dropout masks too
    # the generator draws the layers in order, as Linear.reset_parameters(generator=...) does
    g = np.random.default_rng(1)
    first = nn.Linear(5, 7)
    first.reset_parameters(generator=g)
    np.testing.assert_array_equal(a[0].weight.numpy(), first.weight.numpy())


def test_without_a_generator_it_follows_cr_manual_seed_and_saves(tmp_path):
    cr.manual_seed(3)
    a = nn.mlp(4, [8], 2, activation="tanh", dropout=0.2)
    cr.manual_seed(3)
    b = nn.mlp(4, [8], 2, activation="tanh", dropout=0.2)
    assert all(np.array_equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())
    cr.save(a, tmp_path / "mlp.crm")
    loaded = cr.load(tmp_path / "mlp.crm")
    assert [type(m).__name__ for m in loaded] == ["Linear", "Tanh", "Dropout", "Linear"]
    a.eval()
    loaded.eval()
    x = cr.ones(3, 4)
    np.testing.assert_array_equal(loaded(x).numpy(), a(x).numpy())
