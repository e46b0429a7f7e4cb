"""chainrule.functional.math against torch 2.13 beyond the op table (tests/ops/cases_math.py): dtypes, functions
without a gradient, zero gradients, argument checks and their errors, ties, NaN and edge cases."""

import math

import numpy as np
import pytest
import tolerance as T
import torch

import chainrule as cr
import chainrule.functional as F
from chainrule.errors import ArgumentError, ArgumentTypeError, DTypeError, OutOfRangeError, ShapeError
from chainrule.functional import math as FM

NP = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64,
      torch.int32: np.int32, torch.uint8: np.uint8, torch.bool: np.bool_}


def _rng():
    """A generator seeded the same in every test, so each test draws the same values in any order."""
    return np.random.default_rng(2024)


def _same(out, ref):
    """Exact agreement (values, shape, dtype) with a torch result: for integers, bools and selections."""
    assert isinstance(out, cr.Tensor)
    assert out.dtype == NP[ref.dtype], f"dtype {out.dtype}, torch {ref.dtype}"
    assert out.shape == tuple(ref.shape), f"shape {out.shape}, torch {tuple(ref.shape)}"
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())


def _close(out, ref, fn, arrays):
    """Agreement within the elementwise rule of tests/tolerance.py, dtype and shape included."""
    assert out.dtype == NP[ref.dtype] and out.shape == tuple(ref.shape)
    (mag,), _ = T.elementwise(fn, arrays)
    T.assert_close(out.numpy(), ref, mag)


# ---- elementwise: dtypes --------------------------------------------------------------------------------------------

FLOAT_FUNCTIONS = ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "log1p", "expm1", "log2", "log10",
                   "rsqrt", "reciprocal"]
KEEP_FUNCTIONS = ["sign", "floor", "ceil", "trunc", "round"]


@pytest.mark.parametrize("name", FLOAT_FUNCTIONS + KEEP_FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_floating_inputs_keep_their_dtype(name, dtype):
    a = _rng().uniform(0.1, 0.9, (2, 3)).astype(dtype)
    out = getattr(F, name)(cr.tensor(a, dtype=dtype))
    ref = getattr(torch, name)(torch.tensor(a))
    _close(out, ref, getattr(torch, name), [a])


@pytest.mark.parametrize("name", FLOAT_FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_integer_inputs_give_float32_as_torch(name, dtype):
    # inside each function's domain (no nan, no infinity)
    base = [[1, 0, 1], [0, 1, 1]] if name in ("asin", "acos") else [[1, 2, 0], [3, 1, 1]]
    if name in ("log2", "log10", "rsqrt", "reciprocal"):
        base = [[1, 2, 1], [3, 1, 1]]
    a = np.array(base).astype(dtype)
    out = getattr(F, name)(cr.tensor(a, dtype=dtype))
    ref = getattr(torch, name)(torch.tensor(a))
    assert out.dtype == cr.float32 == NP[ref.dtype]
    _close(out, ref, lambda x: getattr(torch, name)(x), [a.astype(np.float64)])


@pytest.mark.parametrize("name", KEEP_FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_rounding_and_sign_keep_integer_dtypes(name, dtype):
    a = np.array([[1, 5, 0], [3, 2, 7]]).astype(dtype)
    _same(getattr(F, name)(cr.tensor(a, dtype=dtype)), getattr(torch, name)(torch.tensor(a)))


def test_sign_of_bools_is_bool_and_rounding_bools_is_refused():
    _same(F.sign(cr.tensor([True, False])), torch.sign(torch.tensor([True, False])))
    for name in ("floor", "ceil", "trunc", "round"):
        with pytest.raises(DTypeError, match=name):
            getattr(F, name)(cr.tensor([True]))


def test_sign_is_zero_at_negative_zero_and_nan_as_torch():
    a = np.array([-0.0, 0.0, np.nan, -3.0, 2.0, -np.inf], np.float32)
    out = F.sign(cr.tensor(a))
    _same(out, torch.sign(torch.tensor(a)))
    assert not np.signbit(out.numpy()[:3]).any()


def test_round_halves_to_even_and_decimals_as_torch():
    a = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.125, 0.375, 1234.5678, -0.0049], np.float32)
    for d in (0, 1, 2, 3, -1, -2):
        _same(F.round(cr.tensor(a), decimals=d), torch.round(torch.tensor(a), decimals=d))
    b = a.astype(np.float64)
    _same(F.round(cr.tensor(b, dtype=cr.float64), decimals=2), torch.round(torch.tensor(b), decimals=2))
    with pytest.raises(DTypeError, match="round"):
        F.round(cr.tensor([1, 2]), decimals=1)
    with pytest.raises(ArgumentTypeError, match="decimals"):
        F.round(cr.tensor([1.0]), decimals=1.5)


def test_nan_to_num_defaults_follow_the_dtype():
    for dtype in (np.float32, np.float64):
        a = np.array([np.nan, np.inf, -np.inf, 1.5], dtype)
        _same(F.nan_to_num(cr.tensor(a, dtype=dtype)), torch.nan_to_num(torch.tensor(a)))
        _same(F.nan_to_num(cr.tensor(a, dtype=dtype), nan=-1.0, neginf=0.0),
              torch.nan_to_num(torch.tensor(a), nan=-1.0, neginf=0.0))
    _same(F.nan_to_num(cr.tensor([1, 2])), torch.nan_to_num(torch.tensor([1, 2])))


def test_functions_take_python_numbers_and_arrays():
    out = F.sin(0.5)
    assert out.dtype == cr.float32 and out.shape == ()
    T.assert_close(out.numpy(), np.array(math.sin(0.5)), 1.5 + math.sin(0.5))  # the elementwise rule's magnitude
    assert F.cos(np.zeros(3)).shape == (3,)


# ---- zero gradients ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", KEEP_FUNCTIONS)
def test_piecewise_constant_functions_have_a_zero_gradient_everywhere(name):
    # on the jumps too (integers, halves, 0), where torch's rule gives 0 as well
    a = np.array([-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 2.5, 0.3], np.float32)
    x = cr.tensor(a, requires_grad=True)
    t = torch.tensor(a, requires_grad=True)
    out = getattr(F, name)(x)
    ref = getattr(torch, name)(t)
    assert out.requires_grad and ref.requires_grad
    g = _rng().standard_normal(a.shape).astype(np.float32)
    out.backward(g)
    ref.backward(torch.tensor(g))
    assert x.grad.dtype == cr.float32
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(a))


def test_round_with_decimals_has_a_zero_gradient():
    x = cr.tensor([0.123, 4.5678], requires_grad=True)
    F.round(x, decimals=2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_nan_to_num_gradient_is_zero_where_replaced():
    a = np.array([1.5, np.nan, np.inf, -np.inf, -2.0], np.float32)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    F.nan_to_num(x).sum().backward()
    torch.nan_to_num(t).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_norm_p0_gradient_is_zero():
    x = cr.tensor([[0.0, 2.0], [1.0, -3.0]], requires_grad=True)
    out = F.norm(x, 0, dim=1)
    np.testing.assert_array_equal(out.numpy(), [1.0, 2.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 2)))


@pytest.mark.parametrize("p", [2, "fro", 1, 3, 0.5, -1.0, math.inf, -math.inf])
def test_norm_gradient_at_zero_as_torch(p):
    a = np.zeros((2, 3), np.float64)
    a[1] = [0.0, 1.5, -2.0]  # a zero element in a nonzero row as well
    x, t = cr.tensor(a, dtype=cr.float64, requires_grad=True), torch.tensor(a, requires_grad=True)
    F.norm(x, p, dim=1).sum().backward()
    torch.norm(t, p, dim=1).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    np.testing.assert_array_equal(x.grad.numpy()[0], [0.0, 0.0, 0.0])
    T.assert_close(x.grad.numpy(), t.grad, T.linear(lambda v: torch.norm(v, p, dim=1), [a], [np.ones(2)])[1][0])


def test_norm_of_a_zero_vector_has_a_zero_gradient():
    x = cr.tensor([0.0, 0.0, 0.0], requires_grad=True)
    F.norm(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_inf_norm_shares_the_gradient_between_ties_as_torch():
    a = np.array([[2.0, -2.0, 1.0], [1.0, 0.0, 0.5]], np.float32)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    F.norm(x, math.inf, dim=1).sum().backward()
    torch.norm(t, math.inf, dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


# ---- comparisons and logic ---------------------------------------------------------------------------------------

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge"]


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparisons_give_bool_tensors_without_gradient(name):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]], np.float32)
    b = np.array([2.0, 2.0, 2.0], np.float32)
    x = cr.tensor(a, requires_grad=True)
    for other, tother in [(cr.tensor(b), torch.tensor(b)), (2.0, 2.0), (2, 2), (np.float32(2.0), 2.0)]:
        out = getattr(F, name)(x, other)
        assert not out.requires_grad and out.grad_fn is None
        _same(out, getattr(torch, name)(torch.tensor(a), tother))
    _same(getattr(F, name)(cr.tensor([1, 2, 3]), 2.5), getattr(torch, name)(torch.tensor([1, 2, 3]), 2.5))
    _same(getattr(F, name)(cr.tensor([True, False]), 1), getattr(torch, name)(torch.tensor([True, False]), 1))


def test_comparisons_promote_as_torch():
    # a Python float is compared in the tensor's dtype; an int tensor meets a float in float32
    _same(F.eq(cr.tensor([0.1]), 0.1), torch.eq(torch.tensor([0.1]), 0.1))
    _same(F.eq(cr.tensor([16777217]), 16777216.0), torch.eq(torch.tensor([16777217]), 16777216.0))
    # a 0-d float64 tensor does not widen a float32 tensor with dimensions; one with dimensions does
    _same(F.eq(cr.tensor([0.1]), cr.tensor(0.1, dtype=cr.float64)),
          torch.eq(torch.tensor([0.1]), torch.tensor(0.1, dtype=torch.float64)))
    _same(F.eq(cr.tensor([0.1]), cr.tensor([0.1], dtype=cr.float64)),
          torch.eq(torch.tensor([0.1]), torch.tensor([0.1], dtype=torch.float64)))
    _same(F.lt(cr.tensor([1, 2], dtype=cr.uint8), cr.tensor([2, -1], dtype=cr.int8)),
          torch.lt(torch.tensor([1, 2], dtype=torch.uint8), torch.tensor([2, -1], dtype=torch.int8)))


