"""Tensor semantics where PyTorch and NumPy differ follow PyTorch (torch is the oracle here), with NumPy's
spellings kept as aliases where they do not conflict; creation functions, dtype aliases and devices."""

import math

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.functional as F
from chainrule.errors import ArgumentError, ArgumentTypeError, DeviceError, ShapeError

A = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)


def both(fn):
    out, tout = fn(cr, cr.tensor(A)), fn(torch, torch.tensor(A))
    return out, tout


REDUCTIONS = [
    lambda m, x: x.sum(dim=1, keepdim=True),
    lambda m, x: x.mean(1),
    lambda m, x: m.sum(x, dim=(0, 2)),
    lambda m, x: m.mean(x, -1, True),
    lambda m, x: x.amax(dim=(1, 2)),
    lambda m, x: x.logsumexp(dim=2),
    lambda m, x: m.softmax(x, dim=1),
    lambda m, x: x.log_softmax(dim=-1),
    lambda m, x: x.argmax(dim=1, keepdim=True),
    lambda m, x: m.argmin(x, 2),
    lambda m, x: x.argmax(),
    lambda m, x: x.var(1),
    lambda m, x: x.std(dim=2, keepdim=True),
    lambda m, x: x.var(unbiased=False),
    lambda m, x: m.std(x, 0, correction=0),
    lambda m, x: m.cat([x, x], 1),
    lambda m, x: m.cat((x, x), dim=-1),
    lambda m, x: m.stack([x, x], dim=1),
    lambda m, x: x.squeeze(dim=0).unsqueeze(dim=1),
    lambda m, x: x.transpose(0, 2),
    lambda m, x: x.transpose(1, -1),
    lambda m, x: m.transpose(x, 0, 1),
    lambda m, x: x.view(-1, 5),
    lambda m, x: x.flatten(1),
    lambda m, x: m.flatten(x, 1),
    lambda m, x: x.split(2, dim=1)[1],
    lambda m, x: m.unbind(x, 1)[2],
    lambda m, x: x.permute(2, 0, 1),
    lambda m, x: x.any(dim=1),
    lambda m, x: (x > 0).all(dim=2, keepdim=True),
    lambda m, x: x.expand_as(m.zeros(2, 3, 4, 5)),
    lambda m, x: m.nn.functional.pad(x, (1, 2)),
    lambda m, x: m.nn.functional.pad(x, (1, 0, 0, 2), value=-1.0),
]


@pytest.mark.parametrize("fn", REDUCTIONS, ids=range(len(REDUCTIONS)))
def test_dim_and_keepdim_mean_what_they_mean_in_torch(fn):
    import chainrule.nn.functional  # noqa: F401 - cr.nn.functional for the pad cases

    out, tout = both(fn)
    assert out.shape == tuple(tout.shape) and out.dtype == np.dtype(str(tout.dtype).replace("torch.", ""))
    # the bound of a float32 reduction of 60 terms of size ~3 (tests/tolerance.py's rule, loosely)
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=0, atol=8 * 60 * 3 * 6e-8)


def test_numpy_spellings_are_aliases_and_both_at_once_is_an_error():
    x = cr.tensor(A)
    np.testing.assert_array_equal(x.sum(axis=1, keepdims=True).numpy(), x.sum(dim=1, keepdim=True).numpy())
    np.testing.assert_array_equal(cr.cat([x, x], axis=0).numpy(), cr.cat([x, x], 0).numpy())
    with pytest.raises(ArgumentTypeError, match="sum: got both dim=1 and its alias axis=2"):
        x.sum(1, axis=2)
    with pytest.raises(ArgumentTypeError, match="keepdim and its alias keepdims"):
        x.mean(1, keepdim=True, keepdims=True)


def test_size_numel_and_dim():
    x = cr.zeros(2, 3)
    assert x.size() == (2, 3) and x.size(0) == 2 and x.size(-1) == 3 and x.numel() == 6 and x.dim() == 2
    assert cr.numel(x) == 6
    with pytest.raises(ShapeError, match=r"size: dimension 2 is out of range for a tensor of shape \(2, 3\)"):
        x.size(2)


