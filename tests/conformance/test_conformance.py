"""Every registered module and loss goes through the same checks (DESIGN convention 11):
get_config rebuild, state_dict round trip, repr, seeded determinism, and PyTorch parity.

The table below must name every registered module: a new layer that is not added here fails
``test_every_registered_module_is_covered``, so nothing escapes the suite by omission.
"""

import copy
import importlib.util
import json
import pathlib

import numpy as np
import pytest
import tolerance as tol  # noqa: E402 - T is torch.nn in the table below
import torch

import chainrule as cr
from chainrule import nn, registry


def _x(*shape, low=None):
    def make(rng):
        a = rng.standard_normal(shape).astype(np.float32)
        return [a if low is None else np.abs(a) + low]

    return make


def _cls_target(n, c, *spatial):
    def make(rng):
        return [rng.standard_normal((n, c, *spatial)).astype(np.float32), rng.integers(0, c, (n, *spatial))]

    return make


def _pair(*shape, prob=False, binary=False):
    def make(rng):
        a = rng.standard_normal(shape).astype(np.float32)
        if prob:
            a = (1 / (1 + np.exp(-a))).astype(np.float32)
        b = rng.random(shape).astype(np.float32)
        if binary:
            b = (b > 0.5).astype(np.float32)
        return [a, b]

    return make


