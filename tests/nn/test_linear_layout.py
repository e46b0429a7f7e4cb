"""nn.Linear stores its weight column-major (for speed, see ops.nn.Linear); nothing a user sees changes.

The weight keeps PyTorch's shape (out, in), values, initialisation, state dict and files; its gradient
and the optimisers' state for it share its memory order, through training, loads and saves.
"""


import numpy as np
import pytest
import tolerance as T
import torch
from safetensors.numpy import load_file

import chainrule as cr
import chainrule.functional as F
from chainrule import nn, optim
from chainrule.autograd import gradcheck


def column_major(a):
    return a.flags.f_contiguous and not a.flags.c_contiguous


def _data(n=16, features=300, seed=0):
    r = np.random.default_rng(seed)
    return r.standard_normal((n, features)).astype(np.float32), r.integers(0, 3, n)


@pytest.mark.parametrize("hidden", [4, 400])  # small layers: flat optimiser buffers; large: one by one
def test_training_keeps_the_layout_and_matches_pytorch(hidden):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(300, hidden), nn.ReLU(), nn.Linear(hidden, 3))
    assert all(column_major(m.weight.numpy()) for m in (model[0], model[2]))
    assert model[0].weight.shape == (hidden, 300)
    tmodel = torch.nn.Sequential(torch.nn.Linear(300, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 3))
    tmodel.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9)
    X, y = _data()
    # the magnitudes (tests/tolerance.py) of what the parameters sum over the steps: each step's gradient is a
    # product of the layers' absolute values (the ReLU left out: |relu(z)| <= |z|) with the magnitude of the
    # logits' gradient, the loss's terms plus the error the logits carry in (p times their magnitude / N);
    # SGD adds lr times the momentum buffer, which adds the gradients
    bounding = torch.nn.Sequential(torch.nn.Linear(300, hidden), torch.nn.Identity(), torch.nn.Linear(hidden, 3))
    params = {k: np.abs(v.detach().numpy()).astype(np.float64) for k, v in tmodel.named_parameters()}
    buffers = dict.fromkeys(params, 0.0)
    for step in range(3):
        xb, yb = X[5 * step : 5 * step + 8], y[5 * step : 5 * step + 8]
        bounding.load_state_dict(tmodel.state_dict())
        z_mag, _, _ = T.module_magnitudes(T.linear, bounding, [xb], None)
        z = tmodel(torch.tensor(xb)).detach().numpy()
        _, (gz_mag, _) = T.cross_entropy_terms(z, yb, 1.0)
        gz_mag = gz_mag + torch.softmax(torch.tensor(z, dtype=torch.float64), 1).numpy() * z_mag / len(xb)
        _, _, g_mags = T.module_magnitudes(T.linear, bounding, [xb], gz_mag)
        for k in params:
            buffers[k] = 0.9 * buffers[k] + g_mags[k]
            params[k] = params[k] + 0.1 * buffers[k]
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(cr.tensor(xb)), cr.tensor(yb)).backward()
        assert column_major(model[0].weight.grad.numpy())
        opt.step()
        topt.zero_grad()
        torch.nn.CrossEntropyLoss()(tmodel(torch.tensor(xb)), torch.tensor(yb)).backward()
        topt.step()
    assert (0 in opt._flat and opt._flat[0] is not False) == (hidden == 4)  # both paths are exercised
    for m in (model[0], model[2]):
        assert column_major(m.weight.numpy())
        assert column_major(opt.state[m.weight]["momentum_buffer"])
    for k, v in model.state_dict().items():
        T.assert_close(v, tmodel.state_dict()[k], params[k], k)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,out", [((5, 7), 4), ((2, 3, 7), 4), ((3, 300), 8), ((7,), 2)])