def test_comparison_errors():
    with pytest.raises(ShapeError, match=r"eq: cannot broadcast shapes \(2,\) and \(3,\)"):
        F.eq(cr.ones(2), cr.ones(3))
    with pytest.raises(ArgumentTypeError, match="lt"):
        F.lt(cr.ones(2), "a")


def test_isnan_isinf_isfinite():
    a = np.array([1.0, np.nan, np.inf, -np.inf, -0.0], np.float32)
    for name in ("isnan", "isinf", "isfinite"):
        for dtype in (np.float32, np.float64):
            x = cr.tensor(a.astype(dtype), dtype=dtype, requires_grad=True)
            out = getattr(F, name)(x)
            assert not out.requires_grad
            _same(out, getattr(torch, name)(torch.tensor(a.astype(dtype))))
        for ints in (np.array([1, 2]), np.array([True, False]), np.array([3], np.uint8)):
            _same(getattr(F, name)(cr.tensor(ints)), getattr(torch, name)(torch.tensor(ints)))


@pytest.mark.parametrize("name", ["all", "any"])
def test_all_any(name):
    a = np.array([[[1.0, 0.0], [2.0, 3.0]], [[0.0, 0.0], [1.0, 1.0]]], np.float32)
    f, tf = getattr(F, name), getattr(torch, name)
    t = torch.tensor(a)
    _same(f(cr.tensor(a)), tf(t))
    for dim in (0, 1, -1, (0, 2)):
        for keep in (False, True):
            _same(f(cr.tensor(a), dim, keep), tf(t, dim, keep))
            _same(f(cr.tensor(a), axis=dim, keepdims=keep), tf(t, dim=dim, keepdim=keep))
    _same(f(cr.tensor(a), dim=()), tf(t, dim=()))  # reduces nothing, as torch
    _same(f(cr.tensor([1, 0], dtype=cr.uint8)), tf(torch.tensor([1, 0], dtype=torch.uint8)))  # uint8 stays uint8
    _same(f(cr.tensor(0.0), 0), tf(torch.tensor(0.0), 0))
    with pytest.raises(ShapeError, match=name):
        f(cr.tensor(a), 3)
    with pytest.raises(ArgumentError, match="dim= and its NumPy alias axis="):
        f(cr.tensor(a), dim=0, axis=1)
    with pytest.raises(ArgumentError, match="keepdim"):
        f(cr.tensor(a), 0, keepdim=True, keepdims=True)


# ---- products ----------------------------------------------------------------------------------------------------


def test_mm_and_bmm_check_their_operands():
    with pytest.raises(ShapeError, match=r"mm: expected two 2-D tensors, got shapes \(3,\) and \(3, 2\)"):
        F.mm(cr.ones(3), cr.ones(3, 2))
    with pytest.raises(ShapeError, match=r"mm: cannot multiply \(2, 3\) by \(2, 2\)"):
        F.mm(cr.ones(2, 3), cr.ones(2, 2))
    with pytest.raises(DTypeError, match="mm: .*float32 and float64"):
        F.mm(cr.ones(2, 3), cr.ones(3, 2, dtype=cr.float64))
    with pytest.raises(ShapeError, match="bmm: expected two 3-D"):
        F.bmm(cr.ones(2, 3), cr.ones(3, 2))
    with pytest.raises(ShapeError, match="bmm: cannot multiply"):
        F.bmm(cr.ones(2, 2, 3), cr.ones(3, 3, 2))
    with pytest.raises(ShapeError, match="bmm: cannot multiply"):
        F.bmm(cr.ones(2, 2, 3), cr.ones(2, 2, 2))


def test_integer_products_as_torch():
    a, b = _rng().integers(-5, 5, (3, 4)), _rng().integers(-5, 5, (4, 2))
    _same(F.mm(cr.tensor(a), cr.tensor(b)), torch.mm(torch.tensor(a), torch.tensor(b)))
    c, d = _rng().integers(-5, 5, (2, 3, 4)), _rng().integers(-5, 5, (2, 4, 2))
    _same(F.bmm(cr.tensor(c), cr.tensor(d)), torch.bmm(torch.tensor(c), torch.tensor(d)))
    _same(F.einsum("bij,bjk->bik", cr.tensor(c), cr.tensor(d)),
          torch.einsum("bij,bjk->bik", torch.tensor(c), torch.tensor(d)))


def test_einsum_gradient_only_where_asked():
    a = cr.tensor(_rng().standard_normal((2, 3)), requires_grad=True)
    b = cr.tensor(_rng().standard_normal((3, 4)))
    F.einsum("ij,jk->ik", a, b).sum().backward()
    assert b.grad is None
    expected = np.broadcast_to(b.numpy().astype(np.float64).sum(axis=1), (2, 3))
    T.assert_close(a.grad.numpy(), expected, np.broadcast_to(np.abs(b.numpy()).sum(axis=1), (2, 3)))


@pytest.mark.parametrize(
    "equation, shapes, error, text",
    [
        ("ij,jk->ik", [(2, 3)], ArgumentError, "names 2 operand"),
        ("ij", [(2, 3), (3, 2)], ArgumentError, "names 1 operand"),
        ("i1", [(2, 3)], ArgumentError, "invalid subscript '1'"),
        ("..i", [(2, 3)], ArgumentError, "ellipsis"),
        ("i...j...", [(2, 3)], ArgumentError, "ellipsis"),
        ("i->ii", [(2,)], ArgumentError, "appears more than once"),
        ("ij->k", [(2, 2)], ArgumentError, "does not appear"),
        ("ij->j->i", [(2, 3)], ArgumentError, "more than one '->'"),
        ("ij->", [(2, 3, 4)], ShapeError, "operand 0 has 3 dimension"),
        ("...ijk", [(2, 3)], ShapeError, "operand 0 has 2 dimension"),
        ("i,i->", [(2,), (3,)], ShapeError, "subscript i has size 3 for operand 1"),
        ("ii->i", [(2, 3)], ShapeError, "repeated for operand 0"),
    ],
)
def test_einsum_errors(equation, shapes, error, text):
    with pytest.raises(error, match=text):
        F.einsum(equation, *[cr.ones(*s) for s in shapes])
    with pytest.raises(RuntimeError):  # torch refuses each of them too
        torch.einsum(equation, *[torch.ones(*s) for s in shapes])


def test_einsum_dtype_errors():
    with pytest.raises(DTypeError, match="einsum"):
        F.einsum("i,i->", cr.ones(2), cr.ones(2, dtype=cr.float64))
    with pytest.raises(DTypeError, match="einsum"):
        F.einsum("i,i->", cr.tensor([1, 2], dtype=cr.int32), cr.tensor([1, 2]))
    with pytest.raises(DTypeError, match="bool"):
        F.einsum("i->", cr.tensor([True, False]))
    with pytest.raises(ArgumentTypeError, match="string"):
        F.einsum(cr.ones(2), [0])


def test_norm_arguments():
    a = np.array([[3.0, 4.0], [1.0, -2.0]], np.float32)
    x, t = cr.tensor(a), torch.tensor(a)
    for kwargs in [{}, {"p": None}, {"dim": ()}, {"dim": []}, {"dim": 0, "keepdim": True}, {"p": "fro", "dim": 1}]:
        out, ref = F.norm(x, **kwargs), torch.norm(t, **kwargs)
        assert out.shape == tuple(ref.shape)
        T.assert_close(out.numpy(), ref, T.linear(lambda v, kw=kwargs: torch.norm(v, **kw), [a])[0][0])
    out = F.norm(x, dtype=cr.float64)
    assert out.dtype == cr.float64
    assert F.norm(cr.tensor(a, dtype=cr.float16)).dtype == cr.float16
    with pytest.raises(DTypeError, match="norm: expected a floating-point tensor, got int64"):
        F.norm(cr.tensor([[1, 2]]))
    with pytest.raises(ArgumentError, match="'nuc'"):
        F.norm(x, "nuc")
    with pytest.raises(ArgumentError, match="at most 2 dims"):
        F.norm(cr.ones(2, 2, 2), "fro", dim=(0, 1, 2))
    with pytest.raises(ArgumentTypeError, match="norm: p"):
        F.norm(x, [2])
    with pytest.raises(ShapeError, match="empty"):
        F.norm(cr.ones(0, 3), math.inf)
    with pytest.raises(ArgumentError, match="keepdim"):
        F.norm(x, dim=0, keepdim=True, keepdims=True)
    np.testing.assert_array_equal(F.norm(cr.ones(0, 3)).numpy(), 0.0)


# ---- shapes ------------------------------------------------------------------------------------------------------


def test_t_as_torch():
    for shape in [(), (3,), (2, 3)]:
        a = _rng().standard_normal(shape).astype(np.float32)
        _same(F.t(cr.tensor(a)), torch.t(torch.tensor(a)))
    with pytest.raises(ShapeError, match="t: expects a tensor of at most 2 dimensions"):
        F.t(cr.ones(2, 2, 2))


def test_view_as_clone():
    x = cr.tensor(np.arange(6.0), requires_grad=True)
    assert F.view_as(x, cr.ones(2, 3)).shape == (2, 3)
    with pytest.raises(ShapeError, match=r"view_as: cannot view a tensor of shape \(6,\) as shape \(4,\)"):
        F.view_as(x, cr.ones(4))
    c = F.clone(x)
    assert c.requires_grad and not np.shares_memory(c.numpy(), x.numpy())
    ints = cr.tensor([1, 2])
    assert F.clone(ints).dtype == cr.int64


def test_repeat_tile_as_torch():
    a = np.arange(6).reshape(2, 3)
    for sizes in [(2, 1), (1, 1), (3, 2, 2), (0, 2), (2, 1, 1, 1)]:
        _same(F.repeat(cr.tensor(a), *sizes), torch.tensor(a).repeat(*sizes))
        _same(F.repeat(cr.tensor(a), sizes), torch.tensor(a).repeat(sizes))
    for dims in [(), (2,), (2, 2), (2, 1, 3)]:
        _same(F.tile(cr.tensor(a), dims), torch.tile(torch.tensor(a), dims))
    with pytest.raises(ShapeError, match="repeat: 1 size"):
        F.repeat(cr.tensor(a), 2)
    with pytest.raises(ShapeError, match="non-negative"):
        F.repeat(cr.tensor(a), -1, 2)
    with pytest.raises(ArgumentTypeError, match="repeat"):
        F.repeat(cr.tensor(a), 2.0, 1)


