"""chainrule.functional.more against torch 2.13: values, dtypes, shapes and gradients of PyTorch's long-tail
functions, float64 gradchecks of the differentiable ones, their edge cases (ties, NaN, signed zeros) and errors."""

import numpy as np
import pytest
import tolerance as T
import torch

import chainrule as cr
from chainrule.autograd import gradcheck
from chainrule.errors import ArgumentError, ArgumentTypeError, DTypeError, OutOfRangeError, ShapeError
from chainrule.functional import more as FM

NP = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64,
      torch.int32: np.int32, torch.int16: np.int16, torch.int8: np.int8, torch.uint8: np.uint8, torch.bool: np.bool_}
TORCH = {np.dtype(v): k for k, v in NP.items()}
NAN, INF = float("nan"), float("inf")


def _rng():
    return np.random.default_rng(2024)


def _list(out):
    return list(out) if isinstance(out, tuple | list) else [out]


def _same(out, ref):
    """Exact agreement (values, shape, dtype) with a torch result, element by element for tuples."""
    outs, refs = _list(out), _list(ref)
    assert len(outs) == len(refs)
    for o, r in zip(outs, refs):
        assert isinstance(o, cr.Tensor)
        assert o.dtype == NP[r.dtype], f"dtype {o.dtype}, torch {r.dtype}"
        assert o.shape == tuple(r.shape), f"shape {o.shape}, torch {tuple(r.shape)}"
        np.testing.assert_array_equal(o.numpy(), r.detach().numpy())


def _t(a, dtype=None):
    return torch.tensor(np.asarray(a) if dtype is None else np.asarray(a, dtype))


# ---- the differentiable functions against torch, and gradcheck -------------------------------------------------

R = _rng()
X34 = R.standard_normal((3, 4))  # distinct values: no ties, differentiable everywhere
X34_NAN = np.where(R.random((3, 4)) < 0.3, np.nan, X34)
TIES = R.integers(0, 3, (3, 4)).astype(np.float64)  # many ties: the gradient is shared as torch's
POS = R.uniform(0.5, 2.0, (2, 3))
Y23 = R.standard_normal((2, 3))


def _diff_terms(t, n=2):
    """The magnitude of diff: the same differences taken with every term counted positively."""
    for _ in range(n):
        t = t[..., 1:] + t[..., :-1]
    return t


# name: (chainrule function, torch function, inputs, tolerance rule[, torch function for the magnitudes])
CASES = {
    "median": (FM.median, torch.median, [X34], T.exact),
    "median_ties": (FM.median, torch.median, [TIES], T.exact),
    "median_dim": (lambda x: FM.median(x, 1, keepdim=True).values, lambda t: t.median(1, keepdim=True).values,
                   [X34], T.exact),
    "nanmedian": (FM.nanmedian, torch.nanmedian, [X34_NAN], T.exact),
    "nanmedian_dim": (lambda x: FM.nanmedian(x, 0).values, lambda t: t.nanmedian(0).values, [X34_NAN], T.exact),
    "nansum": (lambda x: FM.nansum(x, 1), lambda t: torch.nansum(t, 1), [X34_NAN], T.linear),
    "nanmean": (lambda x: FM.nanmean(x, (0, 1)), lambda t: torch.nanmean(t, (0, 1)), [X34_NAN], T.exact),
    "aminmax_min": (lambda x: FM.aminmax(x, dim=0).min, lambda t: torch.aminmax(t, dim=0).min, [TIES], T.exact),
    "aminmax_max": (lambda x: FM.aminmax(x).max, lambda t: torch.aminmax(t).max, [TIES], T.exact),
    "cummax": (lambda x: FM.cummax(x, 1).values, lambda t: torch.cummax(t, 1).values, [X34], T.exact),
    "cummin": (lambda x: FM.cummin(x, 0).values, lambda t: torch.cummin(t, 0).values, [X34], T.exact),
    "atan2": (FM.atan2, torch.atan2, [Y23, R.standard_normal(3)], T.elementwise),
    "arctan2": (FM.arctan2, torch.arctan2, [R.standard_normal((2, 1)), Y23], T.elementwise),
    "hypot": (FM.hypot, torch.hypot, [Y23, R.standard_normal(3)], T.elementwise),
    "logaddexp": (FM.logaddexp, torch.logaddexp, [Y23 * 10, R.standard_normal(3)], T.elementwise),
    "xlogy": (FM.xlogy, torch.xlogy, [Y23, POS], T.elementwise),
    "frac": (FM.frac, torch.frac, [Y23 * 3], T.elementwise),
    "deg2rad": (FM.deg2rad, torch.deg2rad, [Y23 * 90], T.elementwise),
    "rad2deg": (FM.rad2deg, torch.rad2deg, [Y23], T.elementwise),
    "diff": (lambda x, p, a: FM.diff(x, 2, -1, p, a), lambda x, p, a: torch.diff(x, 2, -1, p, a),
             [X34, Y23[:, :1].repeat(3, 0)[:3], R.standard_normal((3, 2))], T.linear,
             lambda x, p, a: _diff_terms(torch.cat([p, x, a], -1))),
    "kron": (FM.kron, torch.kron, [Y23, R.standard_normal((2, 2))], T.linear),
    "repeat_interleave": (lambda x: FM.repeat_interleave(x, cr.tensor([2, 0, 1, 3]), dim=1),
                          lambda t: torch.repeat_interleave(t, torch.tensor([2, 0, 1, 3]), dim=1), [X34], T.linear),
    "select": (lambda x: FM.select(x, 1, -2), lambda t: torch.select(t, 1, -2), [X34], T.linear),
    "hstack": (lambda a, b: FM.hstack([a, b]), lambda a, b: torch.hstack([a, b]), [Y23, POS], T.linear),
    "vstack": (lambda a, b: FM.vstack((a, b)), lambda a, b: torch.vstack((a, b)), [Y23[0], POS], T.linear),
    "column_stack": (lambda a, b: FM.column_stack([a, b]), lambda a, b: torch.column_stack([a, b]),
                     [Y23[0], POS.T], T.linear),
    "dstack": (lambda a, b: FM.dstack([a, b]), lambda a, b: torch.dstack([a, b]), [Y23, POS], T.linear),
    "movedim": (lambda x: FM.movedim(x, (0, 2), (2, 0)), lambda t: torch.movedim(t, (0, 2), (2, 0)),
                [R.standard_normal((2, 3, 4))], T.linear),
    "broadcast_tensors": (FM.broadcast_tensors, torch.broadcast_tensors, [Y23, R.standard_normal((4, 1, 1))],
                          T.linear),
    "atleast_3d": (FM.atleast_3d, torch.atleast_3d, [Y23[0], POS], T.linear),
    "cartesian_prod": (FM.cartesian_prod, torch.cartesian_prod, [Y23[0], POS[1, :2]], T.linear),
    "block_diag": (FM.block_diag, torch.block_diag, [Y23, np.array(2.5), POS[0]], T.linear),
    "tensordot": (lambda a, b: FM.tensordot(a, b, ([0, 2], [2, 1])),
                  lambda a, b: torch.tensordot(a, b, ([0, 2], [2, 1])),
                  [R.standard_normal((2, 3, 4)), R.standard_normal((5, 4, 2))], T.linear),
    "unfold": (lambda x: FM.unfold(x, 1, 2, 1), lambda t: t.unfold(1, 2, 1), [X34], T.linear),
}


