"""Every fused primitive equals the unfused composition of primitives it replaces, and PyTorch.

A fused op (one node with its own backward, kept for speed or stability) must compute the same
function as the composite it stands for: its result and its gradients are compared with a
composition of chainrule primitives and with PyTorch, on random inputs, in float32 and float64,
within C * eps of the magnitude of what each element sums (``tests/tolerance.py``).
The flat (fused) optimiser update is compared with the update parameter by parameter.
"""


import numpy as np
import pytest
import tolerance as T
import torch
import torch.nn.functional as TF

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim

DTYPES = [np.float32, np.float64]


def _run(fn, arrays, upstream):
    """fn's result and the gradients of sum(result * upstream) with respect to every input."""
    xs = [cr.tensor(a, dtype=a.dtype, requires_grad=True) for a in arrays]
    out = fn(*xs)
    (out * cr.tensor(upstream, dtype=upstream.dtype)).sum().backward()
    return out.numpy(), [x.grad.numpy() for x in xs]


def _torch(fn, arrays, upstream):
    xs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*xs)
    (out * torch.tensor(upstream)).sum().backward()
    return out.detach().numpy(), [x.grad.numpy() for x in xs]


def _check(fused, composite, reference, arrays, dtype, rule=T.linear, seed=0):
    """The fused op against the composite and torch's ``reference``; ``rule`` gives the magnitudes (from
    ``reference``, or from the terms of the op's formula)."""
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    probe = fused(*[cr.tensor(a, dtype=dtype) for a in arrays])
    upstream = np.random.default_rng(seed).standard_normal(probe.shape).astype(dtype)
    got, got_grads = _run(fused, arrays, upstream)
    want, want_grads = _run(composite, arrays, upstream)
    ref, ref_grads = _torch(reference, arrays, upstream)
    (mag,), grad_mags = rule(reference, arrays, [upstream])
    assert got.dtype == dtype
    T.assert_close(got, want, mag, "forward vs composite")
    T.assert_close(got, ref, mag, "forward vs torch")
    for i, (g, w, r, m) in enumerate(zip(got_grads, want_grads, ref_grads, grad_mags)):
        assert g.dtype == dtype
        T.assert_close(g, w, m, f"gradient {i} vs composite")
        T.assert_close(g, r, m, f"gradient {i} vs torch")


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---- layers and activations --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,out", [((5, 7), 4), ((2, 3, 7), 4), ((3, 300), 8)])  # the last: W @ x.T
def test_linear_equals_matmul_plus_bias(dtype, shape, out):
    r = _rng()
    x, w, b = r.standard_normal(shape), r.standard_normal((out, shape[-1])), r.standard_normal(out)
    _check(F.linear, lambda x, w, b: x @ w.T + b, TF.linear, [x, w, b], dtype)
    _check(lambda x, w: F.linear(x, w), lambda x, w: x @ w.T, lambda x, w: TF.linear(x, w),
           [x, w], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_activations_from_saved_outputs_equal_their_definitions(dtype):
    x = _rng().standard_normal((4, 6)) * 3
    x[x == 0] = 0.5
    _check(cr.relu, lambda x: cr.where(x > 0, x, 0.0), torch.relu, [x], dtype, T.elementwise)
    _check(cr.sigmoid, lambda x: 1.0 / (1.0 + cr.exp(-x)), torch.sigmoid, [x], dtype, T.elementwise)
    _check(cr.tanh, lambda x: 1.0 - 2.0 / (cr.exp(2.0 * x) + 1.0), torch.tanh, [x], dtype, T.elementwise)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_log_softmax_equal_their_compositions(dtype, axis):
    x = _rng(1).standard_normal((3, 5)) * 4

    def softmax(x):
        e = cr.exp(x - x.amax(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def log_softmax(x):
        shifted = x - x.amax(axis=axis, keepdims=True)
        return shifted - cr.log(cr.exp(shifted).sum(axis=axis, keepdims=True))

    _check(lambda x: cr.softmax(x, axis=axis), softmax, lambda x: torch.softmax(x, axis), [x], dtype,
           T.from_terms(T.softmax_terms, axis=axis))
    _check(lambda x: cr.log_softmax(x, axis=axis), log_softmax, lambda x: torch.log_softmax(x, axis), [x], dtype,
           T.from_terms(T.log_softmax_terms, axis=axis))


# ---- losses -------------------------------------------------------------------------------------------


def _picked(logp, y):
    return logp[np.arange(len(y)), y]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_equals_log_softmax_and_pick(dtype, reduction):
    r = _rng(2)
    x, y = r.standard_normal((6, 4)) * 3, r.integers(0, 4, 6)
    reduce = {"mean": lambda v: v.mean(), "sum": lambda v: v.sum(), "none": lambda v: v}[reduction]
    _check(
        lambda x: F.cross_entropy(x, y, reduction=reduction),
        lambda x: reduce(-_picked(cr.log_softmax(x, axis=1), y)),
        lambda x: TF.cross_entropy(x, torch.tensor(y), reduction=reduction),
        [x],
        dtype,
        T.from_terms(lambda x, g: _first_gradient(T.cross_entropy_terms(x, y, g, reduction=reduction))),
    )


def _first_gradient(terms):
    """(magnitude, [of the input's gradient, of the target's]) -> (magnitude, of the input's gradient)."""
    fwd, grads = terms
    return fwd, grads[0] if grads else None


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_plain_path_equals_the_general_path(dtype, reduction):
    # targets all valid, no weights, no smoothing take a shorter path; weights of one (or an ignore_index
    # that no target has, inside the class range) take the general one: the results must be the same
    r = _rng(3)
    x, y = r.standard_normal((7, 5)).astype(dtype), r.integers(0, 4, 7)
    upstream = r.standard_normal(7 if reduction == "none" else ()).astype(dtype)
    plain = _run(lambda x: F.cross_entropy(x, y, reduction=reduction), [x], upstream)
    for kwargs in ({"weight": np.ones(5, dtype)}, {"ignore_index": 4}):
        general = _run(lambda x, kw=kwargs: F.cross_entropy(x, y, reduction=reduction, **kw), [x], upstream)
        # the same arithmetic in the same order: equal
        np.testing.assert_array_equal(plain[0], general[0])
        np.testing.assert_array_equal(plain[1][0], general[1][0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_nll_loss_equals_pick(dtype):
    r = _rng(4)
    x, y = r.standard_normal((6, 3)), r.integers(0, 3, 6)
    _check(lambda x: F.nll_loss(x, y), lambda x: (-_picked(x, y)).mean(),
           lambda x: TF.nll_loss(x, torch.tensor(y)), [x], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits_equals_its_definition(dtype):
    r = _rng(5)
    x, t = r.standard_normal((5, 3)) * 2, r.random((5, 3))

    def composite(x):
        s = cr.sigmoid(x)
        return (-(cr.tensor(t, dtype=dtype) * cr.log(s) + cr.tensor(1 - t, dtype=dtype) * cr.log(1 - s))).mean()

    _check(lambda x: F.binary_cross_entropy_with_logits(x, t.astype(dtype)), composite,
           lambda x: TF.binary_cross_entropy_with_logits(x, torch.tensor(t.astype(dtype))), [x], dtype,
           T.reduced(lambda x: TF.binary_cross_entropy_with_logits(x, torch.tensor(t), reduction="none"), "mean"))


# ---- the fused optimiser update ---------------------------------------------------------------------

OPTIMISERS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "maximize": True}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "initial_accumulator_value": 0.1}),
]
SHAPES = [(4, 3), (4,), (2, 4), (2,), (1, 2, 3)]


def _params(dtype=np.float32, column_major=False):
    """Small parameters; with ``column_major`` the matrices are stored column-major (as nn.Linear's weights)."""
    r = _rng(6)
    order = "F" if column_major else "C"
    return [nn.Parameter(np.array(r.standard_normal(s), dtype=dtype, order=order)) for s in SHAPES]


def _loss(ps):
    return sum(((p * p).sum() * (0.1 * (i + 1)) + p.sum()) for i, p in enumerate(ps))


@pytest.mark.parametrize("column_major", [False, True])
@pytest.mark.parametrize("name,kwargs", OPTIMISERS)
def test_flat_update_equals_the_update_parameter_by_parameter_and_pytorch(name, kwargs, column_major):
    runs = {}
    for fused in (True, False):
        ps = _params(column_major=column_major)
        orders = [p.numpy().flags.f_contiguous for p in ps]
        opt = getattr(optim, name)(ps, **kwargs)
        opt.fused = fused
        for _ in range(4):
            opt.zero_grad()
            _loss(ps).backward()
            opt.step()
        assert [p.numpy().flags.f_contiguous for p in ps] == orders  # the flat buffers keep each memory order
        runs[fused] = ([p.numpy().copy() for p in ps], opt.state_dict())
    for a, b in zip(runs[True][0], runs[False][0]):
        np.testing.assert_array_equal(a, b)  # the same arithmetic, element by element
    for i, state in runs[False][1]["state"].items():
        for k, v in state.items():
            np.testing.assert_array_equal(runs[True][1]["state"][i][k], v)

    tps = [torch.nn.Parameter(torch.tensor(p.numpy())) for p in _params()]
    topt = getattr(torch.optim, name)(tps, **kwargs)
    for _ in range(4):
        topt.zero_grad()
        _loss(tps).backward()
        topt.step()
    for a, t in zip(runs[True][0], tps):
        np.testing.assert_allclose(a, t.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_flat_update_skips_parameters_without_gradients_as_pytorch():
    ps, tps = _params(), [torch.nn.Parameter(torch.tensor(p.numpy())) for p in _params()]
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tps, lr=0.1, momentum=0.9)
    for step in range(5):
        used = slice(None) if step % 2 == 0 else slice(0, 3)  # every other step two parameters get no gradient
        for o, params, loss in ((opt, ps, _loss), (topt, tps, _loss)):
            o.zero_grad()
            loss(params[used]).backward()
            o.step()
    for p, t in zip(ps, tps):
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_flat_update_survives_state_and_parameter_loads():
    # a run saved and restored mid-way (parameters loaded in place, optimiser state replaced) ends as one
    # that never stopped
    def run(interrupt):
        ps = _params()
        opt = optim.Adam(ps, lr=0.01)
        for step in range(6):
            if interrupt and step == 3:
                saved_params = [p.numpy().copy() for p in ps]
                saved_state = opt.state_dict()
                ps = _params()
                opt = optim.Adam(ps, lr=0.01)
                opt.step()  # a step without gradients: nothing changes
                for p, a in zip(ps, saved_params):
                    p.numpy()[...] = a
                opt.load_state_dict(saved_state)
            opt.zero_grad()
            _loss(ps).backward()
            opt.step()
        return [p.numpy().copy() for p in ps]

    for a, b in zip(run(False), run(True)):
        np.testing.assert_array_equal(a, b)


def test_flat_update_follows_a_parameter_rebound_by_the_user():
    ps = _params()
    opt = optim.SGD(ps, lr=0.1, momentum=0.9)
    _loss(ps).backward()
    opt.step()
    fresh = np.zeros(SHAPES[0], np.float32)
    ps[0].data = fresh  # no longer a view of the optimiser's buffer
    opt.zero_grad()
    _loss(ps).backward()
    opt.step()
    assert np.all(ps[0].numpy() != 0)  # the update reached the parameter's new values
    assert ps[0].numpy() is fresh  # in the user's own array: the optimiser never rebinds .numpy()


def test_large_parameters_are_updated_one_by_one():
    # groups of large parameters are bound by memory traffic: they keep their own arrays
    ps = [nn.Parameter(np.ones((200, 200), np.float32)), nn.Parameter(np.ones(200, np.float32))]
    arrays = [p.numpy() for p in ps]
    opt = optim.SGD(ps, lr=0.1)
    (ps[0].sum() + ps[1].sum()).backward()
    opt.step()
    assert all(p.numpy() is a for p, a in zip(ps, arrays))
    np.testing.assert_allclose(ps[0].numpy(), 0.9)


def test_flat_update_follows_a_parameter_added_to_the_group():
    ps = _params()
    opt = optim.SGD(ps[:3], lr=0.1, momentum=0.9)
    _loss(ps).backward()
    opt.step()
    opt.param_groups[0]["params"].append(ps[3])  # as PyTorch allows: the group's list changed in place
    before = ps[3].numpy().copy()
    opt.step()
    np.testing.assert_allclose(ps[3].numpy(), before - 0.1 * ps[3].grad.numpy())