def test_repeat_gradient_sums_the_copies():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    F.repeat(x, 2, 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 2), 6.0))


def test_flip_roll_as_torch():
    a = np.arange(24).reshape(2, 3, 4)
    t = torch.tensor(a)
    _same(F.flip(cr.tensor(a), (0, -1)), torch.flip(t, (0, -1)))
    _same(F.flip(cr.tensor(a), 1, 2), t.flip(1, 2))
    _same(F.flip(cr.tensor(a), axis=1), torch.flip(t, (1,)))
    _same(F.flip(cr.tensor(3), (0,)), torch.flip(torch.tensor(3), (0,)))
    assert not np.shares_memory(F.flip(cr.tensor(a), 0).numpy(), a)
    for shifts, dims in [(1, None), (-7, None), (2, 1), ((1, 2), (0, 2)), ((1, 1), (2, 2)), (5, -1)]:
        _same(F.roll(cr.tensor(a), shifts, dims), torch.roll(t, shifts, dims))
    _same(F.roll(cr.tensor(a), 1, axis=0), torch.roll(t, 1, 0))
    _same(F.roll(cr.ones(0, 3), 1, 0), torch.roll(torch.ones(0, 3), 1, 0))
    with pytest.raises(ShapeError, match="flip: dims .* more than once"):
        F.flip(cr.tensor(a), (0, 0))
    with pytest.raises(ShapeError, match="flip: dim 3 is out of range"):
        F.flip(cr.tensor(a), 3)
    with pytest.raises(ArgumentTypeError, match="flip: missing"):
        F.flip(cr.tensor(a))
    with pytest.raises(ArgumentError, match="flip: got both dims= and its NumPy alias axis="):
        F.flip(cr.tensor(a), 0, axis=1)
    with pytest.raises(ArgumentError, match="roll: shifts"):
        F.roll(cr.tensor(a), (1, 2), 0)
    with pytest.raises(ArgumentError, match="roll: 2 shifts"):
        F.roll(cr.tensor(a), (1, 2))
    with pytest.raises(ArgumentError, match="dims= and its NumPy alias axis="):
        F.roll(cr.tensor(a), 1, dims=0, axis=1)


def test_tril_triu_as_torch():
    a = np.arange(24.0).reshape(2, 3, 4).astype(np.float32)
    a[0, 0, 3] = np.inf  # above the diagonal: zeroed, not inf * 0 = nan
    for diag in (-3, -1, 0, 1, 2, 5):
        _same(F.tril(cr.tensor(a), diag), torch.tril(torch.tensor(a), diag))
        _same(F.triu(cr.tensor(a), diagonal=diag), torch.triu(torch.tensor(a), diagonal=diag))
    for dtype in (np.int64, np.int32, np.bool_):
        b = (np.arange(9).reshape(3, 3) % 2).astype(dtype)
        _same(F.tril(cr.tensor(b, dtype=dtype)), torch.tril(torch.tensor(b)))
        _same(F.triu(cr.tensor(b, dtype=dtype), 1), torch.triu(torch.tensor(b), 1))
    with pytest.raises(ShapeError, match="tril: needs a tensor of at least 2 dimensions"):
        F.tril(cr.ones(3))
    with pytest.raises(ArgumentTypeError, match="triu: diagonal"):
        F.triu(cr.ones(3, 3), 0.5)


def test_chunk_sizes_as_torch():
    for n in (0, 1, 5, 6, 7, 12):
        for chunks in (1, 2, 3, 4, 5, 7, 13):
            a = np.arange(2 * n).reshape(2, n)
            ours = F.chunk(cr.tensor(a), chunks, dim=1)
            ref = torch.chunk(torch.tensor(a), chunks, dim=1)
            assert isinstance(ours, tuple)
            assert [o.shape for o in ours] == [tuple(r.shape) for r in ref], (n, chunks)
            for o, r in zip(ours, ref):
                _same(o, r)
    assert len(F.chunk(cr.ones(4, 2), 2, axis=0)) == 2
    with pytest.raises(ArgumentError, match="chunk: chunks must be a positive int"):
        F.chunk(cr.ones(3), 0)
    with pytest.raises(ShapeError, match="chunk: needs a tensor of at least 1 dimension"):
        F.chunk(cr.tensor(3.0), 2)


# ---- scans -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
def test_scans_dtypes_and_arguments(name):
    f, tf = getattr(F, name), getattr(torch, name)
    for dtype in (np.int64, np.int32, np.uint8, np.bool_):
        a = np.array([[1, 2, 0], [3, 1, 1]]).astype(dtype)
        _same(f(cr.tensor(a, dtype=dtype), 1), tf(torch.tensor(a), 1))
    a = np.array([[1.0, 2.0, 0.5], [3.0, -1.0, 1.0]], np.float32)
    _same(f(cr.tensor(a), 0, dtype=cr.float64), tf(torch.tensor(a), 0, dtype=torch.float64))
    _same(f(cr.tensor(a), axis=-1), tf(torch.tensor(a), dim=-1))
    _same(f(cr.tensor(2.5), 0), tf(torch.tensor(2.5), 0))
    with pytest.raises(ArgumentTypeError, match=f"{name}: missing the argument dim"):
        f(cr.tensor(a))
    with pytest.raises(ShapeError, match=f"{name}: dim 2 is out of range"):
        f(cr.tensor(a), 2)
    with pytest.raises(ArgumentTypeError, match=f"{name}: dim must be an int"):
        f(cr.tensor(a), (0,))
    with pytest.raises(ArgumentError, match="dim= and its NumPy alias axis="):
        f(cr.tensor(a), 0, axis=1)


def test_cumprod_gradient_with_zeros_as_torch():
    # every row has zeros in other places (none, one, two, at the ends, all), in float64 against torch
    rng = np.random.default_rng(5)
    a = rng.uniform(0.5, 2.0, (40, 6)) * rng.choice([-1.0, 1.0], (40, 6))
    a[rng.random((40, 6)) < 0.25] = 0.0
    a[0] = 0.0
    a[1, -1] = a[2, 0] = 0.0
    g = rng.standard_normal(a.shape)
    for dim in (0, 1):
        x, t = cr.tensor(a, dtype=cr.float64, requires_grad=True), torch.tensor(a, requires_grad=True)
        F.cumprod(x, dim).backward(g)
        torch.cumprod(t, dim).backward(torch.tensor(g))
        assert np.isfinite(x.grad.numpy()).all()
        _, (mag,) = T.linear(lambda v, d=dim: torch.cumprod(v, d), [a], [g])
        T.assert_close(x.grad.numpy(), t.grad, mag)


# ---- indexing ----------------------------------------------------------------------------------------------------


def test_gather_as_torch_and_its_checks():
    a = np.arange(12.0).reshape(3, 4).astype(np.float32)
    idx = np.array([[2, 0], [1, 1]])
    _same(F.gather(cr.tensor(a), 0, idx), torch.gather(torch.tensor(a), 0, torch.tensor(idx)))
    _same(F.gather(cr.tensor(a), index=cr.tensor(idx), axis=1), torch.gather(torch.tensor(a), 1, torch.tensor(idx)))
    _same(F.gather(cr.tensor(3.0), 0, np.array(0)), torch.gather(torch.tensor(3.0), 0, torch.tensor(0)))
    _same(F.gather(cr.tensor([3.0, 4.0]), 0, np.array(1)), torch.gather(torch.tensor([3.0, 4.0]), 0, torch.tensor(1)))
    _same(F.gather(cr.tensor(np.arange(6).reshape(2, 3)), 1, idx), torch.gather(torch.arange(6).reshape(2, 3), 1,
                                                                                   torch.tensor(idx)))
    with pytest.raises(DTypeError, match="gather: index must be int64, got int32"):
        F.gather(cr.tensor(a), 0, idx.astype(np.int32))
    with pytest.raises(OutOfRangeError, match="gather: index 3 is out of range for dimension 0 of size 3"):
        F.gather(cr.tensor(a), 0, np.array([[3]]))
    with pytest.raises(OutOfRangeError, match="gather: index -1 is out of range"):
        F.gather(cr.tensor(a), 1, np.array([[-1]]))
    with pytest.raises(ShapeError, match="gather: index of shape .* as many dimensions"):
        F.gather(cr.tensor(a), 0, np.array([0, 1]))
    with pytest.raises(ShapeError, match="gather: index of shape .* larger than the input"):
        F.gather(cr.tensor(a), 0, np.zeros((1, 5), np.int64))
    with pytest.raises(ShapeError, match="gather: dim 2 is out of range"):
        F.gather(cr.tensor(a), 2, idx)
    with pytest.raises(ArgumentTypeError, match="gather: missing the argument dim"):
        F.gather(cr.tensor(a), index=idx)


def test_gather_gradient_adds_at_repeats():
    x = cr.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    F.gather(x, 1, np.array([[2, 2, 0, 2]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.0, 3.0]])


