"""Learning-rate schedulers against torch.optim.lr_scheduler: the same rates at every step (exactly:
both follow the same recursions in Python floats), momentum cycling, state dict round trips, errors."""

import json
import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

import chainrule as cr
from chainrule import optim, registry
from chainrule.errors import ArgumentError
from chainrule.nn import Parameter
from chainrule.optim import lr_scheduler as ls

STEPS = 30


def make_optimizers(kind="SGD"):
    """Two parameter groups (lr 0.1 and 0.02) in each library."""
    cps = [Parameter(np.ones(2, np.float32)), Parameter(np.ones(3, np.float32))]
    tps = [torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(3))]

    def groups(ps):
        return [{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.02}]

    return getattr(optim, kind)(groups(cps), lr=0.1), getattr(torch.optim, kind)(groups(tps), lr=0.1)


SCHEDULERS = [
    ("StepLR", {"step_size": 3, "gamma": 0.5}),
    ("StepLR", {"step_size": 1}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9, 20], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.001}),  # 30 steps cross several restarts
    ("CosineAnnealingLR", {"T_max": 30}),
    ("LinearLR", {}),
    ("LinearLR", {"start_factor": 0.5, "end_factor": 0.1, "total_iters": 8}),
    ("OneCycleLR", {"max_lr": [1.0, 0.5], "total_steps": STEPS}),
    ("OneCycleLR", {"max_lr": 0.4, "epochs": 5, "steps_per_epoch": 6, "anneal_strategy": "linear"}),
    ("OneCycleLR", {"max_lr": 0.4, "total_steps": STEPS, "three_phase": True, "pct_start": 0.25}),
    ("OneCycleLR", {"max_lr": 0.4, "total_steps": STEPS, "cycle_momentum": False, "div_factor": 10.0}),
]
IDS = [f"{n}-{'-'.join(k)}" for n, k in SCHEDULERS]


def _momenta(opt):
    return [(g.get("momentum"), tuple(g["betas"]) if "betas" in g else None) for g in opt.param_groups]


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("name, kwargs", SCHEDULERS, ids=IDS)
def test_same_learning_rates_as_torch(name, kwargs, kind):
    opt, topt = make_optimizers(kind)
    sched = getattr(ls, name)(opt, **kwargs)
    tsched = getattr(tls, name)(topt, **kwargs)
    assert sched.get_last_lr() == tsched.get_last_lr()
    for _ in range(STEPS):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
        assert _momenta(opt) == _momenta(topt)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 2},
        {"patience": 0, "factor": 0.5, "cooldown": 2},
        {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 1},
        {"mode": "max", "patience": 1, "min_lr": [0.01, 0.015]},
        {"patience": 1, "factor": 0.5, "min_lr": 0.02, "threshold_mode": "abs", "eps": 1e-3},
    ],
    ids=lambda k: "-".join(k),
)
def test_reduce_on_plateau_same_as_torch(kwargs):
    rng = np.random.default_rng(3)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 6), 0.5 + 0.05 * rng.random(12), np.linspace(0.49, 0.3, 6),
                              0.3 + 0.02 * rng.random(12)])  # fmt: skip
    opt, topt = make_optimizers()
    sched = ls.ReduceLROnPlateau(opt, **kwargs)
    tsched = tls.ReduceLROnPlateau(topt, **kwargs)
    reductions = 0
    for i, m in enumerate(metrics):
        before = sched.get_last_lr()
        sched.step(cr.tensor(m, dtype="float64") if i % 2 else float(m))  # a 0-d Tensor works too
        tsched.step(float(m))
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert (sched.best, sched.num_bad_epochs, sched.cooldown_counter) == (
            tsched.best, tsched.num_bad_epochs, tsched.cooldown_counter)  # fmt: skip
        reductions += sched.get_last_lr() != before
    assert reductions >= 1


def _run(sched, opt, n, metrics=None):
    lrs = []
    for i in range(n):
        opt.step()
        sched.step(metrics[i]) if metrics is not None else sched.step()
        lrs.append(sched.get_last_lr())
    return lrs


@pytest.mark.parametrize(
    "name, kwargs", [*SCHEDULERS, ("ReduceLROnPlateau", {"patience": 1, "cooldown": 1})],
    ids=[*IDS, "ReduceLROnPlateau"],
)  # fmt: skip
def test_state_dict_round_trip(name, kwargs):
    metrics = [1.0, 0.9, 0.95, 0.95, 0.96, 0.8, 0.81, 0.82, 0.83, 0.7] * 3 if name == "ReduceLROnPlateau" else None
    cls = getattr(ls, name)
    opt, _ = make_optimizers("Adam")
    sched = cls(opt, **kwargs)
    _run(sched, opt, 10, metrics)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    assert "optimizer" not in saved_sched
    expected = _run(sched, opt, 20, metrics and metrics[10:])

    opt2, _ = make_optimizers("Adam")
    sched2 = cls(opt2, **kwargs)  # as torch: build, then load the scheduler's state, then the optimiser's
    sched2.load_state_dict(saved_sched)
    opt2.load_state_dict(saved_opt)
    assert _run(sched2, opt2, 20, metrics and metrics[10:]) == expected