# name -> (constructor kwargs, input maker or None for containers without forward, torch class or None)
T = torch.nn
TABLE = {
    "sequential": (None, _x(4, 3), None),
    "module_list": (None, None, None),
    "module_dict": (None, None, None),
    "linear": ({"in_features": 3, "out_features": 5}, _x(4, 3), T.Linear),
    "identity": ({}, _x(4, 3), T.Identity),
    "flatten": ({"start_dim": 1}, _x(2, 3, 4), T.Flatten),
    "dropout": ({"p": 0.3}, _x(4, 5), T.Dropout),
    "step": ({}, _x(4, 3), None),
    "sigmoid": ({}, _x(4, 3), T.Sigmoid),
    "tanh": ({}, _x(4, 3), T.Tanh),
    "relu": ({}, _x(4, 3), T.ReLU),
    "leaky_relu": ({"negative_slope": 0.2}, _x(4, 3), T.LeakyReLU),
    "gelu": ({"approximate": "tanh"}, _x(4, 3), T.GELU),
    "softplus": ({"beta": 2.0, "threshold": 10.0}, _x(4, 3), T.Softplus),
    "softmax": ({"dim": 1}, _x(4, 3), T.Softmax),
    "log_softmax": ({"dim": 1}, _x(4, 3), T.LogSoftmax),
    "elu": ({"alpha": 0.5}, _x(4, 3), T.ELU),
    "silu": ({}, _x(4, 3), T.SiLU),
    "conv2d": ({"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1}, _x(2, 2, 5, 5), T.Conv2d),
    "max_pool2d": ({"kernel_size": 2}, _x(2, 3, 4, 4), T.MaxPool2d),
    "avg_pool2d": ({"kernel_size": 2}, _x(2, 3, 4, 4), T.AvgPool2d),
    "adaptive_avg_pool2d": ({"output_size": 1}, _x(2, 3, 4, 4), T.AdaptiveAvgPool2d),
    "batch_norm1d": ({"num_features": 3}, _x(4, 3), T.BatchNorm1d),
    "batch_norm2d": ({"num_features": 3}, _x(2, 3, 4, 4), T.BatchNorm2d),
    "layer_norm": ({"normalized_shape": [4]}, _x(2, 3, 4), T.LayerNorm),
    "embedding": ({"num_embeddings": 10, "embedding_dim": 3}, lambda rng: [rng.integers(0, 10, (4, 5))],
                  T.Embedding),
    "mse": ({}, _pair(4, 3), T.MSELoss),
    "l1": ({}, _pair(4, 3), T.L1Loss),
    "huber": ({"delta": 0.5}, _pair(4, 3), T.HuberLoss),
    "bce": ({}, _pair(4, 3, prob=True), T.BCELoss),
    "bce_with_logits": ({}, _pair(4, 3, binary=True), T.BCEWithLogitsLoss),
    "cross_entropy": ({"label_smoothing": 0.1}, _cls_target(4, 5), T.CrossEntropyLoss),
    "nll": ({}, lambda rng: [np.log(np.full((4, 5), 0.2, np.float32)), rng.integers(0, 5, 4)], T.NLLLoss),
}
# the magnitude rule (tests/tolerance.py) of each layer with a PyTorch counterpart; the losses and the norms
# are worked out by ``_magnitudes``
RULES = {
    **dict.fromkeys(["linear", "identity", "flatten", "dropout", "conv2d", "avg_pool2d", "adaptive_avg_pool2d",
                     "embedding"], tol.linear),
    **dict.fromkeys(["sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "silu"], tol.elementwise),
    "gelu": tol.from_terms(tol.gelu_tanh_terms),  # the table's GELU is the tanh form
    "softmax": tol.from_terms(tol.softmax_terms, axis=1),
    "log_softmax": tol.from_terms(tol.log_softmax_terms, axis=1),
    "max_pool2d": tol.exact,
}
# further entries live in their own files (cases_*.py beside this one): each defines TABLE and RULES dicts
# of the same form, using the helpers above (imported from this module, which is defined by then)
for _path in sorted(pathlib.Path(__file__).parent.glob("cases_*.py")):
    # by path, under a name of this folder's: tests/ops has cases_*.py files of its own
    _spec = importlib.util.spec_from_file_location(f"conformance_{_path.stem}", _path)
    _extra = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_extra)
    TABLE.update(_extra.TABLE)
    RULES.update(getattr(_extra, "RULES", {}))


def build(name, seed=0):
    cls = registry.get(name)
    cr.manual_seed(seed)
    kwargs = TABLE[name][0]
    if name == "sequential":
        return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    if name == "module_list":
        return nn.ModuleList([nn.Linear(3, 4), nn.Linear(4, 2)])
    if name == "module_dict":
        return nn.ModuleDict({"a": nn.Linear(3, 4), "b": nn.ReLU()})
    return cls(**kwargs)


def inputs(name, seed=1):
    return [cr.tensor(a) for a in TABLE[name][1](np.random.default_rng(seed))]


def run(model, xs):
    with cr.no_grad():
        return model(*xs).numpy()


def test_every_registered_module_is_covered():
    missing = sorted(set(registry.names("module")) - set(TABLE))
    assert not missing, f"registered modules without a conformance entry: {missing}"


NAMES = sorted(TABLE)


@pytest.mark.parametrize("name", NAMES)
def test_config_rebuild_and_state_dict_round_trip(name):
    if name not in registry.names("module"):
        pytest.fail(f"{name} is in the conformance table but not registered")
    model = build(name).eval()
    config = model.get_config()
    assert json.loads(json.dumps(config)) == config, "get_config must be plain JSON data"
    rebuilt = type(model).from_config(config)
    if model._container:
        for k, c in model.named_children():
            rebuilt.add_module(k, type(c).from_config(c.get_config()))
    assert rebuilt.get_config() == config
    rebuilt.load_state_dict(model.state_dict())
    rebuilt.eval()
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(rebuilt.state_dict()[k], v)
    if TABLE[name][1] is not None:
        xs = inputs(name)
        np.testing.assert_allclose(run(rebuilt, xs), run(model, xs), rtol=0, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_model_file_round_trip(name, tmp_path):
    model = build(name).eval()
    path = tmp_path / "m.crm"
    cr.save(model, path)
    loaded = cr.load(path)
    assert type(loaded) is type(model)
    assert repr(loaded) == repr(model)
    assert not loaded.training
    if TABLE[name][1] is not None:
        xs = inputs(name)
        np.testing.assert_array_equal(run(loaded, xs), run(model, xs))


@pytest.mark.parametrize("name", NAMES)
def test_repr_is_readable(name):
    model = build(name)
    text = repr(model)
    assert text.startswith(type(model).__name__ + "(")
    if not model._container:
        for k in model.get_config():
            assert f"{k}=" in text, f"{text!r} does not show {k}"


@pytest.mark.parametrize("name", NAMES)
def test_seeded_construction_is_deterministic(name):
    a, b = build(name, seed=3), build(name, seed=3)
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for k in sa:
        np.testing.assert_array_equal(sa[k], sb[k])
    if TABLE[name][1] is not None and name != "dropout":
        xs = inputs(name)
        np.testing.assert_array_equal(run(a.train(), xs), run(b.train(), xs))


def _torch_kwargs(name, kwargs):
    out = dict(kwargs)
    if name == "layer_norm":
        out["normalized_shape"] = tuple(out["normalized_shape"])
    return out


# dropout in train mode draws random masks, which no two libraries share: tests/nn/test_basic_layers.py
# checks it statistically
PARITY = [(n, m) for n in NAMES if TABLE[n][2] is not None for m in ("train", "eval") if (n, m) != ("dropout", "train")]


LOSSES = {"mse": "mse_loss", "l1": "l1_loss", "huber": "huber_loss", "bce": "binary_cross_entropy",
          "bce_with_logits": "binary_cross_entropy_with_logits", "cross_entropy": "cross_entropy", "nll": "nll_loss"}


def _magnitudes(name, tmodel, arrays, g):
    """(magnitude of the output, of the input's gradient, {parameter: of its gradient}, {buffer: of its value})
    of the torch module ``tmodel`` (before its forward) on ``arrays`` for the upstream gradient ``g``."""
    if name in LOSSES:
        mag, grads = tol.loss_magnitudes(LOSSES[name], arrays, TABLE[name][0], g)
        return mag, grads[0], {}, {}
    x = arrays[0]
    if name.startswith("batch_norm"):
        axes = (0, *range(2, x.ndim))
        stats = None if tmodel.training else (tmodel.running_mean.numpy(), tmodel.running_var.numpy())
        rule = tol.normalization(axes, channel_axis=1, stats=stats, eps=tmodel.eps)
        # after a training step, running = (1 - m) running + m statistic: the terms of each
        m = tmodel.momentum if tmodel.training else 0.0
        var_terms, _ = tol.variance_terms(x, axis=axes, ddof=1)
        state = {"running_mean": (1 - m) * np.abs(tmodel.running_mean.numpy()) + m * np.abs(x).mean(axis=axes),
                 "running_var": (1 - m) * np.abs(tmodel.running_var.numpy()) + m * var_terms}
    elif name == "layer_norm":
        rule, state = tol.normalization((x.ndim - 1,), eps=tmodel.eps), {}
    else:
        rule, state = RULES[name], {}
    floats = [a for a in arrays if a.dtype.kind == "f"]
    mag, grads, param_mags = tol.module_magnitudes(rule, tmodel, floats, g, [a for a in arrays if a.dtype.kind != "f"])
    return mag, (grads[0] if grads else None), param_mags, state


@pytest.mark.parametrize("name,mode", PARITY)
def test_pytorch_parity(name, mode):
    kwargs, make, tcls = TABLE[name]
    model = build(name)
    tmodel = tcls(**_torch_kwargs(name, kwargs))
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    getattr(model, mode)()
    getattr(tmodel, mode)()
    arrays = make(np.random.default_rng(1))
    xs = [cr.tensor(a, requires_grad=a.dtype.kind == "f" and i == 0) for i, a in enumerate(arrays)]
    ts = [torch.tensor(a, requires_grad=a.dtype.kind == "f" and i == 0) for i, a in enumerate(arrays)]
    before = copy.deepcopy(tmodel)  # the running statistics the forward starts from
    out, tout = model(*xs), tmodel(*ts)
    g = np.random.default_rng(2).standard_normal(out.shape).astype(np.float32)
    mag, x_mag, param_mags, state_mags = _magnitudes(name, before, arrays, g)
    tol.assert_close(out.numpy(), tout, mag, "forward")
    out.backward(g)
    tout.backward(torch.tensor(g))
    if xs[0].requires_grad:
        tol.assert_close(xs[0].grad.numpy(), ts[0].grad, x_mag, "input gradient")
    tparams = dict(tmodel.named_parameters())
    for k, p in model.named_parameters():
        tol.assert_close(p.grad.numpy(), tparams[k].grad, param_mags[k], f"gradient of {k}")
    tstate = tmodel.state_dict()
    for k, v in model.state_dict().items():  # running statistics after a training step; parameters unchanged
        tol.assert_close(v, tstate[k], state_mags.get(k, 0), k)