def test_scatter_as_torch_and_its_checks():
    a = np.zeros((3, 4), np.float32)
    idx = np.array([[1, 0, 2], [0, 2, 1]])
    src = np.arange(1.0, 7.0).reshape(2, 3).astype(np.float32)
    ta, tidx, tsrc = torch.tensor(a), torch.tensor(idx), torch.tensor(src)
    _same(F.scatter(cr.tensor(a), 0, idx, cr.tensor(src)), torch.scatter(ta, 0, tidx, tsrc))
    _same(F.scatter(cr.tensor(a), 1, idx, 2.5), torch.scatter(ta, 1, tidx, 2.5))
    _same(F.scatter(cr.tensor(a), 1, idx, value=cr.tensor(2.5)), torch.scatter(ta, 1, tidx, value=2.5))
    big = np.arange(20.0).reshape(4, 5).astype(np.float32)  # src larger than the index: its first elements are used
    _same(F.scatter(cr.tensor(a), 0, idx, cr.tensor(big)), torch.scatter(ta, 0, tidx, torch.tensor(big)))
    ints = np.zeros((2, 2), np.int64)
    _same(F.scatter(cr.tensor(ints), 0, np.array([[1]]), 5.7), torch.scatter(torch.tensor(ints), 0,
                                                                             torch.tensor([[1]]), 5.7))
    _same(F.scatter_add(cr.tensor(a), 0, np.array([[1, 1, 1], [1, 1, 0]]), cr.tensor(src)),
          torch.scatter_add(ta, 0, torch.tensor([[1, 1, 1], [1, 1, 0]]), tsrc))
    _same(F.scatter_add(cr.tensor(3.0), 0, np.array(0), cr.tensor(2.0)),
          torch.scatter_add(torch.tensor(3.0), 0, torch.tensor(0), torch.tensor(2.0)))
    with pytest.raises(DTypeError, match="scatter: src has dtype float64 but the input has float32"):
        F.scatter(cr.tensor(a), 0, idx, cr.tensor(src, dtype=cr.float64))
    with pytest.raises(DTypeError, match="scatter_add: index must be int64"):
        F.scatter_add(cr.tensor(a), 0, idx.astype(np.int32), cr.tensor(src))
    with pytest.raises(OutOfRangeError, match="scatter_add: index 4 is out of range for dimension 1 of size 4"):
        F.scatter_add(cr.tensor(a), 1, np.array([[4]]), cr.tensor(src))
    with pytest.raises(ShapeError, match="no larger than src"):
        F.scatter(cr.tensor(a), 0, idx, cr.tensor(src[:1]))
    with pytest.raises(ArgumentTypeError, match="either src"):
        F.scatter(cr.tensor(a), 0, idx)
    with pytest.raises(ArgumentTypeError, match="either src"):
        F.scatter(cr.tensor(a), 0, idx, cr.tensor(src), value=1.0)
    with pytest.raises(ArgumentTypeError, match="scatter_add: missing the argument src"):
        F.scatter_add(cr.tensor(a), 0, idx)


def test_scatter_gradients():
    x = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    src = cr.tensor(np.arange(1.0, 10.0).reshape(3, 3), requires_grad=True)  # larger than the index
    idx = np.array([[1, 0, 1]])
    g = np.arange(6.0).reshape(2, 3)
    F.scatter(x, 0, idx, src).backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0, 2.0], [0.0, 4.0, 0.0]])  # zero where written
    np.testing.assert_array_equal(src.grad.numpy(), [[3.0, 1.0, 5.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    x.grad = src.grad = None
    F.scatter_add(x, 0, np.array([[1, 1, 0], [1, 0, 0]]), src).backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), g)
    np.testing.assert_array_equal(src.grad.numpy(), [[3.0, 4.0, 2.0], [3.0, 1.0, 2.0], [0.0, 0.0, 0.0]])
    x.grad = None
    F.scatter(x, 1, np.array([[0], [2]]), 7.0).backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 2.0], [3.0, 4.0, 0.0]])


def test_index_select_as_torch_and_its_checks():
    a = np.arange(12).reshape(3, 4)
    t = torch.tensor(a)
    for dim, idx in [(0, [2, 0, 2]), (1, [3]), (-1, []), (1, np.array(1))]:
        index = np.asarray(idx, dtype=np.int64)
        _same(F.index_select(cr.tensor(a), dim, index), torch.index_select(t, dim, torch.tensor(index)))
    _same(F.index_select(cr.tensor(a), 1, np.array([1, 0], np.int32)),
          torch.index_select(t, 1, torch.tensor([1, 0], dtype=torch.int32)))
    _same(F.index_select(cr.tensor(3.0), 0, np.array([0])), torch.index_select(torch.tensor(3.0), 0, torch.tensor([0])))
    with pytest.raises(DTypeError, match="index_select: index must be int64 or int32, got float64"):
        F.index_select(cr.tensor(a), 0, np.array([1.0]))
    with pytest.raises(ShapeError, match="index_select: index must be 1-d"):
        F.index_select(cr.tensor(a), 0, np.array([[1]]))
    with pytest.raises(OutOfRangeError, match="index_select: index 4 is out of range for dimension 1 of size 4"):
        F.index_select(cr.tensor(a), 1, np.array([0, 4]))
    with pytest.raises(OutOfRangeError, match="index_select: index -1"):
        F.index_select(cr.tensor(a), 1, np.array([-1]))


def test_masked_fill_as_torch_and_its_checks():
    a = np.arange(6.0).reshape(2, 3).astype(np.float32)
    mask = np.array([True, False, True])
    ta, tm = torch.tensor(a), torch.tensor(mask)
    _same(F.masked_fill(cr.tensor(a), mask, -1.0), torch.masked_fill(ta, tm, -1.0))
    _same(F.masked_fill(cr.tensor(a), cr.tensor(mask), float("nan")), torch.masked_fill(ta, tm, float("nan")))
    _same(F.masked_fill(cr.tensor(a[0]), np.ones((2, 3), bool), 1.0),
          torch.masked_fill(ta[0], torch.ones(2, 3, dtype=torch.bool), 1.0))  # broadcast together
    _same(F.masked_fill(cr.tensor(a), mask, cr.tensor(2.5, dtype=cr.float64)),
          torch.masked_fill(ta, tm, torch.tensor(2.5, dtype=torch.float64)))
    ints = np.arange(3)
    _same(F.masked_fill(cr.tensor(ints), mask, 2.7), torch.masked_fill(torch.tensor(ints), tm, 2.7))
    _same(F.masked_fill(cr.tensor(ints), mask, cr.tensor(2.7)), torch.masked_fill(torch.tensor(ints), tm,
                                                                                 torch.tensor(2.7)))
    with pytest.raises(DTypeError, match="masked_fill: mask must be a bool tensor, got uint8"):
        F.masked_fill(cr.tensor(a), mask.astype(np.uint8), 1.0)
    with pytest.raises(ShapeError, match="masked_fill: value must be a number or a 0-d tensor"):
        F.masked_fill(cr.tensor(a), mask, cr.tensor([1.0]))
    with pytest.raises(ShapeError, match="does not broadcast"):
        F.masked_fill(cr.tensor(a), np.ones(2, bool), 1.0)
    with pytest.raises(ArgumentTypeError, match="masked_fill: value"):
        F.masked_fill(cr.tensor(a), mask, "x")


def test_masked_fill_value_gradient_sums_over_the_mask():
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    v = cr.tensor(0.0, requires_grad=True)
    F.masked_fill(x, np.array([True, False, True]), v).sum().backward()
    assert v.grad.item() == 4.0
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])


# ---- sort and topk -----------------------------------------------------------------------------------------------

TIES = np.array([[3.0, 1.0, 3.0, 2.0, 1.0, 3.0, np.nan, 1.0, np.nan, -0.0, 0.0, -np.inf],
                 [0.0, 0.0, 0.0, 5.0, 5.0, -1.0, -1.0, np.inf, 2.0, 2.0, 0.0, 0.0]], np.float32)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_ties_and_nan_as_torch_stable(descending, dim):
    a = np.concatenate([TIES, TIES[::-1], TIES[:, ::-1]])
    out = F.sort(cr.tensor(a), dim=dim, descending=descending, stable=True)
    ref = torch.sort(torch.tensor(a), dim=dim, descending=descending, stable=True)
    assert type(out).__name__ == "sort" and out._fields == ("values", "indices")
    _same(out.values, ref.values)
    _same(out.indices, ref.indices)
    values, indices = F.sort(cr.tensor(a), dim, descending)  # unpacks as a pair, positional arguments as torch
    _same(indices, ref.indices)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_, np.float64])
def test_sort_other_dtypes_as_torch(dtype):
    a = np.array([[3, 1, 2, 1, 0, 3], [1, 1, 0, 0, 1, 2]]).astype(dtype)
    for descending in (False, True):
        out = F.sort(cr.tensor(a, dtype=dtype), descending=descending)
        ref = torch.sort(torch.tensor(a), descending=descending, stable=True)
        _same(out.values, ref.values)
        _same(out.indices, ref.indices)


def test_sort_values_gradient_and_0d():
    x = cr.tensor([3.0, 1.0, 2.0], requires_grad=True)
    out = F.sort(x, descending=True)
    assert out.values.requires_grad and not out.indices.requires_grad
    out.values.backward(np.array([10.0, 20.0, 30.0], np.float32))
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 30.0, 20.0])
    z = F.sort(cr.tensor(2.0), 0)
    ref = torch.sort(torch.tensor(2.0), 0)
    _same(z.values, ref.values)
    _same(z.indices, ref.indices)
    _same(F.sort(cr.tensor(np.arange(3.0)), axis=0).values, torch.sort(torch.arange(3.0), 0).values)
    with pytest.raises(ShapeError, match="sort: dim 1 is out of range"):
        F.sort(cr.ones(3), 1)
    with pytest.raises(ArgumentError, match="dim= and its NumPy alias axis="):
        F.sort(cr.ones(3, 2), dim=0, axis=1)


@pytest.mark.parametrize("largest", [True, False])
def test_topk_as_torch(largest):
    a = np.random.default_rng(3).permutation(24).reshape(4, 6).astype(np.float32)
    for k, dim in [(0, -1), (1, -1), (3, 1), (6, 1), (2, 0), (4, 0)]:
        out = F.topk(cr.tensor(a), k, dim, largest)
        ref = torch.topk(torch.tensor(a), k, dim, largest)
        assert type(out).__name__ == "topk" and out._fields == ("values", "indices")
        _same(out.values, ref.values)
        _same(out.indices, ref.indices)  # no ties: the indices are determined
    _same(F.topk(cr.tensor([1, 5, 3]), 2, largest=largest).values,
          torch.topk(torch.tensor([1, 5, 3]), 2, largest=largest).values)