@pytest.mark.parametrize("name", CASES)
def test_values_and_gradients_as_torch(name):
    fn, tfn, arrays, rule, *mag_fn = CASES[name]
    arrays = [np.asarray(a, np.float32) for a in arrays]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    outs, refs = _list(fn(*xs)), _list(tfn(*ts))
    assert len(outs) == len(refs)
    ups = [_rng().standard_normal(tuple(r.shape)).astype(np.float32) for r in refs]
    mags, gmags = rule(mag_fn[0] if mag_fn else tfn, [a.astype(np.float64) for a in arrays], ups)
    for o, r, m in zip(outs, refs, mags):
        assert o.dtype == cr.float32 and o.shape == tuple(r.shape), f"{o.dtype} {o.shape}, torch {tuple(r.shape)}"
        T.assert_close(o.numpy(), r, m, name)
    sum((o * u).sum() for o, u in zip(outs, ups)).backward()
    sum((r * torch.tensor(u)).sum() for r, u in zip(refs, ups)).backward()
    for k, (x, t, m) in enumerate(zip(xs, ts, gmags)):
        expected = np.zeros(t.shape, np.float32) if t.grad is None else t.grad
        assert x.grad is not None and x.grad.dtype == cr.float32, f"{name}: input {k} got no float32 gradient"
        T.assert_close(x.grad.numpy(), expected, m, f"{name}: gradient of input {k}")


GRADCHECK = [n for n in CASES if n not in ("median_ties", "aminmax_min", "aminmax_max", "nanmedian", "nanmedian_dim",
                                           "nansum", "nanmean")]


@pytest.mark.parametrize("name", GRADCHECK + ["aminmax", "nan_reductions"])
def test_gradcheck(name):
    if name == "aminmax":  # distinct values: amin and amax are differentiable there
        def fn(x):
            r = FM.aminmax(x, dim=1, keepdim=True)
            return r.min * 2 + r.max
        arrays = [X34]
    elif name == "nan_reductions":  # NaN nowhere here: the finite differences need finite values
        def fn(x):
            return FM.nansum(x, 0) + FM.nanmean(x, 0) + FM.nanmedian(x, 0).values
        arrays = [X34]
    else:
        fn, _, arrays, *_ = CASES[name]
    xs = [cr.tensor(a, dtype=cr.float64, requires_grad=True) for a in arrays]
    assert gradcheck(fn, tuple(xs))


# ---- median and nanmedian ----------------------------------------------------------------------------------------