def test_max_and_min_with_dim_return_values_and_indices():
    x, t = cr.tensor(A[0]), torch.tensor(A[0])
    for fn in (lambda m, v: v.max(1), lambda m, v: m.max(v, 1), lambda m, v: v.min(dim=0, keepdim=True),
               lambda m, v: m.min(v, dim=-1)):
        r, tr = fn(cr, x), fn(torch, t)
        np.testing.assert_array_equal(r.values.numpy(), tr.values.numpy())
        np.testing.assert_array_equal(r.indices.numpy(), tr.indices.numpy())
        np.testing.assert_array_equal(r[1].numpy(), tr[1].numpy())
        assert r.indices.dtype == cr.int64
    _, pred = cr.max(x, 1)
    np.testing.assert_array_equal(pred.numpy(), t.max(1)[1].numpy())
    assert x.max().item() == t.max().item()  # no dim: the value
    np.testing.assert_array_equal(cr.max(x, cr.zeros(4, 5)).numpy(), torch.max(t, torch.zeros(4, 5)).numpy())


def test_a_zero_d_tensor_formats_as_its_number():
    w = cr.tensor(1.23456)
    assert f"{w:+.2f}" == "+1.23" and format(w, ".3f") == "1.235" and f"{w}" == format(w.item(), "")
    with pytest.raises(ArgumentTypeError, match="needs a 0-d tensor"):
        f"{cr.zeros(2):.2f}"


def test_dtype_aliases_and_conversions():
    assert (cr.float, cr.double, cr.half, cr.long, cr.int, cr.short, cr.bool) == (
        np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.bool_)
    x = cr.tensor([1.5, -2.0])
    assert x.double().dtype == cr.float64 and x.half().dtype == cr.float16 and x.long().dtype == cr.int64
    assert x.int().dtype == cr.int32 and x.bool().dtype == cr.bool and x.float() is x
    assert x.type_as(cr.zeros(1, dtype=cr.double)).dtype == cr.double
    assert x.to(cr.double).dtype == cr.double and x.to("float64").dtype == cr.double
    assert x.to("cpu") is x and x.to(cr.device("cpu"), cr.double).dtype == cr.double
    assert x.to(cr.zeros(1, dtype=cr.half)).dtype == cr.half
    c = x.to(copy=True)
    assert c is not x and c.numpy() is not x.numpy()
    assert cr.get_default_dtype() == cr.float32


CREATION = [
    (lambda m: m.linspace(-math.pi, math.pi, 7), 1e-6),
    (lambda m: m.linspace(0, 1, 5, dtype=m.float64), 0),
    (lambda m: m.logspace(0, 2, 3), 1e-4),
    (lambda m: m.arange(5), 0),
    (lambda m: m.arange(0, 1, 0.25), 0),
    (lambda m: m.full((2, 2), 3), 0),
    (lambda m: m.full((2,), 1.5), 0),
    (lambda m: m.full_like(m.zeros(2, dtype=m.int64), 7), 0),
    (lambda m: m.zeros_like(m.ones(2, 3)), 0),
    (lambda m: m.ones_like(m.ones(2, 3), dtype=m.float64), 0),
    (lambda m: m.empty(2, 3).shape, None),
    (lambda m: m.empty_like(m.ones(4)).shape, None),
    (lambda m: m.rand_like(m.ones(4, 2)).shape, None),
    (lambda m: m.randn_like(m.ones(4, 2, dtype=m.float64)).dtype, None),
    (lambda m: m.randperm(6).sort().values, 0),
    (lambda m: m.randint(0, 3, (4,)).dtype, None),
    (lambda m: m.randint(3, (4,)).shape, None),
    (lambda m: m.eye(3), 0),
    (lambda m: m.tensor([1, 2], dtype=m.float, device="cpu", requires_grad=True).requires_grad, None),
    (lambda m: m.zeros(2, 3, device="cpu", dtype=m.float64), 0),
    (lambda m: m.randn(2, 3, device=m.device("cpu")).shape, None),
]


