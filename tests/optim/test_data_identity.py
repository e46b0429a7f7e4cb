"""An optimiser never rebinds a parameter's ``.numpy()`` (DESIGN convention 9).

A user holding ``w = layer.weight.numpy()`` (taken before the optimiser exists, after it is made, after
any number of steps) keeps seeing the live weights: ``opt.step()`` updates that very array, on the
flat-buffer path (groups of small parameters) as on the one-by-one path, and through state dicts.
Writes the user makes to the held array between steps are what the next step starts from.
"""

import copy

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim

CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("Adam", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "amsgrad": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"lr": 0.1}),
]
IDS = [f"{n}-{'-'.join(k for k in kw if k != 'lr') or 'plain'}" for n, kw in CASES]
# small: the parameters lie one after the other, updated in one go in place; scattered: the same in arrays of
# their own, updated in one go over a copy; large: updated one by one
SIZES = {"small": (5, 4, 4, 4, 3), "scattered": (5, 4, 4, 4, 3), "large": (300, 400, 3)}


def _model(size, seed=0):
    cr.manual_seed(seed)
    dims = SIZES[size]
    layers = []
    for n_in, n_out in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(n_in, n_out), nn.Tanh()]
    model = nn.Sequential(*layers[:-1])
    if size == "scattered":
        for p in model.parameters():
            p.data = np.array(p.numpy(), order="K")  # copies, each an array of its own
    return model


def _path(opt):
    flat = opt._flat.get(0)
    return "large" if not flat else "small" if flat.in_place else "scattered"


def _batch(size, step):
    r = np.random.default_rng(100 + step)
    return cr.tensor(r.standard_normal((6, SIZES[size][0])).astype(np.float32)), cr.tensor(r.integers(0, 3, 6))


def _train(model, opt, size, steps, start=0, between=None):
    for s in range(start, start + steps):
        opt.zero_grad()
        xb, yb = _batch(size, s)
        nn.CrossEntropyLoss()(model(xb), yb).backward()
        opt.step()
        if between is not None:
            between(s)


def _reference(size, name, kwargs, steps, between=None):
    """The same training, parameter by parameter (``fused = False``): the values to expect."""
    model = _model(size)
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    opt.fused = False
    _train(model, opt, size, steps, between=between and (lambda s: between(s, model)))
    return [p.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_held_arrays_stay_the_live_weights(name, kwargs, size):
    model = _model(size)
    params = list(model.parameters())
    held = [p.numpy() for p in params]  # before the optimiser exists
    w = model[0].weight.numpy()
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    assert all(p.numpy() is a for p, a in zip(params, held)), "making the optimiser rebound a parameter's .numpy()"
    for s in range(4):
        before = [a.copy() for a in held]
        _train(model, opt, size, 1, start=s)
        assert all(p.numpy() is a for p, a in zip(params, held)), f"step {s} rebound a parameter's .numpy()"
        assert model[0].weight.numpy() is w
        assert any(not np.array_equal(a, b) for a, b in zip(held, before)), "the held arrays did not move"
    assert _path(opt) == size, "not the path this case is for"
    for got, want in zip(held, _reference(size, name, kwargs, 4)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_writes_to_held_arrays_between_steps_are_seen(name, kwargs, size):
    def edit(s, model):  # a user's weight constraint, written straight into the arrays
        for p in model.parameters():
            np.clip(p.numpy(), -0.05 * (s + 1), 0.05 * (s + 1), out=p.numpy())
        model[0].bias.numpy()[0] = 0.5

    model = _model(size)
    held = [p.numpy() for p in model.parameters()]
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    _train(model, opt, size, 4, between=lambda s: edit(s, model))
    assert all(p.numpy() is a for p, a in zip(model.parameters(), held))
    for got, want in zip(held, _reference(size, name, kwargs, 4, between=edit)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_state_dicts_keep_the_held_arrays(name, kwargs, size):
    model = _model(size)
    held = [p.numpy() for p in model.parameters()]
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    _train(model, opt, size, 2)
    saved = copy.deepcopy(opt.state_dict())
    # the state dict holds copies: training on does not change it
    _train(model, opt, size, 1, start=2)
    assert copy.deepcopy(opt.state_dict())["state"].keys() == saved["state"].keys()
    fresh = getattr(optim, name)(model.parameters(), **kwargs)
    fresh.load_state_dict(opt.state_dict())
    _train(model, fresh, size, 2, start=3)
    opt.load_state_dict(fresh.state_dict())
    _train(model, opt, size, 1, start=5)
    assert all(p.numpy() is a for p, a in zip(model.parameters(), held))
    for got, want in zip(held, _reference(size, name, kwargs, 6)):
        np.testing.assert_array_equal(got, want)
    # and the module's own state dict round trip writes into the same arrays
    model.load_state_dict({k: np.zeros_like(v) for k, v in model.state_dict().items()})
    assert all(p.numpy() is a and not a.any() for p, a in zip(model.parameters(), held))
    _train(model, opt, size, 1, start=6)
    assert all(p.numpy() is a for p, a in zip(model.parameters(), held))


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_a_rebound_data_is_the_one_updated(name, kwargs):
    """A user may rebind ``p.numpy()`` (as in PyTorch); the optimiser then updates the new array."""
    model = _model("small")
    opt = getattr(optim, name)(model.parameters(), **kwargs)
    _train(model, opt, "small", 2)
    new = model[2].bias.numpy().copy()
    model[2].bias.data = new
    _train(model, opt, "small", 2, start=2)
    assert model[2].bias.numpy() is new

    def rebind(s, ref):
        if s == 1:
            ref[2].bias.data = ref[2].bias.numpy().copy()

    np.testing.assert_array_equal(new, _reference("small", name, kwargs, 4, between=rebind)[3])


def test_parameters_in_several_groups_and_optimisers_keep_their_arrays():
    model = _model("small")
    held = [p.numpy() for p in model.parameters()]
    opt = optim.Adam([{"params": [model[0].weight, model[0].bias]}, {"params": [model[2].weight, model[2].bias],
                                                                      "lr": 0.1}], lr=0.01)
    _train(model, opt, "small", 3)
    other = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)  # a second optimiser over the same parameters
    _train(model, other, "small", 2, start=3)
    _train(model, opt, "small", 2, start=5)
    assert all(p.numpy() is a for p, a in zip(model.parameters(), held))


def test_larger_scattered_parameters_are_updated_one_by_one():
    """A copy in and out of a flat buffer does not pay for parameters of some size (optimizer._COPY_MEAN_SIZE),
    where they lie in one stretch of memory it does."""
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(40, 30), nn.Tanh(), nn.Linear(30, 30))
    opt = optim.Adam(model.parameters(), lr=0.01)
    x, y = cr.tensor(np.ones((2, 40), np.float32)), cr.tensor(np.array([0, 1]))
    nn.CrossEntropyLoss()(model(x), y).backward()
    opt.step()
    assert opt._flat[0].in_place
    for p in model.parameters():
        p.data = np.array(p.numpy(), order="K")
    held = [p.numpy() for p in model.parameters()]
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        opt.step()
    assert opt._flat[0] is False
    assert all(p.numpy() is a for p, a in zip(model.parameters(), held))
