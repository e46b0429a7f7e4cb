"""LambdaLR, CosineAnnealingWarmRestarts, CyclicLR, PolynomialLR and SequentialLR against
torch.optim.lr_scheduler: the same rates (and momenta) at every step, exactly (both follow the same
recursions in Python floats); step(epoch); state dicts (functions are left out, callable objects' attributes
kept, as PyTorch does); configs (a callable argument has none); errors."""

import copy
import json
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

import chainrule as cr
from chainrule import optim, registry
from chainrule.errors import ArgumentError, ArgumentTypeError, StateDictError
from chainrule.nn import Parameter
from chainrule.optim import lr_scheduler as ls

STEPS = 60


def make_optimizers(kind="SGD"):
    """Two parameter groups (lr 0.1 and 0.02) in each library; SGD with momentum."""
    cps = [Parameter(np.ones(2, np.float32)), Parameter(np.ones(3, np.float32))]
    tps = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))]
    kwargs = {"momentum": 0.9} if kind == "SGD" else {}

    def groups(ps):
        return [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.02}]

    return (getattr(optim, kind)(groups(cps), lr=0.1, **kwargs),
            getattr(torch.optim, kind)(groups(tps), lr=0.1, **kwargs))  # fmt: skip


class Warmup:
    """A callable object with state: PyTorch keeps its attributes in the state dict."""

    def __init__(self, epochs):
        self.epochs = epochs

    def __call__(self, epoch):
        return min(1.0, (epoch + 1) / self.epochs)


class Wave:
    def __init__(self, amplitude):
        self.amplitude = amplitude

    def __call__(self, x):
        return 1.0 - self.amplitude * (1 + np.cos(x)) / 2


def _sequential(lib):
    L = ls if lib is cr else tls

    def kwargs(opt):
        return {"schedulers": [L.LinearLR(opt, start_factor=0.1, total_iters=4), L.StepLR(opt, step_size=3, gamma=0.5),
                               L.CosineAnnealingLR(opt, T_max=6, eta_min=0.001), L.ExponentialLR(opt, gamma=0.9),
                               L.MultiStepLR(opt, milestones=[2, 4]), L.CosineAnnealingWarmRestarts(opt, T_0=3),
                               L.PolynomialLR(opt, total_iters=4, power=2.0), L.CyclicLR(opt, 0.01, 0.1, 3)],
                "milestones": [4, 9, 14, 18, 22, 30, 40]}  # fmt: skip

    return kwargs


def _nested(lib):
    L = ls if lib is cr else tls

    def kwargs(opt):
        inner = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.5, total_iters=2), L.ExponentialLR(opt, 0.8)], [3])
        return {"schedulers": [inner, L.LambdaLR(opt, lambda e: 0.5 + e / 10)], "milestones": [7]}

    return kwargs


def _warm_restarts_in_sequence(lib):
    L = ls if lib is cr else tls
    return lambda opt: {"schedulers": [L.LinearLR(opt, total_iters=3), L.CosineAnnealingWarmRestarts(opt, T_0=4)],
                        "milestones": [6]}  # fmt: skip


def _handed_over_at_zero(lib):
    L = ls if lib is cr else tls
    return lambda opt: {"schedulers": [L.StepLR(opt, 2), L.ExponentialLR(opt, 0.9), L.PolynomialLR(opt, 10)],
                        "milestones": [0, 8]}  # fmt: skip