def test_median_ties_nan_and_indices_as_torch():
    # ties: the index a stable sort puts in the middle, which is torch's in these cases
    for a in ([2.0, 1.0, 2.0, 1.0], [3.0, 1.0, 3.0, 1.0, 3.0], [2.0, 2.0, 2.0, 3.0, 1.0], [1.0, NAN, 2.0, NAN]):
        _same(FM.median(cr.tensor(a), 0), torch.median(_t(a, np.float32), 0))
        _same(FM.median(cr.tensor(a)), torch.median(_t(a, np.float32)))
    a = X34.astype(np.float32)
    _same(FM.median(cr.tensor(a), dim=0, keepdim=True), torch.median(_t(a), 0, keepdim=True))
    _same(FM.median(cr.tensor(a), axis=1, keepdims=True), torch.median(_t(a), 1, keepdim=True))
    out = FM.median(cr.tensor(a), -1)
    assert type(out).__name__ == "median" and out._fields == ("values", "indices")
    ints = np.array([[1, 5, 2], [7, 7, 0]])
    _same(FM.median(cr.tensor(ints), 1), torch.median(_t(ints), 1))
    _same(FM.median(cr.tensor(ints)), torch.median(_t(ints)))
    _same(FM.median(cr.tensor(5.0), 0), torch.median(torch.tensor(5.0), 0))
    _same(FM.median(cr.tensor(np.zeros((2, 0), np.float32)), 0), torch.median(torch.zeros(2, 0), 0))
    np.testing.assert_array_equal(FM.median(cr.tensor(np.zeros(0, np.float32))).numpy(), np.nan)


def test_nanmedian_ignores_nan_and_shares_the_gradient_of_nan_results():
    a = np.array([[1.0, NAN, NAN, 3.0, 0.5], [NAN, 2.0, NAN, NAN, NAN], [NAN] * 5], np.float32)
    out, ref = FM.nanmedian(cr.tensor(a), 1), torch.nanmedian(_t(a), 1)
    _same(out.values, ref.values)
    np.testing.assert_array_equal(out.indices.numpy()[:2], ref.indices.numpy()[:2])
    assert np.isnan(a[2, out.indices.numpy()[2]])  # an all-NaN row: some NaN's index (torch's choice varies)
    for row in ([1.0, NAN, 4.0, 5.0], [NAN, NAN], [1.0, NAN, 2.0, NAN]):
        for f, tf in ((FM.nanmedian, torch.nanmedian), (FM.median, torch.median)):
            x, t = cr.tensor(row, requires_grad=True), _t(row, np.float32).requires_grad_()
            out, ref = f(x), tf(t)
            _same(out, ref.detach())
            out.backward()
            ref.backward()
            np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_median_errors():
    with pytest.raises(DTypeError, match="median: not defined for bool"):
        FM.median(cr.tensor([True, False]))
    with pytest.raises(ShapeError, match=r"median: cannot reduce over dimension 1 of size 0"):
        FM.median(cr.tensor(np.ones((2, 0), np.float32)), 1)
    with pytest.raises(ShapeError, match="median: dim 2 is out of range"):
        FM.median(cr.ones(1, 3), 2)
    with pytest.raises(ArgumentError, match="nanmedian: got both dim= and its NumPy alias axis="):
        FM.nanmedian(cr.ones(2, 3), 0, axis=1)


# ---- nan reductions, aminmax, cummax / cummin --------------------------------------------------------------------


def test_nan_reductions_dtypes_as_torch():
    a = np.array([[1.0, NAN], [NAN, NAN]], np.float32)
    _same(FM.nansum(cr.tensor(a), 1, keepdim=True), torch.nansum(_t(a), 1, keepdim=True))
    _same(FM.nansum(cr.tensor(a), dtype=cr.float64), torch.nansum(_t(a), dtype=torch.float64))
    _same(FM.nanmean(cr.tensor(a), 1), torch.nanmean(_t(a), 1))
    _same(FM.nanmean(cr.tensor(a), axis=0, keepdims=True), torch.nanmean(_t(a), 0, keepdim=True))
    for ints in (np.array([1, 2], np.int32), np.array([True, True])):
        _same(FM.nansum(cr.tensor(ints)), torch.nansum(_t(ints)))
    with pytest.raises(DTypeError, match="nanmean: expects a floating tensor, got int64"):
        FM.nanmean(cr.tensor([1, 2]))


def test_aminmax_as_torch():
    a = np.array([[1.0, NAN, 3.0], [2.0, 0.0, 0.0]], np.float32)
    for kw in ({}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"keepdim": True}):
        out, ref = FM.aminmax(cr.tensor(a), **kw), torch.aminmax(_t(a), **kw)
        assert type(out).__name__ == "aminmax" and out._fields == ("min", "max")
        _same(out, tuple(ref))
    for v in (np.array([1, 5, 2]), np.array([True, False]), np.array(3.0, np.float32)):
        _same(FM.aminmax(cr.tensor(v)), tuple(torch.aminmax(_t(v))))
    _same(FM.aminmax(cr.tensor(3.0), dim=0), tuple(torch.aminmax(torch.tensor(3.0), dim=0)))
    with pytest.raises(ShapeError, match="aminmax: cannot reduce a tensor of shape"):
        FM.aminmax(cr.tensor(np.zeros(0, np.float32)))
    with pytest.raises(ShapeError, match="aminmax: cannot reduce over dimension 0 of size 0"):
        FM.aminmax(cr.ones(0, 2), dim=0)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cummax_cummin_ties_nan_and_dtypes_as_torch(name):
    cases = [np.array([1.0, 3.0, 2.0, 3.0, NAN, 5.0, NAN, 1.0], np.float32), np.array([3, 1, 2, 1, 0, 3]),
             np.array([True, False, True, False]), np.array([[2, 2, 1], [0, 5, 5]], np.int32), np.array(2.0)]
    for a in cases:
        for dim in range(max(a.ndim, 1)):
            out, ref = getattr(FM, name)(cr.tensor(a, dtype=a.dtype), dim), getattr(torch, name)(_t(a), dim)
            assert type(out).__name__ == name
            _same(out, tuple(ref))
    x, t = cr.tensor(TIES, requires_grad=True), _t(TIES).requires_grad_()
    getattr(FM, name)(x, 1).values.sum().backward()
    getattr(torch, name)(t, 1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())  # to the latest of tied elements, as torch
    with pytest.raises(ShapeError, match=f"{name}: dim 2 is out of range"):
        getattr(FM, name)(cr.ones(2, 2), 2)