def test_linear_gives_the_same_with_either_weight_order(dtype, shape, out):
    r = np.random.default_rng(1)
    x, w, b = (r.standard_normal(s).astype(dtype) for s in (shape, (out, shape[-1]), (out,)))
    upstream = r.standard_normal(shape[:-1] + (out,)).astype(dtype)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    want = torch.nn.functional.linear(tx, tw, tb)
    (want * torch.tensor(upstream)).sum().backward()
    (mag,), grad_mags = T.linear(torch.nn.functional.linear, [x, w, b], [upstream])  # |x| @ |w|.T + |b|, ...
    for order in ("C", "F"):
        cx, cb = (cr.tensor(a, dtype=dtype, requires_grad=True) for a in (x, b))
        cw = cr.tensor(np.array(w, order=order), dtype=dtype, requires_grad=True)
        assert column_major(cw.numpy()) == (order == "F")
        got = F.linear(cx, cw, cb)
        T.assert_close(got.numpy(), want, mag, f"forward, weight in {order} order")
        (got * cr.tensor(upstream, dtype=dtype)).sum().backward()
        assert cw.grad.dtype == dtype and column_major(cw.grad.numpy()) == (order == "F")
        for name, c, t, m in zip("xwb", (cx, cw, cb), (tx, tw, tb), grad_mags):
            T.assert_close(c.grad.numpy(), t.grad, m, f"gradient of {name}, weight in {order} order")


def test_loads_and_saves_keep_the_values_and_the_layout(tmp_path):
    model = nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 2))
    r = np.random.default_rng(2)
    state = {k: r.standard_normal(v.shape).astype(np.float32) for k, v in model.state_dict().items()}  # C order
    model.load_state_dict(state)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, state[k])
    assert column_major(model[0].weight.numpy())

    path = tmp_path / "m.crm"
    cr.save(model, path)
    for k, v in load_file(path).items():  # the file holds the values in PyTorch's (row-major) order
        np.testing.assert_array_equal(v, state[k])
    loaded = cr.load(path)
    assert column_major(loaded[0].weight.numpy())
    x = cr.tensor(r.standard_normal((3, 6)).astype(np.float32))
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_optimizer_state_loads_in_the_parameters_order():
    layer = nn.Linear(300, 100)
    opt = optim.Adam(layer.parameters(), lr=0.01)
    layer(cr.tensor(_data()[0])).sum().backward()
    opt.step()
    saved = opt.state_dict()
    assert not column_major(saved["state"][0]["exp_avg"])  # state dicts hold plain C-order copies
    fresh = optim.Adam(layer.parameters(), lr=0.01)
    fresh.load_state_dict(saved)
    for k in ("exp_avg", "exp_avg_sq"):
        assert column_major(fresh.state[layer.weight][k])
        np.testing.assert_array_equal(fresh.state[layer.weight][k], opt.state[layer.weight][k])


def test_a_gradient_that_arrives_as_a_view_is_copied_in_its_leafs_order():
    w = nn.Parameter(np.asfortranarray(np.ones((3, 4), np.float32)))
    (w.T * 2.0).sum().backward()  # the transpose's backward hands back a view
    assert column_major(w.grad.numpy())
    np.testing.assert_array_equal(w.grad.numpy(), 2.0)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
def test_linear_gradcheck_with_a_column_major_weight(shape):
    r = np.random.default_rng(3)
    x = cr.tensor(r.standard_normal(shape), dtype=np.float64, requires_grad=True)
    w = cr.tensor(np.asfortranarray(r.standard_normal((3, 5))), dtype=np.float64, requires_grad=True)
    b = cr.tensor(r.standard_normal(3), dtype=np.float64, requires_grad=True)
    assert column_major(w.numpy())
    assert gradcheck(F.linear, (x, w, b))


def _on_a_cache_line(a):
    return a.__array_interface__["data"][0] % 64 == 0


@pytest.mark.parametrize("name,kwargs", [("SGD", {"momentum": 0.9}), ("Adam", {}), ("RMSprop", {"centered": True}),
                                         ("Adagrad", {})])