def test_schedulers_drive_training_like_torch():
    """An optimiser stepping under a scheduler uses the scheduled rates (with OneCycle's beta1 cycling)."""
    opt, topt = make_optimizers("Adam")
    sched = ls.OneCycleLR(opt, max_lr=0.3, total_steps=STEPS)
    tsched = tls.OneCycleLR(topt, max_lr=0.3, total_steps=STEPS)
    g = [np.linspace(-1, 1, 2, dtype=np.float32), np.linspace(2, -1, 3, dtype=np.float32)]
    cps = [p for grp in opt.param_groups for p in grp["params"]]
    tps = [p for grp in topt.param_groups for p in grp["params"]]
    for _ in range(STEPS):
        for c, t, a in zip(cps, tps, g):
            c.grad, t.grad = cr.tensor(a), torch.tensor(a)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
    for c, t in zip(cps, tps):
        np.testing.assert_allclose(c.numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


SCHEDULER_NAMES = {
    "step_lr": {"step_size": 2},
    "multi_step_lr": {"milestones": [3, 1, 3]},
    "exponential_lr": {"gamma": 0.5},
    "cosine_annealing_lr": {"T_max": 10},
    "linear_lr": {"total_iters": 3},
    "one_cycle_lr": {"max_lr": [0.5, 0.2], "total_steps": 10},
    "reduce_lr_on_plateau": {"min_lr": [0.001, 0.002]},
    "cosine_annealing_warm_restarts": {"T_0": 3, "T_mult": 2},
    "cyclic_lr": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "cycle_momentum": False},
    "polynomial_lr": {"total_iters": 4, "power": 2.0},
}
# sequential_lr takes schedulers, not numbers: its config and parity are in test_lr_scheduler_more.py
COVERED_ELSEWHERE = {"sequential_lr"}


def test_every_registered_scheduler_is_covered():
    assert registry.names("scheduler") == sorted(set(SCHEDULER_NAMES) | COVERED_ELSEWHERE)


@pytest.mark.parametrize("name, kwargs", SCHEDULER_NAMES.items(), ids=list(SCHEDULER_NAMES))
def test_registry_and_config(name, kwargs):
    cls = registry.get(name, kind="scheduler")
    opt, _ = make_optimizers()
    sched = cls(opt, **kwargs)
    config = sched.get_config()
    assert json.loads(json.dumps(config)) == config
    for k, v in kwargs.items():
        assert config[k] == (sorted(v) if k == "milestones" else v)
    opt2, _ = make_optimizers()
    rebuilt = cls.from_config(opt2, config)
    assert rebuilt.get_config() == config
    assert rebuilt.get_last_lr() == sched.get_last_lr()
    assert repr(sched).startswith(cls.__name__ + "(")


def test_scheduler_errors():
    opt, topt = make_optimizers()
    with pytest.raises(ArgumentError, match="expected a chainrule Optimizer"):
        ls.StepLR(topt, step_size=2)
    with pytest.raises(ArgumentError, match="step_size"):
        ls.StepLR(opt, step_size=0)
    with pytest.raises(ArgumentError, match="T_max"):
        ls.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ArgumentError, match="start_factor"):
        ls.LinearLR(opt, start_factor=0)
    with pytest.raises(ArgumentError, match="total_steps, or both epochs and steps_per_epoch"):
        ls.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ArgumentError, match="max_lr has 3 values but the optimiser has 2 parameter groups"):
        ls.OneCycleLR(opt, max_lr=[0.1, 0.2, 0.3], total_steps=10)
    with pytest.raises(ArgumentError, match="pct_start"):
        ls.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(ArgumentError, match="anneal_strategy"):
        ls.OneCycleLR(opt, max_lr=0.1, total_steps=10, anneal_strategy="exp")
    adagrad = optim.Adagrad([Parameter(np.ones(2, np.float32))])
    with pytest.raises(ArgumentError, match="cycle_momentum=False"):
        ls.OneCycleLR(adagrad, max_lr=0.1, total_steps=10)
    sched = ls.OneCycleLR(adagrad, max_lr=0.1, total_steps=3, cycle_momentum=False)
    for _ in range(3):
        sched.step()
    with pytest.raises(ArgumentError, match="tried to step 4 times, but total_steps is 3"):
        sched.step()
    with pytest.raises(ArgumentError, match="factor"):
        ls.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ArgumentError, match="mode"):
        ls.ReduceLROnPlateau(opt, mode="up")
    with pytest.raises(ArgumentError, match="threshold_mode"):
        ls.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ArgumentError, match="min_lr has 1 values"):
        ls.ReduceLROnPlateau(opt, min_lr=[0.1])
    with pytest.raises(ArgumentError, match="metric must be a number"):
        ls.ReduceLROnPlateau(opt).step("low")
    with pytest.raises(ArgumentError, match="initial_lr"):
        ls.StepLR(make_optimizers()[0], step_size=2, last_epoch=3)


def test_no_torch_warnings_needed():
    """chainrule schedulers do not patch optimizer.step or warn about call order."""
    opt, _ = make_optimizers()
    sched = ls.ExponentialLR(opt, gamma=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()
        sched.step()
    assert sched.get_last_lr() == [0.025, 0.005]