# ---- elementwise -------------------------------------------------------------------------------------------------


def test_atan2_special_values_and_gradients_at_zero_as_torch():
    y = np.array([0.0, 0.0, -0.0, -0.0, 1.0, -1.0, 0.0, -0.0, INF, INF, -INF, NAN, 1.0, 0.0, 2.0], np.float32)
    x = np.array([0.0, -0.0, 0.0, -0.0, 0.0, -0.0, -1.0, -1.0, INF, -INF, 1.0, 1.0, NAN, 3.0, -1e-30], np.float32)
    xs, ts = [cr.tensor(v, requires_grad=True) for v in (y, x)], [_t(v).requires_grad_() for v in (y, x)]
    out, ref = FM.atan2(*xs), torch.atan2(*ts)
    assert out.dtype == cr.float32
    T.assert_close(out.numpy(), ref, np.abs(ref.detach().numpy()) + 1, "atan2")  # (torch's is 1 ulp off at [14])
    assert (np.signbit(out.numpy()) == np.signbit(ref.detach().numpy())).all()
    out.sum().backward()
    ref.sum().backward()
    for v, w in zip(xs, ts):  # finite where torch's is: 0 at the origin, NaN with a NaN coordinate
        np.testing.assert_allclose(v.grad.numpy()[:8], w.grad.numpy()[:8])
        np.testing.assert_allclose(v.grad.numpy()[11:], w.grad.numpy()[11:], rtol=1e-6)
    _same(FM.atan2(cr.tensor([1, 2]), cr.tensor([3, 0])), torch.atan2(_t([1, 2]), _t([3, 0])))
    _same(FM.atan2(cr.tensor([1.0]), cr.tensor([2.0], dtype=cr.float64)),
          torch.atan2(_t([1.0], np.float32), _t([2.0])))


def test_binary_special_values_and_dtypes_as_torch():
    a = np.array([3.0, 1e30, INF, -INF, 0.0, NAN], np.float32)
    b = np.array([4.0, 1e30, NAN, -INF, 0.0, 1.0], np.float32)
    for name in ("hypot", "logaddexp"):
        out, ref = getattr(FM, name)(cr.tensor(a), cr.tensor(b)), getattr(torch, name)(_t(a), _t(b))
        T.assert_close(out.numpy(), ref, np.abs(a) + np.abs(b) + 1, name)
        with pytest.raises(DTypeError, match=f"{name}: not defined for int64"):
            getattr(FM, name)(cr.tensor([1, 2]), cr.tensor([3, 4]))
        with pytest.raises(ShapeError, match=rf"{name}: cannot broadcast shapes \(2,\) and \(3,\)"):
            getattr(FM, name)(cr.ones(2), cr.ones(3))
    x = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, -1.0], np.float32)
    y = np.array([0.0, -1.0, INF, NAN, 2.0, 0.0, 3.0, 0.5], np.float32)
    _same(FM.xlogy(cr.tensor(x), cr.tensor(y)), torch.xlogy(_t(x), _t(y)))
    _same(FM.xlogy(cr.tensor([0, 1, 2]), cr.tensor([0, 3, 2])), torch.xlogy(_t([0, 1, 2]), _t([0, 3, 2])))
    _same(FM.xlogy(2, cr.tensor([0.0, 3.0])), torch.xlogy(2, _t([0.0, 3.0], np.float32)))
    _same(FM.xlogy(cr.tensor([0.0, 1.0]), 3), torch.xlogy(_t([0.0, 1.0], np.float32), 3))
    xs, ts = [cr.tensor(v, requires_grad=True) for v in (x, y)], [_t(v).requires_grad_() for v in (x, y)]
    FM.xlogy(*xs).sum().backward()
    torch.xlogy(*ts).sum().backward()
    # log(y) for x, 0 where y <= 0; torch's is inf at x = 0, y = inf (where the value is 0), chainrule's 0
    keep = [0, 1, 3, 4, 5, 6, 7]
    np.testing.assert_allclose(xs[0].grad.numpy()[keep], ts[0].grad.numpy()[keep], rtol=1e-6)
    # x / y for y; torch's is NaN at 0 / 0, chainrule's 0
    np.testing.assert_allclose(xs[1].grad.numpy()[1:], ts[1].grad.numpy()[1:], rtol=1e-6)
    assert xs[0].grad.numpy()[2] == 0 and xs[1].grad.numpy()[0] == 0


