"""Tensor creation, dtypes, properties and methods, comparisons, and mixing with NumPy values."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.errors import BackwardError, DTypeError

# ---- cr.tensor and the float32 default --------------------------------------------------------------


def test_python_floats_become_float32():
    t = cr.tensor([1.0, 2.5])
    assert t.dtype == cr.float32 == np.float32
    assert cr.tensor(1.5).dtype == cr.float32
    assert cr.tensor([[1, 2.5]]).dtype == cr.float32


def test_float64_numpy_data_becomes_float32():
    a = np.array([1.0, 2.0], dtype=np.float64)
    assert cr.tensor(a).dtype == cr.float32
    assert cr.tensor(np.float64(1.5)).dtype == cr.float32


def test_float64_on_request():
    a = np.array([0.1, 0.2])
    t = cr.tensor(a, dtype=cr.float64)
    assert t.dtype == cr.float64
    np.testing.assert_array_equal(t.numpy(), a)  # no round trip through float32
    assert cr.tensor([1.0], dtype="float64").dtype == cr.float64
    assert cr.tensor([1.0], dtype=np.float64).dtype == cr.float64


def test_other_float_dtypes_are_kept():
    assert cr.tensor(np.array([1.0], dtype=np.float16)).dtype == cr.float16
    assert cr.tensor(np.array([1.0], dtype=np.float32)).dtype == cr.float32


def test_ints_are_int64_and_bools_bool():
    assert cr.tensor([1, 2, 3]).dtype == cr.int64
    assert cr.tensor(7).dtype == cr.int64
    assert cr.tensor([True, False]).dtype == cr.bool_
    assert cr.tensor(np.array([1, 2], dtype=np.int32)).dtype == cr.int32
    assert cr.tensor([1.7, 2.2], dtype=cr.int64).tolist() == [1, 2]


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0], dtype=np.float32)
    t = cr.tensor(a)
    a[0] = 100.0
    assert t.tolist() == [1.0, 2.0]
    u = cr.tensor(t)
    t.numpy()[1] = -1.0
    assert u.tolist() == [1.0, 2.0]
    assert isinstance(u, cr.Tensor)


def test_tensor_constructor_class():
    t = cr.Tensor([1.0, 2.0], requires_grad=True)
    assert t.dtype == cr.float32 and t.requires_grad and t.is_leaf


def test_tensor_requires_grad():
    t = cr.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None


# ---- filled and ranged -----------------------------------------------------------------------------


def test_zeros_ones():
    for make, v in ((cr.zeros, 0.0), (cr.ones, 1.0)):
        a = make(2, 3)
        b = make((2, 3))
        c = make([2, 3])
        for t in (a, b, c):
            assert t.shape == (2, 3) and t.dtype == cr.float32
            assert (t.numpy() == v).all()
        assert make(3, dtype=cr.float64).dtype == cr.float64
        assert make(3, dtype=cr.int64).dtype == cr.int64
        assert make(()).shape == ()
        assert make(2, requires_grad=True).requires_grad


def test_full():
    t = cr.full((2, 3), 1.5)
    assert t.shape == (2, 3) and t.dtype == cr.float32 and (t.numpy() == 1.5).all()
    assert cr.full(3, 7).dtype == cr.int64
    assert cr.full(3, 7).tolist() == [7, 7, 7]
    assert cr.full(2, True).dtype == cr.bool_
    assert cr.full((2,), 7, dtype=cr.float64).dtype == cr.float64
    assert cr.full((2,), 0.5, requires_grad=True).requires_grad


def test_arange():
    t = cr.arange(5)
    assert t.dtype == cr.int64 and t.tolist() == [0, 1, 2, 3, 4]
    assert cr.arange(2, 5).tolist() == [2, 3, 4]
    assert cr.arange(10, 0, -3).tolist() == [10, 7, 4, 1]
    f = cr.arange(0, 1, 0.25)
    assert f.dtype == cr.float32 and f.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert cr.arange(3.0).dtype == cr.float32
    assert cr.arange(3, dtype=cr.float64).dtype == cr.float64


def test_eye():
    t = cr.eye(3)
    assert t.dtype == cr.float32
    np.testing.assert_array_equal(t.numpy(), np.eye(3))
    assert cr.eye(2, 4).shape == (2, 4)
    assert cr.eye(2, dtype=cr.int64).dtype == cr.int64


def test_zeros_like_ones_like():
    src = cr.tensor([[1, 2], [3, 4]])
    z = cr.zeros_like(src)
    assert z.shape == (2, 2) and z.dtype == cr.int64 and z.tolist() == [[0, 0], [0, 0]]
    o = cr.ones_like(cr.tensor([1.0, 2.0], dtype=cr.float64))
    assert o.dtype == cr.float64 and o.tolist() == [1.0, 1.0]
    assert cr.ones_like(src, dtype=cr.float32).dtype == cr.float32
    assert cr.zeros_like(np.zeros((3, 1))).shape == (3, 1)
    r = cr.zeros_like(cr.randn(2, seed=0), requires_grad=True)
    assert r.requires_grad and r.dtype == cr.float32
    # zeros_like does not link to the graph of its argument
    x = cr.tensor([1.0], requires_grad=True)
    assert cr.zeros_like(x * 2).grad_fn is None


# ---- random ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [cr.randn, cr.rand])
def test_random_with_int_seed_is_reproducible(fn):
    a = fn(3, 4, seed=0)
    b = fn(3, 4, seed=0)
    c = fn(3, 4, seed=1)
    assert a.shape == (3, 4) and a.dtype == cr.float32
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), c.numpy())
    assert fn(2, seed=0, dtype=cr.float64).dtype == cr.float64
    assert fn((2, 3), seed=0).shape == (2, 3)


def test_randn_matches_numpy_generator():
    a = cr.randn(5, seed=42)
    ref = np.random.default_rng(42).standard_normal(5, dtype=np.float32)
    np.testing.assert_array_equal(a.numpy(), ref)


def test_rand_range():
    u = cr.rand(1000, seed=3)
    assert (u.numpy() >= 0).all() and (u.numpy() < 1).all()


@pytest.mark.parametrize("how", ["seed", "generator"])
def test_random_with_numpy_generator(how):
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    if how == "seed":
        a1, a2 = cr.randn(4, seed=g1), cr.randn(4, seed=g1)
        b1 = cr.randn(4, seed=g2)
    else:
        a1, a2 = cr.randn(4, generator=g1), cr.randn(4, generator=g1)
        b1 = cr.randn(4, generator=g2)
    # the generator advances: two draws differ; a generator in the same state draws the same
    assert not np.array_equal(a1.numpy(), a2.numpy())
    np.testing.assert_array_equal(a1.numpy(), b1.numpy())


def test_randint():
    t = cr.randint(10, size=(3, 4), seed=0)
    assert t.dtype == cr.int64 and t.shape == (3, 4)
    assert ((t.numpy() >= 0) & (t.numpy() < 10)).all()
    u = cr.randint(5, 8, size=100, seed=1)
    assert u.shape == (100,) and set(u.tolist()) <= {5, 6, 7}
    np.testing.assert_array_equal(
        cr.randint(0, 100, size=5, seed=2).numpy(), cr.randint(0, 100, size=5, seed=2).numpy()
    )
    g = np.random.default_rng(3)
    assert cr.randint(0, 100, size=5, generator=g).shape == (5,)
    assert (
        cr.randint(0, 100, size=5, seed=np.random.default_rng(3)).tolist()
        == cr.randint(0, 100, size=5, seed=np.random.default_rng(3)).tolist()
    )
    assert cr.randint(3, seed=0).shape == ()
    assert cr.randint(0, 4, size=3, seed=0, dtype=cr.int32).dtype == cr.int32


def test_manual_seed():
    old = cr.default_generator()
    try:
        cr.manual_seed(123)
        a = cr.randn(5)
        r = cr.rand(2)
        i = cr.randint(100, size=3)
        cr.manual_seed(123)
        np.testing.assert_array_equal(cr.randn(5).numpy(), a.numpy())
        np.testing.assert_array_equal(cr.rand(2).numpy(), r.numpy())
        np.testing.assert_array_equal(cr.randint(100, size=3).numpy(), i.numpy())
        cr.manual_seed(124)
        assert not np.array_equal(cr.randn(5).numpy(), a.numpy())
        assert isinstance(cr.default_generator(), np.random.Generator)
        # an explicit seed does not disturb the default generator
        cr.manual_seed(5)
        first = cr.randn(3)
        cr.manual_seed(5)
        cr.randn(3, seed=99)
        np.testing.assert_array_equal(cr.randn(3).numpy(), first.numpy())
    finally:
        cr.manual_seed(None)
        del old


def test_random_requires_grad():
    w = cr.randn(2, 2, seed=0, requires_grad=True)
    assert w.requires_grad and w.is_leaf


# ---- int and bool tensors cannot require grad -------------------------------------------------------


@pytest.mark.parametrize(
    "make, dtype_name",
    [
        (lambda: cr.tensor([1, 2], requires_grad=True), "int64"),
        (lambda: cr.tensor([True, False], requires_grad=True), "bool"),
        (lambda: cr.zeros(2, dtype=cr.int64, requires_grad=True), "int64"),
        (lambda: cr.ones(2, dtype=cr.int32, requires_grad=True), "int32"),
        (lambda: cr.arange(3, requires_grad=True), "int64"),
        (lambda: cr.full(2, 3, requires_grad=True), "int64"),
        (lambda: cr.tensor([1, 2]).requires_grad_(), "int64"),
        (lambda: setattr(cr.tensor([1, 2], dtype=cr.uint8), "requires_grad", True), "uint8"),
    ],
)
def test_int_and_bool_cannot_require_grad(make, dtype_name):
    with pytest.raises(DTypeError) as info:
        make()
    assert dtype_name in str(info.value)
    assert isinstance(info.value, TypeError)


def test_non_leaf_cannot_drop_requires_grad():
    y = cr.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(BackwardError, match="detach"):
        y.requires_grad = False


# ---- properties and methods --------------------------------------------------------------------------


def test_array_facts():
    t = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t.shape == (2, 3)
    assert t.dtype == cr.float32
    assert t.ndim == 2
    assert t.size() == (2, 3) and t.size(1) == 3 and t.size(-2) == 2 and t.numel() == 6 and t.dim() == 2
    assert len(t) == 2
    assert t.T.shape == (3, 2)
    np.testing.assert_array_equal(t.T.numpy(), t.numpy().T)
    s = cr.tensor(3.0)
    assert s.shape == () and s.ndim == 0 and s.size() == () and s.numel() == 1


def test_numpy_shares_memory():
    t = cr.tensor([1.0, 2.0])
    a = t.numpy()
    assert isinstance(a, np.ndarray)
    a[0] = 9.0
    assert t.tolist() == [9.0, 2.0]
    np.testing.assert_array_equal(np.asarray(t), [9.0, 2.0])


def test_item_and_tolist():
    v = cr.tensor(2.5).item()
    assert v == 2.5 and type(v) is float
    i = cr.tensor([7]).item()
    assert i == 7 and type(i) is int
    assert type(cr.tensor(True).item()) is bool
    assert cr.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert float(cr.tensor(1.5)) == 1.5 and int(cr.tensor(3)) == 3


def test_detach():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.numpy(), y.numpy())
    np.testing.assert_array_equal(d.numpy(), [2.0, 4.0])
    # using the detached tensor records nothing back to x
    assert (d * x).sum().grad_fn is not None
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_requires_grad_():
    t = cr.tensor([1.0])
    assert t.requires_grad_() is t and t.requires_grad
    assert t.requires_grad_(False) is t and not t.requires_grad


def test_astype():
    x = cr.tensor([1.5, -2.5], requires_grad=True)
    d = x.astype(cr.float64)
    assert d.dtype == cr.float64 and d.requires_grad and d.grad_fn is not None
    d.sum().backward()
    assert x.grad.dtype == cr.float32 and x.grad.tolist() == [1.0, 1.0]
    i = x.astype(cr.int64)
    assert i.dtype == cr.int64 and not i.requires_grad and i.tolist() == [1, -2]
    assert x.astype("float32") is x
    assert x.double().dtype == cr.float64
    assert cr.tensor([1, 2]).float().dtype == cr.float32
    assert cr.tensor([1.9]).long().tolist() == [1]
    assert cr.tensor([0.0, 2.0]).astype(cr.bool_).tolist() == [False, True]


def test_repr_plain():
    r = repr(cr.tensor([1.0, 2.0]))
    assert r.startswith("tensor(") and "1." in r and "2." in r
    assert "requires_grad" not in r and "grad_fn" not in r and "dtype" not in r
    assert repr(cr.tensor([1, 2])) == "tensor([1, 2])"


def test_repr_shows_requires_grad_and_grad_fn():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    y = x * 2
    r = repr(y)
    assert "grad_fn=" in r and "Mul" in r
    assert "Add" in repr(x + 1)


def test_repr_shows_nondefault_dtype():
    assert "float64" in repr(cr.tensor([1.0], dtype=cr.float64))
    assert "int32" in repr(cr.tensor([1], dtype=cr.int32))
    assert "float32" not in repr(cr.tensor([1.0]))


def test_repr_is_readable_for_larger_tensors():
    r = repr(cr.arange(2000, dtype=cr.float32).reshape(40, 50))
    assert "..." in r and len(r) < 2000


@pytest.mark.parametrize(
    "op",
    [
        lambda t: t.sigmoid(),
        lambda t: t.tanh(),
        lambda t: t.exp(),
        lambda t: t.relu(),
        lambda t: t.softplus(),
        lambda t: t.gelu(),
        lambda t: t.sum(),
        lambda t: t.mean(),
        lambda t: t.max(),
        lambda t: t * t,
    ],
    ids=["sigmoid", "tanh", "exp", "relu", "softplus", "gelu", "sum", "mean", "max", "mul"],
)
def test_methods_on_zero_dim_tensors(op):
    """0-d tensors (the usual loss) go forward and backward like any other."""
    x = cr.tensor(0.5, dtype=cr.float64, requires_grad=True)
    y = op(x)
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == ()
    assert np.isfinite(x.grad.item())


# ---- comparisons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cmp, expected",
    [
        (lambda a, b: a < b, [True, False, False]),
        (lambda a, b: a <= b, [True, True, False]),
        (lambda a, b: a > b, [False, False, True]),
        (lambda a, b: a >= b, [False, True, True]),
        (lambda a, b: a == b, [False, True, False]),
        (lambda a, b: a != b, [True, False, True]),
    ],
)
def test_comparisons_give_bool_without_grad(cmp, expected):
    a = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for b in (cr.tensor([2.0, 2.0, 2.0], requires_grad=True), 2.0, np.float64(2.0), np.array([2.0, 2.0, 2.0])):
        r = cmp(a, b)
        assert isinstance(r, cr.Tensor)
        assert r.dtype == cr.bool_
        assert r.tolist() == expected
        assert not r.requires_grad and r.grad_fn is None


def test_comparison_with_numpy_on_the_left():
    t = cr.tensor([1.0, 2.0, 3.0])
    r = np.array([2.0, 2.0, 2.0]) < t
    assert isinstance(r, cr.Tensor) and r.tolist() == [False, False, True]


def test_logical_ops_on_bool_tensors():
    a, b = cr.tensor([True, True, False]), cr.tensor([True, False, False])
    assert (a & b).tolist() == [True, False, False]
    assert (a | b).tolist() == [True, True, False]
    assert (a ^ b).tolist() == [False, True, False]
    assert (~a).tolist() == [False, False, True]
    assert a.any().item() is True and a.all().item() is False


def test_truth_value():
    assert bool(cr.tensor([1.0]))
    assert not bool(cr.tensor(0.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(cr.tensor([1.0, 2.0]))


# ---- NumPy values next to tensors --------------------------------------------------------------------


@pytest.mark.parametrize("scalar", [np.float64(2.5), np.float32(2.5), 2.5, np.int64(2), 2])
def test_numpy_scalars_on_either_side_keep_float32(scalar):
    t = cr.tensor([1.0, 2.0])
    for r in (t * scalar, scalar * t, t + scalar, scalar + t, t - scalar, scalar - t, t / scalar, scalar / t):
        assert isinstance(r, cr.Tensor)
        assert r.dtype == cr.float32, (scalar, r.dtype)


@pytest.mark.parametrize("dtype", [cr.float16, cr.float32, cr.float64])
def test_numpy_float64_scalar_keeps_the_tensor_float_dtype(dtype):
    t = cr.tensor([1.0, 2.0], dtype=dtype)
    assert (t * np.float64(2.5)).dtype == dtype
    assert (np.float64(2.5) * t).dtype == dtype


def test_numpy_arrays_on_either_side():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    a = np.array([3.0, 4.0], dtype=np.float32)
    for r in (x * a, a * x, x + a, a + x, a - x, a / x, x @ a, a @ x):
        assert isinstance(r, cr.Tensor)
        assert r.dtype == cr.float32
        assert r.requires_grad
    (a * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])
    x.grad = None
    (a - x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, -1.0])


def test_int_tensor_times_float():
    i = cr.tensor([1, 2])
    r = i * 2.5
    assert r.dtype == cr.float32 and r.tolist() == [2.5, 5.0]
    assert (2.5 * i).dtype == cr.float32
    assert (i * np.float64(2.5)).dtype == cr.float32
    assert (i + 0.5).dtype == cr.float32
    assert (i / 2).dtype == cr.float32 and (i / 2).tolist() == [0.5, 1.0]
    assert (i / i).dtype == cr.float32
    # 0-d int tensors too (NumPy hands back scalars there)
    assert (cr.tensor(3) * 2.5).dtype == cr.float32
    assert (cr.tensor(3) / 2).dtype == cr.float32
    assert (cr.tensor(3) * 2).dtype == cr.int64


@pytest.mark.parametrize(
    "op, expected",
    [
        (lambda i: i + i, [2, 4, -6]),
        (lambda i: i * 2, [2, 4, -6]),
        (lambda i: 2 * i, [2, 4, -6]),
        (lambda i: i - 1, [0, 1, -4]),
        (lambda i: -i, [-1, -2, 3]),
        (lambda i: i**2, [1, 4, 9]),
        (lambda i: i * np.int64(2), [2, 4, -6]),
        (lambda i: i.abs(), [1, 2, 3]),
        (lambda i: i.relu(), [1, 2, 0]),
        (lambda i: cr.maximum(i, 0), [1, 2, 0]),
        (lambda i: cr.minimum(i, 0), [0, 0, -3]),
        (lambda i: i.reshape(3, 1).T.reshape(3), [1, 2, -3]),
        (lambda i: i[[0, 0, 2]], [1, 1, -3]),
        (lambda i: cr.where(i > 0, i, 0), [1, 2, 0]),
        (lambda i: cr.concatenate([i[:1], i[1:]]), [1, 2, -3]),
    ],
)
def test_int_ops_give_int_results(op, expected):
    i = cr.tensor([1, 2, -3])
    r = op(i)
    assert r.dtype.kind == "i", r.dtype
    assert r.tolist() == expected
    assert not r.requires_grad


def test_int_reductions_and_matmul():
    i = cr.tensor([[1, 2], [3, 4]])
    assert i.sum().dtype == cr.int64 and i.sum().item() == 10
    assert i.sum(axis=0).tolist() == [4, 6]
    assert i.max().item() == 4 and i.max().dtype == cr.int64
    assert (i @ i).dtype == cr.int64 and (i @ i).tolist() == [[7, 10], [15, 22]]
    assert i.argmax().item() == 3
    assert i.mean().dtype == cr.float32 and i.mean().item() == 2.5


def test_bool_tensor_arithmetic():
    b = cr.tensor([True, False])
    assert (b * 1.5).dtype == cr.float32
    assert (b + b).dtype == cr.bool_ or (b + b).dtype.kind == "i"


def test_setitem():
    t = cr.zeros(3)
    t[1] = 5.0
    assert t.tolist() == [0.0, 5.0, 0.0]
    x = cr.zeros(3, requires_grad=True)
    with pytest.raises(BackwardError, match="no_grad"):
        x[0] = 1.0
    with cr.no_grad():
        x[0] = 1.0
    assert x.tolist() == [1.0, 0.0, 0.0]


def test_iteration_and_indexing():
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    rows = list(t)
    assert len(rows) == 2 and rows[1].tolist() == [3.0, 4.0]
    assert t[1, 0].item() == 3.0
    assert t[cr.tensor([1, 0])].tolist() == [[3.0, 4.0], [1.0, 2.0]]
    with pytest.raises(TypeError):
        len(cr.tensor(1.0))


def test_np_array_copies_and_np_asarray_shares():
    t = cr.tensor([1.0, 2.0])
    a = np.array(t)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0]  # np.array copies (NumPy 2's copy=True)
    assert np.asarray(t) is t.numpy()  # np.asarray shares when it can
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    with pytest.raises(DTypeError, match="without a copy"):
        t.__array__(np.float64, copy=False)
    assert t.__array__(copy=False) is t.numpy()


def test_functions_take_plain_numbers():
    import chainrule.functional as F

    assert F.neg(3.0).item() == -3.0
    assert F.neg(np.float32(2.0)).item() == -2.0
    assert F.add(1.0, 2.0).item() == 3.0
    assert F.where(np.array([True, False]), 1.0, 2.0).tolist() == [1.0, 2.0]


def test_len_of_a_0d_tensor_is_a_typed_error():
    from chainrule.errors import ArgumentTypeError

    with pytest.raises(ArgumentTypeError, match="0-d"):
        len(cr.tensor(1.0))


def test_composite_methods_are_the_functional_ones():
    import chainrule.functional as F

    for name in cr.COMPOSITE_METHODS:
        assert getattr(cr.Tensor, name) is getattr(F, name)
    x = cr.randn(2, 3, seed=0)
    assert x.flatten().shape == (6,) and x.unsqueeze(0).shape == (1, 2, 3)