@pytest.mark.parametrize("hidden", [4, 20000])  # flat optimiser buffers, and parameters one by one
def test_weights_and_optimiser_state_start_on_a_cache_line(name, kwargs, hidden):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, hidden), nn.ReLU(), nn.Linear(hidden, 2))
    assert _on_a_cache_line(model[0].weight.numpy()) and _on_a_cache_line(model[2].weight.numpy())
    opt = getattr(optim, name)(model.parameters(), lr=0.01, **kwargs)
    model(cr.tensor(np.ones((3, 1, 4, 4), np.float32))).sum().backward()
    opt.step()
    for p in (model[0].weight, model[2].weight, model[4].weight):
        assert _on_a_cache_line(p.numpy()) or hidden == 4  # small groups share one flat buffer, which is aligned
        for v in opt.state[p].values():
            if isinstance(v, np.ndarray):
                assert v.shape == p.shape and (hidden == 4 or _on_a_cache_line(v))
    if hidden == 4:
        flat = opt._flat[0]
        assert all(_on_a_cache_line(a) for a in [flat.param, flat.grad, *(v for v, _ in flat.shared.values())])
    fresh = getattr(optim, name)(model.parameters(), lr=0.01, **kwargs)
    fresh.load_state_dict(opt.state_dict())
    for s in fresh.state.values():
        assert all(_on_a_cache_line(v) for v in s.values() if isinstance(v, np.ndarray))


def test_aligned_arrays_behave_as_numpy_s():
    from chainrule.backend import empty_aligned

    for shape, order in [((3,), "C"), ((5, 7), "F"), ((2, 3, 4), "C"), ((0, 3), "C")]:
        a = empty_aligned(shape, np.float64, order)
        assert a.shape == shape and a.dtype == np.float64 and (a.size == 0 or _on_a_cache_line(a))
        assert a.flags.f_contiguous if order == "F" else a.flags.c_contiguous
    with pytest.raises(ValueError, match="negative dimensions"):
        empty_aligned((2, -1))


# ---- a row's output does not depend on its batch ------------------------------------------------------------------

BATCHES = [1, 2, 5, 32, 64, 65, 200]  # both sides of 64, where the forward once switched to W @ x.T


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("batch", BATCHES)
def test_linear_is_one_product_for_every_batch(batch, order):
    """chainrule makes no choice of its own that depends on the batch: the forward is the BLAS's x @ W.T + b,
    bit for bit, whatever the batch size and the weight's order, with or without grad."""
    r = np.random.default_rng(batch)
    x = r.standard_normal((batch, 300)).astype(np.float32)
    w = np.array(r.standard_normal((400, 300)), np.float32, order=order)
    b = r.standard_normal(400).astype(np.float32)
    want = x @ w.T + b
    np.testing.assert_array_equal(F.linear(cr.tensor(x, requires_grad=True), cr.tensor(w), cr.tensor(b)).numpy(), want)
    with cr.no_grad():
        np.testing.assert_array_equal(F.linear(cr.tensor(x), cr.tensor(w), cr.tensor(b)).numpy(), want)


def _mlp():
    cr.manual_seed(4)
    return nn.Sequential(nn.Linear(300, 400), nn.ReLU(), nn.Linear(400, 3))


@pytest.mark.parametrize("grad", [False, True], ids=["inference", "with_grad"])
@pytest.mark.parametrize("batch", BATCHES)
def test_an_mlp_row_gives_the_same_output_alone_and_in_its_batch(batch, grad):
    """Row i of an MLP's output on a batch, on that row alone and on slices of the batch, agree within the bound
    of the products summed (tests/tolerance.py: the network on absolute values, the ReLU left out). The BLAS
    sums a single row (GEMV) and small batches with other kernels than a large one, so bit for bit holds only
    per call (above); what is proven, and checked, is that no row moves by more than a rounding."""
    model = _mlp()
    x = np.random.default_rng(batch + 100).standard_normal((batch, 300)).astype(np.float32)

    def run(rows):
        t = cr.tensor(rows, requires_grad=grad)
        if grad:
            return model(t).numpy()
        with cr.no_grad():
            return model(t).numpy()

    full = run(x)
    bounding = torch.nn.Sequential(torch.nn.Linear(300, 400), torch.nn.Identity(), torch.nn.Linear(400, 3))
    bounding.load_state_dict({k: torch.tensor(v) for k, v in model.state_dict().items()})
    mag, _, _ = T.module_magnitudes(T.linear, bounding, [x], None)
    for i in sorted({0, batch // 2, batch - 1}):
        T.assert_close(run(x[i : i + 1]), full[i : i + 1], mag[i : i + 1], f"row {i} alone")
    for start, stop in [(0, (batch + 1) // 2), ((batch + 1) // 2, batch), (1, batch)]:
        if stop > start:
            T.assert_close(run(x[start:stop]), full[start:stop], mag[start:stop], f"rows {start}:{stop}")