def test_unary_dtypes_and_special_values_as_torch():
    a = np.array([-1.5, 2.25, INF, NAN, -0.0, 3.0], np.float32)
    _same(FM.frac(cr.tensor(a)), torch.frac(_t(a)))
    _same(FM.sgn(cr.tensor(a)), torch.sgn(_t(a)))
    for v in (np.array([-1, 0, 2]), np.array([True, False]), np.array([1, 0, 5], np.uint8)):
        _same(FM.sgn(cr.tensor(v, dtype=v.dtype)), torch.sgn(_t(v)))
    for name in ("deg2rad", "rad2deg"):
        for v in (np.array([180, 90, -45]), np.array([True]), np.array([1.0, 2.0])):
            out, ref = getattr(FM, name)(cr.tensor(v, dtype=v.dtype)), getattr(torch, name)(_t(v))
            assert out.dtype == NP[ref.dtype]
            T.assert_close(out.numpy(), ref, np.abs(ref.numpy()) + 1, name)
    with pytest.raises(DTypeError, match="frac: not defined for int64"):
        FM.frac(cr.tensor([1, 2]))


# ---- shapes ------------------------------------------------------------------------------------------------------


def test_diff_options_and_errors_as_torch():
    _same(FM.diff(cr.tensor([True, False, False])), torch.diff(_t([True, False, False])))
    _same(FM.diff(cr.tensor([1, 3, 6]), prepend=cr.tensor([0])), torch.diff(_t([1, 3, 6]), prepend=_t([0])))
    _same(FM.diff(cr.tensor([1, 2]), append=cr.tensor([2.5])), torch.diff(_t([1, 2]), append=_t([2.5], np.float32)))
    for n in (0, 3, 5):
        _same(FM.diff(cr.tensor([1.0, 4.0, 2.0]), n), torch.diff(_t([1.0, 4.0, 2.0], np.float32), n))
    a = np.arange(12).reshape(3, 4)
    _same(FM.diff(cr.tensor(a), dim=0), torch.diff(_t(a), dim=0))
    with pytest.raises(ShapeError, match="diff: expects a tensor of at least 1 dimension"):
        FM.diff(cr.tensor(3.0))
    with pytest.raises(ArgumentError, match="diff: the order n must be non-negative, got -1"):
        FM.diff(cr.ones(3), -1)
    with pytest.raises(ShapeError, match=r"diff: append of shape \(3,\) must match the input, of shape \(2, 3\)"):
        FM.diff(cr.ones(2, 3), dim=0, append=cr.zeros(3))


def test_kron_dtypes_and_shapes_as_torch():
    _same(FM.kron(cr.tensor([1, 2]), cr.tensor([[1.0, 2.0], [3.0, 4.0]])),
          torch.kron(_t([1, 2]), _t([[1.0, 2.0], [3.0, 4.0]], np.float32)))
    _same(FM.kron(cr.tensor(2), cr.tensor([1, 2])), torch.kron(torch.tensor(2), _t([1, 2])))
    a, b = np.arange(6).reshape(1, 2, 3), np.arange(4).reshape(2, 2)
    _same(FM.kron(cr.tensor(a), cr.tensor(b)), torch.kron(_t(a), _t(b)))


def test_repeat_interleave_forms_and_errors_as_torch():
    a = np.array([[1, 2], [3, 4]])
    for args, kw in [((2,), {}), ((cr.tensor([2]),), {"dim": 0}), ((cr.tensor([1, 2]),), {"dim": 1}),
                     ((3,), {"dim": -1, "output_size": 6})]:
        targs = tuple(torch.tensor(v.numpy()) if isinstance(v, cr.Tensor) else v for v in args)
        _same(FM.repeat_interleave(cr.tensor(a), *args, **kw), torch.repeat_interleave(_t(a), *targs, **kw))
    _same(FM.repeat_interleave(cr.tensor([2, 1])), torch.repeat_interleave(_t([2, 1])))
    _same(FM.repeat_interleave(cr.tensor(5.0), 3), torch.repeat_interleave(torch.tensor(5.0), 3))
    with pytest.raises(ShapeError, match=r"repeat_interleave: repeats of shape \(3,\) must have one count"):
        FM.repeat_interleave(cr.tensor(a), cr.tensor([1, 2, 3]), dim=0)
    with pytest.raises(ArgumentError, match="repeat_interleave: repeats must be non-negative, got -1"):
        FM.repeat_interleave(cr.tensor(a), -1, dim=0)
    with pytest.raises(ArgumentError, match="output_size is 3 but the repeats add up to 4"):
        FM.repeat_interleave(cr.tensor(a), 2, dim=0, output_size=3)
    with pytest.raises(DTypeError, match="repeat_interleave: repeats must be an int tensor, got float32"):
        FM.repeat_interleave(cr.tensor([1.0, 2.0]), cr.tensor([1.0, 2.0]))