@pytest.mark.parametrize("fn,tol", CREATION, ids=range(len(CREATION)))
def test_creation_functions_match_torch(fn, tol):
    out, tout = fn(cr), fn(torch)
    if tol is None:
        assert str(out).replace("torch.", "") == str(tout).replace("torch.", "") or tuple(out) == tuple(tout)
        return
    assert out.shape == tuple(tout.shape) and str(out.dtype) == str(tout.dtype).replace("torch.", "")
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=tol)


def test_from_numpy_and_as_tensor_share_memory_and_keep_the_dtype():
    a = np.arange(4.0)
    t = cr.from_numpy(a)
    assert t.dtype == cr.float64 and t.numpy() is a
    t.add_(1)
    assert a[0] == 1.0
    assert cr.as_tensor(a).numpy() is a and cr.as_tensor(a, dtype=cr.float32).dtype == cr.float32
    assert cr.as_tensor(t) is t and cr.as_tensor([1, 2]).dtype == cr.int64
    with pytest.raises(ArgumentTypeError, match="from_numpy: expected a numpy.ndarray, got list"):
        cr.from_numpy([1.0])


def test_devices_as_torch_spells_them():
    d = cr.device("cpu")
    assert d == "cpu" and str(d) == "cpu" and repr(d) == "device(type='cpu')" and d.type == "cpu"
    assert cr.device("cuda:1").index == 1 and str(cr.device("cuda", 0)) == "cuda:0"
    x = cr.ones(2)
    assert x.device == d and x.cpu() is x and not x.is_cuda
    m = cr.nn.Linear(2, 1)
    assert m.to("cpu") is m and m.cpu() is m and m.to(cr.device("cpu")) is m
    with pytest.raises(ArgumentError, match="unknown device type 'tpu'"):
        cr.device("tpu")
    cr.set_default_device("cpu")
    assert cr.get_default_device() == "cpu"


def test_accelerator_queries_answer_without_a_gpu():
    available = cr.accelerator.is_available()
    assert available == cr.cuda.is_available()
    assert (cr.accelerator.current_accelerator() is None) == (not available)
    assert cr.backends.mps.is_available() is False
    device = cr.accelerator.current_accelerator().type if cr.accelerator.is_available() else "cpu"
    assert cr.zeros(1, device=device).device.type == device


@pytest.mark.skipif(cr.cuda.is_available(), reason="checks the error given where there is no GPU")
def test_asking_for_a_gpu_without_one_names_what_is_missing():
    for make in (lambda: cr.zeros(2, device="cuda"), lambda: cr.ones(2).to("cuda"), lambda: cr.ones(2).cuda(),
                 lambda: cr.nn.Linear(2, 1).to("cuda"), lambda: cr.set_default_device("cuda")):
        with pytest.raises(DeviceError, match="device 'cuda' was asked for, but (CuPy is not installed|CuPy found no)"):
            make()


def test_modules_convert_dtypes_like_torch():
    m = cr.nn.Linear(3, 2)
    assert m.double().weight.dtype == cr.float64 and m.half().weight.dtype == cr.float16
    assert m.float().weight.dtype == cr.float32 and m.to(cr.float64).bias.dtype == cr.float64


def test_new_tensor_helpers():
    x = cr.ones(2, dtype=cr.double)
    assert x.new_zeros(3).dtype == cr.double and x.new_ones((2, 2)).shape == (2, 2)
    assert x.new_full((2,), 5.0).tolist() == [5.0, 5.0] and x.new_tensor([1, 2]).dtype == cr.double