def test_topk_ties_nan_and_edges():
    a = TIES
    for largest in (True, False):
        out = F.topk(cr.tensor(a), 5, largest=largest)
        ref = torch.topk(torch.tensor(a), 5, largest=largest)
        _same(out.values, ref.values)  # torch breaks ties in no documented order; chainrule takes the lower index
        np.testing.assert_array_equal(np.take_along_axis(a, out.indices.numpy(), 1), out.values.numpy())
        assert out.indices.dtype == cr.int64
    out = F.topk(cr.tensor([1.0, 3.0, 3.0, 2.0, 3.0]), 2)
    np.testing.assert_array_equal(out.indices.numpy(), [1, 2])
    for k in (0, 1):
        z, ref = F.topk(cr.tensor(2.0), k), torch.topk(torch.tensor(2.0), k)
        _same(z.values, ref.values)
        _same(z.indices, ref.indices)
    x = cr.tensor([1.0, 4.0, 2.0, 3.0], requires_grad=True)
    F.topk(x, 2).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0, 1.0])
    with pytest.raises(OutOfRangeError, match="topk: k = 4 is out of range for dimension -1 of size 3"):
        F.topk(cr.ones(3), 4)
    with pytest.raises(OutOfRangeError, match="topk: k = -1"):
        F.topk(cr.ones(3), -1)
    with pytest.raises(ArgumentTypeError, match="topk: k must be an int"):
        F.topk(cr.ones(3), 1.0)


# ---- products over dimensions, more products ----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.bool_, np.float64])
def test_prod_dtypes_as_torch(dtype):
    a = np.array([[1, 2, 0], [3, 1, 2]]).astype(dtype)
    for args in [(), (1,), (0, True)]:
        _same(F.prod(cr.tensor(a, dtype=dtype), *args), torch.prod(torch.tensor(a), *args))
    _same(F.prod(cr.tensor(a, dtype=dtype), 1, dtype=cr.float64), torch.prod(torch.tensor(a), 1, dtype=torch.float64))


def test_prod_edges_and_arguments():
    _same(F.prod(cr.ones(2, 0)), torch.prod(torch.ones(2, 0)))  # the empty product is 1
    _same(F.prod(cr.tensor(2.5), 0), torch.prod(torch.tensor(2.5), 0))
    _same(cr.tensor([[1.0, 2.0], [3.0, 4.0]]).prod(axis=0, keepdims=True), torch.tensor([[3.0, 8.0]]))
    with pytest.raises(ArgumentError, match="prod: got both dim= and its NumPy alias axis="):
        F.prod(cr.ones(2, 2), 0, axis=1)
    with pytest.raises(ShapeError, match="prod: axis 2 is out of range"):
        F.prod(cr.ones(2, 2), 2)


def test_prod_gradient_with_zeros_in_float64_as_torch():
    a = np.array([[0.0, 2.0, 0.0], [0.0, 3.0, -1.0], [2.0, 0.5, 4.0]])
    x, t = cr.tensor(a, dtype=cr.float64, requires_grad=True), torch.tensor(a, requires_grad=True)
    F.prod(x, 1).sum().backward()
    torch.prod(t, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())  # products of exact numbers: exact


def test_square_dtypes_as_torch():
    for dtype in (np.int32, np.int64, np.uint8, np.bool_, np.float64):
        a = np.array([[1, 0, 3]]).astype(dtype)
        _same(F.square(cr.tensor(a, dtype=dtype)), torch.square(torch.tensor(a)))


def test_dot_mv_outer_check_their_operands_and_keep_integers():
    u, v = [1, 2, 3], [4, 5, 6]
    _same(F.dot(cr.tensor(u), cr.tensor(v)), torch.dot(torch.tensor(u), torch.tensor(v)))
    _same(F.mv(cr.tensor([[1, 2], [3, 4]]), cr.tensor([1, -1])), torch.mv(torch.tensor([[1, 2], [3, 4]]),
                                                                          torch.tensor([1, -1])))
    u, v = [1, 2], [1.5, 2.0]
    _same(F.outer(cr.tensor(u), cr.tensor(v)), torch.outer(torch.tensor(u), torch.tensor(v)))
    _same(F.outer(cr.ones(0), cr.ones(2)), torch.outer(torch.ones(0), torch.ones(2)))
    with pytest.raises(ShapeError, match=r"dot: expected two 1-D tensors, got shapes \(3, 1\) and \(3,\)"):
        F.dot(cr.ones(3, 1), cr.ones(3))
    with pytest.raises(ShapeError, match="dot: the vectors have different lengths, 3 and 4"):
        F.dot(cr.ones(3), cr.ones(4))
    with pytest.raises(DTypeError, match="dot: expected operands of one dtype, got float32 and float64"):
        F.dot(cr.ones(3), cr.ones(3, dtype=cr.float64))
    with pytest.raises(DTypeError, match="dot: not defined for bool"):
        F.dot(cr.tensor([True]), cr.tensor([True]))
    with pytest.raises(ShapeError, match=r"mv: cannot multiply a matrix of shape \(2, 3\) by a vector of length 2"):
        F.mv(cr.ones(2, 3), cr.ones(2))
    with pytest.raises(ShapeError, match="mv: expected a 2-D matrix and a 1-D vector"):
        F.mv(cr.ones(3), cr.ones(3))
    with pytest.raises(ShapeError, match=r"outer: expected a 1-D tensor as input, got a tensor of shape \(2, 2\)"):
        F.outer(cr.ones(2, 2), cr.ones(2))


def test_addmm_family_scales_and_ignores_the_input_at_beta_0():
    b = np.array([np.nan, 1.0, np.inf], np.float32)
    x = cr.tensor(b, requires_grad=True)
    m1, m2 = np.ones((2, 4), np.float32), np.ones((4, 3), np.float32)
    out = F.addmm(x, cr.tensor(m1), cr.tensor(m2), beta=0, alpha=0.5)
    ref = torch.addmm(torch.tensor(b), torch.tensor(m1), torch.tensor(m2), beta=0, alpha=0.5)
    _same(out, ref)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(3))  # as torch: beta * grad, 0
    _same(x.addmm(cr.tensor(m1), cr.tensor(m2), beta=2), torch.tensor(b).addmm(torch.tensor(m1), torch.tensor(m2),
                                                                                  beta=2))
    with pytest.raises(ShapeError, match=r"addmm: input of shape \(2,\) does not broadcast to the product's shape"):
        F.addmm(cr.ones(2), cr.tensor(m1), cr.tensor(m2))
    with pytest.raises(ShapeError, match=r"addmm: input of shape \(3, 1, 1\)"):
        F.addmm(cr.ones(3, 1, 1), cr.tensor(m1), cr.tensor(m2))
    with pytest.raises(DTypeError, match="addmm: expected operands of one dtype"):
        F.addmm(cr.ones(3, dtype=cr.float64), cr.tensor(m1), cr.tensor(m2))
    with pytest.raises(ShapeError, match="bmm: expected two 3-D tensors"):
        F.baddbmm(cr.ones(3), cr.ones(2, 4), cr.ones(4, 3))
    _same(F.addmv(cr.ones(2), cr.tensor(m1), cr.ones(4), alpha=3),
          torch.addmv(torch.ones(2), torch.tensor(m1), torch.ones(4), alpha=3))


def test_cross_default_dim_and_checks():
    rng = _rng()
    a, b = rng.standard_normal((4, 3, 3)), rng.standard_normal((4, 3, 3))
    with pytest.warns(UserWarning):  # torch warns when dim is left out; chainrule takes the same first size-3 dim
        ref = torch.cross(torch.tensor(a), torch.tensor(b))
    out = F.cross(cr.tensor(a, dtype=cr.float64), cr.tensor(b, dtype=cr.float64))
    (mag,), _ = T.linear(lambda p, q: p[:, [1, 2, 0]] * q[:, [2, 0, 1]] + p[:, [2, 0, 1]] * q[:, [1, 2, 0]], [a, b])
    T.assert_close(out.numpy(), ref, mag)
    _same(F.cross(cr.tensor([1, 0, 0]), cr.tensor([0, 1, 0])), torch.cross(torch.tensor([1, 0, 0]),
                                                                            torch.tensor([0, 1, 0]), dim=0))
    with pytest.raises(ShapeError, match=r"cross: no dimension of size 3 in shape \(2, 4\)"):
        F.cross(cr.ones(2, 4), cr.ones(2, 4))
    with pytest.raises(ShapeError, match="cross: dimension 0 must have length 3 in both inputs"):
        F.cross(cr.ones(2, 3), cr.ones(2, 3), dim=0)
    with pytest.raises(ShapeError, match="cross: the inputs need the same number of dimensions"):
        F.cross(cr.ones(4, 3), cr.ones(3))
    with pytest.raises(DTypeError, match="cross: expected operands of one dtype"):
        F.cross(cr.ones(3), cr.ones(3, dtype=cr.float64))


def test_cdist_norms_zero_distance_gradient_and_checks():
    a = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, -1.0]], np.float32)
    x, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    out, ref = F.cdist(x, x), torch.cdist(t, t)
    out.sum().backward()
    ref.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    T.assert_close(x.grad.numpy(), t.grad, np.abs(t.grad.numpy()) + 1)  # zero rows of the difference add nothing
    for p in (0, math.inf, 3):
        (mag,), _ = T.linear(lambda u, v, p=p: torch.cdist(u, -v, p=p), [a, a])  # the norm of |x1| + |x2|
        T.assert_close(F.cdist(cr.tensor(a), cr.tensor(a), p=p).numpy(), torch.cdist(torch.tensor(a), torch.tensor(a),
                                                                                     p=p), mag + 1)
    _same(F.cdist(cr.ones(2, 0), cr.ones(3, 0)), torch.cdist(torch.ones(2, 0), torch.ones(3, 0)))
    with pytest.raises(ShapeError, match="cdist: x1 and x2 need the same number of columns"):
        F.cdist(cr.ones(4, 3), cr.ones(5, 2))
    with pytest.raises(ShapeError, match="cdist: expected tensors of at least 2 dimensions"):
        F.cdist(cr.ones(3), cr.ones(3))
    with pytest.raises(ArgumentError, match="cdist: p must be a non-negative number, got -1"):
        F.cdist(cr.ones(4, 3), cr.ones(5, 3), p=-1)
    with pytest.raises(DTypeError, match="cdist: expected floating tensors, got int64"):
        F.cdist(cr.ones(4, 3, dtype=cr.int64), cr.ones(5, 3, dtype=cr.int64))


# ---- diagonals, grids, slices -------------------------------------------------------------------------------------