def test_select_and_movedim_errors():
    a = np.arange(6).reshape(2, 3)
    _same(FM.select(cr.tensor(a), 0, 1), torch.select(_t(a), 0, 1))
    with pytest.raises(OutOfRangeError, match="select: index 3 is out of range for dimension 1 of size 3"):
        FM.select(cr.tensor(a), 1, 3)
    with pytest.raises(ShapeError, match="select: cannot select from a 0-d tensor"):
        FM.select(cr.tensor(3), 0, 0)
    b = np.arange(24).reshape(2, 3, 4)
    for src, dst in ((0, -1), ((0, 1), (2, 0)), ([2], [0]), ((), ())):
        _same(FM.movedim(cr.tensor(b), src, dst), torch.movedim(_t(b), src, dst))
        _same(FM.moveaxis(cr.tensor(b), src, dst), torch.moveaxis(_t(b), src, dst))
    with pytest.raises(ArgumentError, match=r"movedim: a dimension is repeated in source \(0, 0\)"):
        FM.movedim(cr.tensor(b), (0, 0), (2, 1))
    with pytest.raises(ArgumentError, match="movedim: source .* and destination .* need as many dimensions"):
        FM.movedim(cr.tensor(b), (0, 1), (2,))
    with pytest.raises(ShapeError, match="movedim: dim 3 is out of range"):
        FM.movedim(cr.tensor(b), 3, 0)


def test_stacks_as_torch():
    cases = [[np.array(1), np.array([2, 3])], [np.array([1, 2]), np.array([3, 4])],
             [np.ones((2, 1), np.int64), np.zeros((2, 2), np.float64)], [np.arange(3), np.ones((2, 3))],
             [np.arange(6).reshape(2, 3), np.arange(6.0).reshape(2, 3)], [np.ones((2, 3, 1)), np.ones((2, 3, 2))]]
    for name in ("hstack", "vstack", "row_stack", "column_stack", "dstack"):
        for arrays in cases:
            ts = [cr.tensor(a, dtype=a.dtype) for a in arrays]
            try:
                ref = getattr(torch, name)([_t(a) for a in arrays])
            except RuntimeError:  # shapes torch refuses: a ShapeError naming the function here
                with pytest.raises(ShapeError, match=f"{name}: shapes"):
                    getattr(FM, name)(ts)
                continue
            _same(getattr(FM, name)(ts), ref)
        with pytest.raises(ArgumentError, match=f"{name}: expects a non-empty sequence"):
            getattr(FM, name)([])
        with pytest.raises(ArgumentTypeError, match=f"{name}: expects a sequence of tensors, got Tensor"):
            getattr(FM, name)(cr.ones(2))


def test_broadcasting_helpers_as_torch():
    for shapes in [((2, 1), 3, (1,)), (), ((0, 1), (4,)), ([5, 1, 2], (3, 1))]:
        out, ref = FM.broadcast_shapes(*shapes), torch.broadcast_shapes(*shapes)
        assert isinstance(out, cr.Size) and out == tuple(ref)
    with pytest.raises(ShapeError, match=r"broadcast_shapes: shapes \(2,\), \(3,\) do not broadcast"):
        FM.broadcast_shapes((2,), (3,))
    with pytest.raises(ArgumentError, match="broadcast_shapes: a shape must hold non-negative ints"):
        FM.broadcast_shapes((2,), [-1])
    a, b = np.arange(2).reshape(2, 1), np.arange(3.0)
    _same(FM.broadcast_tensors(cr.tensor(a), cr.tensor(b)), torch.broadcast_tensors(_t(a), _t(b, np.float32)))
    with pytest.raises(ShapeError, match=r"broadcast_tensors: shapes \(2, 1\), \(3, 2\) do not broadcast"):
        FM.broadcast_tensors(cr.ones(2, 1), cr.ones(3, 2))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_atleast_nd_as_torch(n):
    arrays = [np.array(1.0, np.float32), np.arange(3), np.ones((2, 3)), np.ones((2, 3, 4, 1))]
    fn, tfn = getattr(FM, f"atleast_{n}d"), getattr(torch, f"atleast_{n}d")
    for a in arrays:
        _same(fn(cr.tensor(a, dtype=a.dtype)), tfn(_t(a)))
    _same(fn(*[cr.tensor(a, dtype=a.dtype) for a in arrays]), tfn(*[_t(a) for a in arrays]))
    out = fn([cr.tensor(a, dtype=a.dtype) for a in arrays[:1]])
    assert isinstance(out, tuple) and len(out) == 1  # a list in, a tuple out, as torch
    assert fn() == tfn() == ()


def test_cartesian_prod_and_block_diag_as_torch():
    _same(FM.cartesian_prod(cr.tensor([1, 2]), cr.tensor([3, 4, 5]), cr.tensor([6])),
          torch.cartesian_prod(_t([1, 2]), _t([3, 4, 5]), _t([6])))
    _same(FM.cartesian_prod(cr.tensor([1, 2])), torch.cartesian_prod(_t([1, 2])))
    with pytest.raises(DTypeError, match="meshgrid: expected operands of one dtype"):
        FM.cartesian_prod(cr.tensor([1, 2]), cr.tensor([3.0]))
    with pytest.raises(ShapeError, match=r"cartesian_prod: expects 1-D tensors, got shape \(2, 2\)"):
        FM.cartesian_prod(cr.ones(2, 2))
    blocks = [np.array([[1, 2]]), np.array(3.0, np.float32), np.array([4, 5]), np.ones((2, 0), np.float64)]
    _same(FM.block_diag(*[cr.tensor(b, dtype=b.dtype) for b in blocks]), torch.block_diag(*[_t(b) for b in blocks]))
    _same(FM.block_diag(), torch.block_diag())
    with pytest.raises(ShapeError, match="block_diag: expects tensors of at most 2 dimensions"):
        FM.block_diag(cr.ones(2, 2, 2))