def test_tensor_methods_of_the_math_functions_are_attached():
    x = cr.tensor([[1.0, -2.0], [3.0, 0.5]])
    t = torch.tensor(x.numpy())
    for name in ("sin", "cos", "t", "clone", "floor", "sign", "cumsum"):
        args = (0,) if name == "cumsum" else ()
        np.testing.assert_allclose(getattr(x, name)(*args).numpy(), getattr(t, name)(*args).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(x.mm(x).numpy(), t.mm(t).numpy())
    np.testing.assert_array_equal(x.eq(1.0).numpy(), t.eq(1.0).numpy())
    np.testing.assert_array_equal(x.view_as(cr.zeros(4)).numpy(), t.view_as(torch.zeros(4)).numpy())
    assert F.one_hot(cr.tensor([0, 2]), 3).tolist() == [[1, 0, 0], [0, 0, 1]]


def test_type_and_the_legacy_constructors():
    x = cr.tensor([1.0, 2.0])
    t = torch.tensor([1.0, 2.0])
    assert x.type() == t.type() == "torch.FloatTensor" and (x > 1).type() == (t > 1).type()
    assert (x > 1).type(cr.float).dtype == cr.float32 and x.type("torch.LongTensor").dtype == cr.int64
    assert cr.FloatTensor([1, 2]).dtype == cr.float32 and cr.LongTensor([1.0]).dtype == cr.int64
    assert cr.FloatTensor(2, 3).shape == tuple(torch.FloatTensor(2, 3).shape)
    with pytest.raises(cr.errors.DTypeError, match="unknown tensor type"):
        x.type("torch.QuantumTensor")


def test_grad_fn_next_functions_and_retain_grad_like_torch():
    def run(m):
        w = m.ones(3, requires_grad=True)
        h = w * 2
        h.retain_grad()
        y = (h * h).sum()
        names = [type(f).__name__ for f, _ in y.grad_fn.next_functions[0][0].next_functions]
        y.backward()
        return h.grad.numpy(), h.retains_grad, names

    g, retains, names = run(cr)
    tg, tretains, tnames = run(torch)
    np.testing.assert_array_equal(g, tg)
    assert retains == tretains is True
    assert len(names) == len(tnames) == 2 and names[0] == "Mul" and tnames[0] == "MulBackward0"  # h * h, then w * 2


def test_set_printoptions():
    try:
        cr.set_printoptions(precision=2)
        assert repr(cr.tensor([1.23456])) == "tensor([1.23])"
        cr.set_printoptions(profile="full")
        assert "..." not in repr(cr.zeros(2000))
    finally:
        cr.set_printoptions(profile="default")
    assert "..." in repr(cr.zeros(2000)) and repr(cr.tensor([1.23456])) == "tensor([1.2346])"


def test_size_is_torch_size():
    x, tx = cr.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert x.shape == x.size() == cr.Size([2, 3, 4]) == (2, 3, 4) == tuple(tx.shape)
    assert isinstance(x.shape, tuple) and isinstance(x.size()[1:], cr.Size) and x.size()[1:] == (3, 4)
    assert x.shape.numel() == tx.shape.numel() == 24 and x.size(-1) == 4
    assert repr(x.shape) == "chainrule.Size([2, 3, 4])" and str(x.shape) == "(2, 3, 4)"  # messages print tuples


@pytest.mark.parametrize("fn", [
    lambda m, a, b: a % b, lambda m, a, b: m.remainder(a, b), lambda m, a, b: m.fmod(a, b), lambda m, a, b: a // b,
    lambda m, a, b: m.floor_divide(a, 2), lambda m, a, b: 7 % b, lambda m, a, b: 7 // b, lambda m, a, b: a % 2.5,
    lambda m, a, b: m.div(a, b, rounding_mode="trunc"), lambda m, a, b: a.div(b, rounding_mode="floor"),
    lambda m, a, b: m.div(a.float(), b, rounding_mode="trunc"), lambda m, a, b: m.true_divide(a, b),
], ids=["mod", "remainder", "fmod", "floordiv", "floor_divide", "rmod", "rfloordiv", "mod_float", "trunc", "floor",
        "trunc_float", "true_divide"])
def test_integer_division_and_modulo_as_torch(fn):
    a, b = [-7, -3, 0, 3, 7, 8], [3, -3, 2, -2, 4, 3]
    out, tout = fn(cr, cr.tensor(a), cr.tensor(b)), fn(torch, torch.tensor(a), torch.tensor(b))
    assert str(out.dtype) == str(tout.dtype).replace("torch.", "")
    np.testing.assert_allclose(out.numpy(), tout.numpy(), rtol=1e-6)


def test_add_sub_alpha_and_the_deprecated_overload():
    for m in (cr, torch):
        x, g = m.ones(3), m.full((3,), 2.0)
        assert m.add(x, g, alpha=2).tolist() == [5.0] * 3 and m.sub(x, g, alpha=0.5).tolist() == [0.0] * 3
        assert m.multiply(x, g).tolist() == m.mul(x, g).tolist() == [2.0] * 3 and m.negative(x).tolist() == [-1.0] * 3
        with pytest.warns(UserWarning, match="deprecated"):
            x.add_(-0.5, g)  # old tutorials' p.data.add_(-lr, p.grad.data)
        assert x.tolist() == [0.0] * 3
    with pytest.raises(ArgumentTypeError, match="add_"):
        cr.ones(2).add_(cr.ones(2), cr.ones(2))
    with pytest.raises(ArgumentError, match="rounding_mode"):
        cr.div(cr.ones(2), 2, rounding_mode="ceil")


def test_where_with_only_a_condition_gives_the_indices():
    c = np.array([[True, False], [False, True]])
    out, tout = cr.where(cr.tensor(c)), torch.where(torch.tensor(c))
    assert len(out) == len(tout) == 2
    for o, t in zip(out, tout):
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    with pytest.raises(ArgumentTypeError, match="where"):
        cr.where(cr.tensor(c), cr.ones(2))


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((5, 3), False), ((5, 3), True), ((3, 4), False),
                                        ((2, 2, 2), False), ((7, 2), True)])