def test_diag_diagonal_trace_as_torch_and_checks():
    m = np.arange(12).reshape(3, 4)
    for k in (-3, -1, 0, 2, 5):
        _same(F.diag(cr.tensor(m), k), torch.diag(torch.tensor(m), k))
        _same(F.diag(cr.tensor(m[0]), k), torch.diag(torch.tensor(m[0]), k))
    _same(F.diag(cr.ones(0)), torch.diag(torch.ones(0)))
    c = np.arange(24).reshape(2, 3, 4)
    for args in [(0, 0, 1), (1, 2, 0), (-1, 2, 0), (2, -1, -3), (7, 0, 2)]:
        _same(F.diagonal(cr.tensor(c), *args), torch.diagonal(torch.tensor(c), *args))
    for dtype in (np.int32, np.uint8, np.float64):
        a = m.astype(dtype)
        _same(F.trace(cr.tensor(a, dtype=dtype)), torch.trace(torch.tensor(a)))
    with pytest.raises(ShapeError, match="diag: supports 1-D and 2-D tensors, got shape"):
        F.diag(cr.ones(2, 2, 2))
    with pytest.raises(ShapeError, match="diagonal: needs a tensor of at least 2 dimensions"):
        F.diagonal(cr.ones(3))
    with pytest.raises(ShapeError, match="diagonal: dim1 and dim2 name the same dimension 1"):
        F.diagonal(cr.ones(3, 3), 0, 1, -1)
    with pytest.raises(ShapeError, match=r"trace: expected a matrix \(2-D\)"):
        F.trace(cr.ones(2, 3, 4))
    with pytest.raises(DTypeError, match="trace: not defined for bool"):
        F.trace(cr.ones(2, 2, dtype=cr.bool_))
    with pytest.raises(ArgumentTypeError, match="diag: diagonal must be an int"):
        F.diag(cr.ones(2), 1.0)


def test_meshgrid_as_torch_and_checks():
    a, b = np.arange(2), np.arange(3)
    with pytest.warns(UserWarning):
        ref = torch.meshgrid(torch.tensor(a), torch.tensor(b))  # torch warns when indexing is left out
    out = F.meshgrid(cr.tensor(a), cr.tensor(b))  # 'ij', as torch's default
    for o, r in zip(out, ref):
        _same(o, r)
    for o, r in zip(F.meshgrid([cr.tensor(a), cr.tensor(5)], indexing="xy"),
                    torch.meshgrid([torch.tensor(a), torch.tensor(5)], indexing="xy")):
        _same(o, r)
    _same(F.meshgrid(cr.tensor(a), indexing="xy")[0], torch.meshgrid(torch.tensor(a), indexing="xy")[0])
    with pytest.raises(ArgumentError, match="meshgrid: needs at least one tensor"):
        F.meshgrid(indexing="xy")
    with pytest.raises(ArgumentError, match="meshgrid: indexing must be 'ij' or 'xy', got 'ji'"):
        F.meshgrid(cr.tensor(a), indexing="ji")
    with pytest.raises(ShapeError, match=r"meshgrid: expects 0-d or 1-d tensors, got shape \(2, 2\)"):
        F.meshgrid(cr.ones(2, 2))
    with pytest.raises(DTypeError, match="meshgrid: expected operands of one dtype"):
        F.meshgrid(cr.tensor(a), cr.tensor(b, dtype=cr.float32))


def test_narrow_as_torch_and_checks():
    x = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    for args in [(1, -2, 2), (0, 1, 2), (1, 4, 0), (-1, 0, 4)]:
        _same(F.narrow(cr.tensor(x), *args), torch.narrow(torch.tensor(x), *args))
    _same(cr.tensor(x).narrow(0, cr.tensor(1), 2), torch.tensor(x).narrow(0, torch.tensor(1), 2))
    with pytest.raises(OutOfRangeError, match=r"narrow: start \(3\) \+ length \(2\) exceeds dimension 1 of size 4"):
        F.narrow(cr.tensor(x), 1, 3, 2)
    with pytest.raises(OutOfRangeError, match="narrow: start -5 is out of range for dimension 1 of size 4"):
        F.narrow(cr.tensor(x), 1, -5, 1)
    with pytest.raises(ArgumentError, match="narrow: length must be non-negative"):
        F.narrow(cr.tensor(x), 1, 0, -1)
    with pytest.raises(ShapeError, match="narrow: cannot be applied to a 0-d tensor"):
        F.narrow(cr.tensor(1.0), 0, 0, 1)
    with pytest.raises(ShapeError, match="narrow: dim 2 is out of range"):
        F.narrow(cr.tensor(x), 2, 0, 1)
    with pytest.raises(ArgumentTypeError, match="narrow: start must be an int"):
        F.narrow(cr.tensor(x), 1, 1.0, 1)


# ---- indices of elements, sorting, unique values ------------------------------------------------------------------

NONZERO_INPUTS = [np.array([[0, 1], [2, 0]]), np.array(3.0), np.array(0.0), np.array([[True, False, True]]),
                  np.array([0.0, np.nan, -0.0, 2.0]), np.zeros((2, 0, 3)), np.arange(24).reshape(2, 3, 4) % 3]


@pytest.mark.parametrize("k", range(len(NONZERO_INPUTS)))
def test_nonzero_argwhere_as_torch(k):
    a = NONZERO_INPUTS[k]
    x, t = cr.tensor(a, dtype=a.dtype), torch.tensor(a)
    _same(F.nonzero(x), torch.nonzero(t))
    _same(F.argwhere(x), torch.argwhere(t))
    _same(x.nonzero(), t.nonzero())
    ours, theirs = F.nonzero(x, as_tuple=True), torch.nonzero(t, as_tuple=True)
    assert len(ours) == len(theirs)
    for o, r in zip(ours, theirs):
        _same(o, r)
    if a.ndim:  # as an index, the way where(condition) is used: x[where(x > 0)]
        _same(x[F.nonzero(x, as_tuple=True)], t[torch.where(t)])


@pytest.mark.parametrize("descending", [False, True])
def test_argsort_ties_and_nan_as_torch_stable(descending):
    a = np.array([[3.0, 1.0, np.nan, 1.0, 3.0, -np.inf], [0.0, -0.0, 2.0, np.nan, 2.0, 0.0]], np.float32)
    for dim in (0, 1, -1):
        _same(F.argsort(cr.tensor(a), dim, descending), torch.argsort(torch.tensor(a), dim=dim, descending=descending,
                                                                                  stable=True))
    _same(cr.tensor(a).argsort(descending=descending, stable=True),
          torch.tensor(a).argsort(descending=descending, stable=True))
    _same(F.argsort(cr.tensor(2.0)), torch.argsort(torch.tensor(2.0)))


UNIQUE_INPUTS = [np.array([3, 1, 2, 1, 3]), np.array([[1, 2], [3, 1]]), np.array([1.0, np.nan, np.nan, 1.0, -2.0]),
                 np.array([True, False, True]), np.array(2.0), np.array([], np.int64),
                 np.array([[1.5, -2.0], [-2.5, 1.0], [1.5, -2.0], [-1.5, -3.0]], np.float32)]


@pytest.mark.parametrize("k", range(len(UNIQUE_INPUTS)))
@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)])
def test_unique_as_torch(k, flags):
    a = UNIQUE_INPUTS[k]
    inverse, counts = flags
    dims = [None] + ([0, 1, -1] if a.ndim == 2 else [])
    for dim in dims:
        for s in (True, False):
            out = F.unique(cr.tensor(a, dtype=a.dtype), s, inverse, counts, dim)
            ref = torch.unique(torch.tensor(a), s, inverse, counts, dim)
            if not (inverse or counts):
                out, ref = (out,), (ref,)
            assert len(out) == len(ref)
            for o, r in zip(out, ref):
                _same(o, r)


def test_unique_method_and_dim_of_a_0d_tensor():
    _same(cr.tensor([2, 2, 1]).unique(), torch.tensor([2, 2, 1]).unique())
    with pytest.raises(ShapeError, match="unique: dim needs a tensor of at least 1 dimension"):
        F.unique(cr.tensor(2.0), dim=0)


def test_count_nonzero_as_torch():
    a = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, np.nan]])
    for dim in (None, 0, 1, (0, 1), -1):
        _same(F.count_nonzero(cr.tensor(a), dim), torch.count_nonzero(torch.tensor(a), dim))
    _same(cr.tensor([True, False]).count_nonzero(), torch.tensor([True, False]).count_nonzero())
    _same(F.count_nonzero(cr.tensor(2.0), 0), torch.count_nonzero(torch.tensor(2.0), 0))


def test_bincount_as_torch_and_checks():
    for a, kw in [([1, 1, 3], {}), ([1, 1, 3], {"minlength": 6}), ([], {}), ([], {"minlength": 2})]:
        _same(F.bincount(cr.tensor(a, dtype=cr.int64), **kw), torch.bincount(torch.tensor(a, dtype=torch.long), **kw))
    idx = np.array([0, 2, 2], np.int32)
    _same(F.bincount(cr.tensor(idx, dtype=cr.int32)), torch.bincount(torch.tensor(idx)))
    small = idx.astype(np.uint8)
    _same(F.bincount(cr.tensor(small, dtype=cr.uint8)), torch.bincount(torch.tensor(small)))
    for w in (np.array([0.5, 1.0, 0.25], np.float32), np.array([1, 2, 3]), np.array([0.5, 1.0, 0.25])):
        _same(F.bincount(cr.tensor(idx, dtype=cr.int32), cr.tensor(w, dtype=w.dtype)),
              torch.bincount(torch.tensor(idx), torch.tensor(w)))
    with pytest.raises(ArgumentError, match="bincount: the values must be non-negative, got -1"):
        F.bincount(cr.tensor([-1]))
    with pytest.raises(ShapeError, match="bincount: expected a 1-D tensor"):
        F.bincount(cr.tensor([[1]]))
    with pytest.raises(DTypeError, match="bincount: expected an integer tensor, got float32"):
        F.bincount(cr.tensor([1.0]))
    with pytest.raises(DTypeError, match="bincount: expected an integer tensor, got bool"):
        F.bincount(cr.tensor([True]))
    with pytest.raises(ArgumentError, match="bincount: minlength must be >= 0"):
        F.bincount(cr.tensor([1]), minlength=-1)
    with pytest.raises(ShapeError, match="bincount: weights must be 1-D with one per element"):
        F.bincount(cr.tensor([1, 2]), cr.ones(3))