# name, kwargs (or a function of the library and the optimiser giving them)
SCHEDULERS = [
    ("LambdaLR", {"lr_lambda": lambda e: 0.95**e}),
    ("LambdaLR", {"lr_lambda": [lambda e: 1 / (e + 1), lambda e: e % 3 + 0.5]}),
    ("LambdaLR", {"lr_lambda": Warmup(10)}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4}),
    ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}),
    ("CyclicLR", {"base_lr": [0.01, 0.002], "max_lr": [0.1, 0.05], "step_size_up": 3, "step_size_down": 5,
                  "mode": "triangular2"}),  # fmt: skip
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "exp_range", "gamma": 0.95}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 5, "scale_fn": Wave(0.5)}),
    ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 2, "scale_fn": lambda x: 0.97**x,
                  "scale_mode": "iterations", "base_momentum": [0.7, 0.75], "max_momentum": 0.95}),  # fmt: skip
    ("CyclicLR", {"base_lr": 0.05, "max_lr": 0.2, "step_size_up": 7, "step_size_down": 2, "cycle_momentum": False}),
    ("PolynomialLR", {}),
    ("PolynomialLR", {"total_iters": 12, "power": 2.0}),
    ("PolynomialLR", {"total_iters": 40, "power": 0.5}),
    ("SequentialLR", _sequential),
    ("SequentialLR", _nested),
    ("SequentialLR", _warm_restarts_in_sequence),
    ("SequentialLR", _handed_over_at_zero),
]
IDS = [f"{n}-{'-'.join(k) if isinstance(k, dict) else k.__name__.strip('_')}" for n, k in SCHEDULERS]


def build(lib, name, kwargs, opt):
    module = ls if lib is cr else tls
    return getattr(module, name)(opt, **(kwargs(lib)(opt) if callable(kwargs) else kwargs))


def _momenta(opt):
    return [(g.get("momentum"), tuple(g["betas"]) if "betas" in g else None) for g in opt.param_groups]


@pytest.mark.filterwarnings("ignore:Detected call of:UserWarning")  # torch's, about its nested SequentialLR
@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=IDS)
def test_same_learning_rates_as_torch(name, kwargs, kind):
    opt, topt = make_optimizers(kind)
    sched, tsched = build(cr, name, kwargs, opt), build(torch, name, kwargs, topt)
    assert sched.get_last_lr() == tsched.get_last_lr()
    assert _momenta(opt) == _momenta(topt)
    for _ in range(STEPS):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
        assert _momenta(opt) == _momenta(topt)
    assert sched.last_epoch == tsched.last_epoch


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_at_float_epochs_as_torch(T_mult):
    """step(epoch) with fractional epochs (annealing within an epoch), mixed with plain steps."""
    opt, topt = make_optimizers()
    sched = ls.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=T_mult, eta_min=0.01)
    tsched = tls.CosineAnnealingWarmRestarts(topt, T_0=3, T_mult=T_mult, eta_min=0.01)
    epochs = [float(e) for e in np.arange(0, 40, 0.37)] + [7, 2.5, 13, 0]  # forward, then jumps back
    for i, e in enumerate(epochs):
        if i % 7 == 6:
            sched.step()
            tsched.step()
        else:
            sched.step(e)
            tsched.step(e)
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert (sched.last_epoch, sched.T_cur, sched.T_i) == (tsched.last_epoch, tsched.T_cur, tsched.T_i)
    with pytest.raises(ArgumentError, match="epoch must be a finite number >= 0"):
        sched.step(-1)
    with pytest.raises(ArgumentError, match="epoch must be a finite number >= 0"):
        sched.step(float("nan"))


CLOSED_FORMS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9]}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),
    ("LinearLR", {"start_factor": 0.25, "total_iters": 6}),
    ("PolynomialLR", {"total_iters": 8, "power": 1.5}),
    ("LambdaLR", {"lr_lambda": lambda e: 1 / (1 + e)}),  # no closed form: its get_lr at that epoch
]


@pytest.mark.parametrize("name, kwargs", CLOSED_FORMS, ids=[n for n, _ in CLOSED_FORMS])
def test_step_with_an_epoch_uses_the_closed_form_as_torch(name, kwargs):
    opt, topt = make_optimizers()
    sched, tsched = getattr(ls, name)(opt, **kwargs), getattr(tls, name)(topt, **kwargs)
    for e in [3, 1, 0, 8, 12, 5]:
        with pytest.warns(UserWarning, match="deprecated"):
            sched.step(e)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tsched.step(e)
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert sched.last_epoch == e