def test_tensordot_dims_forms_and_errors_as_torch():
    a, b = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    for dims in (1, 0, ([1], [0]), [[1], [0]], ([-1], [-2]), torch.tensor(1), torch.tensor([[1], [0]])):
        cdims = cr.tensor(dims.numpy()) if isinstance(dims, torch.Tensor) else dims
        _same(FM.tensordot(cr.tensor(a), cr.tensor(b), cdims), torch.tensordot(_t(a), _t(b), dims))
    c, d = np.arange(24).reshape(2, 3, 4), np.arange(60).reshape(3, 4, 5)
    _same(FM.tensordot(cr.tensor(c), cr.tensor(d)), torch.tensordot(_t(c), _t(d)))
    _same(FM.tensordot(cr.tensor(c), cr.tensor(c), 3), torch.tensordot(_t(c), _t(c), 3))
    with pytest.raises(DTypeError, match="tensordot: expected operands of one dtype"):
        FM.tensordot(cr.ones(2, 3), cr.ones(3, 4, dtype=cr.float64), 1)
    with pytest.raises(ShapeError, match=r"tensordot: contracted dimensions differ: 3 \(dim 1 of a"):
        FM.tensordot(cr.ones(2, 3), cr.ones(2, 4), 1)
    with pytest.raises(ArgumentError, match="tensordot: dims must be between 0 and 2"):
        FM.tensordot(cr.ones(2, 3), cr.ones(3, 4), 3)


def test_unfold_shapes_and_errors_as_torch():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    for dim, size, step in ((0, 2, 1), (1, 2, 1), (-1, 2, 3), (2, 4, 1), (2, 0, 1), (1, 1, 5)):
        _same(FM.unfold(cr.tensor(x), dim, size, step), _t(x).unfold(dim, size, step))
    _same(FM.unfold(cr.arange(7.0), 0, 3, 2), torch.arange(7.0).unfold(0, 3, 2))
    _same(FM.unfold(cr.tensor(5.0), 0, 1, 1), torch.tensor(5.0).unfold(0, 1, 1))
    with pytest.raises(ShapeError, match="unfold: size 8 is larger than dimension 0, of size 7"):
        FM.unfold(cr.tensor(np.arange(7.0)), 0, 8, 1)
    with pytest.raises(ArgumentError, match="unfold: step must be > 0, got 0"):
        FM.unfold(cr.ones(7), 0, 2, 0)
    with pytest.raises(ArgumentError, match="unfold: size must be >= 0, got -1"):
        FM.unfold(cr.ones(7), 0, -1, 1)


# ---- without a gradient ------------------------------------------------------------------------------------------


def test_searchsorted_and_bucketize_as_torch():
    s, v = np.array([1, 3, 5, 7, 9]), np.array([[3, 6, 9], [0, 10, 5]])
    for kw in ({}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True}):
        _same(FM.searchsorted(cr.tensor(s), cr.tensor(v), **kw), torch.searchsorted(_t(s), _t(v), **kw))
        if "side" not in kw:
            _same(FM.bucketize(cr.tensor(v), cr.tensor(s), **kw), torch.bucketize(_t(v), _t(s), **kw))
    _same(FM.searchsorted(cr.tensor(s), 5), torch.searchsorted(_t(s), 5))
    _same(FM.bucketize(5, cr.tensor(s)), torch.bucketize(5, _t(s)))
    _same(FM.searchsorted(cr.tensor(s), cr.tensor([3.5, 6.0])), torch.searchsorted(_t(s), _t([3.5, 6.0])))
    rows, vals = np.array([[1, 3, 5], [2, 4, 6]]), np.array([[3, 6], [1, 7]])
    _same(FM.searchsorted(cr.tensor(rows), cr.tensor(vals), right=True),
          torch.searchsorted(_t(rows), _t(vals), right=True))
    _same(FM.searchsorted(cr.tensor([5, 1, 3]), cr.tensor([2, 4]), sorter=cr.tensor([1, 2, 0])),
          torch.searchsorted(_t([5, 1, 3]), _t([2, 4]), sorter=_t([1, 2, 0])))
    with pytest.raises(ArgumentError, match="searchsorted: side='left' and right=True contradict"):
        FM.searchsorted(cr.tensor(s), cr.tensor(v), side="left", right=True)
    with pytest.raises(ArgumentError, match="searchsorted: side must be 'left' or 'right', got 'middle'"):
        FM.searchsorted(cr.tensor(s), cr.tensor(v), side="middle")
    with pytest.raises(ShapeError, match=r"searchsorted: a sequence of shape \(2, 3\) needs values with the same"):
        FM.searchsorted(cr.tensor(rows), cr.tensor([[3, 6, 1]]))
    with pytest.raises(ShapeError, match=r"bucketize: boundaries must be 1-D, got shape \(1, 2\)"):
        FM.bucketize(cr.tensor([1.5]), cr.tensor([[1, 2]]))


