"""Adadelta, Adamax, NAdam and RAdam against torch.optim: every option, float32 and float64, parameter groups,
state dicts (round trips and PyTorch's), the flat-buffer path, configs and errors.

Each parity case feeds both libraries the same gradients for 20 steps (seeded random ones, and the gradients
of a chainrule training run on a tiny MLP) and compares the parameters with the rule of tests/tolerance.py:
a parameter is the sum of its initial value and its steps, so two correct runs agree within
``C * eps * M`` with M = |p0| + sum over the steps of |step|.
"""

import copy
import inspect
import json

import numpy as np
import pytest
import tolerance as T
import torch

import chainrule as cr
from chainrule import optim, registry
from chainrule.errors import ArgumentError, StateDictError
from chainrule.nn import Parameter

STEPS = 20
SHAPES = [(3, 4), (4,), (4, 2), (2,)]
NAMES = ["Adadelta", "Adamax", "NAdam", "RAdam"]

CASES = [
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.5}),  # lerp-free: rho is the decay of both averages
    ("Adadelta", {"weight_decay": 0.1, "eps": 1e-4}),
    ("Adadelta", {"maximize": True, "weight_decay": 0.05}),
    ("Adamax", {"lr": 0.01}),
    ("Adamax", {"lr": 0.01, "betas": (0.3, 0.9)}),  # lerp weight >= 0.5
    ("Adamax", {"weight_decay": 0.1, "eps": 1e-4}),
    ("Adamax", {"maximize": True}),
    ("NAdam", {"lr": 0.01}),
    ("NAdam", {"momentum_decay": 0.1, "betas": (0.5, 0.99)}),
    ("NAdam", {"weight_decay": 0.1}),
    ("NAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"maximize": True, "eps": 1e-6}),
    ("RAdam", {"lr": 0.01}),  # rho_t passes 5 at step 6: both kinds of step
    ("RAdam", {"betas": (0.4, 0.9)}),
    ("RAdam", {"weight_decay": 0.1}),
    ("RAdam", {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"maximize": True, "eps": 1e-6}),
]
IDS = [f"{n}-{'-'.join(k) or 'defaults'}" for n, k in CASES]


def _init(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(s) * 0.5).astype(dtype) for s in SHAPES]


def cr_params(init):
    return [Parameter(cr.tensor(a.copy(), dtype=a.dtype.name)) for a in init]


def torch_params(init):
    return [torch.nn.Parameter(torch.tensor(a.copy())) for a in init]


def random_gradients(dtype, steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(steps)]


def _loss(ps, X, Y):
    w1, b1, w2, b2 = ps
    d = (X @ w1 + b1).tanh() @ w2 + b2 - Y
    return (d * d).mean()


def replay(opt, ps, topt, tps, grads_of, steps=STEPS):
    """Step both optimisers with the gradients ``grads_of(step, chainrule params)`` gives; returns the
    magnitudes |p0| + sum |step| of the torch parameters (float64)."""
    mags = [np.abs(t.detach().numpy()).astype(np.float64) for t in tps]
    for i in range(steps):
        for c, t, g in zip(ps, tps, grads_of(i, ps)):
            c.grad = cr.tensor(g, dtype=g.dtype.name)
            t.grad = torch.tensor(g)
        before = [t.detach().numpy().astype(np.float64) for t in tps]
        opt.step()
        topt.step()
        for m, t, b in zip(mags, tps, before):
            m += np.abs(t.detach().numpy() - b)
    return mags


def training_gradients(dtype):
    """The gradients of a chainrule training run (the MLP of tests/optim/test_optim.py), from its parameters."""
    rng = np.random.default_rng(2)
    X = cr.tensor(rng.standard_normal((8, 3)).astype(dtype), dtype=np.dtype(dtype).name)
    Y = cr.tensor(rng.standard_normal((8, 2)).astype(dtype), dtype=np.dtype(dtype).name)

    def grads_of(step, ps):
        for p in ps:
            p.grad = None
        _loss(ps, X, Y).backward()
        return [p.grad.numpy().copy() for p in ps]

    return grads_of