def _run(sched, opt, n):
    lrs = []
    for _ in range(n):
        opt.step()
        sched.step()
        lrs.append((sched.get_last_lr(), _momenta(opt)))
    return lrs


@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=IDS)
def test_state_dict_round_trip(name, kwargs):
    """Build, load the scheduler's state, then the optimiser's (as torch): the run goes on as if never stopped."""
    opt, _ = make_optimizers("Adam")
    sched = build(cr, name, copy.deepcopy(kwargs), opt)
    _run(sched, opt, 13)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched
    expected = _run(sched, opt, 30)

    opt2, _ = make_optimizers("Adam")
    sched2 = build(cr, name, copy.deepcopy(kwargs), opt2)
    sched2.load_state_dict(saved_sched)
    opt2.load_state_dict(saved_opt)
    assert _run(sched2, opt2, 30) == expected


def _plain(obj):
    """True when ``obj`` is plain data (what a checkpoint can hold: no functions, no objects)."""
    if isinstance(obj, dict):
        return all(isinstance(k, str | int) and _plain(v) for k, v in obj.items())
    if isinstance(obj, list | tuple):
        return all(_plain(v) for v in obj)
    return obj is None or isinstance(obj, bool | int | float | str)


@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=IDS)
def test_state_dicts_are_plain_data(name, kwargs):
    opt, _ = make_optimizers()
    sched = build(cr, name, kwargs, opt)
    _run(sched, opt, 3)
    state = sched.state_dict()
    assert _plain({k: v for k, v in state.items() if k != "milestones"}), state


def test_lambda_state_keeps_callable_objects_and_skips_functions():
    opt, topt = make_optimizers()
    fns = [Warmup(5), lambda e: 0.9**e]
    sched = ls.LambdaLR(opt, fns)
    tsched = tls.LambdaLR(topt, [Warmup(5), lambda e: 0.9**e])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"epochs": 5}, None]
    assert state["lr_lambdas"] == tsched.state_dict()["lr_lambdas"]
    state["lr_lambdas"][0]["epochs"] = 20  # the saved copy is its own
    assert fns[0].epochs == 5
    other = Warmup(1)
    sched2 = ls.LambdaLR(make_optimizers()[0], [other, lambda e: 1.0])
    sched2.load_state_dict(state)
    assert other.epochs == 20 and sched2.lr_lambdas[0] is other
    with pytest.raises(StateDictError, match="'lr_lambdas' must be a list of 2 entries"):
        sched2.load_state_dict({**state, "lr_lambdas": [None]})


def test_cyclic_state_keeps_a_scale_fn_object_and_skips_functions():
    opt, topt = make_optimizers()
    wave = Wave(0.3)
    sched = ls.CyclicLR(opt, 0.01, 0.1, step_size_up=3, scale_fn=wave)
    tsched = tls.CyclicLR(topt, 0.01, 0.1, step_size_up=3, scale_fn=Wave(0.3))
    assert sched.state_dict()["_scale_fn_custom"] == {"amplitude": 0.3} == tsched.state_dict()["_scale_fn_custom"]
    other = Wave(0.9)
    sched2 = ls.CyclicLR(make_optimizers()[0], 0.01, 0.1, step_size_up=3, scale_fn=other)
    sched2.load_state_dict(sched.state_dict())
    assert other.amplitude == 0.3
    fn = ls.CyclicLR(make_optimizers()[0], 0.01, 0.1, scale_fn=lambda x: 1.0)
    assert fn.state_dict()["_scale_fn_custom"] is None
    plain = ls.CyclicLR(make_optimizers()[0], 0.01, 0.1)
    with pytest.raises(StateDictError, match="has none"):
        plain.load_state_dict(sched.state_dict())