def test_unique_consecutive_as_torch():
    x = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    for kw in ({}, {"return_inverse": True}, {"return_counts": True}, {"return_inverse": True, "return_counts": True}):
        _same(FM.unique_consecutive(cr.tensor(x), **kw), torch.unique_consecutive(_t(x), **kw))
    both = {"return_inverse": True, "return_counts": True}
    for a, dim in ((np.array([[1, 1], [1, 1], [2, 3], [1, 1]]), 0), (np.array([[1, 1, 2], [1, 1, 3]]), 1),
                   (np.array([[1, 1], [2, 2]]), None), (np.array([1.0, NAN, NAN], np.float32), None),
                   (np.zeros(0, np.float32), None), (np.array(3), None)):
        _same(FM.unique_consecutive(cr.tensor(a, dtype=a.dtype), dim=dim, **both),
              torch.unique_consecutive(_t(a), dim=dim, **both))
    with pytest.raises(ShapeError, match="unique_consecutive: dim needs a tensor of at least 1 dimension"):
        FM.unique_consecutive(cr.tensor(3), dim=0)


# ---- dtypes ------------------------------------------------------------------------------------------------------

DTYPES = [cr.bool_, cr.uint8, cr.int8, cr.int16, cr.int32, cr.int64, cr.float16, cr.float32, cr.float64]


def test_promote_types_and_can_cast_as_torch_for_every_pair():
    for a in DTYPES:
        for b in DTYPES:
            assert FM.promote_types(a, b) == NP[torch.promote_types(TORCH[a], TORCH[b])], (a, b)
            assert FM.can_cast(a, b) == torch.can_cast(TORCH[a], TORCH[b]), (a, b)
    with pytest.raises(DTypeError, match="unknown dtype"):
        FM.promote_types("nonsense", cr.float32)


def test_result_type_as_torch():
    cases = [(np.array([1]), 1.0), (np.array([1], np.uint8), np.array(1, np.int8)), (1, 2.0), (True, 2),
             (np.array([1.0], np.float32), np.array(1.0)), (np.array([1.0], np.float16), 1), (np.array(1), 2.5),
             (np.array([True]), np.array(1, np.int32)), (np.array([1], np.int32), np.array([1], np.int64))]
    for a, b in cases:
        args = [cr.tensor(v, dtype=v.dtype) if isinstance(v, np.ndarray) else v for v in (a, b)]
        targs = [_t(v) if isinstance(v, np.ndarray) else v for v in (a, b)]
        assert FM.result_type(*args) == NP[torch.result_type(*targs)], (a, b)
    with pytest.raises(ArgumentTypeError, match="result_type: expected a tensor or a number, got str"):
        FM.result_type(cr.ones(2), "x")


def test_finfo_and_iinfo_as_torch():
    for d in (cr.float16, cr.float32, cr.float64, None):
        f, tf = (FM.finfo(), torch.finfo()) if d is None else (FM.finfo(d), torch.finfo(TORCH[d]))
        for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(f, attr) == getattr(tf, attr), (d, attr)
        assert repr(f) == repr(tf)
    assert FM.finfo(cr.float64) == FM.finfo("float64") and FM.finfo(cr.float32) != FM.finfo(cr.float64)
    for d in (cr.uint8, cr.int8, cr.int16, cr.int32, cr.int64):
        i, ti = FM.iinfo(d), torch.iinfo(TORCH[d])
        assert (i.bits, i.max, i.min, i.dtype) == (ti.bits, ti.max, ti.min, ti.dtype)
        assert repr(i) == repr(ti)
    with pytest.raises(DTypeError, match="finfo: expects a floating dtype, got int32"):
        FM.finfo(cr.int32)
    with pytest.raises(DTypeError, match="iinfo: expects an integer dtype, got bool"):
        FM.iinfo(cr.bool_)


# ---- Tensor-only facts -------------------------------------------------------------------------------------------


def test_tensor_facts_as_torch():
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    x, t = cr.tensor(a), _t(a)
    views = [(x, t), (x.transpose(0, 2), t.transpose(0, 2)), (x[:, ::2], t[:, ::2]), (x[0, 1], t[0, 1]),
             (cr.ones(3, 1).expand(3, 4), torch.ones(3, 1).expand(3, 4)), (cr.tensor(1.0), torch.tensor(1.0))]
    for v, w in views:
        assert FM.stride(v) == w.stride()
        for d in range(-v.ndim, v.ndim):
            assert FM.stride(v, d) == w.stride(d)
        assert FM.ndimension(v) == w.ndimension()
        assert FM.nbytes(v) == w.nbytes and FM.itemsize(v) == w.itemsize
    assert FM.nbytes(cr.tensor([1, 2], dtype=cr.int16)) == 4 and FM.itemsize(cr.tensor([1.0], dtype=cr.float64)) == 8
    with pytest.raises(ShapeError, match="stride: dim 3 is out of range"):
        FM.stride(x, 3)


def test_names_are_listed():
    assert set(FM.__all__) <= set(dir(FM)) and len(FM.__all__) == len(set(FM.__all__))
    for name in FM.TENSOR_METHODS + FM.IN_PLACE:
        assert hasattr(torch.Tensor, name) and callable(getattr(FM, name)), name
    for name in FM.IN_PLACE:
        assert hasattr(torch.Tensor, f"{name}_") and name in FM.TENSOR_METHODS, name
    for name in FM.__all__:
        assert hasattr(torch, name), name
    for name in FM.TENSOR_PROPERTIES:
        assert isinstance(getattr(torch.Tensor, name), type(torch.Tensor.shape)) and callable(getattr(FM, name))