def assert_params_close(cps, tps, mags, dtype):
    for i, (c, t, m) in enumerate(zip(cps, tps, mags)):
        assert c.numpy().dtype == dtype
        T.assert_close(c.numpy(), t.detach().numpy(), m, f"parameter {i}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_same_gradients_give_the_same_parameters_as_torch(name, kwargs, dtype):
    init = _init(dtype)
    cps, tps = cr_params(init), torch_params(init)
    opt, topt = getattr(optim, name)(cps, **kwargs), getattr(torch.optim, name)(tps, **kwargs)
    grads = random_gradients(dtype)
    mags = replay(opt, cps, topt, tps, lambda i, ps: grads[i])
    assert_params_close(cps, tps, mags, dtype)
    for state in opt.state.values():  # the state keeps the parameters' dtype
        for v in state.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_a_training_run_matches_torch_on_its_gradients(name, kwargs, dtype):
    """chainrule trains the MLP; torch's optimiser, fed the same gradients, lands on the same parameters."""
    init = _init(dtype)
    cps, tps = cr_params(init), torch_params(init)
    opt, topt = getattr(optim, name)(cps, **kwargs), getattr(torch.optim, name)(tps, **kwargs)
    mags = replay(opt, cps, topt, tps, training_gradients(dtype))
    assert_params_close(cps, tps, mags, dtype)
    if not kwargs.get("maximize"):
        X, Y = (cr.tensor(np.random.default_rng(2).standard_normal(s).astype(dtype)) for s in [(8, 3), (8, 2)])
        assert _loss(cps, X, Y).item() < _loss(cr_params(init), X, Y).item()  # it did learn


@pytest.mark.parametrize("name", NAMES)
def test_parameter_groups_with_their_own_options(name):
    extra = {"Adadelta": {"rho": 0.5}, "NAdam": {"momentum_decay": 0.01}, "RAdam": {"betas": (0.5, 0.9)}}
    init = _init(np.float32)
    cps, tps = cr_params(init), torch_params(init)

    def groups(ps):
        return [{"params": ps[:2], "lr": 0.05, **extra.get(name, {})}, {"params": ps[2:], "weight_decay": 0.1}]

    opt, topt = getattr(optim, name)(groups(cps), lr=0.01), getattr(torch.optim, name)(groups(tps), lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.01]
    grads = random_gradients(np.float32)
    mags = replay(opt, cps, topt, tps, lambda i, ps: grads[i])
    assert_params_close(cps, tps, mags, np.float32)


def _run(opt, ps, grads):
    for g in grads:
        for p, a in zip(ps, g):
            p.grad = cr.tensor(a)
        opt.step()


@pytest.mark.parametrize("name", NAMES)
def test_flat_and_one_by_one_updates_are_identical(name):
    """The flat-buffer update (one call over the group) is the same arithmetic as parameter by parameter."""
    grads = random_gradients(np.float32)
    results = []
    for fused in (True, False):
        ps = cr_params(_init(np.float32))
        arrays = [p.numpy() for p in ps]
        opt = getattr(optim, name)(ps, lr=0.01, weight_decay=0.01)
        opt.fused = fused
        _run(opt, ps, grads)
        assert all(p.numpy() is a for p, a in zip(ps, arrays))  # updated in place, never rebound
        assert bool(opt._flat.get(0)) == fused
        results.append([p.numpy().copy() for p in ps])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, kwargs", CASES, ids=IDS)
def test_gradients_are_left_alone(name, kwargs):
    ps = cr_params(_init(np.float32))
    opt = getattr(optim, name)(ps, **kwargs)
    for g in random_gradients(np.float32, steps=3):
        for p, a in zip(ps, g):
            p.grad = cr.tensor(a.copy())
        opt.step()
        for p, a in zip(ps, g):
            np.testing.assert_array_equal(p.grad.numpy(), a)


TORCH_STATE_KEYS = {
    "Adadelta": {"step", "square_avg", "acc_delta"},
    "Adamax": {"step", "exp_avg", "exp_inf"},
    "NAdam": {"step", "mu_product", "exp_avg", "exp_avg_sq"},
    "RAdam": {"step", "exp_avg", "exp_avg_sq"},
}


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_round_trip_is_exact(name):
    """A resumed run equals the uninterrupted one bit for bit; the saved copy does not move with the optimiser."""
    cls = getattr(optim, name)
    grads = random_gradients(np.float32)
    ps = cr_params(_init(np.float32))
    opt = cls([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}], lr=0.01)
    _run(opt, ps, grads[:10])
    saved = opt.state_dict()
    saved_params = [p.numpy().copy() for p in ps]
    _run(opt, ps, grads[10:])

    fresh = cr_params(saved_params)
    opt2 = cls([{"params": fresh[:2]}, {"params": fresh[2:]}], lr=0.5)  # lr comes from the state dict
    opt2.load_state_dict(copy.deepcopy(saved))
    assert [g["lr"] for g in opt2.param_groups] == [0.01, 0.003]
    _run(opt2, fresh, grads[10:])
    for a, b in zip(ps, fresh):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2, 3]]
    assert sorted(saved["state"]) == [0, 1, 2, 3]
    assert set(saved["state"][0]) == TORCH_STATE_KEYS[name]
    assert saved["state"][0]["step"] == 10 and isinstance(saved["state"][0]["step"], int)
    tps = torch_params(_init(np.float32))
    topt = getattr(torch.optim, name)(tps)
    for t in tps:
        t.grad = torch.ones_like(t)
    topt.step()
    assert set(topt.state_dict()["state"][0]) == TORCH_STATE_KEYS[name]


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_from_torch_continues_its_run(name):
    """PyTorch's state dict (tensors as arrays: NAdam's mu_product a 0-d array) carries on where torch stopped."""
    kwargs = {"weight_decay": 0.01}
    init = _init(np.float32)
    grads = random_gradients(np.float32)
    tps = torch_params(init)
    topt = getattr(torch.optim, name)(tps, **kwargs)
    for g in grads[:6]:
        for t, a in zip(tps, g):
            t.grad = torch.tensor(a)
        topt.step()
    sd = topt.state_dict()
    sd = {
        "state": {i: {k: v.numpy().copy() for k, v in s.items()} for i, s in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }
    cps = cr_params([t.detach().numpy() for t in tps])
    opt = getattr(optim, name)(cps, **kwargs)
    opt.load_state_dict(sd)
    assert opt.state[cps[0]]["step"] == 6
    if name == "NAdam":
        assert isinstance(opt.state[cps[0]]["mu_product"], float)
    mags = replay(opt, cps, topt, tps, lambda i, ps: grads[6 + i], steps=STEPS - 6)
    assert_params_close(cps, tps, mags, np.float32)


def test_nadam_state_dict_refuses_a_mu_product_that_is_not_a_number():
    ps = cr_params(_init(np.float32))
    opt = optim.NAdam(ps)
    _run(opt, ps, random_gradients(np.float32, steps=1))
    sd = opt.state_dict()
    sd["state"][0]["mu_product"] = np.zeros(3, np.float32)
    with pytest.raises(StateDictError, match="mu_product"):
        optim.NAdam(ps).load_state_dict(sd)


def test_frozen_parameter_is_skipped():
    ps = cr_params(_init(np.float32))
    for name in NAMES:
        opt = getattr(optim, name)(ps)
        for p, a in zip(ps, random_gradients(np.float32, steps=1)[0]):
            p.grad = cr.tensor(a)
        ps[0].grad = None
        before = ps[0].numpy().copy()
        opt.step()
        np.testing.assert_array_equal(ps[0].numpy(), before)
        assert ps[0] not in opt.state and len(opt.state) == 3


@pytest.mark.parametrize("name", NAMES)
def test_defaults_follow_torch(name):
    """The same arguments with the same defaults as torch.optim, less foreach / capturable / differentiable."""
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = {
        k: v for k, v in inspect.signature(getattr(torch.optim, name)).parameters.items()
        if k not in ("foreach", "capturable", "differentiable", "fused")
    }  # fmt: skip
    assert list(ours) == list(theirs)
    for k, p in ours.items():
        assert p.default == theirs[k].default, k
        assert p.kind == theirs[k].kind, k


@pytest.mark.parametrize("name", ["adadelta", "adamax", "nadam", "radam"])
def test_registry_config_and_repr(name):
    cls = registry.get(name, kind="optimizer")
    assert registry.name_of(cls, kind="optimizer") == name
    opt = cls(cr_params(_init(np.float32)), lr=0.02)
    config = opt.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["lr"] == 0.02
    rebuilt = cls.from_config(cr_params(_init(np.float32)), config)
    assert rebuilt.get_config() == config
    assert [k for k in rebuilt.param_groups[0] if k != "params"] == list(rebuilt.defaults)
    text = repr(opt)
    assert text.startswith(cls.__name__ + " (") and "lr: 0.02" in text


def test_configs_have_torch_defaults():
    ps = cr_params(_init(np.float32))
    assert optim.Adadelta(ps).get_config() == {
        "lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0, "maximize": False}  # fmt: skip
    assert optim.Adamax(ps).get_config() == {
        "lr": 2e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0, "maximize": False}  # fmt: skip
    assert optim.NAdam(ps).get_config() == {
        "lr": 2e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0, "momentum_decay": 4e-3,
        "decoupled_weight_decay": False, "maximize": False}  # fmt: skip
    assert optim.RAdam(ps).get_config() == {
        "lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0, "decoupled_weight_decay": False,
        "maximize": False}  # fmt: skip


@pytest.mark.parametrize(
    "name, kwargs, fragment",
    [
        ("Adadelta", {"rho": 1.5}, "rho"),
        ("Adadelta", {"rho": -0.1}, "rho"),
        ("Adadelta", {"eps": -1.0}, "eps"),
        ("Adadelta", {"weight_decay": -0.1}, "weight_decay"),
        ("Adadelta", {"lr": -1.0}, "learning rate"),
        ("Adamax", {"betas": (0.9, 1.0)}, "betas"),
        ("Adamax", {"betas": 0.9}, "betas must be a pair"),
        ("Adamax", {"eps": -1e-8}, "eps"),
        ("NAdam", {"momentum_decay": -1.0}, "momentum_decay"),
        ("NAdam", {"betas": (-0.1, 0.9)}, "betas"),
        ("NAdam", {"weight_decay": -1.0}, "weight_decay"),
        ("RAdam", {"betas": (0.9,)}, "betas must be a pair"),
        ("RAdam", {"eps": -1.0}, "eps"),
        ("RAdam", {"lr": float("nan")}, "learning rate"),
    ],
)
def test_construction_errors(name, kwargs, fragment):
    with pytest.raises(ArgumentError, match=fragment):
        getattr(optim, name)(cr_params(_init(np.float32)), **kwargs)


def test_a_bad_option_in_a_group_names_the_group():
    ps = cr_params(_init(np.float32))
    with pytest.raises(ArgumentError, match="rho 2 in parameter group 1"):
        optim.Adadelta([{"params": ps[:2]}, {"params": ps[2:], "rho": 2}])
