"""Optimisers against torch.optim: every option, parameter groups, state dicts, errors; gradient clipping.

Each parity case trains the same tiny MLP for 20 steps in both libraries (chainrule autograd on
one side, torch autograd on the other) and compares the parameters to float32 precision.
"""

import copy
import json

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import optim, registry
from chainrule.errors import ArgumentError, ChainruleError, DTypeError, GradientError, ShapeError, StateDictError
from chainrule.nn import Parameter
from chainrule.nn.utils import clip_grad_norm_, clip_grad_value_

STEPS = 20
RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 3)).astype(np.float32)
Y = RNG.standard_normal((8, 2)).astype(np.float32)
INIT = [RNG.standard_normal(s).astype(np.float32) * 0.5 for s in [(3, 4), (4,), (4, 2), (2,)]]


def cr_params():
    return [Parameter(a.copy()) for a in INIT]


def torch_params():
    return [torch.nn.Parameter(torch.tensor(a.copy())) for a in INIT]


def cr_loss(ps):
    w1, b1, w2, b2 = ps
    h = (cr.tensor(X) @ w1 + b1).tanh()
    d = h @ w2 + b2 - cr.tensor(Y)
    return (d * d).mean()


def torch_loss(ps):
    w1, b1, w2, b2 = ps
    h = torch.tanh(torch.tensor(X) @ w1 + b1)
    d = h @ w2 + b2 - torch.tensor(Y)
    return (d * d).mean()


def _sign(opt):
    """With ``maximize`` the objective is the negated loss, so that both runs stay well conditioned."""
    return -1.0 if opt.param_groups[0].get("maximize") else 1.0


def run_cr(opt, ps, steps=STEPS):
    for _ in range(steps):
        opt.zero_grad()
        (cr_loss(ps) * _sign(opt)).backward()
        opt.step()


def run_torch(opt, ps, steps=STEPS):
    for _ in range(steps):
        opt.zero_grad()
        (torch_loss(ps) * _sign(opt)).backward()
        opt.step()


def assert_close(cps, tps):
    for c, t in zip(cps, tps):
        assert c.numpy().dtype == np.float32
        np.testing.assert_allclose(c.numpy(), t.detach().numpy(), rtol=2e-5, atol=2e-6)


CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.05, "dampening": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "maximize": True}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.01}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True, "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9)}),  # lerp weight >= 0.5
    ("Adam", {"lr": 0.01, "betas": (0.5, 0.99), "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("AdamW", {"lr": 0.01}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.5}),
    ("AdamW", {"lr": 0.01, "maximize": True, "betas": (0.8, 0.9)}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.4, "centered": True, "eps": 1e-4}),  # lerp weight >= 0.5
    ("RMSprop", {"lr": 0.01, "maximize": True, "momentum": 0.3}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-3, "maximize": True}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_parity_with_torch(name, kwargs):
    cps, tps = cr_params(), torch_params()
    opt = getattr(optim, name)(cps, **kwargs)
    topt = getattr(torch.optim, name)(tps, **kwargs)
    run_cr(opt, cps)
    run_torch(topt, tps)
    assert_close(cps, tps)
    for state in opt.state.values():  # the state stays float32
        for v in state.values():
            if isinstance(v, np.ndarray):
                assert v.dtype == np.float32


GRADS = [[RNG.standard_normal(a.shape).astype(np.float32) for a in INIT] for _ in range(STEPS)]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_same_gradient_sequence_gives_the_same_parameters(name, kwargs):
    """Fed identical gradients, the two agree to a few float32 rounding errors (no trajectory drift)."""
    cps, tps = cr_params(), torch_params()
    opt = getattr(optim, name)(cps, **kwargs)
    topt = getattr(torch.optim, name)(tps, **kwargs)
    for grads in GRADS:
        for c, t, g in zip(cps, tps, grads):
            c.grad = cr.tensor(g)
            t.grad = torch.tensor(g)
        opt.step()
        topt.step()
    for c, t in zip(cps, tps):
        np.testing.assert_allclose(c.numpy(), t.detach().numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_parameter_groups_with_their_own_options(name):
    extra = {"SGD": {"momentum": 0.9}, "RMSprop": {"momentum": 0.5}, "Adam": {"amsgrad": True}}.get(name, {})
    cps, tps = cr_params(), torch_params()

    def groups(ps):
        return [{"params": ps[:2], "lr": 0.05, **extra}, {"params": ps[2:], "weight_decay": 0.1}]

    opt = getattr(optim, name)(groups(cps), lr=0.01)
    topt = getattr(torch.optim, name)(groups(tps), lr=0.01)
    assert [g["lr"] for g in opt.param_groups] == [0.05, 0.01]
    run_cr(opt, cps)
    run_torch(topt, tps)
    assert_close(cps, tps)


def test_add_param_group_matches_torch():
    cps, tps = cr_params(), torch_params()
    opt = optim.SGD(cps[:2], lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tps[:2], lr=0.1, momentum=0.9)
    run_cr(opt, cps, 5)
    run_torch(topt, tps, 5)
    opt.add_param_group({"params": cps[2:], "lr": 0.02})
    topt.add_param_group({"params": tps[2:], "lr": 0.02})
    run_cr(opt, cps, 5)
    run_torch(topt, tps, 5)
    assert_close(cps, tps)


STATEFUL = [
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
]


@pytest.mark.parametrize("name, kwargs", STATEFUL, ids=[n for n, _ in STATEFUL])
def test_state_dict_round_trip_is_exact(name, kwargs):
    cls = getattr(optim, name)
    ps = cr_params()
    opt = cls([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.003}], **kwargs)
    run_cr(opt, ps, 10)
    saved = opt.state_dict()
    saved_params = [p.numpy().copy() for p in ps]
    run_cr(opt, ps, 10)  # keeps going: the saved copy must not move with it

    fresh = [Parameter(a) for a in saved_params]
    opt2 = cls([{"params": fresh[:2]}, {"params": fresh[2:]}], lr=0.5)  # lr comes from the state dict
    opt2.load_state_dict(saved)
    assert [g["lr"] for g in opt2.param_groups] == [kwargs["lr"], 0.003]
    run_cr(opt2, fresh, 10)
    for a, b in zip(ps, fresh):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # the layout is PyTorch's
    assert sorted(saved) == ["param_groups", "state"]
    assert [g["params"] for g in saved["param_groups"]] == [[0, 1], [2, 3]]
    assert sorted(saved["state"]) == [0, 1, 2, 3]
    tps = torch_params()
    torch_keys = getattr(torch.optim, name)(tps, **kwargs)
    run_torch(torch_keys, tps, 1)
    t_state = torch_keys.state_dict()["state"][0]
    assert set(saved["state"][0]) == {k for k, v in t_state.items() if v is not None}


def test_state_dict_loads_torch_state():
    """A torch state dict (tensors converted to arrays) continues the same trajectory."""
    cps, tps = cr_params(), torch_params()
    topt = torch.optim.Adam(tps, lr=0.01, amsgrad=True)
    run_torch(topt, tps, 5)
    sd = topt.state_dict()
    sd = {
        "state": {i: {k: v.numpy().copy() for k, v in s.items()} for i, s in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }
    for c, t in zip(cps, tps):
        c.numpy()[...] = t.detach().numpy()
    opt = optim.Adam(cps, lr=0.01, amsgrad=True)
    opt.load_state_dict(sd)
    assert opt.state[cps[0]]["step"] == 5
    run_cr(opt, cps, 10)
    run_torch(topt, tps, 10)
    assert_close(cps, tps)


def test_state_dict_mismatch_errors():
    ps = cr_params()
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    run_cr(opt, ps, 1)
    sd = opt.state_dict()
    with pytest.raises(StateDictError, match="1 parameter groups, the optimiser has 2"):
        optim.SGD([{"params": ps[:2]}, {"params": ps[2:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(StateDictError, match="group 0 has 4 parameters in the state dict but 3"):
        optim.SGD(ps[:3], lr=0.1).load_state_dict(sd)
    bad = copy.deepcopy(sd)
    bad["state"][1]["momentum_buffer"] = np.zeros(7, np.float32)
    with pytest.raises(StateDictError, match="shape"):
        optim.SGD(ps, lr=0.1).load_state_dict(bad)
    with pytest.raises(StateDictError, match="'state' and 'param_groups'"):
        optim.SGD(ps, lr=0.1).load_state_dict({"state": {}})


@pytest.mark.parametrize("fused", [True, False])
def test_updates_are_in_place_and_leave_grads_alone(fused):
    for name, kwargs in CASES:
        ps = cr_params()
        opt = getattr(optim, name)(ps, **kwargs)
        opt.fused = fused
        arrays = [p.numpy() for p in ps]  # the update is in place: these stay the parameters' arrays
        for _ in range(3):
            opt.zero_grad()
            cr_loss(ps).backward()
            grads = [p.grad.numpy().copy() for p in ps]
            opt.step()
            for p, g in zip(ps, grads):
                np.testing.assert_array_equal(p.grad.numpy(), g)
        assert all(p.numpy() is a for p, a in zip(ps, arrays)), name
        if fused:  # (the flat path ran, over the parameters' own memory: see tests/optim/test_data_identity.py)
            assert opt._flat[0].in_place, name


def test_zero_grad_and_closure():
    ps = cr_params()
    opt = optim.SGD(ps, lr=0.1)
    cr_loss(ps).backward()
    grad_arrays = [p.grad.numpy() for p in ps]
    opt.zero_grad(set_to_none=False)
    assert all(p.grad.numpy() is g and not g.any() for p, g in zip(ps, grad_arrays))
    opt.zero_grad()
    assert all(p.grad is None for p in ps)
    opt.step()  # no gradients: nothing moves
    np.testing.assert_array_equal(ps[0].numpy(), INIT[0])

    def closure():
        opt.zero_grad()
        loss = cr_loss(ps)
        loss.backward()
        return loss

    first = opt.step(closure).item()
    second = opt.step(closure).item()
    assert second < first


def test_frozen_parameter_is_skipped_and_float64_works():
    ps = cr_params()
    opt = optim.Adam(ps, lr=0.01)
    cr_loss(ps).backward()
    ps[0].grad = None
    opt.step()
    np.testing.assert_array_equal(ps[0].numpy(), INIT[0])
    assert ps[0] not in opt.state and len(opt.state) == 3

    p = Parameter(cr.tensor([1.0, 2.0], dtype="float64"))
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    o, to = optim.Adam([p], lr=0.1), torch.optim.Adam([t], lr=0.1)
    for _ in range(5):
        p.grad = cr.tensor(np.array([0.3, -0.7]), dtype="float64")
        t.grad = torch.tensor([0.3, -0.7], dtype=torch.float64)
        o.step()
        to.step()
    assert p.numpy().dtype == np.float64
    np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-12)


def test_named_parameters_are_accepted():
    ps = cr_params()
    opt = optim.SGD([(f"p{i}", p) for i, p in enumerate(ps)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["p0", "p1", "p2", "p3"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["p0", "p1", "p2", "p3"]


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_registry_config_and_repr(name):
    cls = registry.get(name, kind="optimizer")
    assert registry.name_of(cls, kind="optimizer") == name
    opt = cls(cr_params(), lr=0.02)
    config = opt.get_config()
    assert json.loads(json.dumps(config)) == config
    assert config["lr"] == 0.02
    rebuilt = cls.from_config(cr_params(), config)
    assert rebuilt.get_config() == config
    assert [k for k in rebuilt.param_groups[0] if k != "params"] == list(rebuilt.defaults)
    text = repr(opt)
    assert text.startswith(cls.__name__ + " (") and "lr: 0.02" in text
    assert "decoupled_weight_decay" not in config or name == "adam"


def test_adamw_config_has_torch_defaults():
    assert optim.AdamW(cr_params()).get_config() == {
        "lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 1e-2, "amsgrad": False, "maximize": False,
    }  # fmt: skip
    assert optim.SGD(cr_params()).get_config()["lr"] == 1e-3


def test_construction_errors():
    ps = cr_params()
    with pytest.raises(ArgumentError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    gen = (p for p in ps)
    list(gen)
    with pytest.raises(ArgumentError, match="generator"):
        optim.Adam(gen)
    with pytest.raises(ArgumentError, match="appears twice"):
        optim.SGD([ps[0], ps[1], ps[0]], lr=0.1)
    with pytest.raises(ArgumentError, match="more than one parameter group"):
        optim.SGD([{"params": ps[:2]}, {"params": ps[1:]}], lr=0.1)
    opt = optim.SGD(ps[:2], lr=0.1)
    with pytest.raises(ArgumentError, match="more than one parameter group"):
        opt.add_param_group({"params": [ps[0]]})
    with pytest.raises(ArgumentError, match="invalid learning rate -0.1"):
        optim.Adam(ps, lr=-0.1)
    with pytest.raises(ArgumentError, match="invalid learning rate -1 in parameter group 1"):
        optim.SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": -1}], lr=0.1)
    with pytest.raises(DTypeError, match="int64"):
        optim.SGD([Parameter(np.arange(3), requires_grad=False)], lr=0.1)
    with pytest.raises(ArgumentError, match="ndarray"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ArgumentError, match="single Tensor"):
        optim.SGD(ps[0], lr=0.1)
    with pytest.raises(ArgumentError, match="use a list"):
        optim.SGD([{"params": set(ps)}], lr=0.1)
    with pytest.raises(ArgumentError, match="Nesterov"):
        optim.SGD(ps, lr=0.1, nesterov=True)
    with pytest.raises(ArgumentError, match="momentum"):
        optim.SGD(ps, lr=0.1, momentum=-0.5)
    with pytest.raises(ArgumentError, match="betas"):
        optim.Adam(ps, betas=(0.9, 1.0))
    with pytest.raises(ArgumentError, match="betas"):
        optim.AdamW(ps, betas=0.9)
    with pytest.raises(ArgumentError, match="eps"):
        optim.RMSprop(ps, eps=-1.0)
    with pytest.raises(ArgumentError, match="lr_decay"):
        optim.Adagrad(ps, lr_decay=-1.0)
    with pytest.raises(ArgumentError, match="not a leaf"):
        optim.SGD([ps[0] * 2], lr=0.1)
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad):
        with pytest.raises(ChainruleError):
            cls([], lr=0.1)


def test_gradient_shape_mismatch_is_reported():
    ps = cr_params()
    opt = optim.SGD(ps, lr=0.1)
    ps[0]._grad = cr.zeros(5)  # past the check of `.grad =` (a gradient a hook could leave)
    with pytest.raises(ShapeError, match=r"shape \(3, 4\) has a gradient of shape \(5,\)"):
        opt.step()
    with pytest.raises(ShapeError, match=r"grad: assigned grad has shape \(5,\), but the tensor has shape \(3, 4\)"):
        ps[0].grad = cr.zeros(5)


# ---- gradient clipping ---------------------------------------------------------------------


def _grad_pairs(seed=1):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (4,), (4, 2)]]
    cps, tps = cr_params()[:3], torch_params()[:3]
    for c, t, a in zip(cps, tps, arrays):
        c.grad = cr.tensor(a.copy())
        t.grad = torch.tensor(a.copy())
    cps.append(Parameter(np.zeros(2, np.float32)))  # no gradient: ignored
    tps.append(torch.nn.Parameter(torch.zeros(2)))
    return cps, tps


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, 0.5, float("inf"), "inf"])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    cps, tps = _grad_pairs()
    total = clip_grad_norm_(cps, max_norm, norm_type=norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=float(norm_type))
    assert isinstance(total, cr.Tensor) and total.shape == () and total.dtype == np.float32
    np.testing.assert_allclose(total.item(), t_total.item(), rtol=1e-6)
    for c, t in zip(cps[:3], tps[:3]):
        np.testing.assert_allclose(c.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)
    assert cps[3].grad is None


def test_clip_grad_norm_edge_cases():
    cps, _ = _grad_pairs()
    before = cps[0].grad.numpy().copy()
    np.testing.assert_allclose(clip_grad_norm_(cps[0], 1e9).item(), np.linalg.norm(before), rtol=1e-6)
    np.testing.assert_array_equal(cps[0].grad.numpy(), before)  # below the limit: untouched
    assert clip_grad_norm_([Parameter(np.zeros(3, np.float32))], 1.0).item() == 0.0
    cps[1].grad.numpy()[0] = np.nan
    with pytest.raises(GradientError, match="non-finite"):
        clip_grad_norm_(cps, 1.0, error_if_nonfinite=True)
    with pytest.raises(ArgumentError, match="max_norm"):
        clip_grad_norm_(cps, "big")


def test_clip_grad_value_matches_torch():
    cps, tps = _grad_pairs()
    assert clip_grad_value_(cps, 0.7) is None
    torch.nn.utils.clip_grad_value_(tps, 0.7)
    for c, t in zip(cps[:3], tps[:3]):
        np.testing.assert_array_equal(c.grad.numpy(), t.grad.numpy())
    with pytest.raises(ArgumentError, match="list"):
        clip_grad_value_([[1.0]], 0.5)


def test_clipping_inside_training_matches_torch():
    cps, tps = cr_params(), torch_params()
    opt, topt = optim.SGD(cps, lr=0.5, momentum=0.9), torch.optim.SGD(tps, lr=0.5, momentum=0.9)
    for _ in range(10):
        opt.zero_grad()
        cr_loss(cps).backward()
        clip_grad_norm_(cps, 0.1)
        opt.step()
        topt.zero_grad()
        torch_loss(tps).backward()
        torch.nn.utils.clip_grad_norm_(tps, 0.1)
        topt.step()
    assert_close(cps, tps)