def test_sequential_state_dict_holds_the_schedulers_state_dicts():
    opt, topt = make_optimizers()
    sched = ls.SequentialLR(opt, **_sequential(cr)(opt))
    tsched = tls.SequentialLR(topt, **_sequential(torch)(topt))
    _run(sched, opt, 11)
    _run(tsched, topt, 11)
    state, tstate = sched.state_dict(), tsched.state_dict()
    assert len(state["_schedulers"]) == 8
    assert (state["last_epoch"], state["_milestones"]) == (tstate["last_epoch"], tstate["_milestones"])
    for ours, theirs in zip(state["_schedulers"], tstate["_schedulers"]):
        assert ours["last_epoch"] == theirs["last_epoch"] and ours["_last_lr"] == theirs["_last_lr"]
    with pytest.raises(StateDictError, match="'_schedulers' must be a list of 8 state dicts"):
        sched.load_state_dict({**state, "_schedulers": state["_schedulers"][:2]})


def test_configs_and_registry():
    for name in ("cosine_annealing_warm_restarts", "cyclic_lr", "polynomial_lr", "sequential_lr"):
        cls = registry.get(name, kind="scheduler")
        assert registry.name_of(cls, kind="scheduler") == name
    assert "lambda_lr" not in registry.names("scheduler")  # a function cannot be named in a model file
    opt, _ = make_optimizers()
    cases = [
        (ls.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=0.01), {"T_0": 5, "T_mult": 2, "eta_min": 0.01}),
        (ls.PolynomialLR(opt, total_iters=7, power=2.0), {"total_iters": 7, "power": 2.0}),
        (ls.CyclicLR(opt, [0.01, 0.02], 0.1, step_size_up=4, mode="exp_range", gamma=0.9),
         {"base_lr": [0.01, 0.02], "max_lr": 0.1, "step_size_up": 4, "step_size_down": None, "mode": "exp_range",
          "gamma": 0.9, "scale_fn": None, "scale_mode": "iterations", "cycle_momentum": True, "base_momentum": 0.8,
          "max_momentum": 0.9}),
    ]  # fmt: skip
    for sched, config in cases:
        assert sched.get_config() == config
        assert json.loads(json.dumps(config)) == config
        opt2, _ = make_optimizers()
        rebuilt = type(sched).from_config(opt2, config)
        assert rebuilt.get_config() == config
        assert repr(sched).startswith(type(sched).__name__ + "(")


def test_sequential_config_rebuilds_its_schedulers():
    opt, _ = make_optimizers()
    sched = ls.SequentialLR(opt, [ls.LinearLR(opt, total_iters=3), ls.CyclicLR(opt, 0.01, 0.1, 4)], [3])
    config = sched.get_config()
    assert json.loads(json.dumps(config)) == config
    assert [e["name"] for e in config["schedulers"]] == ["linear_lr", "cyclic_lr"]
    assert config["milestones"] == [3]
    opt2, _ = make_optimizers()
    rebuilt = ls.SequentialLR.from_config(opt2, config)
    assert rebuilt.get_config() == config
    assert _run(rebuilt, opt2, 12) == _run(sched, opt, 12)
    assert repr(sched).startswith("SequentialLR(schedulers=[LinearLR(")
    with pytest.raises(ArgumentError, match="'schedulers' must be a list"):
        ls.SequentialLR.from_config(opt2, {"schedulers": "linear_lr", "milestones": []})


def test_a_callable_argument_has_no_config():
    opt, _ = make_optimizers()
    with pytest.raises(ArgumentTypeError, match="LambdaLR.get_config: lr_lambda is a Python callable"):
        ls.LambdaLR(opt, lambda e: 1.0).get_config()
    with pytest.raises(ArgumentTypeError, match="CyclicLR.get_config: scale_fn is a Python callable"):
        ls.CyclicLR(opt, 0.01, 0.1, scale_fn=Wave(0.1)).get_config()
    lam = ls.LambdaLR(opt, lambda e: 1.0)
    with pytest.raises(ArgumentTypeError, match="schedulers\\[0\\] \\(LambdaLR\\) is not a registered scheduler"):
        ls.SequentialLR(opt, [lam, ls.StepLR(opt, 2)], [2]).get_config()
    assert repr(ls.LambdaLR(opt, Warmup(3))) == "LambdaLR(lr_lambda=Warmup)"
    assert repr(ls.LambdaLR(opt, [Warmup(3), abs])) == "LambdaLR(lr_lambda=['Warmup', 'abs'])"