# ---- selections by mask and by flat index --------------------------------------------------------------------------


def test_masked_select_take_take_along_dim_as_torch():
    x = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    mask = np.array([True, False, True])
    _same(F.masked_select(cr.tensor(x), cr.tensor(mask)), torch.masked_select(torch.tensor(x), torch.tensor(mask)))
    _same(F.masked_select(cr.tensor(2.0), cr.tensor([[True], [False]])),
          torch.masked_select(torch.tensor(2.0), torch.tensor([[True], [False]])))
    _same(F.masked_select(cr.tensor(2.0), cr.tensor(True)), torch.masked_select(torch.tensor(2.0), torch.tensor(True)))
    _same(F.take(cr.tensor(3.0), cr.tensor(0)), torch.take(torch.tensor(3.0), torch.tensor(0)))
    flat = [[-1, 0], [5, 2]]
    _same(F.take(cr.tensor(x), cr.tensor(flat)), torch.take(torch.tensor(x), torch.tensor(flat)))
    for idx, dim in [([[2, 0]], 1), ([5, 0], None), ([[0], [1]], 0), ([[-1]], 1)]:
        _same(F.take_along_dim(cr.tensor(x), cr.tensor(idx), dim), torch.take_along_dim(torch.tensor(x),
                                                                                         torch.tensor(idx), dim))
    wide, tall = np.arange(6.0, dtype=np.float32).reshape(2, 1, 3), np.array([[[0, 2]] * 4])  # broadcast: (2, 4, 2)
    _same(F.take_along_dim(cr.tensor(wide), cr.tensor(tall), 2),
          torch.take_along_dim(torch.tensor(wide), torch.tensor(tall), 2))


def test_masked_select_take_take_along_dim_checks():
    x = cr.ones(2, 3)
    with pytest.raises(DTypeError, match="masked_select: mask must be a bool tensor, got int64"):
        F.masked_select(x, cr.tensor([1, 0, 1]))
    with pytest.raises(ShapeError, match=r"masked_select: the mask's shape \(2,\) does not broadcast"):
        F.masked_select(x, cr.tensor([True, False]))
    with pytest.raises(OutOfRangeError, match="take: index 6 is out of range for a tensor of 6 elements"):
        F.take(x, cr.tensor([6]))
    with pytest.raises(OutOfRangeError, match="take: index -7 is out of range"):
        F.take(x, cr.tensor([-7]))
    with pytest.raises(DTypeError, match="take: index must be int64, got int32"):
        F.take(x, cr.tensor([1], dtype=cr.int32))
    with pytest.raises(ShapeError, match="take_along_dim: input and indices need the same number of dimensions"):
        F.take_along_dim(x, cr.tensor([1]), 1)
    with pytest.raises(ShapeError, match=r"take_along_dim: shapes \(2, 3\) and \(3, 1\) do not broadcast in dim"):
        F.take_along_dim(x, cr.zeros(3, 1, dtype=cr.int64), 1)
    with pytest.raises(OutOfRangeError, match="take_along_dim: index 3 is out of range for dimension 1 of size 3"):
        F.take_along_dim(x, cr.tensor([[3]]), 1)
    with pytest.raises(OutOfRangeError, match="take_along_dim: index -1 is out of range for dimension 0 of size 6"):
        F.take_along_dim(x, cr.tensor([-1]))


# ---- comparisons as a whole, logic --------------------------------------------------------------------------------

_A = [1.0, np.nan, np.inf, -np.inf, 1e-9, 1.0, np.inf, 100.0]
_B = [1.0, np.nan, np.inf, np.inf, 0.0, 1.00001, 1.0, 100.001]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_isclose_allclose_as_torch(dtype):
    a, b = np.array(_A, dtype), np.array(_B, dtype)
    x, y, tx, ty = cr.tensor(a, dtype=dtype), cr.tensor(b, dtype=dtype), torch.tensor(a), torch.tensor(b)
    for kw in [{}, {"equal_nan": True}, {"rtol": 0, "atol": 0}, {"rtol": 1e-3, "atol": 0.0}, {"atol": 2.0}]:
        _same(F.isclose(x, y, **kw), torch.isclose(tx, ty, **kw))
        assert F.allclose(x, y, **kw) is torch.allclose(tx, ty, **kw)
        assert F.allclose(x[:1], y[:1], **kw) is torch.allclose(tx[:1], ty[:1], **kw) is True
    _same(x.isclose(y[:1]), tx.isclose(ty[:1]))  # broadcasting


def test_isclose_of_integers_and_bools_as_torch_and_checks():
    for a, b, kw in [([16777217], [16777216], {"rtol": 0, "atol": 0.5}), ([1, 2], [1, 3], {}), ([1, 2], [1, 3],
                     {"rtol": 0.5, "atol": 0}), ([True, False], [False, False], {}), ([True, False], [False, False],
                     {"atol": 1})]:
        _same(F.isclose(cr.tensor(a), cr.tensor(b), **kw), torch.isclose(torch.tensor(a), torch.tensor(b), **kw))
    u = np.array([3], np.uint8), np.array([1], np.uint8)
    _same(F.isclose(*(cr.tensor(v, dtype=cr.uint8) for v in u), atol=1.5),
          torch.isclose(*(torch.tensor(v) for v in u), atol=1.5))
    with pytest.raises(DTypeError, match="isclose: the tensors have dtypes float32 and float64"):
        F.isclose(cr.ones(2), cr.ones(2, dtype=cr.float64))
    with pytest.raises(DTypeError, match="isclose: the tensors have dtypes"):
        F.allclose(cr.ones(2), cr.ones(2, dtype=cr.float64))
    with pytest.raises(ShapeError, match="isclose: cannot broadcast shapes"):
        F.isclose(cr.ones(2), cr.ones(3))
    with pytest.raises(ArgumentError, match="isclose: rtol must be >= 0, got -1"):
        F.isclose(cr.ones(2), cr.ones(2), rtol=-1)
    with pytest.raises(ArgumentTypeError, match="isclose: expected two tensors, got float"):
        F.isclose(cr.ones(2), 1.0)


def test_equal_as_torch():
    pairs = [(np.ones(2, np.float32), np.ones(2)), (np.ones(2), np.ones(3)), (np.ones((2, 1)), np.ones(2)),
             (np.array([np.nan]), np.array([np.nan])), (np.ones(2, np.float32), np.ones(2, np.int64)),
             (np.array([1, 2]), np.array([1, 3]))]
    for a, b in pairs:
        assert F.equal(cr.tensor(a, dtype=a.dtype), cr.tensor(b, dtype=b.dtype)) is torch.equal(torch.tensor(a),
                                                                                              torch.tensor(b))
    assert cr.tensor([1, 2]).equal(cr.tensor([1, 2])) is True


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_logical_binary_as_torch(name):
    a, b = np.array([[0.0, 1.0, np.nan, -0.0]], np.float32), np.array([[1], [0]])
    _same(getattr(F, name)(cr.tensor(a), cr.tensor(b)), getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
    _same(getattr(cr.tensor(a), name)(cr.tensor(a)), getattr(torch.tensor(a), name)(torch.tensor(a)))
    with pytest.raises(ShapeError, match=f"{name}: cannot broadcast shapes"):
        getattr(F, name)(cr.ones(2), cr.ones(3))


def test_logical_not_is_floating_point_is_nonzero_element_size_as_torch():
    for a in (np.array([0, 3]), np.array([0.0, np.nan]), np.array([True, False])):
        _same(F.logical_not(cr.tensor(a, dtype=a.dtype)), torch.logical_not(torch.tensor(a)))
    for dtype, tdtype in NP_DTYPES:
        x, t = cr.ones(1, dtype=dtype), torch.ones(1, dtype=tdtype)
        assert F.is_floating_point(x) is torch.is_floating_point(t)
        assert x.is_floating_point() is t.is_floating_point()
        assert x.element_size() == t.element_size()
    for v in (1.0, 0, [2], [[0.0]], True):
        assert F.is_nonzero(cr.tensor(v)) is torch.is_nonzero(torch.tensor(v))
    with pytest.raises(ShapeError, match="is_nonzero: the truth value of a tensor with more than one value"):
        F.is_nonzero(cr.ones(2))
    with pytest.raises(ShapeError, match="is_nonzero: the truth value of a tensor with no values"):
        F.is_nonzero(cr.ones(0))


NP_DTYPES = [(cr.float16, torch.float16), (cr.float32, torch.float32), (cr.float64, torch.float64),
             (cr.int64, torch.int64), (cr.int32, torch.int32), (cr.uint8, torch.uint8), (cr.bool_, torch.bool)]


# ---- clamps, erf, lerp, moments ------------------------------------------------------------------------------------


def test_clamp_min_max_dtypes_nan_and_tensor_bounds_as_torch():
    i = np.array([1, 2, 3])
    _same(F.clamp_min(cr.tensor(i), 2), torch.clamp_min(torch.tensor(i), 2))
    _same(F.clamp_min(cr.tensor(i), 1.5), torch.clamp_min(torch.tensor(i), 1.5))
    _same(F.clamp_max(cr.tensor(i), cr.tensor([2, 2, 2])), torch.clamp_max(torch.tensor(i), torch.tensor([2, 2, 2])))
    f = np.array([np.nan, -1.0, 0.5, 2.0], np.float32)
    for bound in (0.5, np.array([0.5, np.nan, 0.5, 3.0], np.float32)):
        b, tb = (cr.tensor(bound), torch.tensor(bound)) if isinstance(bound, np.ndarray) else (bound, bound)
        _same(F.clamp_min(cr.tensor(f), b), torch.clamp_min(torch.tensor(f), tb))
        _same(F.clamp_max(cr.tensor(f), b), torch.clamp_max(torch.tensor(f), tb))
    # ties go to the input, the gradient of a tensor bound where it wins
    x, m = cr.tensor([0.0, 1.0, 0.5], requires_grad=True), cr.tensor([0.5, 0.5, 0.5], requires_grad=True)
    tx, tm = torch.tensor([0.0, 1.0, 0.5], requires_grad=True), torch.tensor([0.5, 0.5, 0.5], requires_grad=True)
    F.clamp_min(x, m).sum().backward()
    torch.clamp_min(tx, tm).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_array_equal(m.grad.numpy(), tm.grad.numpy())
    with pytest.raises(ArgumentTypeError, match="clamp_min: the bound must be a number or a tensor, got str"):
        F.clamp_min(cr.ones(2), "0")
    with pytest.raises(ShapeError, match="clamp_max: cannot broadcast shapes"):
        F.clamp_max(cr.ones(2), cr.ones(3))


def test_erf_erfinv_dtypes_and_special_values_as_torch():
    _same(F.erf(cr.tensor([1, 2])).round(decimals=5), torch.erf(torch.tensor([1, 2])).round(decimals=5))
    special = np.array([-1.0, 0.0, 1.0, 1.5, -2.0, np.nan, -0.0], np.float32)
    _same(F.erfinv(cr.tensor(special)), torch.erfinv(torch.tensor(special)))
    assert F.erfinv(cr.tensor([0])).dtype == cr.float32
    a = np.linspace(-0.999999, 0.999999, 2001)  # float64: within a few ulps of torch's, scaled by the slope
    out, ref = F.erfinv(cr.tensor(a, dtype=cr.float64)).numpy(), torch.erfinv(torch.tensor(a)).numpy()
    slope = np.sqrt(np.pi) / 2 * np.exp(ref**2)  # an error of eps in x moves erfinv by the slope times it
    T.assert_close(out, ref, np.abs(ref) + slope)


def test_lerp_checks():
    with pytest.raises(DTypeError, match="lerp: end has dtype float64 but input has float32"):
        F.lerp(cr.ones(2), cr.ones(2, dtype=cr.float64), 0.5)
    with pytest.raises(DTypeError, match="lerp: weight has dtype float64"):
        F.lerp(cr.ones(2), cr.ones(2), cr.ones(2, dtype=cr.float64))
    with pytest.raises(DTypeError, match="lerp: expected floating tensors, got int64"):
        F.lerp(cr.ones(2, dtype=cr.int64), cr.ones(2, dtype=cr.int64), 1)


@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_var_mean_std_mean_forms_as_torch(name):
    a = _rng().standard_normal((3, 4))
    x, t = cr.tensor(a, dtype=cr.float64), torch.tensor(a)
    forms = [((), {}), ((1,), {}), ((0, True), {}), ((True,), {}), ((), {"unbiased": False}),
             (((0, 1),), {"correction": 0, "keepdim": True}), ((1,), {"keepdim": True})]
    for args, kw in forms:
        out, ref = getattr(F, name)(x, *args, **kw), getattr(torch, name)(t, *args, **kw)
        assert type(out) is tuple and len(out) == 2
        for o, r in zip(out, ref):
            assert o.shape == tuple(r.shape)
            np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-12)


