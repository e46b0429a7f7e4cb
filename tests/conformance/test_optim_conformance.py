"""Every registered optimiser and scheduler through the same checks: get_config rebuild, state_dict
round trip (a resumed run equals an uninterrupted one bit for bit), repr, and seeded determinism.
PyTorch parity for each of them is in tests/optim/."""

import json

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, registry

OPTIMIZERS = {"sgd": {"lr": 0.1, "momentum": 0.9}, "adam": {"lr": 0.01}, "adamw": {"lr": 0.01},
              "rmsprop": {"lr": 0.01, "momentum": 0.5}, "adagrad": {"lr": 0.1},
              "adadelta": {"weight_decay": 0.01}, "adamax": {"lr": 0.01}, "nadam": {"lr": 0.01},
              "radam": {"lr": 0.01, "decoupled_weight_decay": True, "weight_decay": 0.1}}  # fmt: skip
# each scheduler's constructor arguments, or a function of the optimiser that gives them
SCHEDULERS = {
    "step_lr": {"step_size": 3},
    "multi_step_lr": {"milestones": [2, 5]},
    "exponential_lr": {"gamma": 0.9},
    "cosine_annealing_lr": {"T_max": 10},
    "linear_lr": {"total_iters": 4},
    "one_cycle_lr": {"max_lr": 0.1, "total_steps": 20},
    "reduce_lr_on_plateau": {"patience": 1},
    "cosine_annealing_warm_restarts": {"T_0": 3, "T_mult": 2},
    "cyclic_lr": {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "mode": "triangular2"},
    "polynomial_lr": {"total_iters": 6, "power": 2.0},
    "sequential_lr": lambda opt: {
        "schedulers": [cr.optim.lr_scheduler.LinearLR(opt, total_iters=3),
                       cr.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2)],
        "milestones": [5],
    },  # fmt: skip
}


def scheduler_kwargs(name, opt):
    kwargs = SCHEDULERS[name]
    return kwargs(opt) if callable(kwargs) else kwargs


def test_every_registered_optimizer_and_scheduler_is_covered():
    assert sorted(registry.names("optimizer")) == sorted(OPTIMIZERS)
    assert sorted(registry.names("scheduler")) == sorted(SCHEDULERS)


def model_and_data(seed=0):
    cr.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    rng = np.random.default_rng(seed)
    return model, cr.tensor(rng.standard_normal((8, 3))), cr.tensor(rng.standard_normal((8, 1)))


def train(model, opt, X, y, steps, sched=None):
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(X) - y) ** 2).mean()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step(loss.item()) if type(sched).registered_name == "reduce_lr_on_plateau" else sched.step()


def weights(model):
    return [v.copy() for v in model.state_dict().values()]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_conformance(name):
    cls = registry.get(name, kind="optimizer")
    model, X, y = model_and_data()
    opt = cls(model.parameters(), **OPTIMIZERS[name])
    config = opt.get_config()
    assert json.loads(json.dumps(config)) == config
    assert type(opt).from_config(list(model.parameters()), config).get_config() == config
    assert repr(opt).startswith(type(opt).__name__)

    train(model, opt, X, y, 5)
    saved_model, saved_opt = model.state_dict(), opt.state_dict()
    train(model, opt, X, y, 5)
    straight = weights(model)

    resumed, _, _ = model_and_data()
    resumed.load_state_dict(saved_model)
    opt2 = cls(resumed.parameters(), **OPTIMIZERS[name])
    opt2.load_state_dict(saved_opt)
    train(resumed, opt2, X, y, 5)
    for a, b in zip(weights(resumed), straight):
        np.testing.assert_array_equal(a, b)

    again, _, _ = model_and_data()
    train(again, cls(again.parameters(), **OPTIMIZERS[name]), X, y, 10)
    for a, b in zip(weights(again), straight):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_conformance(name):
    cls = registry.get(name, kind="scheduler")
    model, X, y = model_and_data()
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = cls(opt, **scheduler_kwargs(name, opt))
    config = sched.get_config()
    assert json.loads(json.dumps(config)) == config
    assert repr(sched).startswith(type(sched).__name__)

    train(model, opt, X, y, 4, sched)
    saved = (model.state_dict(), opt.state_dict(), sched.state_dict())
    train(model, opt, X, y, 4, sched)
    straight, lrs = weights(model), [g["lr"] for g in opt.param_groups]

    resumed, _, _ = model_and_data()
    resumed.load_state_dict(saved[0])
    opt2 = cr.optim.SGD(resumed.parameters(), lr=0.1, momentum=0.9)
    sched2 = cls.from_config(opt2, config)
    opt2.load_state_dict(saved[1])
    sched2.load_state_dict(saved[2])
    train(resumed, opt2, X, y, 4, sched2)
    assert [g["lr"] for g in opt2.param_groups] == lrs
    for a, b in zip(weights(resumed), straight):
        np.testing.assert_array_equal(a, b)