def test_fill_diagonal_as_torch(shape, wrap):
    out, tout = cr.zeros(shape).fill_diagonal_(2.0, wrap=wrap), torch.zeros(shape).fill_diagonal_(2.0, wrap=wrap)
    np.testing.assert_array_equal(out.numpy(), tout.numpy())
    with pytest.raises(ShapeError, match="fill_diagonal_"):
        cr.zeros(2, 3, 2).fill_diagonal_(1.0)


def test_generated_in_place_methods_write_record_and_bump_the_version():
    def run(m):
        w = m.tensor([[0.3, -1.2, 2.0], [0.5, 0.0, -0.7]], requires_grad=True)
        y = w * 2
        before = y._version
        assert y.clamp_min_(0.1) is y and y.sin_() is y and y._version == before + 2
        y.index_add_(1, m.tensor([0, 0]), w[:, :2], alpha=3)
        y.sum().backward()
        with pytest.raises(RuntimeError if m is torch else cr.errors.BackwardError, match="leaf"):
            w.sin_()
        return y.detach().numpy(), w.grad.numpy()

    (y, g), (ty, tg) = run(cr), run(torch)
    np.testing.assert_allclose(y, ty, rtol=1e-6)
    np.testing.assert_allclose(g, tg, rtol=1e-6)


def test_bernoulli_in_place_draws_zeros_and_ones_from_the_seeded_generator():
    cr.manual_seed(3)
    a = cr.zeros(200).bernoulli_(0.25)
    cr.manual_seed(3)
    np.testing.assert_array_equal(cr.zeros(200).bernoulli_(0.25).numpy(), a.numpy())
    assert set(np.unique(a.numpy())) <= {0.0, 1.0} and 20 < a.sum().item() < 80
    assert cr.zeros(3).bernoulli_(cr.tensor([0.0, 1.0, 0.0])).tolist() == [0.0, 1.0, 0.0]
    with pytest.raises(cr.errors.OutOfRangeError, match="bernoulli_"):
        cr.zeros(3).bernoulli_(1.5)


@pytest.mark.parametrize("norm", [lambda m: m.nn.BatchNorm1d(4, affine=False),
                                  lambda m: m.nn.LayerNorm(4, elementwise_affine=False)], ids=["batch", "layer"])
def test_a_normalisation_without_affine_feeds_an_in_place_relu(norm):
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)

    def run(m):
        xt = m.tensor(x, requires_grad=True)
        m.nn.Sequential(norm(m), m.nn.ReLU(inplace=True))(xt).pow(2).sum().backward()
        return xt.grad.numpy()

    np.testing.assert_allclose(run(cr), run(torch), atol=1e-5)