def test_constructors_set_the_rates_as_torch():
    """CyclicLR writes base_lr into the groups; SequentialLR restores the initial rates before starting."""
    opt, topt = make_optimizers()
    ls.CyclicLR(opt, base_lr=0.003, max_lr=0.1)
    tls.CyclicLR(topt, base_lr=0.003, max_lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups] == [0.003, 0.003]
    assert [g["initial_lr"] for g in opt.param_groups] == [g["initial_lr"] for g in topt.param_groups]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]


def test_scheduler_errors():
    opt, topt = make_optimizers()
    adagrad = optim.Adagrad([Parameter(np.ones(2, np.float32))])
    with pytest.raises(ArgumentError, match="lr_lambda has 1 functions but the optimiser has 2"):
        ls.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ArgumentTypeError, match="entry 1 is a float"):
        ls.LambdaLR(opt, [lambda e: 1.0, 0.5])
    with pytest.raises(ArgumentError, match="expected a chainrule Optimizer"):
        ls.LambdaLR(topt, lambda e: 1.0)
    with pytest.raises(ArgumentError, match="T_0 must be a positive integer"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=0)
    with pytest.raises(ArgumentError, match="T_mult must be an integer >= 1"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=1.5)
    with pytest.raises(ArgumentError, match="eta_min must be a number"):
        ls.CosineAnnealingWarmRestarts(opt, T_0=2, eta_min="0")
    with pytest.raises(ArgumentError, match="mode must be"):
        ls.CyclicLR(opt, 0.01, 0.1, mode="sine")
    with pytest.raises(ArgumentError, match="scale_mode must be"):
        ls.CyclicLR(opt, 0.01, 0.1, scale_fn=Wave(0.1), scale_mode="epoch")
    with pytest.raises(ArgumentError, match="step_size_up must be a positive number"):
        ls.CyclicLR(opt, 0.01, 0.1, step_size_up=0)
    with pytest.raises(ArgumentError, match="max_lr has 3 values but the optimiser has 2"):
        ls.CyclicLR(opt, 0.01, [0.1, 0.2, 0.3])
    with pytest.raises(ArgumentError, match="cycle_momentum=False"):
        ls.CyclicLR(adagrad, 0.01, 0.1)
    ls.CyclicLR(adagrad, 0.01, 0.1, cycle_momentum=False)
    with pytest.raises(ArgumentError, match="total_iters must be a positive integer"):
        ls.PolynomialLR(opt, total_iters=0)
    step = ls.StepLR(opt, 2)
    with pytest.raises(ArgumentError, match="2 schedulers need 1 milestones"):
        ls.SequentialLR(opt, [step, ls.StepLR(opt, 3)], [2, 4])
    with pytest.raises(ArgumentError, match="non-empty list"):
        ls.SequentialLR(opt, [], [])
    other, _ = make_optimizers()
    with pytest.raises(ArgumentError, match=r"schedulers\[1\] \(StepLR\) belongs to another optimiser"):
        ls.SequentialLR(opt, [step, ls.StepLR(other, 3)], [2])
    with pytest.raises(ArgumentError, match="ReduceLROnPlateau"):
        ls.SequentialLR(opt, [step, ls.ReduceLROnPlateau(opt)], [2])
    with pytest.raises(ArgumentError, match="increasing order"):
        ls.SequentialLR(opt, [step, ls.StepLR(opt, 3), ls.StepLR(opt, 4)], [5, 2])
    inner = ls.SequentialLR(opt, [ls.StepLR(opt, 2), ls.StepLR(opt, 3)], [2])
    with pytest.raises(ArgumentError, match=r"schedulers\[1\] is a SequentialLR: only the first"):
        ls.SequentialLR(opt, [step, inner], [2])
    with pytest.raises(ArgumentError, match="not a scheduler"):
        ls.SequentialLR(opt, [step, "cosine"], [2])