# ---- random draws --------------------------------------------------------------------------------------------------


def test_bernoulli_draws_zeros_and_ones_from_the_seeded_generator():
    p = cr.tensor([0.0, 1.0, 0.3, 0.7], dtype=cr.float64)
    cr.manual_seed(5)
    first = F.bernoulli(p)
    cr.manual_seed(5)
    np.testing.assert_array_equal(p.bernoulli().numpy(), first.numpy())
    assert first.dtype == cr.float64 and first.numpy()[0] == 0 and first.numpy()[1] == 1
    g = cr.Generator().manual_seed(3)
    a = F.bernoulli(cr.full((2, 3), 0.5), generator=g)
    np.testing.assert_array_equal(a.numpy(), F.bernoulli(cr.full((2, 3), 0.5), generator=cr.Generator().manual_seed(3)))
    np.testing.assert_array_equal(F.bernoulli(cr.zeros(2, 3), 1.0).numpy(), torch.bernoulli(torch.zeros(2, 3), 1.0))
    n, q = 40000, 0.3  # the frequency is within 6 standard deviations of p
    freq = F.bernoulli(cr.full((n,), q), generator=cr.Generator().manual_seed(1)).numpy().mean()
    assert abs(freq - q) < 6 * math.sqrt(q * (1 - q) / n)
    assert not F.bernoulli(cr.full((2,), 0.5, requires_grad=True)).requires_grad  # a constant
    with pytest.raises(ArgumentError, match=r"bernoulli: the probabilities must lie in \[0, 1\]"):
        F.bernoulli(cr.tensor([1.5]))
    with pytest.raises(ArgumentError, match=r"bernoulli: p must be a number in \[0, 1\], got 2.0"):
        F.bernoulli(cr.zeros(2), 2.0)
    with pytest.raises(DTypeError, match="bernoulli: expected a floating tensor of probabilities, got int64"):
        F.bernoulli(cr.tensor([0, 1]))


def test_multinomial_draws_and_checks():
    g = cr.Generator().manual_seed(0)
    w = cr.tensor([[1.0, 0.0, 3.0], [0.0, 0.0, 2.0]])
    out = F.multinomial(w, 1, generator=g)
    assert out.dtype == cr.int64 and out.shape == (2, 1) and out.numpy()[1, 0] == 2
    many = F.multinomial(cr.tensor([1.0, 0.0, 3.0]), 20000, replacement=True, generator=g).numpy()
    assert set(np.unique(many)) == {0, 2}  # a zero weight is never drawn
    freq = (many == 2).mean()
    assert abs(freq - 0.75) < 6 * math.sqrt(0.75 * 0.25 / many.size)
    perm = F.multinomial(cr.ones(6, dtype=cr.float64), 6, generator=g).numpy()
    assert sorted(perm) == list(range(6))  # without replacement: each category once
    firsts = np.array([F.multinomial(cr.tensor([1.0, 3.0]), 1, generator=g).item() for _ in range(2000)])
    assert abs(firsts.mean() - 0.75) < 6 * math.sqrt(0.75 * 0.25 / 2000)  # the first draw follows the weights
    np.testing.assert_array_equal(F.multinomial(cr.tensor([0.0, 1.0, 0.0]), 2).numpy()[:1], [1])  # zero weights last
    assert cr.tensor([0.5, 0.5]).multinomial(2).shape == (2,)
    for args, error, text in [
        ((cr.tensor([0.0, 1.0, 0.0]), 4), ArgumentError, "cannot draw 4 samples from 3 categories without"),
        ((cr.tensor([0.0, 0.0]), 1), ArgumentError, "every row of weights needs a positive sum"),
        ((cr.tensor([-1.0, 2.0]), 1), ArgumentError, "the weights must be finite and non-negative"),
        ((cr.tensor([1.0, np.nan]), 1), ArgumentError, "the weights must be finite and non-negative"),
        ((cr.ones(2, 2, 2), 1), ShapeError, "the weights must be 1-D or 2-D"),
        ((cr.tensor([1, 2]), 1), DTypeError, "expected a floating tensor of probabilities"),
        ((cr.ones(3), 0), ArgumentError, "num_samples must be positive, got 0"),
    ]:
        with pytest.raises(error, match="multinomial: " + text):
            F.multinomial(*args)


def test_normal_shapes_dtypes_and_statistics_as_torch():
    cases = [((cr.zeros(2, 3), 1.0), (torch.zeros(2, 3), 1.0)),
             ((0.0, cr.ones(3, dtype=cr.float64)), (0.0, torch.ones(3, dtype=torch.float64))),
             ((cr.zeros(2, 1), cr.ones(3)), (torch.zeros(2, 1), torch.ones(3))),
             ((2.0, 3.0, (2, 2)), (2.0, 3.0, (2, 2))), ((2.0, 3.0, [4]), (2.0, 3.0, [4]))]
    for ours, theirs in cases:
        out, ref = F.normal(*ours), torch.normal(*theirs)
        assert out.shape == tuple(ref.shape) and out.dtype == NP[ref.dtype]
    assert F.normal(cr.zeros(2), generator=cr.Generator().manual_seed(1)).shape == (2,)
    a = F.normal(1.0, 2.0, (20000,), generator=cr.Generator().manual_seed(4)).numpy().astype(np.float64)
    assert abs(a.mean() - 1.0) < 6 * 2.0 / math.sqrt(a.size) and abs(a.std() - 2.0) < 0.1
    cr.manual_seed(9)
    first = F.normal(cr.zeros(3), cr.ones(3))
    cr.manual_seed(9)
    np.testing.assert_array_equal(F.normal(cr.zeros(3), cr.ones(3)).numpy(), first.numpy())
    np.testing.assert_array_equal(F.normal(0.0, 0.0, (2,)).numpy(), [0.0, 0.0])
    assert F.normal(0.0, 1.0, (2,), dtype=cr.float64).dtype == cr.float64
    for args, error, text in [
        ((0.0, 1.0), ArgumentTypeError, "with a number mean and std, give size"),
        ((cr.zeros(2), -1.0), ArgumentError, "std must be >= 0"),
        ((cr.zeros(2), cr.tensor([1.0, -1.0])), ArgumentError, "std must be >= 0"),
        ((cr.zeros(2, dtype=cr.int64), 1.0), DTypeError, "expected a floating tensor"),
        ((cr.zeros(2), 1.0, (2,)), ArgumentTypeError, "size is only for a number mean and std"),
        ((cr.zeros(2), cr.zeros(3)), ShapeError, "cannot broadcast mean of shape"),
    ]:
        with pytest.raises(error, match="normal: " + text):
            F.normal(*args)


# ---- the public surface ------------------------------------------------------------------------------------------


def test_every_public_function_is_exported_and_the_method_list_is_right():
    for name in FM.__all__:
        assert callable(getattr(F, name)), name
        assert getattr(F, name) is getattr(FM, name), name
    # a Tensor method wherever torch.Tensor has one; all but the Tensor-only methods are torch functions too
    assert set(FM.TENSOR_METHODS) == {name for name in FM.__all__ if hasattr(torch.Tensor, name)}
    assert {name for name in FM.__all__ if not hasattr(torch, name)} == {"element_size", "repeat", "view_as"}
    for name in FM.TENSOR_METHODS:
        assert getattr(cr.Tensor, name) is not None, name
    assert F.norm is FM.norm  # not the submodule functional.norm
